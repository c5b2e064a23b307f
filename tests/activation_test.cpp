// Activations against closed forms, and their derivatives against centred
// differences of the forward function.
#include "backprop/activation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "backprop/error.hpp"

namespace backprop {
namespace {

Matrix<double> sample_z() {
  Matrix<double> z(3, 4);
  z << -2.0, -0.5, 0.3, 1.7,  //
      0.9, -1.1, 2.5, -0.2,   //
      0.05, 1.4, -3.0, 0.6;
  return z;
}

TEST(Activation, ValuesMatchClosedForms) {
  const Matrix<double> z = sample_z();
  Matrix<double> a;
  activate(Activation::sigmoid, z, a);
  EXPECT_DOUBLE_EQ(a(0, 0), 1.0 / (1.0 + std::exp(2.0)));
  activate(Activation::tanh, z, a);
  EXPECT_DOUBLE_EQ(a(1, 2), std::tanh(2.5));
  activate(Activation::relu, z, a);
  EXPECT_EQ(a(0, 0), 0.0);
  EXPECT_EQ(a(1, 2), 2.5);
  activate(Activation::identity, z, a);
  EXPECT_EQ(a, z);
  activate(Activation::softmax, z, a);
  for (int c = 0; c < z.cols(); ++c) {
    const double sum = std::exp(z(0, c)) + std::exp(z(1, c)) + std::exp(z(2, c));
    EXPECT_NEAR(a(1, c), std::exp(z(1, c)) / sum, 1e-15);
    EXPECT_NEAR(a.col(c).sum(), 1.0, 1e-15);
  }
}

TEST(Activation, StableForExtremeInputs) {
  Matrix<float> z(2, 2);
  z << -1e4F, 1e4F, 1e4F, -1e4F;
  Matrix<float> a;
  activate(Activation::sigmoid, z, a);
  EXPECT_EQ(a(0, 0), 0.0F);
  EXPECT_EQ(a(0, 1), 1.0F);
  activate(Activation::softmax, z, a);
  EXPECT_TRUE(a.allFinite());
  EXPECT_EQ(a(1, 0), 1.0F);
  EXPECT_EQ(a(0, 0), 0.0F);
}

// d/dz of sum(g (.) sigma(z)) by centred differences, one z at a time; this
// is exactly what multiply_by_derivative must compute (the Jacobian of
// softmax included).
TEST(Activation, DerivativeMatchesCentredDifferences) {
  const Matrix<double> z = sample_z();
  Matrix<double> g(3, 4);
  g << 0.3, -1.2, 0.8, 0.1,  //
      -0.4, 0.6, 1.5, -0.9,  //
      1.1, -0.2, 0.05, 0.7;
  const double h = 1e-6;
  for (Activation activation : {Activation::sigmoid, Activation::tanh, Activation::relu,
                                Activation::identity, Activation::softmax}) {
    Matrix<double> a;
    activate(activation, z, a);
    Matrix<double> analytic = g;
    multiply_by_derivative(activation, z, a, analytic);
    for (int r = 0; r < z.rows(); ++r) {
      for (int c = 0; c < z.cols(); ++c) {
        Matrix<double> plus = z;
        Matrix<double> minus = z;
        plus(r, c) += h;
        minus(r, c) -= h;
        Matrix<double> a_plus;
        Matrix<double> a_minus;
        activate(activation, plus, a_plus);
        activate(activation, minus, a_minus);
        const double numeric = (g.array() * (a_plus - a_minus).array()).sum() / (2 * h);
        EXPECT_NEAR(analytic(r, c), numeric, 1e-8)
            << to_string(activation) << " at (" << r << ", " << c << ")";
      }
    }
  }
}

TEST(Activation, NamesRoundTripAndUnknownNamesAreRejected) {
  for (Activation activation : {Activation::sigmoid, Activation::tanh, Activation::relu,
                                Activation::identity, Activation::softmax}) {
    EXPECT_EQ(parse_activation(to_string(activation)), activation);
  }
  EXPECT_THROW(parse_activation("sigmod"), InputError);
}

}  // namespace
}  // namespace backprop
