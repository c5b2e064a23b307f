// Reading and writing models from the command line: the format follows the
// file name (".json" is the book's network2.py format, anything else the
// binary backprop format), and reading accepts either.
#pragma once

#include <filesystem>

#include "backprop/model_file.hpp"

namespace backprop::cli {

inline bool is_network2_json(const std::filesystem::path& path) {
  return path.extension() == ".json";
}

inline ModelFile read_model(const std::filesystem::path& path) { return read_any_model(path); }

inline void write_model(const std::filesystem::path& path, const ModelFile& model) {
  if (is_network2_json(path)) {
    write_network2_json(path, model);
  } else {
    write_model_file(path, model);
  }
}

}  // namespace backprop::cli
