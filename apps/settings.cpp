#include "settings.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "backprop/error.hpp"

namespace backprop::cli {

std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, result.ptr};
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::string setting(const Settings& settings, const std::string& key) {
  const auto found = settings.find(key);
  if (found == settings.end()) {
    throw InputError("the model file's settings lack '" + key +
                     "': it was not saved by `backprop train` of this version");
  }
  return found->second;
}

namespace {

[[noreturn]] void not_a(const std::string& key, const std::string& text, const char* what) {
  throw InputError("the model file's setting '" + key + "' is '" + text + "', not " + what +
                   "; resume from a checkpoint written by `backprop train`");
}

double parse_number(const std::string& key, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') not_a(key, text, "a number");
  return value;
}

}  // namespace

double number_setting(const Settings& settings, const std::string& key) {
  return parse_number(key, setting(settings, key));
}

long integer_setting(const Settings& settings, const std::string& key, long minimum, long maximum) {
  const std::string text = setting(settings, key);
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < minimum ||
      value > maximum) {
    not_a(key, text,
          ("a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum))
              .c_str());
  }
  return value;
}

std::uint64_t unsigned_setting(const Settings& settings, const std::string& key) {
  const std::string text = setting(settings, key);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    not_a(key, text, "a whole number from 0 to 2^64 - 1");
  }
  return value;
}

std::vector<double> number_list_setting(const Settings& settings, const std::string& key) {
  std::vector<double> values;
  for (const std::string& item : split(setting(settings, key))) {
    values.push_back(parse_number(key, item));
  }
  return values;
}

}  // namespace backprop::cli
