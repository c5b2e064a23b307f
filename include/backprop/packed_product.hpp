// Matrix products for wide mini-batches, rearranged ("packed") for the caches.
//
// With m > 16 examples per mini-batch (configuration C of the benchmarks
// trains with m = 128), the three products of a dense layer
//   eq. 25  Z^l = W^l A^{l-1}                       (n_l x n_{l-1} by n_{l-1} x m)
//   BP4     dC/dW^l = (1/m) Delta^l (A^{l-1})^T      (n_l x m by m x n_{l-1})
//   BP2     (W^l)^T Delta^l                          (n_{l-1} x n_l by n_l x m)
// are large enough that copying the factors into the order the arithmetic
// reads them pays for itself: the right factor Y once per product into
// slivers of a few columns; the left factor X, where it is read across its
// rows (W^T in BP2), block by block into slivers of two SIMD packets of rows.
// A column-major X (W in eq. 25, Delta in BP4) already holds such a sliver's
// values contiguously, column by column, and is read where it lies. A
// register tile of the product (two packets of rows by up to 12 columns on
// AVX-512) then reads both slivers front to back, two packets and a dozen
// broadcast values per step of 24 fused multiply-adds.
//
// Each output element is one chain of fused multiply-adds over the inner
// index in increasing order, however the rows are cut into blocks and the
// inner index into cache blocks: the result does not depend on the thread
// count (parallel.hpp), as with the narrow kernels (narrow_product.hpp).
//
// A row of a sliver of Y that is all zeros adds nothing to any sum: each of
// its terms is an exact zero, and s + 0 x = s for every finite x (s is never
// -0 here: the sums start at +0). The first layer's Y is the pixels, mostly
// zeros in MNIST (81 %): half the rows of a sliver of 12 images are zero in
// all of them; ReLU's outputs and derivatives leave whole rows of zeros too
// (a third of eq. 25's and more than half of BP2's in configuration C's
// second layer). Where a quarter or more of a sliver's rows are zero, the
// packed sliver keeps only the others, with their indices, and the product
// skips the rest (counted: skipped_work.hpp): the same values, bit for bit,
// as the whole sum, in the same order, while W^l holds finite numbers. (An
// infinite or NaN weight times a zero would have made NaN; training never
// keeps such a weight, every update checks for one, and model files refuse
// them.)
//
// A column of Y that is all zeros is not packed at all: its column of the
// product is alpha 0 + beta c (plus the epilogue), the value every sum of
// zeros gives, written without a sum. For gradient descent's update (beta =
// 1, alpha = -eta/m < 0) that is c itself, bit for bit (c + -0 = c, even for
// c = +0 or -0), so those columns of W are neither read nor written: in
// configuration C, the columns of W^2 that belong to neurons of layer 1
// which ReLU zeroes for the whole mini-batch (a quarter of them), and of W^1
// for pixels that are zero in all of its images.
#pragma once

#include <cstdint>
#include <vector>

#include "backprop/matrix.hpp"

namespace backprop {

// A matrix read through strides: element (i, j) is data[i * row_stride +
// j * column_stride]. A column-major matrix has row_stride 1; its transpose
// (column_stride 1) is how W^T and A^T are read without copying them.
template <typename T>
struct StridedMatrix {
  const T* data;
  Eigen::Index rows;
  Eigen::Index cols;
  Eigen::Index row_stride;
  Eigen::Index column_stride;

  // Rows [begin, begin + count).
  [[nodiscard]] StridedMatrix middle_rows(Eigen::Index begin, Eigen::Index count) const {
    return {data + begin * row_stride, count, cols, row_stride, column_stride};
  }
};

// A column-major Eigen matrix (or block of one), as it is or transposed.
template <typename T, typename Derived>
StridedMatrix<T> strided(const Eigen::DenseBase<Derived>& m) {
  return {m.derived().data(), m.rows(), m.cols(), 1, m.derived().outerStride()};
}
template <typename T, typename Derived>
StridedMatrix<T> strided_transpose(const Eigen::DenseBase<Derived>& m) {
  return {m.derived().data(), m.cols(), m.rows(), m.derived().outerStride(), 1};
}

// The right factor Y (inner x cols) of a product, packed once so that every
// row block of the product can be computed from it, on any thread.
template <typename T>
class PackedRight {
 public:
  void pack(const StridedMatrix<T>& y);

