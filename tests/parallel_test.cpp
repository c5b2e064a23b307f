// Threads change who computes what, never what is computed: the same seed
// gives bitwise the same weights with 1 or 2 threads.
#include "backprop/parallel.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "backprop/initialization.hpp"
#include "backprop/training.hpp"

namespace backprop {
namespace {

TEST(Parallel, BlocksAreFixedByShapeAlone) {
  EXPECT_EQ(block_count(10), 1);
  EXPECT_EQ(block_count(128), 1);
  EXPECT_EQ(block_count(200), 2);
  EXPECT_EQ(block_count(1024), 8);
  for (Eigen::Index rows : {1, 17, 30, 100, 784, 1024, 1000}) {
    Eigen::Index covered = 0;
    for_each_block(rows, [&](Eigen::Index begin, Eigen::Index size) {
#pragma omp critical
      covered += size;
      EXPECT_EQ(begin % 128, 0);
      EXPECT_GE(size, 1);
    });
    EXPECT_EQ(covered, rows);
  }
}

Vector<float> train_with_threads(int threads, int mini_batch_size) {
  set_threads(threads);
  Rng rng(3);
  Dataset data;
  data.values.resize(50, 300);
  for (Eigen::Index i = 0; i < data.values.size(); ++i) {
    data.values.data()[i] = static_cast<float>(rng.uniform());
  }
  for (int i = 0; i < 300; ++i) data.labels.push_back(static_cast<int>(rng.below(4)));
  data.classes = 4;
  Network<float> network(NetworkSpec{{50, 300, 200, 4},
                                     {Activation::relu, Activation::sigmoid, Activation::softmax},
                                     Cost::log_likelihood});
  initialize(network, Initialization::he, rng);
  TrainingOptions options;
  options.epochs = 3;
  options.mini_batch_size = mini_batch_size;
  options.learning_rate = 0.1;
  options.optimizer.kind = OptimizerKind::adam;
  options.learning_rate = 0.01;
  options.dropout = {0.2, 0.1, 0};
  train(network, data, options, rng);
  set_threads(1);
  return network.parameters();
}

// Mini-batches of 16 take the narrow kernels (narrow_product.hpp), of 40
// the general product (general_product.hpp).
TEST(Parallel, OneAndTwoThreadsGiveBitwiseTheSameWeights) {
  for (const int mini_batch_size : {16, 40}) {
    const Vector<float> one = train_with_threads(1, mini_batch_size);
    const Vector<float> two = train_with_threads(2, mini_batch_size);
    ASSERT_EQ(one.size(), two.size());
    EXPECT_EQ(0, std::memcmp(one.data(), two.data(), sizeof(float) * one.size()))
        << "mini-batch " << mini_batch_size;
  }
}

}  // namespace
}  // namespace backprop
