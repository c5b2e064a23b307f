#include "backprop/schedule.hpp"

#include <cmath>

#include "backprop/error.hpp"

namespace backprop {

std::string to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant:
      return "constant";
    case ScheduleKind::step:
      return "step";
    case ScheduleKind::plateau:
      return "plateau";
  }
  return "unknown";
}

ScheduleKind parse_schedule(std::string_view name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "step") return ScheduleKind::step;
  if (name == "plateau") return ScheduleKind::plateau;
  throw InputError("unknown schedule '" + std::string(name) +
                   "': use constant, step or plateau (the book's halving rule)");
}

void ScheduleOptions::validate() const {
  if (step_epochs < 1) throw InputError("--step-epochs must be at least 1");
  if (!(gamma > 0 && gamma <= 1)) throw InputError("--gamma must be in (0, 1]");
  if (patience < 1) throw InputError("--plateau-patience must be at least 1");
  if (!(stop_factor > 0 && stop_factor < 1)) throw InputError("the stop factor must be in (0, 1)");
}

Schedule::Schedule(const ScheduleOptions& options, double initial_learning_rate)
    : options_(options), initial_(initial_learning_rate) {
  options_.validate();
  state_.learning_rate = initial_learning_rate;
}

bool Schedule::after_epoch(int epoch, std::optional<double> validation_accuracy) {
  switch (options_.kind) {
    case ScheduleKind::constant:
      return false;
    case ScheduleKind::step: {
      // Whole decays so far: floor((epoch + 1) / step_epochs), by integer division.
      const int decays = (epoch + 1) / options_.step_epochs;
      state_.learning_rate = initial_ * std::pow(options_.gamma, decays);
      return false;
    }
    case ScheduleKind::plateau:
      if (!validation_accuracy) {
        throw Error("the plateau schedule needs the validation accuracy after every epoch");
      }
      if (*validation_accuracy > state_.best_accuracy) {
        state_.best_accuracy = *validation_accuracy;
        state_.epochs_without_improvement = 0;
        return false;
      }
      if (++state_.epochs_without_improvement >= options_.patience) {
        state_.learning_rate /= 2;
        state_.epochs_without_improvement = 0;
      }
      // Compare with a little slack: eta_0 / 2^7 is exact in binary anyway.
      return state_.learning_rate <= initial_ * options_.stop_factor * (1 + 1e-12);
  }
  return false;
}

}  // namespace backprop
