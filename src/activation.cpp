#include "backprop/activation.hpp"

#include <array>
#include <utility>

#include "backprop/error.hpp"

namespace backprop {
namespace {

constexpr std::array<std::pair<Activation, const char*>, 5> kNames{{
    {Activation::sigmoid, "sigmoid"},
    {Activation::tanh, "tanh"},
    {Activation::relu, "relu"},
    {Activation::identity, "identity"},
    {Activation::softmax, "softmax"},
}};

}  // namespace

std::string to_string(Activation activation) {
  for (const auto& [value, name] : kNames) {
    if (value == activation) return name;
  }
  return "unknown";
}

Activation parse_activation(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (name == known) return value;
  }
  throw InputError("unknown activation '" + std::string(name) +
                   "': use one of sigmoid, tanh, relu, identity, softmax");
}

template <typename T>
void activate_rows(Activation activation, const Eigen::Ref<const Matrix<T>>& z,
                   Eigen::Ref<Matrix<T>> a) {
  switch (activation) {
    case Activation::sigmoid:
      // sigma(z) = 1 / (1 + e^{-z}); exp overflows to inf for z < -88 (float),
      // which gives exactly 0, the correct limit.
      a = (T(1) + (-z.array()).exp()).inverse();
      break;
    case Activation::tanh:
      a = z.array().tanh();
      break;
    case Activation::relu:
      a = z.array().max(T(0));
      break;
    case Activation::identity:
      a = z;
      break;
    case Activation::softmax:
      throw Error("softmax needs whole columns: use activate()");
  }
}

template <typename T>
void activate(Activation activation, const Matrix<T>& z, Matrix<T>& a) {
  a.resize(z.rows(), z.cols());
  switch (activation) {
    case Activation::sigmoid:
    case Activation::tanh:
    case Activation::relu:
    case Activation::identity:
      activate_rows<T>(activation, z, a);
      break;
    case Activation::softmax:
      // a_j = e^{z_j} / sum_k e^{z_k}, per column; subtracting the column's
      // largest z first leaves a unchanged and keeps e^{z} from overflowing.
      a = (z.rowwise() - z.colwise().maxCoeff()).array().exp();
      a.array().rowwise() /= a.colwise().sum().array();
      break;
  }
}

template <typename T>
void multiply_by_derivative(Activation activation, const Matrix<T>& z, const Matrix<T>& a,
                            Matrix<T>& grad) {
  switch (activation) {
    case Activation::sigmoid:  // sigma'(z) = sigma(z) (1 - sigma(z))
      grad.array() *= a.array() * (T(1) - a.array());
      break;
    case Activation::tanh:  // tanh'(z) = 1 - tanh^2(z)
      grad.array() *= T(1) - a.array().square();
      break;
    case Activation::relu:  // 1 for z > 0, else 0
      grad.array() = (z.array() > T(0)).select(grad.array(), T(0));
      break;
    case Activation::identity:
      break;
    case Activation::softmax:
      // da_i/dz_j = a_i (delta_ij - a_j), so (J^T g)_j = a_j (g_j - sum_i a_i g_i).
      grad.array() = a.array() *
                     (grad.rowwise() - (a.array() * grad.array()).colwise().sum().matrix()).array();
      break;
  }
}

template void activate_rows<float>(Activation, const Eigen::Ref<const Matrix<float>>&,
                                   Eigen::Ref<Matrix<float>>);
template void activate_rows<double>(Activation, const Eigen::Ref<const Matrix<double>>&,
                                    Eigen::Ref<Matrix<double>>);
template void activate<float>(Activation, const Matrix<float>&, Matrix<float>&);
template void activate<double>(Activation, const Matrix<double>&, Matrix<double>&);
template void multiply_by_derivative<float>(Activation, const Matrix<float>&, const Matrix<float>&,
                                            Matrix<float>&);
template void multiply_by_derivative<double>(Activation, const Matrix<double>&,
                                             const Matrix<double>&, Matrix<double>&);

}  // namespace backprop
