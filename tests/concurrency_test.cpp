// One trained network shared by many threads that predict at once: every
// thread gets bitwise the answer one thread gets alone. Run under
// ThreadSanitizer by scripts/sanitize.sh, which also proves there is no race.
#include "backprop/prediction.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/initialization.hpp"
#include "backprop/parallel.hpp"
#include "backprop/training.hpp"

namespace backprop {
namespace {

template <typename T>
bool bitwise_equal(const Matrix<T>& a, const Matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0;
}

// A network trained a little on random data, wide enough (300 > 128 rows)
// that training splits its first layer into blocks.
Network<float> trained_network(Dataset& data) {
  Rng rng(11);
  data.values.resize(20, 200);
  for (Eigen::Index i = 0; i < data.values.size(); ++i) {
    data.values.data()[i] = static_cast<float>(rng.uniform());
  }
  for (int i = 0; i < 200; ++i) data.labels.push_back(static_cast<int>(rng.below(5)));
  data.classes = 5;
  Network<float> network(
      NetworkSpec{{20, 300, 5}, {Activation::relu, Activation::softmax}, Cost::log_likelihood});
  initialize(network, Initialization::he, rng);
  TrainingOptions options;
  options.epochs = 1;
  options.mini_batch_size = 20;
  options.learning_rate = 0.05;
  train(network, data, options, rng);
  return network;
}

TEST(Concurrency, ManyThreadsPredictingWithOneNetworkGetTheOneThreadAnswers) {
  set_threads(2);  // training's own threads, before any of ours start
  Dataset data;
  const Network<float> network = trained_network(data);
  const Matrix<float>& x = data.values;

  // Each thread predicts a different slice: one example, a few, or all of them.
  const std::vector<std::pair<Eigen::Index, Eigen::Index>> slices{
      {0, 200}, {0, 1}, {17, 40}, {199, 1}, {50, 150}, {3, 7}, {100, 100}, {0, 200}};
  std::vector<Matrix<float>> alone;
  for (const auto& [first, count] : slices)
    alone.push_back(predict(network, x.middleCols(first, count)));

  constexpr int kThreads = 8;
  constexpr int kRepeats = 20;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRepeats; ++r) {
        const std::size_t s = static_cast<std::size_t>(t + r) % slices.size();
        const auto [first, count] = slices[s];
        if (!bitwise_equal(predict(network, x.middleCols(first, count)), alone[s])) {
          ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[static_cast<std::size_t>(t)], 0) << t;
  set_threads(1);
}

TEST(Concurrency, PredictAgreesWithTheTrainingForwardPass) {
  Dataset data;
  Network<float> network = trained_network(data);
  const Matrix<float> predicted = predict(network, data.values);
  const Matrix<float>& forward = network.feedforward(data.values);
  ASSERT_EQ(predicted.rows(), 5);
  ASSERT_EQ(predicted.cols(), 200);
  // The same sums, possibly grouped differently in the blocked wide layer.
  EXPECT_LT((predicted - forward).cwiseAbs().maxCoeff(), 1e-6F);
  EXPECT_TRUE(predicted.colwise().sum().isOnes(1e-5F));
}

TEST(Concurrency, PredictRefusesInputOfTheWrongSize) {
  const Network<double> network(NetworkSpec{{3, 2}, {Activation::sigmoid}, Cost::quadratic});
  EXPECT_THROW(predict(network, Matrix<double>::Zero(4, 1)), InputError);
}

}  // namespace
}  // namespace backprop
