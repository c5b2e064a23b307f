// Learning-rate schedules and early stopping, driven by epochs and by
// the validation accuracy.
//
//   constant  eta stays eta_0
//   step      eta = eta_0 gamma^floor(epoch / step_epochs)
//   plateau   the book's rule (chapter 3): halve eta whenever the validation
//             accuracy has not improved for `patience` epochs, and stop once
//             eta has fallen to eta_0 / 128
//
// Early stopping (independent of the schedule): stop after `patience`
// epochs without a better validation accuracy, keeping the best weights.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace backprop {

enum class ScheduleKind { constant, step, plateau };

std::string to_string(ScheduleKind kind);
ScheduleKind parse_schedule(std::string_view name);

struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::constant;
  int step_epochs = 10;            // step: epochs between decays
  double gamma = 0.5;              // step: factor per decay
  int patience = 10;               // plateau: the book's n
  double stop_factor = 1.0 / 128;  // plateau: stop when eta <= eta_0 * stop_factor

  bool needs_validation() const { return kind == ScheduleKind::plateau; }
  void validate() const;
};

// The schedule's state, kept in checkpoints.
struct ScheduleState {
  double learning_rate = 0;
  double best_accuracy = std::numeric_limits<double>::lowest();
  int epochs_without_improvement = 0;
};

class Schedule {
 public:
  Schedule(const ScheduleOptions& options, double initial_learning_rate);

  double learning_rate() const { return state_.learning_rate; }

  // Called after epoch `epoch` (0-based) with the validation accuracy, if
  // measured; sets the rate for the next epoch. Returns true when the
  // schedule says training is over (plateau reached eta_0 / 128).
  bool after_epoch(int epoch, std::optional<double> validation_accuracy);

  const ScheduleState& state() const { return state_; }
  void restore(const ScheduleState& state) { state_ = state; }

 private:
  ScheduleOptions options_;
  double initial_;
  ScheduleState state_;
};

}  // namespace backprop
