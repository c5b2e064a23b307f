#include "backprop/cost.hpp"

#include <array>
#include <cmath>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {
namespace {

constexpr std::array<std::pair<Cost, const char*>, 3> kNames{{
    {Cost::quadratic, "quadratic"},
    {Cost::cross_entropy, "cross-entropy"},
    {Cost::log_likelihood, "log-likelihood"},
}};

// softplus(x) = ln(1 + e^x), without overflow for large x.
template <typename T>
Matrix<T> softplus(const Matrix<T>& x) {
  return x.array().max(T(0)) + (-x.array().abs()).exp().log1p();
}

// ln a and ln(1 - a) for the output activation, from z where possible.
template <typename T>
Matrix<T> log_a(Activation activation, const Matrix<T>& z, const Matrix<T>& a) {
  if (activation == Activation::sigmoid) return -softplus<T>(-z);
  if (activation == Activation::softmax) {
    const auto max = z.colwise().maxCoeff();
    const auto log_sum =
        ((z.rowwise() - max).array().exp().colwise().sum().log().matrix() + max).eval();
    return z.rowwise() - log_sum;
  }
  return a.array().log();
}

template <typename T>
Matrix<T> log_one_minus_a(Activation activation, const Matrix<T>& z, const Matrix<T>& a) {
  if (activation == Activation::sigmoid) return -softplus<T>(z);
  return (-a.array()).log1p();
}

// sum of y ln(p) with the convention 0 ln 0 = 0, as the book's nan_to_num has it.
template <typename T>
double sum_y_log(const Matrix<T>& y, const Matrix<T>& log_p) {
  return (y.array() == T(0)).select(T(0), y.array() * log_p.array()).template cast<double>().sum();
}

}  // namespace

std::string to_string(Cost cost) {
  for (const auto& [value, name] : kNames) {
    if (value == cost) return name;
  }
  return "unknown";
}

Cost parse_cost(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (name == known) return value;
  }
  throw InputError("unknown cost '" + std::string(name) +
                   "': use one of quadratic, cross-entropy, log-likelihood");
}

void check_compatible(Cost cost, Activation output_activation) {
  const bool probabilities =
      output_activation == Activation::sigmoid || output_activation == Activation::softmax;
  if (cost != Cost::quadratic && !probabilities) {
    throw InputError("cost " + to_string(cost) +
                     " needs outputs in (0, 1), but the output layer is " +
                     to_string(output_activation) +
                     ": use a sigmoid or softmax output layer, or the quadratic cost");
  }
}

template <typename T>
double cost_value(Cost cost, Activation output_activation, const Matrix<T>& z, const Matrix<T>& a,
                  const Matrix<T>& y) {
  const auto m = static_cast<double>(a.cols());
  switch (cost) {
    case Cost::quadratic:
      return 0.5 * (a - y).template cast<double>().squaredNorm() / m;
    case Cost::cross_entropy: {
      const Matrix<T> one_minus_y = (T(1) - y.array()).matrix();
      return -(sum_y_log<T>(y, log_a<T>(output_activation, z, a)) +
               sum_y_log<T>(one_minus_y, log_one_minus_a<T>(output_activation, z, a))) /
             m;
    }
    case Cost::log_likelihood:
      return -sum_y_log<T>(y, log_a<T>(output_activation, z, a)) / m;
  }
  return 0;
}

template <typename T>
void output_delta(Cost cost, Activation output_activation, const Matrix<T>& z, const Matrix<T>& a,
                  const Matrix<T>& y, Matrix<T>& delta) {
  const bool fused = (cost == Cost::cross_entropy && output_activation == Activation::sigmoid) ||
                     (cost == Cost::log_likelihood && output_activation == Activation::softmax);
  if (fused) {
    // sigma' cancels the denominator of grad_a C: Delta^L = A^L - Y
    // (eq. 66 of chapter 3; for softmax, given targets that sum to 1).
    delta.noalias() = a - y;
    return;
  }
  // grad_a C, then BP1's Hadamard product with sigma'(z^L).
  switch (cost) {
    case Cost::quadratic:
      delta.noalias() = a - y;
      break;
    case Cost::cross_entropy:
      delta = (a - y).array() / (a.array() * (T(1) - a.array()));
      break;
    case Cost::log_likelihood:
      delta = -y.array() / a.array();
      break;
  }
  multiply_by_derivative(output_activation, z, a, delta);
}

template double cost_value<float>(Cost, Activation, const Matrix<float>&, const Matrix<float>&,
                                  const Matrix<float>&);
template double cost_value<double>(Cost, Activation, const Matrix<double>&, const Matrix<double>&,
                                   const Matrix<double>&);
template void output_delta<float>(Cost, Activation, const Matrix<float>&, const Matrix<float>&,
                                  const Matrix<float>&, Matrix<float>&);
template void output_delta<double>(Cost, Activation, const Matrix<double>&, const Matrix<double>&,
                                   const Matrix<double>&, Matrix<double>&);

}  // namespace backprop
