// Extreme inputs: sigmoid, softmax, the costs' logarithms and the output
// errors stay finite for |z| up to 1e4, where e^{|z|} overflows both float
// and double, and saturated outputs are exactly 0 or 1.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>

#include "backprop/activation.hpp"
#include "backprop/cost.hpp"
#include "backprop/network.hpp"

namespace backprop {
namespace {

template <typename T>
class Numerics : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Numerics, Precisions);

template <typename T>
Matrix<T> column(std::initializer_list<T> values) {
  Matrix<T> z(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (T value : values) z(i++, 0) = value;
  return z;
}

template <typename T>
bool all_finite(const Matrix<T>& m) {
  return m.array().isFinite().all();
}

TYPED_TEST(Numerics, SigmoidSaturatesToExactlyZeroAndOne) {
  using T = TypeParam;
  const Matrix<T> z = column<T>({-1e4, -1e3, -800, -100, 0, 100, 800, 1e3, 1e4});
  Matrix<T> a;
  activate(Activation::sigmoid, z, a);
  ASSERT_TRUE(all_finite(a));
  EXPECT_EQ(a(0, 0), T(0));
  EXPECT_EQ(a(1, 0), T(0));
  EXPECT_EQ(a(2, 0), T(0));
  EXPECT_EQ(a(4, 0), T(0.5));
  EXPECT_EQ(a(6, 0), T(1));
  EXPECT_EQ(a(7, 0), T(1));
  EXPECT_EQ(a(8, 0), T(1));
  for (Eigen::Index i = 1; i < z.rows(); ++i) EXPECT_LE(a(i - 1, 0), a(i, 0));
  // sigma'(z) = a (1 - a): exactly 0 where saturated, never NaN.
  Matrix<T> grad = Matrix<T>::Ones(z.rows(), 1);
  multiply_by_derivative(Activation::sigmoid, z, a, grad);
  ASSERT_TRUE(all_finite(grad));
  EXPECT_EQ(grad(0, 0), T(0));
  EXPECT_EQ(grad(8, 0), T(0));
}

TYPED_TEST(Numerics, SoftmaxOfHugeLogitsIsAOneHotColumn) {
  using T = TypeParam;
  Matrix<T> z(3, 4);
  z.col(0) = column<T>({1e4, -1e4, 0});
  z.col(1) = column<T>({-1e4, -1e4, -1e4});  // all equal: uniform
  z.col(2) = column<T>({1e4, 1e4, -1e4});    // a tie between two
  z.col(3) = column<T>({-5e3, 1e4, 9.99e3});
  Matrix<T> a;
  activate(Activation::softmax, z, a);
  ASSERT_TRUE(all_finite(a));
  EXPECT_EQ(a(0, 0), T(1));
  EXPECT_EQ(a(1, 0), T(0));
  EXPECT_EQ(a(2, 0), T(0));
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(a(j, 1), 1.0 / 3, 1e-6);
  EXPECT_EQ(a(0, 2), T(0.5));
  EXPECT_EQ(a(1, 2), T(0.5));
  EXPECT_EQ(a(2, 2), T(0));
  // Only the differences of z matter: 1e4 and 9.99e3 are 10 apart.
  EXPECT_EQ(a(0, 3), T(0));
  EXPECT_NEAR(a(1, 3), 1 / (1 + std::exp(-10.0)), 1e-6);
  EXPECT_NEAR(a(2, 3), std::exp(-10.0) / (1 + std::exp(-10.0)), 1e-9);
  for (Eigen::Index c = 0; c < a.cols(); ++c) EXPECT_NEAR(a.col(c).sum(), 1.0, 1e-6);
}

// The cost of one example whose output z has the given logits and target y.
template <typename T>
double cost_of(Cost cost, Activation activation, const Matrix<T>& z, const Matrix<T>& y) {
  Matrix<T> a;
  activate(activation, z, a);
  return cost_value(cost, activation, z, a, y);
}

TYPED_TEST(Numerics, LogCostsOfSaturatedOutputsAreTheirLimits) {
  using T = TypeParam;
  const Matrix<T> z = column<T>({1e4, -1e4});
  const Matrix<T> right = column<T>({1, 0});
  const Matrix<T> wrong = column<T>({0, 1});
  // Sigmoid, cross-entropy: -ln sigma(-1e4) = 1e4 per wrong output, 0 when right.
  EXPECT_EQ(cost_of(Cost::cross_entropy, Activation::sigmoid, z, right), 0.0);
  EXPECT_NEAR(cost_of(Cost::cross_entropy, Activation::sigmoid, z, wrong), 2e4, 2e4 * 1e-6);
  EXPECT_NEAR(cost_of(Cost::log_likelihood, Activation::sigmoid, z, wrong), 1e4, 1e4 * 1e-6);
  // Softmax: ln a_1 = -2e4 (log-likelihood); cross-entropy adds ln(1 - a_0) = -2e4,
  // although a_0 is exactly 1 and 1 - a_0 exactly 0.
  EXPECT_EQ(cost_of(Cost::log_likelihood, Activation::softmax, z, right), 0.0);
  EXPECT_NEAR(cost_of(Cost::log_likelihood, Activation::softmax, z, wrong), 2e4, 2e4 * 1e-6);
  EXPECT_EQ(cost_of(Cost::cross_entropy, Activation::softmax, z, right), 0.0);
  EXPECT_NEAR(cost_of(Cost::cross_entropy, Activation::softmax, z, wrong), 4e4, 4e4 * 1e-6);
  // Three outputs, the largest ahead by 30: 1 - a_0 is about e^{-30}, which rounds
  // a_0 to 1 in float (and nearly in double), yet ln(1 - a_0) is about
  // -30 + ln(1 + e^{-10}), and ln a_1 about -30.
  const Matrix<T> near = column<T>({30, 0, -10});
  EXPECT_NEAR(cost_of(Cost::cross_entropy, Activation::softmax, near, column<T>({0, 1, 0})),
              30.0 - std::log1p(std::exp(-10.0)) + 30.0, 1e-4);
}

// Central differences of the cost in double, at moderate z, for the delta's formula.
Matrix<double> numerical_delta(Cost cost, Activation activation, const Matrix<double>& z,
                               const Matrix<double>& y) {
  Matrix<double> delta(z.rows(), z.cols());
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    Matrix<double> plus = z;
    Matrix<double> minus = z;
    plus.data()[i] += h;
    minus.data()[i] -= h;
    // cost_value averages over the columns; the delta is per example.
    delta.data()[i] = static_cast<double>(z.cols()) *
                      (cost_of(cost, activation, plus, y) - cost_of(cost, activation, minus, y)) /
                      (2 * h);
  }
  return delta;
}

const std::pair<Cost, Activation> kPairs[] = {
    {Cost::quadratic, Activation::sigmoid},      {Cost::quadratic, Activation::softmax},
    {Cost::cross_entropy, Activation::sigmoid},  {Cost::cross_entropy, Activation::softmax},
    {Cost::log_likelihood, Activation::sigmoid}, {Cost::log_likelihood, Activation::softmax}};

TEST(Numerics, OutputErrorsMatchFiniteDifferencesIncludingNearSaturation) {
  Matrix<double> z(3, 4);
  z.col(0) << 0.3, -1.2, 2.0;  // softmax's a_2 = 0.82
  z.col(1) << 12, -3, 1;       // softmax's a_0 = 0.99998
  z.col(2) << -2, 0.5, 0.4;    // softmax's a_1 = 0.504
  z.col(3) << 0.1, 0.2, 0.0;   // no softmax output above 1/2
  Matrix<double> y = Matrix<double>::Zero(3, 4);
  y(1, 0) = y(2, 1) = y(0, 2) = 1;
  y.col(3) << 0.2, 0.5, 0.3;  // targets need not be one-hot
  for (const auto& [cost, activation] : kPairs) {
    Matrix<double> a;
    activate(activation, z, a);
    Matrix<double> delta;
    output_delta(cost, activation, z, a, y, delta);
    const Matrix<double> expected = numerical_delta(cost, activation, z, y);
    // Differences of h = 1e-6 on costs of order 10 leave about 1e-8 of error.
    EXPECT_LT((delta - expected).cwiseAbs().maxCoeff(), 1e-6)
        << to_string(cost) << " with " << to_string(activation) << ":\n"
        << delta << "\nexpected\n"
        << expected;
  }
}

TYPED_TEST(Numerics, OutputErrorsOfSaturatedOutputsAreFinite) {
  using T = TypeParam;
  Matrix<T> z(3, 3);
  z.col(0) = column<T>({1e4, -1e4, 0});
  z.col(1) = column<T>({-1e4, 1e4, 1e4});
  z.col(2) = column<T>({40, -40, 1e3});
  Matrix<T> y = Matrix<T>::Zero(3, 3);
  y(1, 0) = y(2, 1) = y(0, 2) = 1;
  for (const auto& [cost, activation] : kPairs) {
    Matrix<T> a;
    activate(activation, z, a);
    Matrix<T> delta;
    output_delta(cost, activation, z, a, y, delta);
    EXPECT_TRUE(all_finite(delta)) << to_string(cost) << " with " << to_string(activation) << ":\n"
                                   << delta;
    EXPECT_TRUE(std::isfinite(cost_value(cost, activation, z, a, y)));
    // Whatever the pairing, the error is bounded by the largest |a - y| term: each
    // formula's pieces are probabilities.
    EXPECT_LE(delta.cwiseAbs().maxCoeff(), T(4)) << to_string(cost) << "\n" << delta;
  }
}

TYPED_TEST(Numerics, ANetworkWithHugeWeightsGivesFiniteOutputsAndGradients) {
  using T = TypeParam;
  for (const auto& [cost, output] : kPairs) {
    Network<T> network(NetworkSpec{{4, 5, 3}, {Activation::sigmoid, output}, cost});
    auto p = network.parameters();
    for (Eigen::Index i = 0; i < p.size(); ++i) p[i] = T((i % 7) - 3) * T(3e3);
    Matrix<T> x = Matrix<T>::Ones(4, 2);
    x(0, 1) = -1;
    Matrix<T> y = Matrix<T>::Zero(3, 2);
    y(0, 0) = y(2, 1) = 1;
    ASSERT_TRUE(all_finite(network.feedforward(x)));
    EXPECT_TRUE(std::isfinite(network.backprop(x, y))) << to_string(cost);
    EXPECT_TRUE(network.gradients().array().isFinite().all())
        << to_string(cost) << " with " << to_string(output);
  }
}

}  // namespace
}  // namespace backprop
