// Cost functions C(a, y) and their output error, the book's BP1.
//
// Costs are averaged over the examples (columns) of a batch, as the book's
// total_cost does: C = (1/n) sum_x C_x.
#pragma once

#include <string>
#include <string_view>

#include "backprop/activation.hpp"
#include "backprop/matrix.hpp"

namespace backprop {

enum class Cost {
  quadratic,      // C_x = 1/2 ||a - y||^2                       (chapter 1)
  cross_entropy,  // C_x = -sum_j [y_j ln a_j + (1-y_j) ln(1-a_j)]  (chapter 3)
  log_likelihood  // C_x = -sum_j y_j ln a_j (= -ln a_y for one-hot y)
};

std::string to_string(Cost cost);
Cost parse_cost(std::string_view name);

// Throws InputError if the cost cannot be used with this output activation
// (cross-entropy and log-likelihood need outputs in (0, 1)).
void check_compatible(Cost cost, Activation output_activation);

// Mean cost over the columns of the output layer's z and a = sigma(z), with
// targets y. The logarithms are taken from z where the activation allows
// (ln sigma(z) = -softplus(-z), ln softmax(z)_j = z_j - logsumexp(z)), so a
// saturated output gives a large finite cost, not ln 0 = -inf (for softmax,
// ln(1 - a_j) too, from the log-sum-exp of the other outputs).
template <typename T>
double cost_value(Cost cost, Activation output_activation, const Matrix<T>& z, const Matrix<T>& a,
                  const Matrix<T>& y);

// BP1: Delta^L = grad_a C (.) sigma'(z^L), per example (not divided by m).
// Sigmoid with cross-entropy and softmax with log-likelihood use the fused
// form Delta^L = A^L - Y, where sigma' cancels exactly; sigmoid with
// log-likelihood and softmax with cross-entropy use closed forms too, so
// that outputs saturated to exactly 0 or 1 give finite errors, never 0/0.
template <typename T>
void output_delta(Cost cost, Activation output_activation, const Matrix<T>& z, const Matrix<T>& a,
                  const Matrix<T>& y, Matrix<T>& delta);

}  // namespace backprop
