// The matrix types used throughout: Eigen, column-major, so that in a
// mini-batch matrix each example (a column) is contiguous in memory.
#pragma once

#include <Eigen/Core>

namespace backprop {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using VectorMap = Eigen::Map<Vector<T>>;
template <typename T>
using ConstMatrixRef = Eigen::Ref<const Matrix<T>>;

// The indices [begin, end): of rows, of inputs, of parameters.
struct IndexRange {
  Eigen::Index begin;
  Eigen::Index end;
};

}  // namespace backprop
