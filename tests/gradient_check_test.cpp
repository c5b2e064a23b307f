// Backpropagation against finite differences, for every activation and cost.
#include "backprop/gradient_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "backprop/initialization.hpp"
#include "backprop/parallel.hpp"
#include "backprop/rng.hpp"

namespace backprop {
namespace {

// The bar the foundation issue sets: backprop and centred differences agree
// to a relative 1e-7 in double precision.
constexpr double kTolerance = 1e-7;

struct Combination {
  Activation output;
  Cost cost;
};

std::vector<Combination> valid_combinations() {
  std::vector<Combination> all;
  for (Activation output : {Activation::sigmoid, Activation::tanh, Activation::relu,
                            Activation::identity, Activation::softmax}) {
    for (Cost cost : {Cost::quadratic, Cost::cross_entropy, Cost::log_likelihood}) {
      const bool probabilities = output == Activation::sigmoid || output == Activation::softmax;
      if (cost == Cost::quadratic || probabilities) all.push_back({output, cost});
    }
  }
  return all;
}

TEST(GradientCheck, EveryActivationAndCostOnNetworksOfTwoToFourLayers) {
  const std::vector<Activation> hidden{Activation::sigmoid, Activation::tanh, Activation::relu,
                                       Activation::identity};
  int networks = 0;
  double worst = 0;
  for (const Combination& combination : valid_combinations()) {
    for (int layers = 2; layers <= 4; ++layers) {
      Rng rng(1000 + 10 * networks + layers);
      NetworkSpec spec;
      spec.sizes.push_back(5);
      for (int l = 0; l < layers; ++l) {
        spec.sizes.push_back(l + 1 == layers ? 4 : 3 + static_cast<int>(rng.below(4)));
        spec.activations.push_back(l + 1 == layers ? combination.output
                                                   : hidden[(l + networks) % hidden.size()]);
      }
      spec.cost = combination.cost;
      Network<double> network(spec);
      initialize(network, Initialization::scaled, rng);
      Matrix<double> x;
      Matrix<double> y;
      random_batch(rng, spec.inputs(), spec.outputs(), 7, x, y);

      const auto checks = gradient_check(network, x, y);
      ASSERT_EQ(checks.size(), static_cast<std::size_t>(layers));
      for (const auto& check : checks) {
        worst = std::max(worst, check.max_relative_error);
        EXPECT_LE(check.max_relative_error, kTolerance)
            << "output " << to_string(combination.output) << ", cost "
            << to_string(combination.cost) << ", " << layers << " layers, layer " << check.layer
            << " (absolute error " << check.max_absolute_error << ")";
      }
      ++networks;
    }
  }
  EXPECT_EQ(networks, 3 * (5 * 1 + 2 * 2));
  std::cout << "worst relative error over " << networks << " networks: " << worst << '\n';
}

// Regression, as CSV data with --regression train it: an identity output
// layer, the quadratic cost and real-valued targets of any sign and size
// (not one-hot vectors), where BP1 is Delta^L = a - y exactly.
TEST(GradientCheck, IdentityOutputAndQuadraticCostOnRealValuedTargets) {
  Rng rng(77);
  NetworkSpec spec;
  spec.sizes = {3, 6, 2};
  spec.activations = {Activation::tanh, Activation::identity};
  spec.cost = Cost::quadratic;
  Network<double> network(spec);
  initialize(network, Initialization::scaled, rng);
  Matrix<double> x(3, 9);
  Matrix<double> y(2, 9);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = rng.normal();
  for (Eigen::Index i = 0; i < y.size(); ++i) y(i) = 10 * rng.normal();
  const auto checks = gradient_check(network, x, y);
  ASSERT_EQ(checks.size(), 2U);
  for (const auto& check : checks) {
    EXPECT_LE(check.max_relative_error, kTolerance) << "layer " << check.layer;
  }
}

// Mini-batches wider than the narrow kernels take (kNarrowColumns): the
// packed products for the hidden layers (more than 16 neurons), and for
// the output layer (at most 16: kNarrowRows) eq. 25 by the narrow kernel
// and BP4 as its transpose A Delta^T. Against finite differences, and
// against the mean of the examples' own gradients, each computed alone by
// the narrow kernels (BP3, BP4: the gradient of a mini-batch is the mean of
// its examples').
TEST(GradientCheck, WideMiniBatchesThroughThePackedProducts) {
  // Hidden ReLU layers too: BP2's product through the packed kernels, then
  // ReLU's derivative, against the single examples' narrow kernels.
  struct Case {
    Activation hidden;
    Combination combination;
  };
  for (const Case c : {Case{Activation::tanh, {Activation::softmax, Cost::log_likelihood}},
                       Case{Activation::tanh, {Activation::sigmoid, Cost::cross_entropy}},
                       Case{Activation::relu, {Activation::softmax, Cost::log_likelihood}}}) {
    const Combination combination = c.combination;
    Rng rng(5);
    const NetworkSpec spec{
        {30, 40, 20, 10},
        {c.hidden, c.hidden == Activation::relu ? Activation::relu : Activation::sigmoid,
         combination.output},
        combination.cost};
    Network<double> network(spec);
    initialize(network, Initialization::scaled, rng);
    const int m = 37;
    Matrix<double> x;
    Matrix<double> y;
    random_batch(rng, spec.inputs(), spec.outputs(), m, x, y);
    // With 37 examples and 40 neurons the difference quotients' own error
    // is about 1e-11: the bar is 1e-6, relative to at least 1e-4 (a wrong
    // product misses by the gradient's own size). Not for ReLU: among 37 x
    // 60 values of z some lie within a step of its kink, where a difference
    // quotient is no derivative (ReLU networks are checked by finite
    // differences on small batches above; here, against single examples).
    if (c.hidden != Activation::relu) {
      GradientCheckOptions options;
      options.floor = 1e-4;
      const auto checks = gradient_check(network, x, y, options);
      ASSERT_EQ(checks.size(), 3U);
      for (const auto& check : checks) {
        EXPECT_LE(check.max_relative_error, 1e-6)
            << "hidden " << to_string(c.hidden) << ", output " << to_string(combination.output)
            << ", layer " << check.layer;
      }
    }

    network.backprop(x, y);
    const Vector<double> wide = network.gradients();
    Vector<double> mean = Vector<double>::Zero(wide.size());
    for (int j = 0; j < m; ++j) {
      network.backprop(x.col(j), y.col(j));
      mean += network.gradients() / m;
    }
    EXPECT_LE((wide - mean).cwiseAbs().maxCoeff(), 1e-14 * wide.cwiseAbs().maxCoeff())
        << "hidden " << to_string(c.hidden) << ", output " << to_string(combination.output);
  }
}

// A first layer of 512 inputs or more, at m <= 16, computes eq. 25 and BP4
// in two shares of its inputs (DenseLayer::share_inputs), on two threads
// when there are two: both shares of dC/dW^1 against finite differences of
// the cost of that same shared forward pass.
TEST(GradientCheck, AFirstLayerInTwoSharesOfItsInputs) {
  for (const int threads : {1, 2}) {
    set_threads(threads);
    Rng rng(11);
    const NetworkSpec spec{
        {600, 12, 10}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic};
    Network<double> network(spec);
    initialize(network, Initialization::scaled, rng);
    ASSERT_LT(network.layer(0).shared_input_cut(), 600);
    Matrix<double> x;
    Matrix<double> y;
    random_batch(rng, spec.inputs(), spec.outputs(), 6, x, y);
    GradientCheckOptions options;
    options.floor = 1e-4;
    for (const auto& check : gradient_check(network, x, y, options)) {
      EXPECT_LE(check.max_relative_error, 1e-6) << "layer " << check.layer << ", " << threads;
    }
  }
  set_threads(1);
}

TEST(GradientCheck, ReportsADisagreement) {
  // A check that cannot fail proves nothing. With a coarse step h = 0.5 the
  // difference quotient's O(h^2) error is large, and the check must say so.
  Network<double> network(
      NetworkSpec{{3, 4, 2}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic});
  Rng rng(7);
  initialize(network, Initialization::large, rng);
  Matrix<double> x;
  Matrix<double> y;
  random_batch(rng, 3, 2, 5, x, y);
  GradientCheckOptions coarse;
  coarse.epsilon = 0.5;
  double worst = 0;
  for (const auto& check : gradient_check(network, x, y, coarse)) {
    worst = std::max(worst, check.max_relative_error);
  }
  EXPECT_GT(worst, 1e-3);
}

TEST(GradientCheck, RestoresTheParameters) {
  Network<double> network(
      NetworkSpec{{4, 3, 2}, {Activation::tanh, Activation::softmax}, Cost::log_likelihood});
  Rng rng(3);
  initialize(network, Initialization::scaled, rng);
  const Vector<double> before = network.parameters();
  Matrix<double> x;
  Matrix<double> y;
  random_batch(rng, 4, 2, 3, x, y);
  gradient_check(network, x, y);
  EXPECT_EQ(before, Vector<double>(network.parameters()));
}

}  // namespace
}  // namespace backprop
