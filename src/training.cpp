#include "backprop/training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "backprop/error.hpp"

namespace backprop {

void TrainingOptions::validate() const {
  if (epochs < 1) {
    throw InputError("--epochs must be at least 1, got " + std::to_string(epochs));
  }
  if (mini_batch_size < 1) {
    throw InputError("--mini-batch must be at least 1, got " + std::to_string(mini_batch_size));
  }
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    throw InputError("--eta (the learning rate) must be a positive number, got " +
                     std::to_string(learning_rate));
  }
}

template <typename T>
void train(Network<T>& network, const Dataset& training, const TrainingOptions& options, Rng& rng,
           const Dataset* monitor, const EpochCallback& on_epoch) {
  options.validate();
  const int inputs = network.spec().inputs();
  const int outputs = network.spec().outputs();
  check_fits(training, inputs, outputs);
  if (monitor != nullptr) check_fits(*monitor, inputs, outputs);
  if (training.size() == 0) throw InputError("the training set " + training.source + " is empty");

  // The data stay where they are; each epoch permutes this list of indices.
  std::vector<int> order(static_cast<std::size_t>(training.size()));
  std::iota(order.begin(), order.end(), 0);
  const long n = training.size();
  const long m = options.mini_batch_size;
  const T eta = static_cast<T>(options.learning_rate);
  Matrix<T> x;
  Matrix<T> y;

  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    if (options.shuffle) rng.shuffle(order);
    const auto start = std::chrono::steady_clock::now();
    for (long first = 0; first < n; first += m) {
      const long count = std::min(m, n - first);
      gather(training, std::span<const int>(order).subspan(first, count), outputs, x, y);
      network.backprop(x, y);
      // theta <- theta - eta dC/dtheta; the gradient is already the mean over
      // the mini-batch (BP3, BP4), which is the book's eta/m times the sum.
      network.parameters() -= eta * network.gradients();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

    EpochReport report;
    report.epoch = epoch;
    report.training_seconds = elapsed.count();
    if (monitor != nullptr) report.evaluation = evaluate(network, *monitor);
    if (on_epoch) on_epoch(report);
  }
}

template void train<float>(Network<float>&, const Dataset&, const TrainingOptions&, Rng&,
                           const Dataset*, const EpochCallback&);
template void train<double>(Network<double>&, const Dataset&, const TrainingOptions&, Rng&,
                            const Dataset*, const EpochCallback&);

}  // namespace backprop
