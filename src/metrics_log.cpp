#include "backprop/metrics_log.hpp"

#include <cerrno>
#include <cstring>
#include <iomanip>
#include <optional>
#include <string>

#include "backprop/error.hpp"

namespace backprop {
namespace {

constexpr const char* kSets[] = {"training", "validation", "test"};

const std::optional<Evaluation>& measured(const EpochReport& report, int set) {
  return set == 0 ? report.training : set == 1 ? report.validation : report.test;
}

}  // namespace

MetricsLog::MetricsLog(const std::filesystem::path& path, bool append)
    : path_(path), csv_(path.extension() == ".csv") {
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
  } else {
    out_ << "{\"epoch\": " << report.epoch << ", \"seconds\": " << report.training_seconds
         << ", \"learning_rate\": " << report.learning_rate;
    for (int set = 0; set < 3; ++set) {
      const auto& evaluation = measured(report, set);
      out_ << ", \"" << kSets[set] << "_cost\": ";
      if (evaluation) {
        out_ << evaluation->cost << ", \"" << kSets[set]
             << "_accuracy\": " << evaluation->accuracy();
      } else {
        out_ << "null, \"" << kSets[set] << "_accuracy\": null";
      }
    }
    out_ << '}';
  }
  out_ << '\n' << std::flush;
  if (!out_) throw Error("writing the metrics file " + path_.string() + " failed (disk full?)");
}

}  // namespace backprop
