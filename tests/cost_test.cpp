// Costs against element-by-element computations, and the fused output
// deltas against the general grad_a C (.) sigma'(z).
#include "backprop/cost.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "backprop/error.hpp"

namespace backprop {
namespace {

struct Outputs {
  Matrix<double> z{3, 2};
  Matrix<double> a;
  Matrix<double> y{3, 2};
};

Outputs sample(Activation activation) {
  Outputs o;
  o.z << 0.4, -1.3, 2.1, 0.2, -0.7, 1.9;
  o.y << 0, 1, 1, 0, 0, 0;
  activate(activation, o.z, o.a);
  return o;
}

TEST(Cost, QuadraticIsHalfTheSquaredDistanceAveragedOverExamples) {
  const Outputs o = sample(Activation::sigmoid);
  double sum = 0;
  for (int c = 0; c < 2; ++c) {
    for (int r = 0; r < 3; ++r) sum += 0.5 * std::pow(o.a(r, c) - o.y(r, c), 2);
  }
  EXPECT_NEAR(cost_value(Cost::quadratic, Activation::sigmoid, o.z, o.a, o.y), sum / 2, 1e-15);
}

TEST(Cost, CrossEntropyMatchesTheBooksFormula) {
  const Outputs o = sample(Activation::sigmoid);
  double sum = 0;
  for (int c = 0; c < 2; ++c) {
    for (int r = 0; r < 3; ++r) {
      const double a = o.a(r, c);
      const double y = o.y(r, c);
      sum += -(y * std::log(a) + (1 - y) * std::log(1 - a));
    }
  }
  EXPECT_NEAR(cost_value(Cost::cross_entropy, Activation::sigmoid, o.z, o.a, o.y), sum / 2, 1e-14);
}

TEST(Cost, LogLikelihoodIsMinusLogOfTheTrueClassProbability) {
  const Outputs o = sample(Activation::softmax);
  const double expected = -(std::log(o.a(1, 0)) + std::log(o.a(0, 1))) / 2;
  EXPECT_NEAR(cost_value(Cost::log_likelihood, Activation::softmax, o.z, o.a, o.y), expected,
              1e-14);
}

TEST(Cost, SaturatedOutputsGiveFiniteCosts) {
  // In float, sigmoid(40) rounds to exactly 1; ln(1 - a) would be -inf.
  Matrix<float> z(1, 1);
  z << 40.0F;
  Matrix<float> a;
  activate(Activation::sigmoid, z, a);
  ASSERT_EQ(a(0, 0), 1.0F);
  Matrix<float> y = Matrix<float>::Zero(1, 1);
  EXPECT_NEAR(cost_value(Cost::cross_entropy, Activation::sigmoid, z, a, y), 40.0, 1e-5);
  Matrix<float> z2(2, 1);
  z2 << 500.0F, -500.0F;
  activate(Activation::softmax, z2, a);
  Matrix<float> y2(2, 1);
  y2 << 0.0F, 1.0F;
  EXPECT_NEAR(cost_value(Cost::log_likelihood, Activation::softmax, z2, a, y2), 1000.0, 1e-2);
}

TEST(Cost, FusedDeltasEqualTheGeneralFormula) {
  for (auto [cost, activation] : {std::pair{Cost::cross_entropy, Activation::sigmoid},
                                  std::pair{Cost::log_likelihood, Activation::softmax}}) {
    const Outputs o = sample(activation);
    Matrix<double> fused;
    output_delta(cost, activation, o.z, o.a, o.y, fused);
    EXPECT_TRUE(fused.isApprox(o.a - o.y, 1e-15));
    // grad_a C for each cost, then the activation's derivative.
    Matrix<double> general =
        cost == Cost::cross_entropy
            ? Matrix<double>((o.a - o.y).array() / (o.a.array() * (1 - o.a.array())))
            : Matrix<double>(-o.y.array() / o.a.array());
    multiply_by_derivative(activation, o.z, o.a, general);
    EXPECT_TRUE(fused.isApprox(general, 1e-12)) << to_string(cost);
  }
}

TEST(Cost, IncompatibleOutputsAreRejected) {
  EXPECT_THROW(check_compatible(Cost::cross_entropy, Activation::relu), InputError);
  EXPECT_THROW(check_compatible(Cost::log_likelihood, Activation::identity), InputError);
  EXPECT_NO_THROW(check_compatible(Cost::quadratic, Activation::tanh));
  EXPECT_EQ(parse_cost("cross-entropy"), Cost::cross_entropy);
  EXPECT_THROW(parse_cost("mse"), InputError);
}

}  // namespace
}  // namespace backprop
