#include "backprop/optimizer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {
namespace {

constexpr std::array<std::pair<OptimizerKind, const char*>, 4> kNames{{
    {OptimizerKind::sgd, "sgd"},
    {OptimizerKind::momentum, "momentum"},
    {OptimizerKind::nesterov, "nesterov"},
    {OptimizerKind::adam, "adam"},
}};

}  // namespace

std::string to_string(OptimizerKind kind) {
  for (const auto& [value, name] : kNames) {
    if (value == kind) return name;
  }
  return "unknown";
}

OptimizerKind parse_optimizer(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (name == known) return value;
  }
  throw InputError("unknown optimizer '" + std::string(name) +
                   "': use one of sgd, momentum, nesterov, adam");
}

void OptimizerOptions::validate() const {
  if (!(momentum >= 0 && momentum < 1)) {
    throw InputError("--momentum must be in [0, 1), got " + number_text(momentum));
  }
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
    throw InputError("--beta1 and --beta2 must be in [0, 1)");
  }
  if (!(epsilon > 0)) throw InputError("--adam-epsilon must be positive");
}

template <typename T>
Optimizer<T>::Optimizer(const OptimizerOptions& options, long parameter_count) : options_(options) {
  options_.validate();
  if (options_.kind != OptimizerKind::sgd) velocity_ = Vector<T>::Zero(parameter_count);
  if (options_.kind == OptimizerKind::adam) second_ = Vector<T>::Zero(parameter_count);
}

template <typename T>
typename Optimizer<T>::Coefficients Optimizer<T>::begin_step(double learning_rate) {
  Coefficients c{static_cast<T>(learning_rate), static_cast<T>(options_.momentum),
                 static_cast<T>(options_.beta1), static_cast<T>(options_.beta2),
                 static_cast<T>(options_.epsilon)};
  if (options_.kind == OptimizerKind::adam) {
    ++steps_;
    const auto t = static_cast<double>(steps_);
    c.m_correction = static_cast<T>(1.0 / (1.0 - std::pow(options_.beta1, t)));
    c.v_correction = static_cast<T>(1.0 / (1.0 - std::pow(options_.beta2, t)));
  }
  return c;
}

template <typename T>
T Optimizer<T>::update_sum(VectorMap<T>& theta, const VectorMap<T>& gradient, Eigen::Index begin,
                           Eigen::Index end, const Coefficients& c) {
  T theta_sum = 0;
  constexpr Eigen::Index kBlock = 2048;  // 8 KiB of float per vector
  for (; begin < end; begin += kBlock) {
    const Eigen::Index n = std::min(kBlock, end - begin);
    auto th = theta.segment(begin, n);
    const auto g = gradient.segment(begin, n);
    switch (options_.kind) {
      case OptimizerKind::sgd:
        th -= c.eta * g;
        break;
      case OptimizerKind::momentum: {
        auto v = velocity_.segment(begin, n);
        v = c.mu * v - c.eta * g;
        th += v;
        break;
      }
      case OptimizerKind::nesterov: {
        // theta += -mu v + (1 + mu) v', with v' = mu v - eta g
        auto v = velocity_.segment(begin, n);
        th -= c.mu * v;
        v = c.mu * v - c.eta * g;
        th += (T(1) + c.mu) * v;
        break;
      }
      case OptimizerKind::adam: {
        auto m = velocity_.segment(begin, n);
        auto v = second_.segment(begin, n);
        m = c.b1 * m + (T(1) - c.b1) * g;
        v = c.b2 * v + (T(1) - c.b2) * g.cwiseAbs2();
        th.array() -= c.eta * (c.m_correction * m.array()) /
                      ((c.v_correction * v.array()).sqrt() + c.epsilon);
        break;
      }
    }
    theta_sum += th.sum();
  }
  return theta_sum;
}

// A NaN or an infinity anywhere makes a sum non-finite; only a sum that
// overflowed from finite values needs the element-by-element check. The new
// parameters alone tell: under every rule above a NaN or infinite gradient
// makes its parameter NaN or infinite (eta times either stays so, 0 times
// infinity is NaN, and Adam's inf / sqrt(inf) is NaN).
template <typename T>
bool Optimizer<T>::update(VectorMap<T> theta, const VectorMap<T>& gradient, IndexRange range,
                          const Coefficients& c) {
  const T sum = update_sum(theta, gradient, range.begin, range.end, c);
  return std::isfinite(sum) || theta.segment(range.begin, range.end - range.begin).allFinite();
}

template <typename T>
bool Optimizer<T>::step(VectorMap<T> theta, const VectorMap<T>& gradient, double learning_rate) {
  return update(theta, gradient, {0, theta.size()}, begin_step(learning_rate));
}

template <typename T>
Vector<double> Optimizer<T>::state() const {
  const bool adam = options_.kind == OptimizerKind::adam;
  Vector<double> state(velocity_.size() + second_.size() + (adam ? 1 : 0));
  state.head(velocity_.size()) = velocity_.template cast<double>();
  state.segment(velocity_.size(), second_.size()) = second_.template cast<double>();
  if (adam) state[state.size() - 1] = static_cast<double>(steps_);
  return state;
}

template <typename T>
void Optimizer<T>::set_state(const Vector<double>& state) {
  const bool adam = options_.kind == OptimizerKind::adam;
  const Eigen::Index expected = velocity_.size() + second_.size() + (adam ? 1 : 0);
  if (state.size() != expected) {
    throw InputError("the saved optimizer state holds " + std::to_string(state.size()) +
                     " numbers but optimizer " + to_string(options_.kind) + " needs " +
                     std::to_string(expected) + ": resume with the optimizer the run used");
  }
  if (adam) {
    // Adam's step count t, kept as a double: a damaged file must not reach the cast.
    const double steps = state[state.size() - 1];
    if (!(steps >= 0 && steps <= 0x1p53 && steps == std::floor(steps))) {
      throw InputError("the saved Adam step count is " + number_text(steps) +
                       ", not a count: resume from an earlier checkpoint");
    }
    steps_ = static_cast<long>(steps);
  }
  velocity_ = state.head(velocity_.size()).template cast<T>();
  second_ = state.segment(velocity_.size(), second_.size()).template cast<T>();
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace backprop
