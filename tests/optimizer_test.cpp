// Each update rule's first two steps against values worked out by hand from
// its formula (optimizer.hpp), on theta = (1, -2) with the gradients
// g1 = (0.5, -1) and g2 = (-0.25, 2), eta = 0.1, mu = 0.9.
#include "backprop/optimizer.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "backprop/error.hpp"

namespace backprop {
namespace {

Vector<double> two_steps(OptimizerKind kind, Vector<double>* after_first = nullptr) {
  OptimizerOptions options;
  options.kind = kind;
  options.momentum = 0.9;
  Optimizer<double> optimizer(options, 2);
  Vector<double> theta(2);
  theta << 1.0, -2.0;
  Vector<double> g(2);
  g << 0.5, -1.0;
  EXPECT_TRUE(
      optimizer.step(VectorMap<double>(theta.data(), 2), VectorMap<double>(g.data(), 2), 0.1));
  if (after_first != nullptr) *after_first = theta;
  g << -0.25, 2.0;
  EXPECT_TRUE(
      optimizer.step(VectorMap<double>(theta.data(), 2), VectorMap<double>(g.data(), 2), 0.1));
  return theta;
}

TEST(Optimizer, SgdStepsAgainstTheGradient) {
  Vector<double> first;
  const Vector<double> second = two_steps(OptimizerKind::sgd, &first);
  EXPECT_NEAR(first[0], 0.95, 1e-15);  // 1 - 0.1 * 0.5
  EXPECT_NEAR(first[1], -1.9, 1e-15);
  EXPECT_NEAR(second[0], 0.975, 1e-15);  // 0.95 + 0.1 * 0.25
  EXPECT_NEAR(second[1], -2.1, 1e-15);
}

TEST(Optimizer, MomentumAccumulatesVelocity) {
  Vector<double> first;
  const Vector<double> second = two_steps(OptimizerKind::momentum, &first);
  // v1 = -0.1 g1 = (-0.05, 0.1); v2 = 0.9 v1 - 0.1 g2 = (-0.02, -0.11)
  EXPECT_NEAR(first[0], 0.95, 1e-15);
  EXPECT_NEAR(second[0], 0.93, 1e-15);
  EXPECT_NEAR(second[1], -2.01, 1e-15);
}

TEST(Optimizer, NesterovLooksAhead) {
  Vector<double> first;
  const Vector<double> second = two_steps(OptimizerKind::nesterov, &first);
  // theta += -mu v + (1 + mu) v': step 1 moves by 1.9 v1.
  EXPECT_NEAR(first[0], 0.905, 1e-15);
  EXPECT_NEAR(first[1], -1.81, 1e-15);
  EXPECT_NEAR(second[0], 0.912, 1e-15);
  EXPECT_NEAR(second[1], -2.109, 1e-15);
}

TEST(Optimizer, AdamNormalisesByTheSecondMoment) {
  Vector<double> first;
  const Vector<double> second = two_steps(OptimizerKind::adam, &first);
  // Step 1: m^ = g, v^ = g^2, so each parameter moves by eta |g| / (|g| + eps).
  EXPECT_NEAR(first[0], 0.900000002, 1e-15);
  EXPECT_NEAR(first[1], -1.900000001, 1e-15);
  EXPECT_NEAR(second[0], 0.8733662987078463, 1e-14);
  EXPECT_NEAR(second[1], -1.9366103534720749, 1e-14);
}

TEST(Optimizer, StateRoundTripsAndMismatchesAreRejected) {
  OptimizerOptions options;
  options.kind = OptimizerKind::adam;
  Optimizer<float> a(options, 3);
  Vector<float> theta = Vector<float>::Ones(3);
  Vector<float> g = Vector<float>::Constant(3, 0.3F);
  ASSERT_TRUE(a.step(VectorMap<float>(theta.data(), 3), VectorMap<float>(g.data(), 3), 0.01));
  Optimizer<float> b(options, 3);
  b.set_state(a.state());
  Vector<float> theta_b = theta;
  ASSERT_TRUE(a.step(VectorMap<float>(theta.data(), 3), VectorMap<float>(g.data(), 3), 0.01));
  ASSERT_TRUE(b.step(VectorMap<float>(theta_b.data(), 3), VectorMap<float>(g.data(), 3), 0.01));
  EXPECT_EQ(theta, theta_b);

  options.kind = OptimizerKind::momentum;
  Optimizer<float> other(options, 3);
  EXPECT_THROW(other.set_state(a.state()), InputError);
  EXPECT_THROW(parse_optimizer("rmsprop"), InputError);
  options.momentum = 1.5;
  EXPECT_THROW(options.validate(), InputError);
}

// The step reports a NaN or an infinity in the gradient or in the new
// parameters wherever it lies (the check runs block by block with the step),
// and does not mistake large finite values, whose sum overflows, for one.
TEST(Optimizer, StepReportsWhatIsNotFinite) {
  const long n = 5000;  // more than one block of the step
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::momentum,
                                   OptimizerKind::nesterov, OptimizerKind::adam}) {
    OptimizerOptions options;
    options.kind = kind;
    for (const long where : {0L, 2047L, 2048L, n - 1}) {
      Optimizer<float> optimizer(options, n);
      Vector<float> theta = Vector<float>::Ones(n);
      Vector<float> g = Vector<float>::Constant(n, 0.5F);
      g[where] = std::numeric_limits<float>::quiet_NaN();
      EXPECT_FALSE(
          optimizer.step(VectorMap<float>(theta.data(), n), VectorMap<float>(g.data(), n), 0.1))
          << to_string(kind) << ": NaN at " << where;
    }
    Optimizer<float> optimizer(options, n);
    Vector<float> theta = Vector<float>::Constant(n, 3e38F);
    Vector<float> g = Vector<float>::Constant(n, 1e-3F);
    EXPECT_TRUE(
        optimizer.step(VectorMap<float>(theta.data(), n), VectorMap<float>(g.data(), n), 0.1))
        << to_string(kind) << ": large finite parameters";
  }
  // An SGD step that overflows: -3e38 - 1 * 3e38.
  OptimizerOptions options;
  Optimizer<float> optimizer(options, 3);
  Vector<float> theta = Vector<float>::Constant(3, -3e38F);
  Vector<float> g = Vector<float>::Zero(3);
  g[1] = 3e38F;
  EXPECT_FALSE(
      optimizer.step(VectorMap<float>(theta.data(), 3), VectorMap<float>(g.data(), 3), 1.0));
}

}  // namespace
}  // namespace backprop
