#include "config_file.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backprop/error.hpp"

namespace backprop::cli {
namespace {

// What an option takes, read from CLI11: its type name ("INT", "UINT",
// "FLOAT", "TEXT", followed by ":" and the checks) and how many values.
struct Expected {
  enum Kind { boolean, integer, natural, number, text } kind = text;
  bool list = false;

  std::string describe() const {
    static const char* const names[] = {"true or false", "an integer", "a whole number >= 0",
                                        "a number", "a string"};
    static const char* const plural[] = {"", "integers", "whole numbers >= 0", "numbers",
                                         "strings"};
    return list ? std::string(names[kind]) + " or a list of " + plural[kind] : names[kind];
  }
};

Expected expected_of(const CLI::Option& option) {
  Expected expected;
  if (option.get_items_expected_max() == 0) {
    expected.kind = Expected::boolean;
    return expected;
  }
  expected.list = option.get_items_expected_max() > 1;
  const std::string type = option.get_type_name();
  const std::string base = type.substr(0, type.find(':'));
  if (base == "INT") {
    expected.kind = Expected::integer;
  } else if (base == "UINT") {
    expected.kind = Expected::natural;
  } else if (base == "FLOAT") {
    expected.kind = Expected::number;
  }
  return expected;
}

std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, result.ptr};
}

// A scalar from either format, reduced to what type checking needs.
struct Scalar {
  enum Kind { boolean, integer, floating, text, other } kind = other;
  std::string value;
  bool negative = false;
};

bool fits(const Scalar& scalar, Expected::Kind kind) {
  switch (kind) {
    case Expected::boolean:
      return scalar.kind == Scalar::boolean;
    case Expected::integer:
      return scalar.kind == Scalar::integer;
    case Expected::natural:
      return scalar.kind == Scalar::integer && !scalar.negative;
    case Expected::number:
      return scalar.kind == Scalar::integer || scalar.kind == Scalar::floating;
    case Expected::text:
      return scalar.kind == Scalar::text;
  }
  return false;
}

Scalar from_json(const nlohmann::json& value) {
  if (value.is_boolean()) return {Scalar::boolean, value.get<bool>() ? "true" : "false"};
  if (value.is_number_unsigned())
    return {Scalar::integer, std::to_string(value.get<unsigned long long>())};
  if (value.is_number_integer()) {
    const long long number = value.get<long long>();
    return {Scalar::integer, std::to_string(number), number < 0};
  }
  if (value.is_number_float()) return {Scalar::floating, number_text(value.get<double>())};
  if (value.is_string()) return {Scalar::text, value.get<std::string>()};
  return {};
}

Scalar from_toml(const toml::node& node) {
  if (const auto* value = node.as_boolean())
    return {Scalar::boolean, value->get() ? "true" : "false"};
  if (const auto* value = node.as_integer()) {
    return {Scalar::integer, std::to_string(value->get()), value->get() < 0};
  }
  if (const auto* value = node.as_floating_point())
    return {Scalar::floating, number_text(value->get())};
  if (const auto* value = node.as_string()) return {Scalar::text, value->get()};
  return {};
}

// Finds the option a key names: `mini_batch` and `mini-batch` are --mini-batch.
const CLI::Option* option_for(const std::string& key, const CLI::App& command) {
  std::string name = key;
  for (char& c : name) c = c == '_' ? '-' : c;
  // A config file describes a run: it cannot name another config file, and
  // --resume continues a run from the settings saved in its checkpoint.
  if (name.empty() || name == "help" || name == "config" || name == "resume") return nullptr;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& long_name : option->get_lnames()) {
      if (long_name == name) return option;
    }
  }
  return nullptr;
}

class Reader {
 public:
  Reader(const std::filesystem::path& path, const CLI::App& command)
      : path_(path), command_(command) {}

