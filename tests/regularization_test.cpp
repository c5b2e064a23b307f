// Chapter 3's regularization: L2 and L1 gradients against finite
// differences, the book's weight-decay step, dropout's expectation, and the
// trainer's guards (divergence, early stopping).
#include "backprop/regularization.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "backprop/error.hpp"
#include "backprop/gradient_check.hpp"
#include "backprop/initialization.hpp"
#include "backprop/parallel.hpp"
#include "backprop/training.hpp"

namespace backprop {
namespace {

TEST(Regularization, PenaltyGradientsMatchFiniteDifferences) {
  for (Penalty penalty : {Penalty::l2, Penalty::l1}) {
    Network<double> network(
        NetworkSpec{{5, 4, 3, 2},
                    {Activation::tanh, Activation::sigmoid, Activation::sigmoid},
                    Cost::cross_entropy});
    Rng rng(17);
    initialize(network, Initialization::scaled, rng);
    Matrix<double> x;
    Matrix<double> y;
    random_batch(rng, 5, 2, 6, x, y);
    GradientCheckOptions options;
    options.regularization = {penalty, 5.0};
    options.training_size = 20;  // a large lambda / n, so the penalty dominates
    for (const auto& check : gradient_check(network, x, y, options)) {
      EXPECT_LE(check.max_relative_error, 1e-7) << to_string(penalty) << " layer " << check.layer;
    }
  }
}

TEST(Regularization, PenaltyCostIsTheBooksSum) {
  Network<double> network(NetworkSpec{{2, 1}, {Activation::sigmoid}, Cost::quadratic});
  network.layer(0).weights << 3.0, -4.0;
  network.layer(0).biases << 10.0;  // not penalised
  EXPECT_DOUBLE_EQ((Regularization{Penalty::l2, 2.0}.cost(network, 4)), 2.0 / (2 * 4) * 25.0);
  EXPECT_DOUBLE_EQ((Regularization{Penalty::l1, 2.0}.cost(network, 4)), 2.0 / 4 * 7.0);
  EXPECT_EQ((Regularization{Penalty::none, 2.0}.cost(network, 4)), 0.0);
}

TEST(Regularization, L2StepIsTheBooksWeightDecay) {
  // w <- (1 - eta lambda / n) w - eta dC_0/dw, biases undecayed.
  const NetworkSpec spec{{3, 2}, {Activation::sigmoid}, Cost::cross_entropy};
  Network<double> network(spec);
  Rng rng(4);
  initialize(network, Initialization::large, rng);
  Dataset data;
  data.values = Matrix<float>::Random(3, 1).cwiseAbs();
  data.labels = {1};
  data.classes = 2;
  Matrix<double> x = data.values.cast<double>();
  Matrix<double> y(2, 1);
  y << 0, 1;
  Network<double> expected = network;
  expected.backprop(x, y);
  const double eta = 0.5;
  const double lambda = 5;
  const double n = 1;
  expected.layer(0).weights =
      (1 - eta * lambda / n) * expected.layer(0).weights - eta * expected.layer(0).weight_gradient;
  expected.layer(0).biases -= eta * expected.layer(0).bias_gradient;

  TrainingOptions options;
  options.epochs = 1;
  options.mini_batch_size = 1;
  options.learning_rate = eta;
  options.regularization = {Penalty::l2, lambda};
  train(network, data, options, rng);
  EXPECT_TRUE(network.parameters().isApprox(expected.parameters(), 1e-14));
}

TEST(Dropout, KeepsTheExpectationAndDropsTheRate) {
  Network<float> network(
      NetworkSpec{{4, 200, 2}, {Activation::sigmoid, Activation::softmax}, Cost::log_likelihood});
  Rng rng(5);
  initialize(network, Initialization::scaled, rng);
  Matrix<float> x = Matrix<float>::Random(4, 50).cwiseAbs();
  Matrix<float> y = Matrix<float>::Zero(2, 50);
  y.row(0).setOnes();
  Dropout dropout{{0.3, 0.0}, &rng};
  Matrix<double> sum = Matrix<double>::Zero(200, 50);
  const int draws = 400;
  long zeros = 0;
  for (int i = 0; i < draws; ++i) {
    network.backprop(x, y, &dropout);
    const auto& hidden = network.layer(0);
    ASSERT_TRUE(hidden.dropped());
    sum += hidden.output().cast<double>();
    zeros += (hidden.dropout_mask().array() == 0.0F).count();
  }
  const Matrix<double> a = network.layer(0).a().cast<double>();  // undropped sigma(z)
  // Each mean is over 400 draws of a Bernoulli(0.7) / 0.7 times a: standard
  // error sqrt(0.3 / 0.7 / 400) a = 0.033 a; allow 5 of them.
  EXPECT_LT(((sum / draws - a).array().abs() / a.array()).maxCoeff(), 0.17);
  EXPECT_NEAR((sum / draws).mean() / a.mean(), 1.0, 0.005);
  EXPECT_NEAR(static_cast<double>(zeros) / (draws * 200.0 * 50), 0.3, 0.002);
  // The output layer is never dropped.
  EXPECT_FALSE(network.layer(1).dropped());
  // Evaluation (feedforward) does not drop.
  network.feedforward(x);
  EXPECT_FALSE(network.layer(0).dropped());
  EXPECT_THROW((Dropout{{0.5, 0.5}, &rng}.validate(2)), InputError);
  EXPECT_THROW((Dropout{{1.0, 0.0}, &rng}.validate(2)), InputError);
}

Dataset tiny_data(int features = 4) {
  Dataset data;
  data.values = Matrix<float>::Random(features, 30).cwiseAbs();
  for (int i = 0; i < 30; ++i) data.labels.push_back(i % 3);
  data.classes = 3;
  data.source = "tiny";
  return data;
}

// Also with 600 inputs: a first layer in two input shares, whose step the
// trainer pipelines (training.cpp), on one thread and on two.
TEST(Guards, AnExplodingRunStopsWithTheLastGoodWeights) {
  for (const auto& [inputs, threads] : {std::pair{4, 1}, {600, 1}, {600, 2}}) {
    set_threads(threads);
    const Dataset data = tiny_data(inputs);
    Network<float> network(
        NetworkSpec{{inputs, 8, 3}, {Activation::relu, Activation::identity}, Cost::quadratic});
    Rng rng(2);
    initialize(network, Initialization::large, rng);
    TrainingOptions options;
    options.epochs = 50;
    options.mini_batch_size = 5;
    options.learning_rate = 1e6;
    try {
      train(network, data, options, rng);
      ADD_FAILURE() << "eta 1e6 trained without diverging, " << inputs << " inputs";
    } catch (const NumericError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("epoch "), std::string::npos) << message;
      EXPECT_NE(message.find("mini-batch "), std::string::npos) << message;
      EXPECT_NE(message.find("--eta"), std::string::npos) << message;
    }
    EXPECT_TRUE(network.parameters().allFinite()) << inputs << " inputs";
  }
  set_threads(1);
}

TEST(Guards, EarlyStoppingKeepsTheBestWeights) {
  const Dataset training = tiny_data();
  const Dataset validation = tiny_data();
  Network<float> network(
      NetworkSpec{{4, 6, 3}, {Activation::sigmoid, Activation::softmax}, Cost::log_likelihood});
  Rng rng(8);
  initialize(network, Initialization::scaled, rng);
  TrainingOptions options;
  options.epochs = 200;
  options.mini_batch_size = 5;
  options.learning_rate = 0.5;
  options.early_stopping_patience = 3;
  Trainer<float> trainer(network, training, options, rng, &validation);
  double best = -1;
  Vector<float> best_weights;
  int epochs = 0;
  Monitor monitor;
  monitor.validation = &validation;
  const StopReason reason = trainer.run(monitor, [&](const EpochReport& report) {
    ++epochs;
    if (report.validation->accuracy() > best) {
      best = report.validation->accuracy();
      best_weights = network.parameters();
    }
  });
  ASSERT_EQ(reason, StopReason::early_stopping);
  EXPECT_LT(epochs, 200);
  EXPECT_EQ(Vector<float>(network.parameters()), best_weights);
  EXPECT_DOUBLE_EQ(evaluate(network, validation).accuracy(), best);
}

}  // namespace
}  // namespace backprop
