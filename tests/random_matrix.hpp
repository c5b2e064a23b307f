// A matrix of standard normal values from the project's generator, for the
// product kernels' tests.
#pragma once

#include "backprop/matrix.hpp"
#include "backprop/rng.hpp"

namespace backprop::test {

template <typename T>
Matrix<T> random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Matrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(rng.normal());
  return m;
}

}  // namespace backprop::test