  [[nodiscard]] Eigen::Index inner() const { return inner_; }
  [[nodiscard]] Eigen::Index cols() const { return cols_; }
  // The columns of Y the slivers hold, in order: packed column j is column
  // packed_columns()[j] of Y, or column j where that is null. Where an
  // eighth or more of Y's columns are all zeros (+0 or -0; a NaN is not
  // zero), those are left out and listed, increasing, in zero_columns().
  [[nodiscard]] Eigen::Index packed_cols() const {
    return cols_ - static_cast<Eigen::Index>(zero_columns_.size());
  }
  [[nodiscard]] const std::int32_t* packed_columns() const {
    return zero_columns_.empty() ? nullptr : packed_columns_.data();
  }
  [[nodiscard]] const std::vector<std::int32_t>& zero_columns() const { return zero_columns_; }
  // The columns of a sliver (the register tile's width: 12 with AVX-512, 6
  // with AVX2), and how many slivers hold the packed_cols() columns.
  [[nodiscard]] static Eigen::Index sliver_width();
  [[nodiscard]] Eigen::Index slivers() const {
    return (packed_cols() + sliver_width() - 1) / sliver_width();
  }
  // Sliver s: the register tile's width w of packed columns, [s w, s w + w),
  // as inner() rows of w values (zeros past packed_cols()); or, where
  // kept_rows(s) is not null, only the kept_count(s) rows that hold a value
  // other than zero.
  [[nodiscard]] const T* sliver(Eigen::Index s) const;
  // The indices of the rows sliver s keeps, increasing; null when it keeps
  // every row (then kept_count(s) is inner()).
  [[nodiscard]] const std::int32_t* kept_rows(Eigen::Index s) const;
  [[nodiscard]] Eigen::Index kept_count(Eigen::Index s) const;
  // The rows that some sliver keeps, increasing (used_count() of them); null
  // when one of them keeps every row.
  [[nodiscard]] const std::int32_t* used_rows() const {
    return all_rows_used_ ? nullptr : used_rows_.data();
  }
  [[nodiscard]] Eigen::Index used_count() const {
    return all_rows_used_ ? inner_ : static_cast<Eigen::Index>(used_rows_.size());
  }

 private:
  // Leaves out the zero rows of the packed sliver s, if a quarter or more
  // of its rows are zero.
  void keep_nonzero_rows(Eigen::Index s);
  // Sorts y's columns into packed_columns_ and zero_columns_.
  void find_zero_columns(const StridedMatrix<T>& y);
  // Packs the slivers from a y that is not row-major, and leaves out their
  // zero rows.
  void pack_from_columns(const StridedMatrix<T>& y, Eigen::Index minimum_slivers);
  // The union of the slivers' kept rows, into used_rows_.
  void find_used_rows();

  Eigen::Index inner_ = 0;
  Eigen::Index cols_ = 0;
  std::vector<std::int32_t> packed_columns_;
  std::vector<std::int32_t> zero_columns_;
  std::vector<std::int32_t> used_rows_;
  bool all_rows_used_ = true;
  std::vector<unsigned char> row_flags_;  // find_used_rows's, kept for its capacity
  std::vector<T, Eigen::aligned_allocator<T>> data_;
  std::vector<std::int32_t> kept_rows_;   // inner() per sliver
  std::vector<Eigen::Index> kept_count_;  // per sliver
};

// What a product does with each finished value v of c besides storing it,
// while v is still in a register: eq. 25's bias (v + b_i is stored in
// row i of c) and ReLU (then max(v, 0) is stored too, in `rectified`, laid
// out as c is). Saves the passes over Z^l that would do these after it.
template <typename T>
struct Epilogue {
  const T* bias = nullptr;
  T* rectified = nullptr;
};

// c = alpha x y + beta c, where x is rows x y.inner() and c is rows x
// y.cols() (column-major, leading dimension c_stride). With beta = 0, c is
// only written (whatever it held, NaN included, is gone); otherwise this is
// gradient descent's update written into the weights where they lie
// (W <- beta W - (eta / m) Delta A^T, dense_layer.hpp).
// With beta, returns the sum of the values written: NaN or infinite if any
// of them is (or, rarely, if finite values overflow the sum); without, 0.
// (With beta = 1 and alpha < 0, the columns for Y's zero columns are left
// as they are, not written: their values are not in the sum.)
// The epilogue, if any, applies to the values stored.
template <typename T>
T packed_product(const StridedMatrix<T>& x, const PackedRight<T>& y, T alpha, T* c,
                 Eigen::Index c_stride, T beta = T(0), const Epilogue<T>& epilogue = {});

}  // namespace backprop
