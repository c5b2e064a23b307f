// The network's forward pass and one SGD step against values worked out by
// hand, and the layout of the one parameter buffer.
#include "backprop/network.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "backprop/rng.hpp"

#include "backprop/error.hpp"

namespace backprop {
namespace {

// [2, 2, 1] sigmoid network, quadratic cost, with
//   W^1 = [0.1 0.2; 0.3 0.4], b^1 = [0.5, -0.5], W^2 = [0.6 -0.7], b^2 = [0.1],
// and a mini-batch of two examples: x = (1, 0) with y = 1, x = (0, 1) with y = 0.
// The expected numbers were computed line by line from the book's equations:
//   z^1 = W^1 x + b^1, a^1 = sigma(z^1), z^2 = W^2 a^1 + b^2, a^2 = sigma(z^2),
//   delta^2 = (a^2 - y) sigma'(z^2), delta^1 = (W^2)^T delta^2 (.) sigma'(z^1),
//   and the step theta <- theta - eta * (1/m) sum_x dC_x/dtheta with eta = 2.
class TinyNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& first = network.layer(0);
    first.weights << 0.1, 0.2, 0.3, 0.4;
    first.biases << 0.5, -0.5;
    auto& second = network.layer(1);
    second.weights << 0.6, -0.7;
    second.biases << 0.1;
    x << 1, 0, 0, 1;
    y << 1, 0;
  }

  Network<double> network{
      NetworkSpec{{2, 2, 1}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic}};
  Matrix<double> x{2, 2};
  Matrix<double> y{1, 2};
};

TEST_F(TinyNetwork, ForwardPassMatchesHandComputation) {
  const Matrix<double>& a = network.feedforward(x);
  ASSERT_EQ(a.rows(), 1);
  ASSERT_EQ(a.cols(), 2);
  // z^2 = 0.6 sigma(0.6) - 0.7 sigma(-0.2) + 0.1 = 0.172277581854...
  EXPECT_NEAR(network.layer(1).z()(0, 0), 0.17227758185421174, 1e-15);
  EXPECT_NEAR(a(0, 0), 0.5429631872628079, 1e-15);
  EXPECT_NEAR(network.layer(0).a()(1, 1), 0.47502081252106, 1e-15);  // sigma(-0.1)
  EXPECT_NEAR(a(0, 1), 0.5420003170496575, 1e-15);
  // C = (1/2m) sum ||a - y||^2
  EXPECT_NEAR(network.cost(x, y), 0.1256617479697251, 1e-15);
}

TEST_F(TinyNetwork, OneSgdStepMatchesHandComputation) {
  const double cost = network.backprop(x, y);
  EXPECT_NEAR(cost, 0.1256617479697251, 1e-15);
  network.parameters() -= 2.0 * network.gradients();

  const auto& first = network.layer(0);
  EXPECT_NEAR(first.weights(0, 0), 0.11556861955279364, 1e-15);
  EXPECT_NEAR(first.weights(0, 1), 0.1821019210623467, 1e-15);
  EXPECT_NEAR(first.weights(1, 0), 0.28034943358198183, 1e-15);
  EXPECT_NEAR(first.weights(1, 1), 0.42348643082354087, 1e-15);
  EXPECT_NEAR(first.biases(0), 0.4976705406151403, 1e-15);
  EXPECT_NEAR(first.biases(1), -0.49616413559447736, 1e-15);
  const auto& second = network.layer(1);
  EXPECT_NEAR(second.weights(0, 0), 0.5833268501319887, 1e-15);
  EXPECT_NEAR(second.weights(0, 1), -0.7128553468413465, 1e-15);
  EXPECT_NEAR(second.biases(0), 0.07887161216048424, 1e-15);
}

TEST_F(TinyNetwork, DescendTakesTheSameStepAsBackpropThenSgd) {
  Network<double> fused = network;
  bool finite = false;
  const double cost = fused.descend(x, y, nullptr, Descent<double>{2.0}, finite);
  EXPECT_TRUE(finite);
  EXPECT_NEAR(cost, 0.1256617479697251, 1e-15);
  network.backprop(x, y);
  network.parameters() -= 2.0 * network.gradients();
  EXPECT_TRUE(fused.parameters().isApprox(network.parameters(), 1e-15));
}

