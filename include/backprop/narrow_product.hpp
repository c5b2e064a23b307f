// Matrix products with a narrow factor: the few columns of a small mini-batch.
//
// With m <= 16 examples per mini-batch (the book trains with m = 10), the two
// products of a dense layer that touch its whole weight matrix are
//   eq. 25  Z^l = W^l A^{l-1}                (n_l x n_{l-1} times n_{l-1} x m)
//   BP4     dC/dW^l = (1/m) Delta^l (A^{l-1})^T   (n_l x m times m x n_{l-1})
// A general matrix product (Eigen's) copies W^l into a packed buffer on every
// call, which costs more than the arithmetic when m is this small. These
// kernels read W^l and write dC/dW^l where they lie, in register tiles of up
// to two SIMD packets of rows by a few columns, and keep every partial sum in
// a register.
//
// Each output element is one chain of fused multiply-adds over the inner
// index in increasing order, whatever the tiling: the result does not depend
// on how the rows are split into blocks or threads (parallel.hpp).
//
// The narrow factor's zeros are skipped, as the packed products skip theirs
// (packed_product.hpp, with the same argument: a term that is an exact zero
// leaves every finite sum as it is, bit for bit): in eq. 25 the rows of A at
// which all of a tile's examples are zero (the pixels' zeros: 58 % of the
// rows for 5 MNIST images), in BP4 the columns of dC/dW whose pixel is zero
// in every example (half of them for 10 images), written as zeros without a
// sum. Counted: skipped_work.hpp.
#pragma once

#include "backprop/matrix.hpp"

namespace backprop {

// The widest mini-batch the kernels below are used for; wider ones go to
// the packed products (packed_product.hpp), which amortise their packing.
inline constexpr Eigen::Index kNarrowColumns = 16;

// The fewest neurons for which eq. 25 packs A^{l-1} at any mini-batch size:
// a layer of at most 16 (an output layer of 10 classes) is a row tile or two
// of narrow_product, whose arithmetic costs no more than packing would.
inline constexpr Eigen::Index kNarrowRows = 16;

// z = w a, where w is rows x inner (column-major, leading dimension w_stride),
// a is inner x m (leading dimension a_stride) and z is rows x m.
template <typename T>
void narrow_product(const T* w, Eigen::Index w_stride, Eigen::Index rows, Eigen::Index inner,
                    const T* a, Eigen::Index a_stride, Eigen::Index m, T* z, Eigen::Index z_stride);

// g = scale * delta a^T, where delta is rows x m (leading dimension
// delta_stride), a is columns x m (leading dimension a_stride) and g is
// rows x columns (column-major, leading dimension g_stride); m <=
// kNarrowColumns.
template <typename T>
void narrow_outer_product(const T* delta, Eigen::Index delta_stride, Eigen::Index rows, const T* a,
                          Eigen::Index a_stride, Eigen::Index columns, Eigen::Index m, T scale,
                          T* g, Eigen::Index g_stride);

}  // namespace backprop