  // Checks one key and its scalars (`is_list`: the file gave a list).
  void add(const std::string& key, const std::vector<Scalar>& scalars, bool is_list) {
    const CLI::Option* option = option_for(key, command_);
    if (option == nullptr) {
      throw InputError(path_.string() + ": unknown key '" + key + "': the keys are the flags of `" +
                       command_.get_name() + "` without the dashes (see backprop " +
                       command_.get_name() + " --help)");
    }
    for (const ConfigEntry& earlier : entries_) {
      if (option_for(earlier.key, command_) == option) {
        throw InputError(path_.string() + ": keys '" + earlier.key + "' and '" + key +
                         "' both set " + option->get_name() + "; keep one");
      }
    }
    const Expected expected = expected_of(*option);
    bool ok = (!is_list || expected.list) && !(is_list && scalars.empty() && !expected.list);
    for (const Scalar& scalar : scalars) ok = ok && fits(scalar, expected.kind);
    if (!ok) {
      throw InputError(path_.string() + ": key '" + key + "' should be " + expected.describe() +
                       " (as " + option->get_name() + " takes)");
    }
    ConfigEntry entry{key, {}};
    for (const Scalar& scalar : scalars) entry.values.push_back(scalar.value);
    entries_.push_back(std::move(entry));
  }

  std::vector<ConfigEntry> take() { return std::move(entries_); }

 private:
  const std::filesystem::path& path_;
  const CLI::App& command_;
  std::vector<ConfigEntry> entries_;
};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path.string() + ": cannot read the config file");
  return text.str();
}

std::vector<ConfigEntry> read_json(const std::filesystem::path& path, const CLI::App& command) {
  nlohmann::json document;
  // JSON allows a key twice (the last wins); a config file that does so is
  // almost surely a mistake, so the parser is watched for it.
  std::vector<std::string> keys;
  std::string repeated;
  const auto watch = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && repeated.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) repeated = key;
      keys.push_back(key);
    }
    return true;
  };
  try {
    document = nlohmann::json::parse(read_text(path), watch);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based offset of the first character that did not parse.
    throw InputError(path.string() + ": not valid JSON at byte " + std::to_string(e.byte) +
                     "; a config file is one object of \"flag\": value pairs");
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double's range (1e999): nlohmann reports it apart.
    throw InputError(path.string() + ": not valid JSON: a number is beyond a double's range (" +
                     e.what() + ")");
  }
  if (!repeated.empty()) {
    throw InputError(path.string() + ": key '" + repeated + "' is given twice; keep one");
  }
  if (!document.is_object()) {
    throw InputError(path.string() + ": a config file is one JSON object of \"flag\": value pairs");
  }
  Reader reader(path, command);
  for (const auto& [key, value] : document.items()) {
    std::vector<Scalar> scalars;
    if (value.is_array()) {
      for (const auto& element : value) scalars.push_back(from_json(element));
    } else {
      scalars.push_back(from_json(value));
    }
    reader.add(key, scalars, value.is_array());
  }
  return reader.take();
}

std::vector<ConfigEntry> read_toml(const std::filesystem::path& path, const CLI::App& command) {
  toml::table table;
  try {
    table = toml::parse(read_text(path), path.string());
  } catch (const toml::parse_error& e) {
    throw InputError(path.string() + ": not valid TOML at line " +
                     std::to_string(e.source().begin.line) + ", column " +
                     std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  Reader reader(path, command);
  for (const auto& [key, node] : table) {
    std::vector<Scalar> scalars;
    const toml::array* array = node.as_array();
    if (array != nullptr) {
      for (const toml::node& element : *array) scalars.push_back(from_toml(element));
    } else {
      scalars.push_back(from_toml(node));
    }
    reader.add(std::string(key.str()), scalars, array != nullptr);
  }
  return reader.take();
}

}  // namespace

std::vector<ConfigEntry> read_config(const std::filesystem::path& path, const CLI::App& command) {
  const std::string extension = path.extension().string();
  if (extension == ".json") return read_json(path, command);
  if (extension == ".toml") return read_toml(path, command);
  throw InputError(path.string() +
                   ": a config file must end in .json (JSON) or .toml (TOML), which says how "
                   "to read it");
}

void apply_config(const std::filesystem::path& path, const std::vector<ConfigEntry>& entries,
                  CLI::App& command) {
  for (const ConfigEntry& entry : entries) {
    CLI::Option* option = command.get_option(option_for(entry.key, command)->get_name());
    if (option->count() > 0) continue;  // the command line wins
    try {
      option->add_result(entry.values);
      option->run_callback();
    } catch (const CLI::ParseError& e) {
      throw InputError(path.string() + ": key '" + entry.key + "': " + e.what());
    }
  }
}

}  // namespace backprop::cli
