// The resolved settings of a training run, as text key -> value pairs:
// stored in model files (so `inspect` can show how a model was made) and
// in checkpoints (so `--resume` continues the same run).
#pragma once

#include <cstdint>
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
// The same for whole numbers in [minimum, maximum], seeds, and lists of numbers
// ("0.2,0.1,0"): a damaged checkpoint gets a message, never a wrapped value.
long integer_setting(const Settings& settings, const std::string& key, long minimum, long maximum);
std::uint64_t unsigned_setting(const Settings& settings, const std::string& key);
std::vector<double> number_list_setting(const Settings& settings, const std::string& key);

}  // namespace backprop::cli
