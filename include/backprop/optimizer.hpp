// Update rules: how a gradient g = dC/dtheta moves the parameters theta.
//
// Each works on the network's one parameter buffer and one gradient buffer,
// so it never needs to know about layers.
//   sgd       theta <- theta - eta g                            (chapter 1)
//   momentum  v <- mu v - eta g;  theta <- theta + v            (chapter 3)
//   nesterov  v' <- mu v - eta g;  theta <- theta - mu v + (1 + mu) v'
//             (Nesterov's look-ahead gradient, in the form of Bengio et al.
//             2013 that needs no second gradient evaluation)
//   adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
//             theta <- theta - eta m^ / (sqrt(v^) + eps), with the bias
//             corrections m^ = m / (1 - b1^t), v^ = v / (1 - b2^t)
//             (Kingma and Ba 2015)
#pragma once

#include <string>
#include <string_view>

#include "backprop/matrix.hpp"

namespace backprop {

enum class OptimizerKind { sgd, momentum, nesterov, adam };

std::string to_string(OptimizerKind kind);
OptimizerKind parse_optimizer(std::string_view name);

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::sgd;
  double momentum = 0.9;  // mu, the book's momentum co-efficient
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;

  void validate() const;
};

template <typename T>
class Optimizer {
 public:
  Optimizer(const OptimizerOptions& options, long parameter_count);

  // One step. Returns whether the gradient and the new parameters are all
  // finite: checked block by block as the step writes them, while they are
  // still in the level-1 cache, so the check costs no pass over memory.
  [[nodiscard]] bool step(VectorMap<T> theta, const VectorMap<T>& gradient, double learning_rate);

  // One step taken in parts: begin_step() once, then update() over ranges
  // that cover every parameter once, in any order and on any threads (the
  // trainer's shared first layer, training.cpp). Every element gets the
  // same update as from step().
  struct Coefficients {
    T eta, mu, b1, b2, epsilon;
    T m_correction = 1;  // Adam's bias corrections for this step
    T v_correction = 1;
  };
  Coefficients begin_step(double learning_rate);
  [[nodiscard]] bool update(VectorMap<T> theta, const VectorMap<T>& gradient, IndexRange range,
                            const Coefficients& c);

  // The optimizer's memory (velocities, moments, step count) as doubles, for
  // checkpoints; converting float to double and back is exact.
  Vector<double> state() const;
  // Throws InputError if the size does not fit this optimizer.
  void set_state(const Vector<double>& state);

 private:
  // update() for [begin, end): the sum of the new values.
  T update_sum(VectorMap<T>& theta, const VectorMap<T>& gradient, Eigen::Index begin,
               Eigen::Index end, const Coefficients& c);

  OptimizerOptions options_;
  Vector<T> velocity_;  // momentum and nesterov: v; adam: m
  Vector<T> second_;    // adam: v
  long steps_ = 0;      // adam: t
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace backprop
