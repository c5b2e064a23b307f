#include "backprop/training.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <sstream>
#include <string>

#include "backprop/error.hpp"
#include "backprop/narrow_product.hpp"
#include "backprop/parallel.hpp"
#include "backprop/sha256.hpp"

namespace backprop {
namespace {

template <typename Value>
std::span<const std::byte> bytes_of(const Value* values, std::size_t count) {
  return std::as_bytes(std::span(values, count));
}

// What the ranks of a data-parallel run must agree on, as SHA-256 digests.
std::string digest(const Dataset& data) {
  Sha256 sha;
  const std::int64_t shape[] = {data.features(), data.size(), data.classes, data.holds_pixels()};
  sha.update(bytes_of(shape, 4));
  if (data.holds_pixels()) {
    sha.update(bytes_of(data.pixels.data(), static_cast<std::size_t>(data.pixels.size())));
  } else {
    sha.update(bytes_of(data.values.data(), static_cast<std::size_t>(data.values.size())));
  }
  sha.update(bytes_of(data.labels.data(), data.labels.size()));
  return sha.hex();
}

template <typename Values>
std::string digest(const Values& values) {
  Sha256 sha;
  sha.update(bytes_of(values.data(), static_cast<std::size_t>(values.size())));
  return sha.hex();
}

std::string digest(const TrainingState& state) {
  Sha256 sha;
  sha.update(bytes_of(&state.epochs_completed, 1));
  sha.update(bytes_of(state.rng_state.data(), state.rng_state.size()));
  sha.update(bytes_of(state.optimizer_state.data(), state.optimizer_state.size()));
  sha.update(bytes_of(state.best_parameters.data(), state.best_parameters.size()));
  for (const auto& [name, value] : state.scalars) {
    sha.update(bytes_of(name.data(), name.size() + 1));
    sha.update(bytes_of(&value, 1));
  }
  return sha.hex();
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
                    Rng& rng, const Dataset* validation, Communicator& communicator)
    : network_(network),
      training_(training),
      options_(options),
      rng_(rng),
      validation_(validation),
      communicator_(communicator),
      optimizer_(options.optimizer, network.parameter_count()),
      schedule_(options.schedule, options.learning_rate) {
  // Checks that need no other rank; should one rank fail them, all stop.
  on_every_rank(communicator_, [&] {
    options_.validate();
    Dropout{options_.dropout, nullptr}.validate(network.layer_count());
    const int inputs = network.spec().inputs();
    const int outputs = network.spec().outputs();
    check_fits(training, inputs, outputs);
    if (training.size() == 0) {
      throw InputError("the training set " + training.source + " is empty");
    }
    if (options_.needs_validation() && (validation == nullptr || validation->size() == 0)) {
      throw InputError(
          "the plateau schedule and early stopping judge by validation accuracy: hold back "
          "validation data with --validation-size");
    }
    if (validation != nullptr) check_fits(*validation, inputs, outputs);
  });
  if (communicator_.size() > 1) {
    const std::string fix = "every rank must read the same files (compare their SHA-256 sums)";
    require_agreement(communicator_, digest(training), "the training data", fix);
    require_agreement(communicator_, validation != nullptr ? digest(*validation) : "",
                      "the validation data", fix);
    require_agreement(communicator_, digest(network.parameters()), "the starting model",
                      "give every rank the same --load file, or the same seed and --init");
    // The bits agree already; the run's weights are, by definition, rank 0's.
    communicator_.broadcast(
        std::as_writable_bytes(std::span(network.parameters().data(), network.parameters().size())),
        0);
  }
  // The data stay where they are; each epoch permutes this list of indices.
  order_.resize(static_cast<std::size_t>(training.size()));
  std::iota(order_.begin(), order_.end(), 0);
}

template <typename T>
StopReason Trainer<T>::run(const Monitor& monitor, const EpochCallback& on_epoch,
                           const BatchCallback& on_batch) {
  while (epochs_completed_ < options_.epochs) {
    const int epoch = epochs_completed_;
    EpochReport report;
    report.epoch = epoch;
    report.learning_rate = schedule_.learning_rate();
    last_good_parameters_ = network_.parameters();
    const auto start = std::chrono::steady_clock::now();
    communication_seconds_ = 0;
    train_epoch(epoch, on_batch);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    report.training_seconds = elapsed.count();
    report.communication_seconds = communication_seconds_;
    check_ranks_agree(epoch);

    report.training = measure(monitor.training);
    report.validation = measure(monitor.validation != nullptr
                                    ? monitor.validation
                                    : (options_.needs_validation() ? validation_ : nullptr));
    report.test = measure(monitor.test);
    ++epochs_completed_;

    // Accuracy, or -RMSE on regression data: higher is better either way.
    std::optional<double> accuracy;
    if (report.validation) accuracy = report.validation->score();
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
void Trainer<T>::train_epoch(int epoch, const BatchCallback& on_batch) {
  // Each epoch's order is a fresh permutation of 0..n-1 drawn from the
  // generator, so it depends only on the generator's state: what a
  // checkpoint saves.
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.shuffle) rng_.shuffle(order_);
  const long n = training_.size();
  const long m = options_.mini_batch_size;
  const int outputs = network_.spec().outputs();
  const int rank = communicator_.rank();
  const int ranks = communicator_.size();
  // With several ranks each draws its dropout masks (for its own examples)
  // from a generator of its own, seeded by one draw from the run's
  // generator at the start of the epoch: the run's generator, and so the
  // shuffle, stays the same on every rank, and a checkpoint still holds
  // all the random state.
  std::optional<Rng> rank_rng;
  if (ranks > 1 && Dropout{options_.dropout, nullptr}.active()) {
    constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15;  // 2^64 / golden ratio, a bit mixer
    rank_rng.emplace(rng_.below(std::numeric_limits<std::uint64_t>::max()) +
                     kGolden * static_cast<std::uint64_t>(rank + 1));
  }
  const Dropout dropout{options_.dropout, rank_rng ? &*rank_rng : &rng_};
  const Dropout* thinning = dropout.active() ? &dropout : nullptr;
  BatchReport progress;
  progress.epoch = epoch;
  progress.examples_total = n;

  // Plain SGD on one process, without clipping or an L1 penalty, takes its
  // step inside backpropagation (Network::descend): the same update, with
  // no gradient written and read back. That pays for wide mini-batches,
  // whose weights and gradients do not stay in cache between the product
  // and a separate step (configuration C of bench/: 6-20% faster). With m
  // <= 16 the weights stay in cache, and the narrow kernels' tiles are so
  // short that reading W^l in each one costs more than a separate streaming
  // step (configuration A: 0.097 s per epoch fused, 0.083 s not).
  const bool fused =
      m > kNarrowColumns && ranks == 1 && options_.optimizer.kind == OptimizerKind::sgd &&
      options_.max_gradient_norm == 0 &&
      (!options_.regularization.active() || options_.regularization.penalty == Penalty::l2);
  const double eta = schedule_.learning_rate();
  Descent<T> descent{static_cast<T>(eta)};
  if (options_.regularization.active()) {
    // w <- (1 - eta lambda / n) w - (eta / m) sum_x dC_x/dw   (eq. 93)
    descent.decay =
        static_cast<T>(1.0 - eta * options_.regularization.lambda / static_cast<double>(n));
  }
  const DenseLayer<T>& first_layer = network_.layer(0);
  if (ranks == 1 && m <= kNarrowColumns && !fused &&
      first_layer.shared_input_cut() < first_layer.inputs() && options_.max_gradient_norm == 0 &&
      !options_.regularization.active()) {
    train_epoch_shared(epoch, thinning, on_batch, progress);
    return;
  }
  for (long first = 0, batch = 0; first < n; first += m, ++batch) {
    const long count = std::min(m, n - first);
    const Share share = share_of(count, rank, ranks);
    double cost = 0;
    if (first + m < n) {
      // The next mini-batch's share, on its way into the caches while this
      // one is computed.
      const Share next = share_of(std::min(m, n - first - m), rank, ranks);
      prefetch(training_, std::span<const int>(order_).subspan(first + m + next.first, next.count));
    }
    if (share.count > 0) {
      gather(training_, std::span<const int>(order_).subspan(first + share.first, share.count),
             outputs, x_, y_);
    }
    if (fused) {
      bool finite = true;
      cost = network_.descend(x_, y_, thinning, descent, finite);
      if (!std::isfinite(cost) || !finite) {
        // Go back to the weights at the start of the epoch, and say why.
        network_.parameters() = last_good_parameters_;
        diverged(epoch, batch,
                 !std::isfinite(cost) ? "the cost is " + std::to_string(cost)
                                      : "a weight or bias became a NaN or an infinity");
      }
    } else {
      if (share.count > 0) {
        cost = network_.backprop(x_, y_, thinning);
      } else {
        network_.gradients().setZero();  // a mini-batch smaller than p leaves this rank none
      }
      descend_unfused(epoch, batch, share, count, cost);
    }
    if (on_batch) {
      // backprop() returned the batch's mean cost; the sum keeps later
      // batches weighted by their size (the last may be smaller).
      progress.examples_done = first + count;
      progress.cost_sum += cost * static_cast<double>(count);
      on_batch(progress);
    }
  }
}

template <typename T>
void Trainer<T>::descend_unfused(int epoch, long batch, const Share& share, long count,
                                 double& cost) {
  const long n = training_.size();
  if (communicator_.size() > 1) sum_over_ranks(share, count, cost);
  // dC/dtheta of C = C_0 + penalty: the book's weight decay for L2.
  options_.regularization.add_gradient(network_, n);
  if (!std::isfinite(cost)) diverged(epoch, batch, "the cost is " + std::to_string(cost));
  if (options_.max_gradient_norm > 0) {
    // Rescale g to length max_gradient_norm when it is longer (Pascanu et al. 2013).
    const double norm = std::sqrt(network_.gradients().template cast<double>().squaredNorm());
    if (norm > options_.max_gradient_norm) {
      network_.gradients() *= static_cast<T>(options_.max_gradient_norm / norm);
    }
  }
  if (!optimizer_.step(network_.parameters(), network_.gradients(), schedule_.learning_rate())) {
    step_failed(epoch, batch);
  }
}

template <typename T>
void Trainer<T>::step_failed(int epoch, long batch) {
  // A NaN or an infinity in the gradient, or a step that overflowed: go
  // back to the weights at the start of the epoch, and say which.
  network_.parameters() = last_good_parameters_;
  if (network_.gradients().allFinite()) diverged(epoch, batch, "a weight overflowed to infinity");
  int layer = 0;
  while (layer + 1 < network_.layer_count() && network_.layer(layer).weight_gradient.allFinite() &&
         network_.layer(layer).bias_gradient.allFinite()) {
    ++layer;
  }
  diverged(epoch, batch,
           "the gradient of layer " + std::to_string(layer + 1) + " holds a NaN or an infinity");
}

template <typename T>
void Trainer<T>::train_epoch_shared(int epoch, const Dropout* thinning,
                                    const BatchCallback& on_batch, BatchReport& progress) {
  // The first layer's two input shares (DenseLayer::share_inputs) are each
  // one thread's (for_each_pinned_share), and the step is pipelined so that
  // they meet once per mini-batch: in one call, each share takes the last
  // mini-batch's BP4 and the update of its columns of W^1, then gathers its
  // rows of this mini-batch and computes its W^1_s X_s. The caller's thread
  // then runs the rest of the step: the layers above, the cost, Delta^1, and
  // the update of every parameter but W^1. Each parameter still takes the
  // step of its mini-batch before the next forward pass reads it; with one
  // thread the same calls run in the same order, so the weights are the
  // same to the bit.
  const long n = training_.size();
  const long m = options_.mini_batch_size;
  const int outputs = network_.spec().outputs();
  DenseLayer<T>& first_layer = network_.layer(0);
  const std::array<IndexRange, 2> inputs{first_layer.input_share(0), first_layer.input_share(1)};
  // Each share's columns of W^1 in the parameter buffer, and all that follows W^1.
  const Eigen::Index w_begin = network_.parameter_offset(0);
  const Eigen::Index rows = first_layer.outputs();
  const auto weights_of = [&](int share) {
    return IndexRange{w_begin + rows * inputs[share].begin, w_begin + rows * inputs[share].end};
  };
  const IndexRange rest{w_begin + first_layer.weights.size(), network_.parameter_count()};
  const std::span<const int> order(order_);
  typename Optimizer<T>::Coefficients step{};
  bool pending = false;  // whether the last mini-batch's BP4 and W^1 update are still to come
  Matrix<T>* x = &x_;
  Matrix<T>* last_x = &last_x_;
  // One pass more than there are mini-batches: the last finishes the last step.
  for (long first = 0, batch = 0; first < n + m; first += m, ++batch) {
    const long count = std::clamp(n - first, 0L, m);
    const std::span<const int> indices = order.subspan(first, count);
    const std::span<const int> next = first + m < n
                                          ? order.subspan(first + m, std::min(m, n - first - m))
                                          : std::span<const int>{};
    if (count > 0) {
      if (x->rows() != training_.features() || x->cols() != count) {
        x->resize(training_.features(), count);
      }
      first_layer.begin_shared_forward(count);
    }
    std::atomic<bool> finite = true;
    for_each_pinned_share(2, [&](int share) {
      if (pending) {
        first_layer.backward_share(share, network_.first_delta(), *last_x);
        if (!optimizer_.update(network_.parameters(), network_.gradients(), weights_of(share),
                               step)) {
          finite = false;
        }
      }
      if (count == 0) return;
      if (share == 0) gather_targets(training_, indices, outputs, y_);
      gather_inputs(training_, indices, inputs[share], *x);
      // The next mini-batch's rows, into the caches of the core that will copy them.
      prefetch(training_, next, inputs[share], share == 0);
      first_layer.forward_share(share, *x);
    });
    if (!finite) step_failed(epoch, batch - 1);
    if (count == 0) break;
    const double cost = network_.backprop_above_first(y_, thinning);
    if (!std::isfinite(cost)) diverged(epoch, batch, "the cost is " + std::to_string(cost));
    step = optimizer_.begin_step(schedule_.learning_rate());
    if (!optimizer_.update(network_.parameters(), network_.gradients(), rest, step)) {
      step_failed(epoch, batch);
    }
    pending = true;
    std::swap(x, last_x);
    if (on_batch) {
      progress.examples_done = first + count;
      progress.cost_sum += cost * static_cast<double>(count);
      on_batch(progress);
    }
  }
}

template <typename T>
void Trainer<T>::sum_over_ranks(const Share& share, long count, double& cost) {
  // Each rank holds the mean over its share; weighted by its share of the
  // mini-batch, their sum is the mean over the whole mini-batch (BP3, BP4
  // with m = count): the gradient one process would compute.
  const double weight = static_cast<double>(share.count) / static_cast<double>(count);
  network_.gradients() *= static_cast<T>(weight);
  double total_cost = cost * weight;
  const auto start = std::chrono::steady_clock::now();
  communicator_.allreduce_sum(
      std::span<T>(network_.gradients().data(), network_.gradients().size()));
  communicator_.allreduce_sum(std::span<double>(&total_cost, 1));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  communication_seconds_ += elapsed.count();
  cost = total_cost;
}

template <typename T>
void Trainer<T>::check_ranks_agree(int epoch) {
  // Every rank took the same steps from the same sums, so the weights must
  // be the same bits; if an MPI library's sums ever differed between
  // ranks, they would silently train different networks.
  if (communicator_.size() == 1) return;
  const int rank = first_rank_differing(communicator_, digest(network_.parameters()));
  if (rank >= 0) {
    throw Error("the weights of rank " + std::to_string(rank) +
                " differ from rank 0's after epoch " + std::to_string(epoch) +
                ": the MPI library's allreduce gave the ranks different sums; run on 2 ranks, "
                "or configure the MPI library for a deterministic reduction");
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
  // Each rank evaluates its share; the counts and the cost sums add up.
  const Share share = share_of(data->size(), communicator_.rank(), communicator_.size());
  Evaluation evaluation = evaluate_part(network_, *data, share.first, share.count);
  if (communicator_.size() > 1) {
    double sums[] = {static_cast<double>(evaluation.correct),
                     evaluation.cost * static_cast<double>(share.count)};
    communicator_.allreduce_sum(sums);
    evaluation.correct = static_cast<long>(sums[0]);
    evaluation.total = data->size();
    evaluation.cost = sums[1] / static_cast<double>(data->size());
  }
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
  require_agreement(communicator_, digest(state), "the checkpoint's training state",
                    "give every rank the same --resume file");
  on_every_rank(communicator_, [&] { restore_here(state); });
}

template <typename T>
void Trainer<T>::restore_here(const TrainingState& state) {
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
