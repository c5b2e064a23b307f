#include "backprop/training.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <numeric>
#include <span>
#include <sstream>
#include <string>

#include "backprop/error.hpp"

namespace backprop {
namespace {

// A NaN or an infinity anywhere makes the sum non-finite, and a vectorised
// sum is far cheaper than Eigen's element-by-element allFinite(); only a sum
// that overflowed from finite values needs the slow check to be sure.
template <typename T>
bool all_finite(const VectorMap<T>& values) {
  return std::isfinite(values.sum()) || values.allFinite();
}

}  // namespace

void TrainingOptions::validate() const {
  if (epochs < 1) {
    throw InputError("--epochs must be at least 1, got " + std::to_string(epochs));
  }
  if (mini_batch_size < 1) {
    throw InputError("--mini-batch must be at least 1, got " + std::to_string(mini_batch_size));
  }
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    throw InputError("--eta (the learning rate) must be a positive number, got " +
                     number_text(learning_rate));
  }
  if (!(regularization.lambda >= 0) || !std::isfinite(regularization.lambda)) {
    throw InputError("--lambda must be zero or positive, got " +
                     number_text(regularization.lambda));
  }
  if (!(max_gradient_norm >= 0)) throw InputError("--max-grad-norm must be zero or positive");
  if (early_stopping_patience < 0) throw InputError("--early-stopping must be zero or positive");
  optimizer.validate();
  schedule.validate();
}

template <typename T>
Trainer<T>::Trainer(Network<T>& network, const Dataset& training, const TrainingOptions& options,
                    Rng& rng, const Dataset* validation)
    : network_(network),
      training_(training),
      options_(options),
      rng_(rng),
      validation_(validation),
      optimizer_(options.optimizer, network.parameter_count()),
      schedule_(options.schedule, options.learning_rate) {
  options_.validate();
  Dropout{options_.dropout, nullptr}.validate(network.layer_count());
  const int inputs = network.spec().inputs();
  const int outputs = network.spec().outputs();
  check_fits(training, inputs, outputs);
  if (training.size() == 0) throw InputError("the training set " + training.source + " is empty");
  if (options_.needs_validation() && (validation == nullptr || validation->size() == 0)) {
    throw InputError(
        "the plateau schedule and early stopping judge by validation accuracy: hold back "
        "validation data with --validation-size");
  }
  if (validation != nullptr) check_fits(*validation, inputs, outputs);
  // The data stay where they are; each epoch permutes this list of indices.
  order_.resize(static_cast<std::size_t>(training.size()));
  std::iota(order_.begin(), order_.end(), 0);
}

template <typename T>
StopReason Trainer<T>::run(const Monitor& monitor, const EpochCallback& on_epoch) {
  while (epochs_completed_ < options_.epochs) {
    const int epoch = epochs_completed_;
    EpochReport report;
    report.epoch = epoch;
    report.learning_rate = schedule_.learning_rate();
    last_good_parameters_ = network_.parameters();
    const auto start = std::chrono::steady_clock::now();
    train_epoch(epoch);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    report.training_seconds = elapsed.count();

    report.training = measure(monitor.training);
    report.validation = measure(monitor.validation != nullptr
                                    ? monitor.validation
                                    : (options_.needs_validation() ? validation_ : nullptr));
    report.test = measure(monitor.test);
    ++epochs_completed_;

    std::optional<double> accuracy;
    if (report.validation) accuracy = report.validation->accuracy();
    const bool schedule_done = schedule_.after_epoch(
        epoch, options_.schedule.needs_validation() ? accuracy : std::nullopt);
    bool stop_early = false;
    if (options_.early_stopping_patience > 0) {
      if (*accuracy > best_accuracy_) {
        best_accuracy_ = *accuracy;
        epochs_without_improvement_ = 0;
        best_parameters_ = network_.parameters();
      } else if (++epochs_without_improvement_ >= options_.early_stopping_patience) {
        stop_early = true;
      }
    }
    if (monitor.validation == nullptr) report.validation.reset();
    if (on_epoch) on_epoch(report);
    if (stop_early) {
      network_.parameters() = best_parameters_;
      return StopReason::early_stopping;
    }
    if (schedule_done) return StopReason::schedule;
  }
  return StopReason::completed;
}

