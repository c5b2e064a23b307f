// The general matrix product under a dense layer's wide mini-batches:
// C = alpha op(A) op(B), where op is the identity or the transpose.
//
// With m > kNarrowColumns examples (narrow_product.hpp handles fewer) the
// products are large enough to repay packing, and the best packed kernels
// are OpenBLAS's: where the library was built with OpenBLAS
// (BACKPROP_OPENBLAS) they do the work, single-threaded, in each of the
// trainer's fixed row blocks (parallel.hpp), so the thread count never
// changes a result; otherwise Eigen's product does.
#pragma once

#include "backprop/matrix.hpp"

namespace backprop {

enum class Op { identity, transpose };

// c (rows x columns, column-major, leading dimension c_stride) =
//   alpha op(a) op(b), op(a) rows x inner, op(b) inner x columns;
// a and b are column-major with leading dimensions a_stride, b_stride.
template <typename T>
void general_product(Op op_a, Op op_b, Eigen::Index rows, Eigen::Index columns, Eigen::Index inner,
                     T alpha, const T* a, Eigen::Index a_stride, const T* b, Eigen::Index b_stride,
                     T* c, Eigen::Index c_stride);

// Which implementation general_product uses: "OpenBLAS <version>" or "Eigen".
const char* general_product_backend();

}  // namespace backprop
