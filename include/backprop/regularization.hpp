// Weight penalties (the book's chapter 3): L2 and L1 regularization.
//
//   L2:  C = C_0 + (lambda / 2n) sum_w w^2     dC/dw = dC_0/dw + (lambda / n) w
//   L1:  C = C_0 + (lambda / n) sum_w |w|      dC/dw = dC_0/dw + (lambda / n) sgn(w)
//
// n is the size of the training set; biases are not penalised. With plain
// SGD the L2 step is the book's  w <- (1 - eta lambda / n) w - eta dC_0/dw.
#pragma once

#include <string>
#include <string_view>

#include "backprop/network.hpp"

namespace backprop {

enum class Penalty { none, l2, l1 };

std::string to_string(Penalty penalty);
Penalty parse_penalty(std::string_view name);

struct Regularization {
  Penalty penalty = Penalty::none;
  double lambda = 0;

  bool active() const { return penalty != Penalty::none && lambda != 0; }
  // The penalty term of the cost for a training set of n examples.
  template <typename T>
  double cost(const Network<T>& network, long n) const;
  // Adds the penalty's gradient to network.gradients() (weights only).
  template <typename T>
  void add_gradient(Network<T>& network, long n) const;
};

}  // namespace backprop
