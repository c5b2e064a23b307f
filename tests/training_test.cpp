// Mini-batch SGD end to end on small data made in the test.
#include "backprop/training.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <utility>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/initialization.hpp"

namespace backprop {
namespace {

// Three classes of points on rings of radius 0.5, 1.5 and 2.5 (plus noise):
// not linearly separable, so a hidden layer has to learn something.
Dataset rings(int per_class, std::uint64_t seed) {
  Rng rng(seed);
  Dataset data;
  data.classes = 3;
  data.source = "rings";
  data.values.resize(2, 3 * per_class);
  for (int i = 0; i < 3 * per_class; ++i) {
    const int label = i % 3;
    const double radius = 0.5 + label + 0.15 * rng.normal();
    const double angle = 2 * std::numbers::pi * rng.uniform();
    data.values(0, i) = static_cast<float>(radius * std::cos(angle) / 3);
    data.values(1, i) = static_cast<float>(radius * std::sin(angle) / 3);
    data.labels.push_back(label);
  }
  return data;
}

TEST(Training, LearnsRingsToAStatedAccuracy) {
  const Dataset training = rings(300, 1);
  const Dataset test = rings(100, 2);
  Network<float> network(
      NetworkSpec{{2, 16, 3}, {Activation::sigmoid, Activation::sigmoid}, Cost::cross_entropy});
  Rng rng(11);
  initialize(network, Initialization::scaled, rng);
  const Evaluation before = evaluate(network, test);

  TrainingOptions options;
  options.epochs = 200;
  options.mini_batch_size = 10;
  options.learning_rate = 1.0;
  int epochs_seen = 0;
  train(network, training, options, rng, &test, [&](const EpochReport& report) {
    EXPECT_EQ(report.epoch, epochs_seen++);
    ASSERT_TRUE(report.test.has_value());
    EXPECT_EQ(report.test->total, 300);
  });
  EXPECT_EQ(epochs_seen, 200);
  const Evaluation after = evaluate(network, test);
  // Chance is 1/3; the rings overlap by about 1% at 0.15 noise.
  EXPECT_LT(before.accuracy(), 0.6);
  EXPECT_GE(after.accuracy(), 0.93) << after.correct << " / " << after.total;
  EXPECT_LT(after.cost, before.cost);
}

TEST(Training, SameSeedGivesBitwiseIdenticalWeights) {
  const Dataset training = rings(50, 3);
  auto run = [&](std::uint64_t seed) {
    Network<float> network(
        NetworkSpec{{2, 8, 3}, {Activation::tanh, Activation::softmax}, Cost::log_likelihood});
    Rng rng(seed);
    initialize(network, Initialization::scaled, rng);
    TrainingOptions options;
    options.epochs = 5;
    options.mini_batch_size = 7;  // 150 = 21 * 7 + 3: a partial last batch
    options.learning_rate = 0.5;
    train(network, training, options, rng);
    return Vector<float>(network.parameters());
  };
  const Vector<float> first = run(5);
  const Vector<float> second = run(5);
  ASSERT_EQ(first.size(), second.size());
  EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * sizeof(float)));
  EXPECT_NE(first, run(6));
}

// Examples [first, first + count) of a rings() set, in order: inputs and
// one-hot targets, as the trainer gathers them without shuffling.
std::pair<Matrix<double>, Matrix<double>> examples(const Dataset& data, int first, int count) {
  Matrix<double> y = Matrix<double>::Zero(3, count);
  for (int i = 0; i < count; ++i) y(data.labels[first + i], i) = 1;
  return {data.values.middleCols(first, count).cast<double>(), y};
}

TEST(Training, OneEpochWithoutShufflingIsTheSequenceOfMiniBatchSteps) {
  // Independent check of the loop: the same steps taken by hand.
  const Dataset training = rings(3, 4);  // 9 examples: batches of 4, 4, 1
  const NetworkSpec spec{{2, 3, 3}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic};
  Network<double> looped(spec);
  Rng rng(8);
  initialize(looped, Initialization::large, rng);
  Network<double> by_hand = looped;

  TrainingOptions options;
  options.epochs = 1;
  options.mini_batch_size = 4;
  options.learning_rate = 3.0;
  options.shuffle = false;
  train(looped, training, options, rng);

  for (int first : {0, 4, 8}) {
    const int count = first == 8 ? 1 : 4;
    const auto [x, y] = examples(training, first, count);
    by_hand.backprop(x, y);
    by_hand.parameters() -= 3.0 * by_hand.gradients();
  }
  EXPECT_TRUE(looped.parameters().isApprox(by_hand.parameters(), 1e-14));
}

