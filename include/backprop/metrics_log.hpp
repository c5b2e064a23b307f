// A per-epoch metrics file for plotting: JSON lines (one object per epoch)
// or CSV (one header line, then one row per epoch), chosen by extension.
//
// Fields: run, epoch, seconds, learning_rate, and for each of training,
// validation and test the cost and accuracy (empty in CSV, null in JSON
// when not measured). `run` is the run's identifier, also saved in the
// model's settings, so a report can tell that a metrics file and a model
// come from the same run.
#pragma once

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backprop/training.hpp"

namespace backprop {

// The identifier of a training run: 16 hex digits of the SHA-256 of what
// decides its course, the settings (without the epoch count and the sets
// monitored, which do not change the weights) and the starting parameters.
// Running the same run again gives the same identifier, as it gives the
// same weights; a resumed run keeps the one its checkpoint holds.
std::string run_id(const std::map<std::string, std::string>& settings,
                   const Vector<double>& starting_parameters);

class MetricsLog {
 public:
  // ".csv" writes CSV, anything else JSON lines. With `append`, an existing
  // file is continued (a resumed run), else it is replaced. Throws Error
  // naming the file if it cannot be opened.
  MetricsLog(const std::filesystem::path& path, bool append, std::string run = {});

  // Writes one epoch and flushes, so the file is complete after every epoch.
  void write(const EpochReport& report);

 private:
  std::filesystem::path path_;
  bool csv_;
  std::string run_;
  std::ofstream out_;
};

// The JSON object of one epoch, on one line without a newline: a metrics
// file's line, and what `train --json` prints.
std::string metrics_json(const EpochReport& report, const std::string& run);

// One epoch as read back from a metrics file.
struct MetricsRow {
  std::string run;  // empty in files written before runs had identifiers
  int epoch = 0;
  double seconds = 0;
  double learning_rate = 0;
  // Indexed training, validation, test; empty where not measured.
  std::array<std::optional<double>, 3> cost;
  std::array<std::optional<double>, 3> accuracy;
};

// Reads a metrics file of either kind (by extension, as MetricsLog writes
// it). Throws InputError naming the file and line for an unreadable file, a
// line that is not JSON or a row of the wrong width, or a missing field.
std::vector<MetricsRow> read_metrics(const std::filesystem::path& path);

}  // namespace backprop
