#include "backprop/metrics_log.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "backprop/error.hpp"
#include "backprop/sha256.hpp"

namespace backprop {
namespace {

constexpr const char* kSets[] = {"training", "validation", "test"};

const std::optional<Evaluation>& measured(const EpochReport& report, int set) {
  return set == 0 ? report.training : set == 1 ? report.validation : report.test;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::optional<double> csv_number(const std::string& text, const std::string& where) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw InputError(where + ": '" + text + "' is not a number");
  }
  return value;
}

std::vector<MetricsRow> read_csv(std::istream& in, const std::string& name) {
  std::string line;
  if (!std::getline(in, line)) throw InputError("the metrics file " + name + " is empty");
  const std::vector<std::string> header = split_csv(line);
  const auto column = [&](const std::string& field) -> int {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == field) return static_cast<int>(i);
    }
    return -1;
  };
  for (const char* field : {"epoch", "seconds", "learning_rate"}) {
    if (column(field) < 0) {
      throw InputError(name + " line 1: the header lacks the column '" + field +
                       "': give a metrics file written by `backprop train --metrics`");
    }
  }
  std::vector<MetricsRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string where = name + " line " + std::to_string(number);
    const std::vector<std::string> fields = split_csv(line);
    if (fields.size() != header.size()) {
      throw InputError(where + ": " + std::to_string(fields.size()) + " fields, the header has " +
                       std::to_string(header.size()));
    }
    const auto get = [&](const std::string& field) -> std::optional<double> {
      const int i = column(field);
      return i < 0 ? std::nullopt : csv_number(fields[static_cast<std::size_t>(i)], where);
    };
    MetricsRow row;
    if (column("run") >= 0) row.run = fields[static_cast<std::size_t>(column("run"))];
    row.epoch = static_cast<int>(get("epoch").value_or(0));
    row.seconds = get("seconds").value_or(0);
    row.learning_rate = get("learning_rate").value_or(0);
    for (int set = 0; set < 3; ++set) {
      row.cost[set] = get(std::string(kSets[set]) + "_cost");
      row.accuracy[set] = get(std::string(kSets[set]) + "_accuracy");
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<MetricsRow> read_json_lines(std::istream& in, const std::string& name) {
  std::vector<MetricsRow> rows;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + " line " + std::to_string(number);
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      throw InputError(where + " is not a JSON object: a metrics file holds one per epoch");
    }
    const auto number_or_null = [&](const std::string& key, bool required) {
      const auto found = object.find(key);
      if (found == object.end() || found->is_null()) {
        if (required) throw InputError(where + " lacks the number '" + key + "'");
        return std::optional<double>();
      }
      if (!found->is_number()) throw InputError(where + ": '" + key + "' is not a number");
      return std::optional<double>(found->get<double>());
    };
    MetricsRow row;
    if (const auto run = object.find("run"); run != object.end() && run->is_string()) {
      row.run = run->get<std::string>();
    }
    row.epoch = static_cast<int>(*number_or_null("epoch", true));
    row.seconds = number_or_null("seconds", false).value_or(0);
    row.learning_rate = number_or_null("learning_rate", false).value_or(0);
    for (int set = 0; set < 3; ++set) {
      row.cost[set] = number_or_null(std::string(kSets[set]) + "_cost", false);
      row.accuracy[set] = number_or_null(std::string(kSets[set]) + "_accuracy", false);
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

std::string run_id(const std::map<std::string, std::string>& settings,
                   const Vector<double>& starting_parameters) {
  std::string bytes;
  for (const auto& [key, value] : settings) {
    if (key == "epochs" || key == "monitor" || key == "run") continue;
    bytes += key + '=' + value + '\n';
  }
  bytes.append(reinterpret_cast<const char*>(starting_parameters.data()),
               static_cast<std::size_t>(starting_parameters.size()) * sizeof(double));
  return sha256_bytes(bytes).substr(0, 16);
}

std::string metrics_json(const EpochReport& report, const std::string& run) {
  std::ostringstream out;
  out << std::setprecision(17) << '{';
  if (!run.empty()) out << "\"run\": \"" << run << "\", ";
  out << "\"epoch\": " << report.epoch << ", \"seconds\": " << report.training_seconds
      << ", \"learning_rate\": " << report.learning_rate;
  for (int set = 0; set < 3; ++set) {
    const auto& evaluation = measured(report, set);
    out << ", \"" << kSets[set] << "_cost\": ";
    if (evaluation) {
      out << evaluation->cost << ", \"" << kSets[set] << "_accuracy\": " << evaluation->accuracy();
    } else {
      out << "null, \"" << kSets[set] << "_accuracy\": null";
    }
  }
  out << '}';
  return out.str();
}

MetricsLog::MetricsLog(const std::filesystem::path& path, bool append, std::string run)
    : path_(path), csv_(path.extension() == ".csv"), run_(std::move(run)) {
  const bool continuing = append && std::filesystem::exists(path);
  out_.open(path, continuing ? std::ios::app : std::ios::trunc);
  if (!out_) {
    throw Error("cannot write the metrics file " + path.string() + ": " + std::strerror(errno) +
                "; check the folder exists and is writable");
  }
  out_ << std::setprecision(17);
  if (csv_ && !continuing) {
    out_ << "epoch,seconds,learning_rate";
    for (const char* set : kSets) out_ << ',' << set << "_cost," << set << "_accuracy";
    if (!run_.empty()) out_ << ",run";
    out_ << '\n' << std::flush;
  }
}

void MetricsLog::write(const EpochReport& report) {
  if (csv_) {
    out_ << report.epoch << ',' << report.training_seconds << ',' << report.learning_rate;
    for (int set = 0; set < 3; ++set) {
      const auto& evaluation = measured(report, set);
      if (evaluation) {
        out_ << ',' << evaluation->cost << ',' << evaluation->accuracy();
      } else {
        out_ << ",,";
      }
    }
    if (!run_.empty()) out_ << ',' << run_;
  } else {
    out_ << metrics_json(report, run_);
  }
  out_ << '\n' << std::flush;
  if (!out_) throw Error("writing the metrics file " + path_.string() + " failed (disk full?)");
}

std::vector<MetricsRow> read_metrics(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw InputError("cannot read the metrics file " + path.string() + ": " + std::strerror(errno));
  }
  return path.extension() == ".csv" ? read_csv(in, path.string())
                                    : read_json_lines(in, path.string());
}

}  // namespace backprop
