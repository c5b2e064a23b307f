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

// Reads a model and hands its network, in the precision it was saved in, to
// use(network).
template <typename Use>
void with_saved_network(const std::filesystem::path& path, Use&& use) {
  const ModelFile model = read_model(path);
  if (model.precision == Precision::float64) {
    Network<double> network = model.to_network<double>();
    use(network);
  } else {
    Network<float> network = model.to_network<float>();
    use(network);
  }
}

}  // namespace backprop::cli
