// How `train` shows its epochs: a live bar on a terminal, the book's plain
// epoch lines when the output is a file or a pipe, one JSON object per
// epoch for scripts (--json), or nothing (--quiet).
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "backprop/training.hpp"

namespace backprop::cli {

class Progress {
 public:
  // The bar is drawn on stderr, only when stderr is a terminal and not
  // --quiet; epoch lines or (--json) JSON objects go to stdout. --quiet
  // --json prints the JSON objects and nothing else.
  Progress(bool quiet, bool json, int epochs, std::string run);

  // Where the run's other messages go: stdout, stderr under --json (stdout
  // then holds JSON only), nowhere under --quiet.
  std::ostream& info();

  // Empty unless a bar is drawn, so an unwatched run never reads the clock
  // per mini-batch.
  BatchCallback on_batch();
  void on_epoch(const EpochReport& report);

  // Clears a half-drawn bar (before an error message is printed).
  void finish();

 private:
  void draw(const BatchReport& batch);

  bool bar_;
  bool json_;
  bool quiet_;
  int epochs_;
  std::string run_;
  // The bar's state within the current epoch.
  int epoch_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  long examples_at_start_ = 0;
  bool drawn_ = false;
};

// The book's epoch line: "Epoch j: k / 10000 (t s)", plus the monitored costs
// and accuracies.
std::string epoch_line(const EpochReport& report);

}  // namespace backprop::cli
