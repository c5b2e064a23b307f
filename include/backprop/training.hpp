// The training loop: mini-batch stochastic gradient descent.
//
// This is the one place that knows about epochs, shuffling, mini-batches
// and evaluation; the network knows only the math of one mini-batch.
#pragma once

#include <functional>
#include <optional>

#include "backprop/dataset.hpp"
#include "backprop/evaluation.hpp"
#include "backprop/network.hpp"
#include "backprop/rng.hpp"

namespace backprop {

struct TrainingOptions {
  int epochs = 30;
  int mini_batch_size = 10;   // m
  double learning_rate = 3.0; // eta
  bool shuffle = true;        // reshuffle the examples every epoch

  // Throws InputError naming the option: epochs < 1, m < 1, eta <= 0 or
  // not finite.
  void validate() const;
};

struct EpochReport {
  int epoch = 0;                        // 0-based, as the book prints it
  double training_seconds = 0;          // wall time of the epoch's SGD steps
  std::optional<Evaluation> evaluation; // on the monitored data, if any
};

using EpochCallback = std::function<void(const EpochReport&)>;

// Trains with SGD: each epoch shuffles the example order (drawing from
// `rng`), splits it into mini-batches of m (the last may be smaller), and
// for each takes the step  theta <- theta - eta * dC/dtheta,  where C is the
// mean cost over the mini-batch. After each epoch, evaluates on `monitor`
// (if not null) and calls `on_epoch`.
template <typename T>
void train(Network<T>& network, const Dataset& training, const TrainingOptions& options, Rng& rng,
           const Dataset* monitor = nullptr, const EpochCallback& on_epoch = {});

}  // namespace backprop
