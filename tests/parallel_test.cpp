// Threads change who computes what, never what is computed: the same seed
// gives bitwise the same weights with 1 or 2 threads.
#include "backprop/parallel.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

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

// Shares cover [0, count) once, in multiples of the granule, one per thread
// (at most); below the minimum, one share on the calling thread.
TEST(Parallel, SharesCoverTheRangeOnceInWholeGranules) {
  for (const int threads : {1, 2}) {
    set_threads(threads);
    for (const Eigen::Index count : {0, 1, 7, 8, 9, 64, 100, 1001}) {
      std::vector<int> seen(static_cast<std::size_t>(count), 0);
      int shares = 0;
      for_each_share(count, 8, 0, [&](Eigen::Index begin, Eigen::Index end) {
#pragma omp critical
        {
          ++shares;
          EXPECT_EQ(begin % 8, 0) << count;
          EXPECT_TRUE(end % 8 == 0 || end == count) << count;
          for (Eigen::Index i = begin; i < end; ++i) ++seen[static_cast<std::size_t>(i)];
        }
      });
      for (const int times : seen) ASSERT_EQ(times, 1) << count << " with " << threads;
      EXPECT_EQ(shares, count > 8 ? threads : 1) << count;
    }
    int shares = 0;
    for_each_share(100, 1, 101, [&](Eigen::Index begin, Eigen::Index end) {
      ++shares;
      EXPECT_EQ(begin, 0);
      EXPECT_EQ(end, 100);
    });
    EXPECT_EQ(shares, 1);
  }
  set_threads(1);
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
// the packed products (packed_product.hpp).
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
