// Experiments as files: `train --config FILE` reads flags from a JSON
// (.json) or TOML (.toml) file. Each key is a flag of the command without
// its dashes (`eta`, `mini-batch` or `mini_batch`, `layers`); flags given on
// the command line win over the file.
//
// The keys and their types come from the command's own CLI11 options, so
// every flag can be set from a file and a new flag needs no change here.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace backprop::cli {

// One value of a config file, already type-checked, as the texts CLI11
// would have seen on the command line (one per list element).
struct ConfigEntry {
  std::string key;
  std::vector<std::string> values;
};

// Reads the file and checks every key against the command's options: an
// unknown key, a wrong type or a file that does not parse is an InputError
// naming the file, the key and the expected type.
std::vector<ConfigEntry> read_config(const std::filesystem::path& path, const CLI::App& command);

// Gives each option not set on the command line its value from the file,
// running CLI11's conversion and checks (ranges, allowed names).
void apply_config(const std::filesystem::path& path, const std::vector<ConfigEntry>& entries,
                  CLI::App& command);

}  // namespace backprop::cli
