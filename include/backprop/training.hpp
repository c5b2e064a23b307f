// The training loop: mini-batch stochastic gradient descent.
//
// This is the one place that knows about epochs, shuffling, mini-batches,
// regularization, update rules, schedules, early stopping and evaluation;
// the network knows only the math of one mini-batch.
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "backprop/communicator.hpp"
#include "backprop/dataset.hpp"
#include "backprop/evaluation.hpp"
#include "backprop/model_file.hpp"
#include "backprop/network.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/regularization.hpp"
#include "backprop/rng.hpp"
#include "backprop/schedule.hpp"

namespace backprop {

struct TrainingOptions {
  int epochs = 30;
  int mini_batch_size = 10;    // m
  double learning_rate = 3.0;  // eta_0
  bool shuffle = true;         // reshuffle the examples every epoch
  Regularization regularization;
  std::vector<double> dropout;  // per layer after the input; empty = none
  OptimizerOptions optimizer;
  double max_gradient_norm = 0;  // clip ||dC/dtheta||_2 to this; 0 = off
  ScheduleOptions schedule;
  int early_stopping_patience = 0;  // 0 = off

  // Throws InputError naming the option: epochs < 1, m < 1, eta <= 0 or
  // not finite, lambda < 0, and the sub-options' own checks.
  void validate() const;
  bool needs_validation() const {
    return schedule.needs_validation() || early_stopping_patience > 0;
  }
};

// Data sets evaluated after each epoch; null ones are skipped.
struct Monitor {
  const Dataset* training = nullptr;
  const Dataset* validation = nullptr;
  const Dataset* test = nullptr;
};

struct EpochReport {
  int epoch = 0;                // 0-based, as the book prints it
  double training_seconds = 0;  // wall time of the epoch's SGD steps
  // Of those, the time spent summing gradients across ranks (0 for one
  // process), waiting for the slowest rank included.
  double communication_seconds = 0;
  double learning_rate = 0;  // eta used during the epoch
  // Costs include the regularization term, as the book's total_cost does.
  std::optional<Evaluation> training;
  std::optional<Evaluation> validation;
  std::optional<Evaluation> test;
};

using EpochCallback = std::function<void(const EpochReport&)>;

// Progress inside an epoch, after each mini-batch: what a progress bar shows.
struct BatchReport {
  int epoch = 0;            // 0-based
  long examples_done = 0;   // examples of this epoch trained on so far
  long examples_total = 0;  // n, the training set's size
  double cost_sum = 0;      // sum over those examples of C_x (without the penalty)

  // The epoch's running mean cost so far.
  double running_cost() const {
    return examples_done == 0 ? 0.0 : cost_sum / static_cast<double>(examples_done);
  }
};

// Called after every mini-batch; it should be cheap (a bar throttles its own
// redraws). An empty callback costs one test per mini-batch, nothing more.
using BatchCallback = std::function<void(const BatchReport&)>;

enum class StopReason { completed, schedule, early_stopping };

template <typename T>
class Trainer {
 public:
  // The network, data and generator must outlive the trainer. `validation`
  // drives the plateau schedule and early stopping (required by them).
  //
  // With a communicator of p > 1 ranks (data parallelism), every rank
  // constructs its trainer with the same data, options, seed and starting
  // network; the constructor checks that the data and the starting weights
  // agree across ranks (SHA-256; InputError on every rank if not), then
  // gives every rank rank 0's weights. Each step, every rank backpropagates
  // its share (share_of) of the global mini-batch of m, the gradients are
  // summed across ranks, and every rank takes the same step: the weights
  // are those of one process training on mini-batches of m, up to rounding.
  // Evaluations are split the same way and their counts summed.
  Trainer(Network<T>& network, const Dataset& training, const TrainingOptions& options, Rng& rng,
          const Dataset* validation = nullptr, Communicator& communicator = single_process());

  // Trains until options.epochs epochs are complete (counting those done
  // before a restore()) or a stopping rule fires. Each epoch shuffles the
  // example order (drawing from the generator), takes one step per
  // mini-batch of m (the last may be smaller), evaluates the monitored sets
  // and calls on_epoch; on_batch, if given, after every mini-batch. Throws
  // NumericError, with the last good weights in the network, if a cost,
  // gradient or weight becomes NaN or infinite.
  StopReason run(const Monitor& monitor = {}, const EpochCallback& on_epoch = {},
                 const BatchCallback& on_batch = {});

  int epochs_completed() const { return epochs_completed_; }
  double learning_rate() const { return schedule_.learning_rate(); }

  // Everything needed to continue bit for bit: epochs done, generator,
  // optimizer, schedule and early-stopping state.
  TrainingState state() const;
  void restore(const TrainingState& state);

 private:
  void train_epoch(int epoch, const BatchCallback& on_batch);
  // Sums the ranks' gradients (each weighted by its share) and costs.
  // The step of every optimizer but fused plain SGD: the ranks' gradients
  // summed, the penalty, clipping, the optimizer's update and its checks.
  void descend_unfused(int epoch, long batch, const Share& share, long count, double& cost);
  // descend_unfused's diagnosis of an optimizer step with a non-finite result.
  [[noreturn]] void step_failed(int epoch, long batch);
  // train_epoch for a first layer whose inputs are shared (DenseLayer::share_inputs).
  void train_epoch_shared(int epoch, const Dropout* thinning, const BatchCallback& on_batch,
                          BatchReport& progress);
  void sum_over_ranks(const Share& share, long count, double& cost);
  void check_ranks_agree(int epoch);
  void restore_here(const TrainingState& state);
  std::optional<Evaluation> measure(const Dataset* data);
  [[noreturn]] void diverged(int epoch, long batch, const std::string& what);

  Network<T>& network_;
  const Dataset& training_;
  TrainingOptions options_;
  Rng& rng_;
  const Dataset* validation_;
  Communicator& communicator_;
  Optimizer<T> optimizer_;
  Schedule schedule_;
  std::vector<int> order_;
  int epochs_completed_ = 0;
  double best_accuracy_ = std::numeric_limits<double>::lowest();  // early stopping
  int epochs_without_improvement_ = 0;
  Vector<T> best_parameters_;
  Vector<T> last_good_parameters_;
  double communication_seconds_ = 0;  // in the epoch under way
  Matrix<T> x_;
  Matrix<T> y_;
  Matrix<T> last_x_;  // the last mini-batch's inputs, for train_epoch_shared's BP4
};

extern template class Trainer<float>;
extern template class Trainer<double>;

// Plain SGD with the given options, evaluating `monitor` (if not null) as
// the test set after each epoch: the book's network.py SGD().
template <typename T>
void train(Network<T>& network, const Dataset& training, const TrainingOptions& options, Rng& rng,
           const Dataset* monitor = nullptr, const EpochCallback& on_epoch = {});

}  // namespace backprop
