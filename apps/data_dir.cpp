#include "data_dir.hpp"

#include <cstdlib>

namespace backprop::cli {

std::filesystem::path default_data_dir() {
  const char* dir = std::getenv("BACKPROP_DATA");
  return dir != nullptr && *dir != '\0' ? std::filesystem::path(dir)
                                        : std::filesystem::path("data");
}

}  // namespace backprop::cli
