#include "backprop/cost.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
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
    // Each column's largest z, evaluated once (as an expression it would be
    // found again for every element that uses it).
    const Eigen::Matrix<T, 1, Eigen::Dynamic> max = z.colwise().maxCoeff();
    const Eigen::Matrix<T, 1, Eigen::Dynamic> log_sum =
        (z.rowwise() - max).array().exp().colwise().sum().log().matrix() + max;
    return z.rowwise() - log_sum;
  }
  return a.array().log();
}

// ln sum_{k != j} e^{z_k} over column c of z: the log-sum-exp of every other
// output, shifted by the largest of them so that no e^{z} overflows.
template <typename T>
T log_sum_exp_of_others(const Matrix<T>& z, Eigen::Index c, Eigen::Index j) {
  T largest = -std::numeric_limits<T>::infinity();
  for (Eigen::Index k = 0; k < z.rows(); ++k) {
    if (k != j) largest = std::max(largest, z(k, c));
  }
  T sum = 0;
  for (Eigen::Index k = 0; k < z.rows(); ++k) {
    if (k != j) sum += std::exp(z(k, c) - largest);
  }
  return largest + std::log(sum);
}

// The output a softmax column holds above 1/2, if one does (its largest z).
template <typename T>
bool dominant_output(const Matrix<T>& a, Eigen::Index c, Eigen::Index& j) {
  return a.rows() > 1 && a.col(c).maxCoeff(&j) > T(0.5);
}

template <typename T>
Matrix<T> log_one_minus_a(Activation activation, const Matrix<T>& z, const Matrix<T>& a) {
  if (activation == Activation::sigmoid) return -softplus<T>(z);
  Matrix<T> result = (-a.array()).log1p();
  if (activation != Activation::softmax) return result;
  // 1 - a_j = sum_{k != j} e^{z_k} / sum_k e^{z_k}. log1p(-a_j) is accurate for
  // a_j <= 1/2; above, a_j may round to 1 (z_j ahead by 17 in float), so the
  // log is taken of the ratio itself, finite for any finite z.
  const Matrix<T> log_sum_exp = (z - log_a<T>(activation, z, a)).eval();
  for (Eigen::Index c = 0; c < z.cols(); ++c) {
    Eigen::Index j = 0;
    if (dominant_output<T>(a, c, j)) {
      result(j, c) = log_sum_exp_of_others<T>(z, c, j) - log_sum_exp(j, c);
    }
  }
  return result;
}

// BP1 for softmax outputs and the cross-entropy cost, per column:
//   dC/dz_i = -y_i + a_i Y + u_i - a_i U,   u_j = (1 - y_j) a_j / (1 - a_j),
// Y = sum_j y_j, U = sum_j u_j (from da_j/dz_i = a_j (delta_ij - a_i)).
// A dominant output j (a_j > 1/2) has odds a_j / (1 - a_j) that overflow as
// a_j -> 1, yet they cancel: its own term becomes (1 - y_j) a_j, and in the
// others a_i a_j / (1 - a_j) = a_j b_i with b_i = e^{z_i} / sum_{k != j} e^{z_k}.
template <typename T>
void softmax_cross_entropy_delta(const Matrix<T>& z, const Matrix<T>& a, const Matrix<T>& y,
                                 Matrix<T>& delta) {
  delta.resize(a.rows(), a.cols());
  if (a.rows() == 1) {  // a softmax of one output is 1 whatever z is
    delta.setZero();
    return;
  }
  for (Eigen::Index c = 0; c < a.cols(); ++c) {
    Eigen::Index j = 0;
    const bool dominant = dominant_output<T>(a, c, j);
    if (!dominant) j = -1;  // every output takes the general formula
    const T log_others = dominant ? log_sum_exp_of_others<T>(z, c, j) : T(0);
    const T y_sum = y.col(c).sum();
    T u_sum = 0;  // U without the dominant output's term
    for (Eigen::Index k = 0; k < a.rows(); ++k) {
      if (k != j) u_sum += (T(1) - y(k, c)) * a(k, c) / (T(1) - a(k, c));
    }
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const T common = -y(i, c) + a(i, c) * y_sum - a(i, c) * u_sum;
      if (i == j) {
        delta(i, c) = common + (T(1) - y(i, c)) * a(i, c);
        continue;
      }
      delta(i, c) = common + (T(1) - y(i, c)) * a(i, c) / (T(1) - a(i, c));
      if (dominant) {
        delta(i, c) -= (T(1) - y(j, c)) * a(j, c) * std::exp(z(i, c) - log_others);
      }
    }
  }
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
  // The other two pairings of a log cost with a probability output, where
  // grad_a C divides by an a or 1 - a that saturation rounds to 0.
  if (cost == Cost::log_likelihood && output_activation == Activation::sigmoid) {
    // d(-y ln sigma(z))/dz = -y (1 - sigma(z)).
    delta = -y.array() * (T(1) - a.array());
    return;
  }
  if (cost == Cost::cross_entropy && output_activation == Activation::softmax) {
    softmax_cross_entropy_delta<T>(z, a, y, delta);
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