// Wide mini-batches with plain SGD take the step inside backpropagation
// (Network::descend): the same steps as backprop() and the book's update with
// L2 decay (eq. 93), taken by hand.
TEST(Training, FusedStepsOfWideMiniBatchesAreTheBooksSteps) {
  const Dataset training = rings(30, 5);  // 90 examples: batches of 40, 40, 10
  const NetworkSpec spec{
      {2, 20, 3}, {Activation::sigmoid, Activation::softmax}, Cost::log_likelihood};
  Network<double> looped(spec);
  Rng rng(9);
  initialize(looped, Initialization::scaled, rng);
  Network<double> by_hand = looped;

  TrainingOptions options;
  options.epochs = 1;
  options.mini_batch_size = 40;
  options.learning_rate = 0.5;
  options.shuffle = false;
  options.regularization.penalty = Penalty::l2;
  options.regularization.lambda = 2.0;
  train(looped, training, options, rng);

  for (int first : {0, 40, 80}) {
    const int count = first == 80 ? 10 : 40;
    const auto [x, y] = examples(training, first, count);
    by_hand.backprop(x, y);
    for (int l = 0; l < by_hand.layer_count(); ++l) {
      auto& layer = by_hand.layer(l);
      layer.weights = (1 - 0.5 * 2.0 / 90) * layer.weights - 0.5 * layer.weight_gradient;
      layer.biases -= 0.5 * layer.bias_gradient;
    }
  }
  EXPECT_TRUE(looped.parameters().isApprox(by_hand.parameters(), 1e-13))
      << (looped.parameters() - by_hand.parameters()).cwiseAbs().maxCoeff();
}

TEST(Training, BadOptionsAreRejected) {
  TrainingOptions options;
  options.learning_rate = 0;
  EXPECT_THROW(options.validate(), InputError);
  options.learning_rate = 1;
  options.mini_batch_size = 0;
  EXPECT_THROW(options.validate(), InputError);
  options.mini_batch_size = 1;
  options.epochs = 0;
  EXPECT_THROW(options.validate(), InputError);
}

TEST(Training, BatchCallbackReportsTheRunningCostOfEachMiniBatch) {
  // 21 examples in mini-batches of 10: 10, 10 and a last one of 1, so a
  // running cost that forgot to weight batches by their size would be off.
  const Dataset training = rings(7, 3);
  Network<double> network(
      NetworkSpec{{2, 5, 3}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic});
  Rng rng(5);
  initialize(network, Initialization::large, rng);
  const double cost_before = evaluate(network, training).cost;

  TrainingOptions options;
  options.epochs = 2;
  options.mini_batch_size = 10;
  options.learning_rate = 1e-9;  // the weights barely move: the running cost is C at the start
  std::vector<BatchReport> reports;
  Trainer<double> trainer(network, training, options, rng);
  trainer.run({}, {}, [&](const BatchReport& report) { reports.push_back(report); });

  ASSERT_EQ(reports.size(), 6u);
  const std::vector<long> done{10, 20, 21, 10, 20, 21};
  for (std::size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(reports[i].epoch, static_cast<int>(i / 3));
    EXPECT_EQ(reports[i].examples_done, done[i]);
    EXPECT_EQ(reports[i].examples_total, 21);
  }
  // The epoch's mean of C_x over all 21 examples, as evaluate() computes it.
  EXPECT_NEAR(reports[2].running_cost(), cost_before, 1e-7 * cost_before);
  EXPECT_NEAR(reports[5].running_cost(), cost_before, 1e-7 * cost_before);
}

}  // namespace
}  // namespace backprop

namespace backprop {
namespace {

// A run stopped after each epoch and continued from its saved state ends
// with the same bits as one that never stopped, for every update rule.
TEST(Training, ResumingFromTheStateEqualsAnUninterruptedRun) {
  const Dataset training = rings(40, 12);
  const Dataset validation = rings(10, 13);
  const NetworkSpec spec{{2, 6, 3}, {Activation::relu, Activation::softmax}, Cost::log_likelihood};
  // Mini-batches of 7 take the narrow kernels, of 20 the general product.
  for (const auto& [kind, mini_batch_size] :
       {std::pair{OptimizerKind::sgd, 7}, std::pair{OptimizerKind::momentum, 7},
        std::pair{OptimizerKind::nesterov, 20}, std::pair{OptimizerKind::adam, 7},
        std::pair{OptimizerKind::adam, 20}}) {
    TrainingOptions options;
    options.epochs = 4;
    options.mini_batch_size = mini_batch_size;
    options.learning_rate = kind == OptimizerKind::adam ? 0.01 : 0.3;
    options.optimizer.kind = kind;
    options.dropout = {0.25, 0};
    options.regularization = {Penalty::l2, 1.0};
    options.schedule.kind = ScheduleKind::plateau;
    options.schedule.patience = 1;

    Network<float> whole(spec);
    Rng rng(21);
    initialize(whole, Initialization::he, rng);
    Network<float> pieces = whole;
    Rng pieces_rng = rng;
    Trainer<float>(whole, training, options, rng, &validation).run();

    TrainingState state;
    for (int epochs = 1; epochs <= 4; ++epochs) {
      TrainingOptions part = options;
      part.epochs = epochs;
      Rng fresh(999);  // the state, not the seed, must carry the run on
      Trainer<float> trainer(pieces, training, part, epochs == 1 ? pieces_rng : fresh, &validation);
      if (epochs > 1) trainer.restore(state);
      trainer.run();
      state = trainer.state();
    }
    EXPECT_EQ(0, std::memcmp(whole.parameters().data(), pieces.parameters().data(),
                             sizeof(float) * whole.parameter_count()))
        << to_string(kind) << ", mini-batch " << mini_batch_size;
  }
}

}  // namespace
}  // namespace backprop
