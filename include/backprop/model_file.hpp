// Model files: a network's architecture, parameters and settings on disk,
// and, in checkpoints, the state needed to continue training exactly.
//
// The format is versioned, little-endian, checksummed and written
// atomically; docs/file-formats.md describes it byte by byte. Files from
// older format versions keep loading.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "backprop/matrix.hpp"
#include "backprop/network.hpp"

namespace backprop {

enum class Precision { float32, float64 };

std::string to_string(Precision precision);  // "float", "double"
Precision parse_precision(std::string_view name);

// Everything a run needs to continue where it stopped, bit for bit.
struct TrainingState {
  int epochs_completed = 0;
  std::string rng_state;                  // Rng::state()
  Vector<double> optimizer_state;         // e.g. velocities, Adam moments (may be empty)
  Vector<double> best_parameters;         // for early stopping (may be empty)
  std::map<std::string, double> scalars;  // learning rate now, best accuracy, counters...
};

struct ModelFile {
  NetworkSpec spec;
  // The type the parameters are stored as. Float parameters converted to
  // double and back are unchanged, so holding them as double here is exact.
  Precision precision = Precision::float32;
  Vector<double> parameters;                    // the network's one buffer, same layout
  std::map<std::string, std::string> settings;  // the run's resolved settings, as text
  std::optional<TrainingState> state;           // present in checkpoints

  template <typename T>
  static ModelFile from(const Network<T>& network);
  // Throws InputError if the parameter count does not match the spec.
  template <typename T>
  Network<T> to_network() const;
};

// Writes to a temporary file in the same folder, flushes and fsyncs it, then
// renames it over `path`: a crash leaves either the old file or the new one.
// Throws Error naming the file if it cannot be written (the old file, if
// any, is untouched).
void write_model_file(const std::filesystem::path& path, const ModelFile& model);

// Throws InputError naming the file for: a missing or unreadable file, a
// wrong magic, a format version newer than this program's, a truncated
// file, a checksum mismatch, or an invalid architecture.
ModelFile read_model_file(const std::filesystem::path& path);

// Nielsen's network2.py JSON format: {"sizes", "weights", "biases", "cost"},
// sigmoid layers, cost "QuadraticCost" or "CrossEntropyCost".
ModelFile read_network2_json(const std::filesystem::path& path);
void write_network2_json(const std::filesystem::path& path, const ModelFile& model);

// Reads either format: network2 JSON if the file starts with '{' (after
// white space), else the binary model format.
ModelFile read_any_model(const std::filesystem::path& path);

}  // namespace backprop
