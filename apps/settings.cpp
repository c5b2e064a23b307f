#include "settings.hpp"

#include <charconv>
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

double number_setting(const Settings& settings, const std::string& key) {
  const std::string text = setting(settings, key);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    throw InputError("the model file's setting '" + key + "' is '" + text + "', not a number");
  }
  return value;
}

}  // namespace backprop::cli