template <typename T>
void Trainer<T>::train_epoch(int epoch) {
  // Each epoch's order is a fresh permutation of 0..n-1 drawn from the
  // generator, so it depends only on the generator's state: what a
  // checkpoint saves.
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.shuffle) rng_.shuffle(order_);
  const long n = training_.size();
  const long m = options_.mini_batch_size;
  const int outputs = network_.spec().outputs();
  const Dropout dropout{options_.dropout, &rng_};
  const Dropout* thinning = dropout.active() ? &dropout : nullptr;

  for (long first = 0, batch = 0; first < n; first += m, ++batch) {
    const long count = std::min(m, n - first);
    gather(training_, std::span<const int>(order_).subspan(first, count), outputs, x_, y_);
    const double cost = network_.backprop(x_, y_, thinning);
    // dC/dtheta of C = C_0 + penalty: the book's weight decay for L2.
    options_.regularization.add_gradient(network_, n);
    if (!std::isfinite(cost)) diverged(epoch, batch, "the cost is " + std::to_string(cost));
    if (!all_finite(network_.gradients())) {
      int layer = 0;
      while (layer + 1 < network_.layer_count() &&
             network_.layer(layer).weight_gradient.allFinite() &&
             network_.layer(layer).bias_gradient.allFinite()) {
        ++layer;
      }
      diverged(
          epoch, batch,
          "the gradient of layer " + std::to_string(layer + 1) + " holds a NaN or an infinity");
    }
    if (options_.max_gradient_norm > 0) {
      // Rescale g to length max_gradient_norm when it is longer (Pascanu et al. 2013).
      const double norm = std::sqrt(network_.gradients().template cast<double>().squaredNorm());
      if (norm > options_.max_gradient_norm) {
        network_.gradients() *= static_cast<T>(options_.max_gradient_norm / norm);
      }
    }
    optimizer_.step(network_.parameters(), network_.gradients(), schedule_.learning_rate());
    if (!all_finite(network_.parameters())) {
      // The step overflowed; go back to the weights at the start of the epoch.
      network_.parameters() = last_good_parameters_;
      diverged(epoch, batch, "a weight overflowed to infinity");
    }
  }
}

template <typename T>
void Trainer<T>::diverged(int epoch, long batch, const std::string& what) {
  std::ostringstream message;
  message << "training diverged in epoch " << epoch << ", mini-batch " << batch << ": " << what
          << ". The learning rate (" << schedule_.learning_rate()
          << ") is usually too large: lower --eta, or bound steps with --max-grad-norm. The "
             "network keeps the last good weights";
  throw NumericError(message.str());
}

template <typename T>
std::optional<Evaluation> Trainer<T>::measure(const Dataset* data) {
  if (data == nullptr || data->size() == 0) return std::nullopt;
  Evaluation evaluation = evaluate(network_, *data);
  evaluation.cost += options_.regularization.cost(network_, training_.size());
  return evaluation;
}

template <typename T>
TrainingState Trainer<T>::state() const {
  TrainingState state;
  state.epochs_completed = epochs_completed_;
  state.rng_state = rng_.state();
  state.optimizer_state = optimizer_.state();
  state.best_parameters = best_parameters_.template cast<double>();
  const ScheduleState& schedule = schedule_.state();
  state.scalars["learning_rate"] = schedule.learning_rate;
  state.scalars["schedule_best_accuracy"] = schedule.best_accuracy;
  state.scalars["schedule_epochs_without_improvement"] = schedule.epochs_without_improvement;
  state.scalars["early_stopping_best_accuracy"] = best_accuracy_;
  state.scalars["early_stopping_epochs_without_improvement"] = epochs_without_improvement_;
  return state;
}

template <typename T>
void Trainer<T>::restore(const TrainingState& state) {
  const auto scalar = [&](const char* name) {
    const auto found = state.scalars.find(name);
    if (found == state.scalars.end()) {
      throw InputError(std::string("the checkpoint lacks the training value '") + name +
                       "': it was not written by `backprop train --checkpoint-every`");
    }
    return found->second;
  };
  // A count stored as a double: a damaged file must not reach the cast.
  const auto count = [&](const char* name) {
    const double value = scalar(name);
    if (!(value >= 0 && value <= INT_MAX && value == std::floor(value))) {
      throw InputError(std::string("the checkpoint's training value '") + name + "' is " +
                       number_text(value) + ", not a count: resume from an earlier checkpoint");
    }
    return static_cast<int>(value);
  };
  if (state.best_parameters.size() != 0 &&
      state.best_parameters.size() != network_.parameter_count()) {
    throw InputError("the checkpoint's best parameters hold " +
                     std::to_string(state.best_parameters.size()) +
                     " numbers but the network has " + std::to_string(network_.parameter_count()) +
                     ": resume from an earlier checkpoint");
  }
  epochs_completed_ = state.epochs_completed;
  rng_.set_state(state.rng_state);
  optimizer_.set_state(state.optimizer_state);
  best_parameters_ = state.best_parameters.template cast<T>();
  ScheduleState schedule;
  schedule.learning_rate = scalar("learning_rate");
  schedule.best_accuracy = scalar("schedule_best_accuracy");
  schedule.epochs_without_improvement = count("schedule_epochs_without_improvement");
  schedule_.restore(schedule);
  best_accuracy_ = scalar("early_stopping_best_accuracy");
  epochs_without_improvement_ = count("early_stopping_epochs_without_improvement");
}

template class Trainer<float>;
template class Trainer<double>;

template <typename T>
void train(Network<T>& network, const Dataset& training, const TrainingOptions& options, Rng& rng,
           const Dataset* monitor, const EpochCallback& on_epoch) {
  Trainer<T> trainer(network, training, options, rng);
  Monitor sets;
  sets.test = monitor;
  trainer.run(sets, on_epoch);
}

template void train<float>(Network<float>&, const Dataset&, const TrainingOptions&, Rng&,
                           const Dataset*, const EpochCallback&);
template void train<double>(Network<double>&, const Dataset&, const TrainingOptions&, Rng&,
                            const Dataset*, const EpochCallback&);

}  // namespace backprop