// Network::descend against backprop() and the step taken by hand, on
// mini-batches narrow (7) and wide (40, the packed products), with and
// without L2 weight decay, in both precisions; and a NaN in the data is
// reported as a parameter that is not finite.
template <typename T>
void check_descend(Eigen::Index m, double decay) {
  const NetworkSpec spec{
      {50, 40, 3}, {Activation::relu, Activation::softmax}, Cost::log_likelihood};
  Network<T> fused(spec);
  Rng rng(21);
  for (Eigen::Index i = 0; i < fused.parameters().size(); ++i) {
    fused.parameters()[i] = static_cast<T>(0.2 * rng.normal());
  }
  Network<T> by_hand = fused;
  Matrix<T> x(50, m);
  Matrix<T> y = Matrix<T>::Zero(3, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < 50; ++i) x(i, j) = static_cast<T>(rng.uniform());
    y(j % 3, j) = 1;
  }
  const double eta = 0.5;
  bool finite = false;
  const double cost =
      fused.descend(x, y, nullptr, Descent<T>{static_cast<T>(eta), static_cast<T>(decay)}, finite);
  EXPECT_TRUE(finite);
  EXPECT_NEAR(cost, by_hand.backprop(x, y), 1e-12);
  // The book's eq. 93: w <- decay w - eta dC_0/dw; biases without decay.
  for (int l = 0; l < by_hand.layer_count(); ++l) {
    auto& layer = by_hand.layer(l);
    layer.weights =
        static_cast<T>(decay) * layer.weights - static_cast<T>(eta) * layer.weight_gradient;
    layer.biases -= static_cast<T>(eta) * layer.bias_gradient;
  }
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  EXPECT_TRUE(fused.parameters().isApprox(by_hand.parameters(), static_cast<T>(tolerance)))
      << "m = " << m << ", decay " << decay << ", largest difference "
      << (fused.parameters() - by_hand.parameters()).cwiseAbs().maxCoeff();

  x(3, 0) = std::numeric_limits<T>::quiet_NaN();
  fused.descend(x, y, nullptr, Descent<T>{static_cast<T>(eta)}, finite);
  EXPECT_FALSE(finite) << "m = " << m;
}

TEST(NetworkDescend, EqualsBackpropThenTheStepForNarrowAndWideBatches) {
  for (const Eigen::Index m : {7, 40}) {
    for (const double decay : {1.0, 0.99}) {
      check_descend<double>(m, decay);
      check_descend<float>(m, decay);
    }
  }
}

TEST_F(TinyNetwork, FloatAgreesWithDouble) {
  Network<float> single(network.spec());
  single.parameters() = network.parameters().cast<float>();
  const Matrix<float> a = single.feedforward(x.cast<float>());
  EXPECT_NEAR(a(0, 0), 0.5429631872628079, 1e-6);
  EXPECT_NEAR(a(0, 1), 0.5420003170496575, 1e-6);
}

TEST(NetworkLayout, ParametersAreOneBufferOfWeightsThenBiasesPerLayer) {
  Network<float> network(
      NetworkSpec{{3, 4, 2}, {Activation::relu, Activation::softmax}, Cost::log_likelihood});
  EXPECT_EQ(network.parameter_count(), 4 * 3 + 4 + 2 * 4 + 2);
  EXPECT_EQ(network.parameter_offset(1), 4 * 3 + 4);
  float* base = network.parameters().data();
  EXPECT_EQ(network.layer(0).weights.data(), base);
  EXPECT_EQ(network.layer(0).biases.data(), base + 12);
  EXPECT_EQ(network.layer(1).weights.data(), base + 16);
  EXPECT_EQ(network.layer(1).bias_gradient.data(), network.gradients().data() + 24);
}

TEST(NetworkLayout, CopiesOwnTheirParameters) {
  Network<float> original(NetworkSpec::chapter1());
  original.parameters().setConstant(1.0F);
  Network<float> copy = original;
  copy.parameters().setConstant(2.0F);
  EXPECT_EQ(original.layer(1).weights(0, 0), 1.0F);
  EXPECT_EQ(copy.layer(1).weights(0, 0), 2.0F);
  EXPECT_EQ(copy.layer(1).weights.data(), copy.parameters().data() + copy.parameter_offset(1));
}

TEST(NetworkSpecValidation, RejectsBadArchitectures) {
  auto rejects = [](NetworkSpec spec, const std::string& phrase) {
    try {
      spec.validate();
      ADD_FAILURE() << "accepted a spec that should fail with: " << phrase;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
    }
  };
  rejects({{784}, {}, Cost::quadratic}, "no layers");
  rejects({{784, 0, 10}, {Activation::sigmoid, Activation::sigmoid}, Cost::quadratic},
          "at least 1");
  rejects({{784, 30, 10}, {Activation::sigmoid}, Cost::quadratic}, "activations");
  rejects({{784, 30, 10}, {Activation::softmax, Activation::softmax}, Cost::log_likelihood},
          "only allowed on the output layer");
  rejects({{784, 30, 10}, {Activation::sigmoid, Activation::relu}, Cost::cross_entropy},
          "needs outputs in (0, 1)");
  EXPECT_NO_THROW(NetworkSpec::chapter1().validate());
}

}  // namespace
}  // namespace backprop
