// Learning-rate schedules: the rate after each epoch, and when they stop.
#include "backprop/schedule.hpp"

#include <gtest/gtest.h>

#include "backprop/error.hpp"

namespace backprop {
namespace {

TEST(Schedule, ConstantNeverChanges) {
  Schedule schedule({}, 0.5);
  for (int epoch = 0; epoch < 5; ++epoch) EXPECT_FALSE(schedule.after_epoch(epoch, 0.1));
  EXPECT_EQ(schedule.learning_rate(), 0.5);
}

TEST(Schedule, StepDecaysEveryStepEpochs) {
  ScheduleOptions options;
  options.kind = ScheduleKind::step;
  options.step_epochs = 2;
  options.gamma = 0.1;
  Schedule schedule(options, 1.0);
  const double expected[] = {1.0, 0.1, 0.1, 0.01, 0.01};  // rate for epochs 1..5
  for (int epoch = 0; epoch < 5; ++epoch) {
    schedule.after_epoch(epoch, std::nullopt);
    EXPECT_NEAR(schedule.learning_rate(), expected[epoch], 1e-15) << "after epoch " << epoch;
  }
}

TEST(Schedule, PlateauHalvesAfterPatienceAndStopsAtOneOver128) {
  ScheduleOptions options;
  options.kind = ScheduleKind::plateau;
  options.patience = 2;
  Schedule schedule(options, 0.64);
  EXPECT_FALSE(schedule.after_epoch(0, 0.90));  // best so far
  EXPECT_FALSE(schedule.after_epoch(1, 0.95));  // better
  EXPECT_FALSE(schedule.after_epoch(2, 0.94));  // 1 without improvement
  EXPECT_EQ(schedule.learning_rate(), 0.64);
  EXPECT_FALSE(schedule.after_epoch(3, 0.95));  // equal is not better: 2 -> halve
  EXPECT_EQ(schedule.learning_rate(), 0.32);
  EXPECT_FALSE(schedule.after_epoch(4, 0.96));  // improvement resets the count
  EXPECT_FALSE(schedule.after_epoch(5, 0.90));
  EXPECT_EQ(schedule.learning_rate(), 0.32);
  // Six more halvings reach 0.64 / 128 = 0.005: the first at epoch 6, which
  // completes the pending count, then one every two flat epochs.
  int epoch = 6;
  bool stopped = false;
  while (!stopped && epoch < 100) stopped = schedule.after_epoch(epoch++, 0.5);
  EXPECT_TRUE(stopped);
  EXPECT_NEAR(schedule.learning_rate(), 0.005, 1e-15);
  EXPECT_EQ(epoch, 6 + 1 + 2 * 5);
}

TEST(Schedule, PlateauNeedsValidationAccuracy) {
  ScheduleOptions options;
  options.kind = ScheduleKind::plateau;
  Schedule schedule(options, 0.1);
  EXPECT_THROW(schedule.after_epoch(0, std::nullopt), Error);
  EXPECT_THROW(parse_schedule("cosine"), InputError);
}

}  // namespace
}  // namespace backprop
