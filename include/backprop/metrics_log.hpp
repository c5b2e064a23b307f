// A per-epoch metrics file for plotting: JSON lines (one object per epoch)
// or CSV (one header line, then one row per epoch), chosen by extension.
//
// Fields: epoch, seconds, learning_rate, and for each of training,
// validation and test the cost and accuracy (empty in CSV, null in JSON
// when not measured).
#pragma once

#include <filesystem>
#include <fstream>

#include "backprop/training.hpp"

namespace backprop {

class MetricsLog {
 public:
  // ".csv" writes CSV, anything else JSON lines. With `append`, an existing
  // file is continued (a resumed run), else it is replaced. Throws Error
  // naming the file if it cannot be opened.
  MetricsLog(const std::filesystem::path& path, bool append);

  // Writes one epoch and flushes, so the file is complete after every epoch.
  void write(const EpochReport& report);

 private:
  std::filesystem::path path_;
  bool csv_;
  std::ofstream out_;
};

}  // namespace backprop
