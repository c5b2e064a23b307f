// The resolved settings of a training run, as text key -> value pairs:
// stored in model files (so `inspect` can show how a model was made) and
// in checkpoints (so `--resume` continues the same run).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace backprop::cli {

using Settings = std::map<std::string, std::string>;

// Shortest text that reads back as the same double.
std::string format_number(double value);
std::string join(const std::vector<std::string>& items);
std::vector<std::string> split(const std::string& text);

// Looks a key up; throws InputError naming the key if it is missing or, for
// numbers, not a number.
std::string setting(const Settings& settings, const std::string& key);
double number_setting(const Settings& settings, const std::string& key);

}  // namespace backprop::cli
