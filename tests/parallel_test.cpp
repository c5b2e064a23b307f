// Threads change who computes what, never what is computed: the same seed
// gives bitwise the same weights with 1 or 2 threads.
#include "backprop/parallel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <span>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "backprop/dataset.hpp"
#include "backprop/initialization.hpp"
#include "backprop/optimizer.hpp"
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

// The thread that ran each of `shares` shares in one call, checking that
// each ran once.
std::vector<std::thread::id> run_shares(int shares, const std::function<void(int)>& also = {}) {
  std::vector<std::thread::id> ran(static_cast<std::size_t>(shares));
  std::vector<int> times(static_cast<std::size_t>(shares), 0);
  for_each_pinned_share(shares, [&](int share) {
    ran[static_cast<std::size_t>(share)] = std::this_thread::get_id();
    ++times[static_cast<std::size_t>(share)];
    if (also) also(share);
  });
  for (const int count : times) EXPECT_EQ(count, 1);
  return ran;
}

// The team's shares: each runs once per call, on its own thread (s mod
// threads) or on the caller; a share's exception reaches the caller, after
// which the team still works; nested calls run in order.
TEST(Parallel, PinnedSharesRunOnceEachOnTheirThreadOrTheCaller) {
  const std::thread::id caller = std::this_thread::get_id();
  for (const int threads : {1, 2, 3}) {
    set_threads(threads);
    // The helper seen running each thread's shares (thread s mod threads).
    std::vector<std::thread::id> helper(static_cast<std::size_t>(threads));
    for (int call = 0; call < 200; ++call) {
      const std::vector<std::thread::id> ran = run_shares(4);
      for (int share = 0; share < 4; ++share) {
        const auto thread = static_cast<std::size_t>(share % threads);
        const std::thread::id ran_on = ran[static_cast<std::size_t>(share)];
        if (thread == 0) {
          ASSERT_EQ(ran_on, caller) << "share " << share << ", call " << call;
          continue;
        }
        if (ran_on == caller) continue;  // its helper had not taken it up
        if (helper[thread] == std::thread::id{}) helper[thread] = ran_on;
        ASSERT_EQ(ran_on, helper[thread]) << "share " << share << ", call " << call;
      }
    }
    if (threads == 3 && helper[1] != std::thread::id{}) EXPECT_NE(helper[1], helper[2]);
    EXPECT_THROW(for_each_pinned_share(2,
                                       [](int share) {
                                         if (share == 1) throw std::runtime_error("share 1");
                                       }),
                 std::runtime_error);
    // Called from inside a share: run there, in order.
    std::vector<int> order;
    for_each_pinned_share(2, [&](int share) {
      if (share != 1) return;
      for_each_pinned_share(3, [&](int inner) { order.push_back(inner); });
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  }
  set_threads(1);
}

// A share body that sleeps 100 ms when `thread` runs it.
std::function<void(int)> sleep_on(std::thread::id thread) {
  return [thread](int) {
    if (std::this_thread::get_id() == thread) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
}

// While the caller is busy with its own share, every other share is taken
// up by its own helper: share s on thread s mod threads, the same thread in
// every call.
TEST(Parallel, PinnedSharesGoToTheirHelpersWhileTheCallerWorks) {
  const std::thread::id caller = std::this_thread::get_id();
  const auto slow_caller = sleep_on(caller);
  for (const int threads : {2, 3}) {
    set_threads(threads);
    const std::vector<std::thread::id> first = run_shares(threads, slow_caller);
    const std::vector<std::thread::id> second = run_shares(threads, slow_caller);
    EXPECT_EQ(first, second) << threads << " threads";
    EXPECT_EQ(first[0], caller);
    for (int share = 1; share < threads; ++share) {
      EXPECT_NE(first[static_cast<std::size_t>(share)], caller) << share;
      for (int other = 0; other < share; ++other) {
        EXPECT_NE(first[static_cast<std::size_t>(share)], first[static_cast<std::size_t>(other)]);
      }
    }
  }
  set_threads(1);
}

// A caller kept waiting long for a helper's share (as when another process
// has the helper's core) runs the next calls alone; set_threads() shares
// them out again. The shares compute the same either way.
TEST(Parallel, ACallerKeptWaitingRunsTheNextCallsAlone) {
  const std::thread::id caller = std::this_thread::get_id();
  set_threads(2);
  const std::vector<std::thread::id> waited = run_shares(2, [&](int share) {
    std::this_thread::sleep_for(std::chrono::milliseconds(share == 0 ? 100 : 300));
  });
  ASSERT_NE(waited[1], caller);  // the helper took share 1 while the caller slept
  for (int call = 0; call < 100; ++call) {
    ASSERT_EQ(run_shares(2)[1], caller) << "call " << call;
  }
  set_threads(2);
  const auto slow_caller = sleep_on(caller);
  EXPECT_EQ(run_shares(2, slow_caller)[1], waited[1]);
  set_threads(1);
}

TEST(Parallel, InputCutIsALineOfFloatsNearTheMiddle) {
  EXPECT_EQ(input_cut(784), 400);
  EXPECT_EQ(input_cut(512), 256);
  EXPECT_EQ(input_cut(600), 304);
  EXPECT_EQ(input_cut(511), 511);  // one share
  EXPECT_EQ(input_cut(30), 30);
}

Vector<float> train_with_threads(int threads, int mini_batch_size, int inputs = 50) {
  set_threads(threads);
  Rng rng(3);
  Dataset data;
  data.values.resize(inputs, 300);
  for (Eigen::Index i = 0; i < data.values.size(); ++i) {
    data.values.data()[i] = static_cast<float>(rng.uniform());
  }
  for (int i = 0; i < 300; ++i) data.labels.push_back(static_cast<int>(rng.below(4)));
  data.classes = 4;
  Network<float> network(NetworkSpec{{inputs, 300, 200, 4},
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
// the packed products (packed_product.hpp); with 600 inputs and 16 or 7
// examples (300 = 42 x 7 + 6: a last mini-batch of 6), the first layer's
// input shares and the pipelined step (training.cpp).
TEST(Parallel, OneAndTwoThreadsGiveBitwiseTheSameWeights) {
  for (const auto& [mini_batch_size, inputs] : {std::pair{16, 50}, {40, 50}, {16, 600}, {7, 600}}) {
    const Vector<float> one = train_with_threads(1, mini_batch_size, inputs);
    const Vector<float> two = train_with_threads(2, mini_batch_size, inputs);
    ASSERT_EQ(one.size(), two.size());
    EXPECT_EQ(0, std::memcmp(one.data(), two.data(), sizeof(float) * one.size()))
        << "mini-batch " << mini_batch_size << ", " << inputs << " inputs";
  }
}

// The trainer's pipelined step for a shared first layer (each share's BP4
// and update of W^1 taken with the next mini-batch's forward pass) is plain
// SGD: bitwise the weights of backprop() and a whole optimizer step per
// mini-batch, in order, with one thread or two.
TEST(Parallel, ThePipelinedStepIsTheBooksSgd) {
  Rng rng(5);
  Dataset data;
  data.pixels.resize(784, 95);  // bytes, as MNIST's: 9 mini-batches of 10 and one of 5
  for (Eigen::Index i = 0; i < data.pixels.size(); ++i) {
    // Mostly zeros, as the pixels are, so the kernels' skipping is exercised.
    data.pixels.data()[i] = rng.uniform() < 0.6 ? 0 : static_cast<std::uint8_t>(rng.below(256));
  }
  for (int i = 0; i < 95; ++i) data.labels.push_back(static_cast<int>(rng.below(10)));
  data.classes = 10;
  Network<float> start(NetworkSpec::chapter1());
  initialize(start, Initialization::large, rng);
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adam}) {
    TrainingOptions options;
    options.epochs = 2;
    options.mini_batch_size = 10;
    options.learning_rate = kind == OptimizerKind::sgd ? 3.0 : 0.01;
    options.optimizer.kind = kind;
    options.shuffle = false;
    Network<float> book = start;
    Optimizer<float> optimizer(options.optimizer, book.parameter_count());
    Matrix<float> x;
    Matrix<float> y;
    std::vector<int> order(95);
    std::iota(order.begin(), order.end(), 0);
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      for (long first = 0; first < 95; first += 10) {
        gather(data, std::span<const int>(order).subspan(first, std::min(10L, 95 - first)), 10, x,
               y);
        book.backprop(x, y);
        ASSERT_TRUE(optimizer.step(book.parameters(), book.gradients(), options.learning_rate));
      }
    }
    for (const int threads : {1, 2}) {
      set_threads(threads);
      Network<float> trained = start;
      Rng unused(1);
      train(trained, data, options, unused);
      EXPECT_EQ(0, std::memcmp(book.parameters().data(), trained.parameters().data(),
                               sizeof(float) * book.parameter_count()))
          << to_string(kind) << " with " << threads << " threads";
    }
  }
  set_threads(1);
}

}  // namespace
}  // namespace backprop
