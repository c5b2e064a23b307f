// The narrow-batch kernels against Eigen's general product, computed
// independently, for every tiling case: rows that fill 1 or 2 packets or
// leave a partial one, column counts that split into unequal tiles, blocks
// inside a larger matrix (stride > rows), and the guard cells around the
// output, which must stay untouched.
#include "backprop/narrow_product.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "backprop/rng.hpp"
#include "backprop/skipped_work.hpp"
#include "random_matrix.hpp"

namespace backprop {
namespace {

using test::random_matrix;

constexpr double kGuard = 12345.0;

template <typename T>
void check_product(Eigen::Index rows, Eigen::Index inner, Eigen::Index m, Eigen::Index row_offset,
                   Rng& rng) {
  // w is a block of rows [row_offset, row_offset + rows) of a taller matrix.
  const Eigen::Index stride = rows + row_offset + 3;
  const Matrix<T> full_w = random_matrix<T>(stride, inner, rng);
  const Matrix<T> a = random_matrix<T>(inner, m, rng);
  Matrix<T> z = Matrix<T>::Constant(rows + 2, m, static_cast<T>(kGuard));  // stride rows + 2
  narrow_product(full_w.data() + row_offset, stride, rows, inner, a.data(), inner, m, z.data(),
                 z.outerStride());
  const Matrix<double> expected =
      full_w.middleRows(row_offset, rows).template cast<double>() * a.template cast<double>();
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      ASSERT_NEAR(z(i, j), expected(i, j), tolerance * (1 + std::abs(expected(i, j))))
          << rows << "x" << inner << " times " << inner << "x" << m << " at " << i << "," << j;
    }
    EXPECT_EQ(z(rows, j), static_cast<T>(kGuard));
    EXPECT_EQ(z(rows + 1, j), static_cast<T>(kGuard));
  }
}

template <typename T>
void check_outer_product(Eigen::Index rows, Eigen::Index columns, Eigen::Index m,
                         Eigen::Index row_offset, Rng& rng) {
  const Matrix<T> delta = random_matrix<T>(rows, m, rng);
  const Matrix<T> a = random_matrix<T>(columns, m, rng);
  // g is a block of rows [row_offset, row_offset + rows) of a taller matrix.
  const Eigen::Index stride = rows + row_offset + 2;
  Matrix<T> g = Matrix<T>::Constant(stride, columns, static_cast<T>(kGuard));
  const T scale = static_cast<T>(0.1);
  narrow_outer_product(delta.data(), rows, rows, a.data(), columns, columns, m, scale,
                       g.data() + row_offset, stride);
  const Matrix<double> expected =
      0.1 * delta.template cast<double>() * a.transpose().template cast<double>();
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  for (Eigen::Index c = 0; c < columns; ++c) {
    for (Eigen::Index i = 0; i < stride; ++i) {
      if (i < row_offset || i >= row_offset + rows) {
        ASSERT_EQ(g(i, c), static_cast<T>(kGuard)) << "guard row " << i << " column " << c;
      } else {
        ASSERT_NEAR(g(i, c), expected(i - row_offset, c),
                    tolerance * (1 + std::abs(expected(i - row_offset, c))))
            << rows << "x" << m << " times " << m << "x" << columns;
      }
    }
  }
}

template <typename T>
class NarrowProductTest : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(NarrowProductTest, Precisions);

TYPED_TEST(NarrowProductTest, MatchesEigenForEveryTileShape) {
  Rng rng(7);
  for (const Eigen::Index rows : {1, 7, 8, 10, 15, 16, 17, 30, 31, 32, 33, 47, 64, 100}) {
    for (const Eigen::Index m : {1, 2, 5, 8, 9, 10, 13, 16}) {
      for (const Eigen::Index inner : {1, 2, 3, 29, 64}) {
        check_product<TypeParam>(rows, inner, m, 0, rng);
        check_product<TypeParam>(rows, inner, m, 5, rng);
      }
    }
  }
}

TYPED_TEST(NarrowProductTest, OuterProductMatchesEigenAndWritesOnlyItsBlock) {
  Rng rng(8);
  for (const Eigen::Index rows : {1, 7, 10, 16, 17, 30, 33, 64, 100}) {
    for (const Eigen::Index m : {0, 1, 3, 10, 16}) {  // 0: an empty sum, g = 0
      for (const Eigen::Index columns : {1, 5, 8, 9, 30, 64}) {
        check_outer_product<TypeParam>(rows, columns, m, 0, rng);
        check_outer_product<TypeParam>(rows, columns, m, 3, rng);
      }
    }
  }
}

// Each output element is one chain of multiply-adds in a fixed order, so a
// row computed inside a block equals the same row computed in the whole
// matrix, bit for bit: the property the thread-count independence rests on.
TYPED_TEST(NarrowProductTest, RowsDoNotDependOnTheBlocking) {
  Rng rng(9);
  const Eigen::Index rows = 100, inner = 50, m = 10;
  const Matrix<TypeParam> w = random_matrix<TypeParam>(rows, inner, rng);
  const Matrix<TypeParam> a = random_matrix<TypeParam>(inner, m, rng);
  Matrix<TypeParam> whole(rows, m), blocked(rows, m);
  narrow_product(w.data(), rows, rows, inner, a.data(), inner, m, whole.data(), rows);
  for (const Eigen::Index begin : {0, 37, 71}) {
    const Eigen::Index size = std::min<Eigen::Index>(37, rows - begin);
    narrow_product(w.data() + begin, rows, size, inner, a.data(), inner, m, blocked.data() + begin,
                   rows);
  }
  EXPECT_EQ(whole, blocked);
}

// An input like a mini-batch of images: rows (pixels) that are zero in
// every column, rows zero in some columns only, some -0s; the rest random.
template <typename T>
Matrix<T> sparse_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Matrix<T> a = random_matrix<T>(rows, cols, rng);
  for (Eigen::Index k = 0; k < rows; ++k) {
    const auto kind = rng.below(4);
    for (Eigen::Index j = 0; j < cols; ++j) {
      if (kind == 0 || (kind == 1 && rng.below(2) == 0)) {
        a(k, j) = rng.below(3) == 0 ? -T(0) : T(0);
      }
    }
  }
  return a;
}

// The rows of a's zeros are left out of eq. 25's sums, and the columns of
// g whose a^x are all zeros are written, not summed: every element is the
// same, bit for bit, as the whole std::fma chain over the inner index in
// increasing order (from +0) gives; for tiles of every shape, including row
// tiles that overlap.
TYPED_TEST(NarrowProductTest, ZerosOfTheNarrowFactorAreSkippedBitForBit) {
#ifndef EIGEN_VECTORIZE_FMA
  GTEST_SKIP() << "built without fused multiply-add";
#endif
  using T = TypeParam;
  Rng rng(10);
  for (const Eigen::Index rows : {7, 16, 30, 33, 100}) {
    for (const Eigen::Index m : {1, 5, 10, 16}) {
      const Eigen::Index inner = 203;
      const Matrix<T> w = random_matrix<T>(rows, inner, rng);
      const Matrix<T> a = sparse_matrix<T>(inner, m, rng);
      Matrix<T> z(rows, m);
      narrow_product(w.data(), rows, rows, inner, a.data(), inner, m, z.data(), rows);
      for (Eigen::Index j = 0; j < m; ++j) {
        for (Eigen::Index i = 0; i < rows; ++i) {
          T sum = 0;
          for (Eigen::Index k = 0; k < inner; ++k) sum = std::fma(w(i, k), a(k, j), sum);
          ASSERT_EQ(z(i, j), sum) << rows << " rows, m = " << m << ", at " << i << "," << j;
          ASSERT_EQ(std::signbit(z(i, j)), std::signbit(sum));  // a zero's sign too
        }
      }
      // g = scale delta a^T, with a^T's columns the inner index: inner x m.
      const Matrix<T> delta = random_matrix<T>(rows, m, rng);
      const T scale = static_cast<T>(0.1);
      Matrix<T> g(rows, inner);
      narrow_outer_product(delta.data(), rows, rows, a.data(), inner, inner, m, scale, g.data(),
                           rows);
      for (Eigen::Index c = 0; c < inner; ++c) {
        for (Eigen::Index i = 0; i < rows; ++i) {
          T sum = 0;
          for (Eigen::Index x = 0; x < m; ++x) sum = std::fma(delta(i, x), a(c, x), sum);
          ASSERT_EQ(g(i, c), scale * sum) << rows << " rows, m = " << m << ", at " << i << "," << c;
          ASSERT_EQ(std::signbit(g(i, c)), std::signbit(scale * sum));
        }
      }
    }
  }
}

// What was left out is counted: for rows of a that are zero in every
// column, whatever the tiling, rows x m multiply-adds each in eq. 25, and
// as many for the columns of g they leave zero.
TYPED_TEST(NarrowProductTest, SkippedMultiplyAddsAreCounted) {
  using T = TypeParam;
  Rng rng(11);
  const Eigen::Index rows = 30, inner = 100, m = 10;
  const Matrix<T> w = random_matrix<T>(rows, inner, rng);
  Matrix<T> a = random_matrix<T>(inner, m, rng).array() + T(2);  // no zeros
  const std::vector<Eigen::Index> zero_rows = {0, 1, 2, 17, 50, 51, 99};
  for (const Eigen::Index k : zero_rows) a.row(k).setZero();
  Matrix<T> z(rows, m);
  std::int64_t before = skipped_multiply_adds();
  narrow_product(w.data(), rows, rows, inner, a.data(), inner, m, z.data(), rows);
  const auto expected = static_cast<std::int64_t>(zero_rows.size()) * rows * m;
  EXPECT_EQ(skipped_multiply_adds() - before, expected);
  const Matrix<T> delta = random_matrix<T>(rows, m, rng);
  Matrix<T> g(rows, inner);
  before = skipped_multiply_adds();
  narrow_outer_product(delta.data(), rows, rows, a.data(), inner, inner, m, T(1), g.data(), rows);
  EXPECT_EQ(skipped_multiply_adds() - before, expected);
  for (const Eigen::Index k : zero_rows) EXPECT_TRUE((g.col(k).array() == T(0)).all()) << k;
}

// A NaN is not a zero: its row is kept, and the NaN reaches every sum it
// is part of, in eq. 25 and in the gradient, as the whole sum would have it.
TYPED_TEST(NarrowProductTest, ANaNInTheNarrowFactorIsNotSkipped) {
  using T = TypeParam;
  Rng rng(12);
  const Eigen::Index rows = 30, inner = 64, m = 10;
  const Matrix<T> w = random_matrix<T>(rows, inner, rng);
  Matrix<T> a = Matrix<T>::Zero(inner, m);
  a.row(5).setConstant(T(1));
  a(40, 3) = std::numeric_limits<T>::quiet_NaN();  // in a row that is otherwise zero
  Matrix<T> z(rows, m);
  narrow_product(w.data(), rows, rows, inner, a.data(), inner, m, z.data(), rows);
  for (Eigen::Index j = 0; j < m; ++j) {
    EXPECT_EQ(j == 3, z.col(j).array().isNaN().all()) << "column " << j;
    if (j != 3) EXPECT_TRUE(z.col(j).allFinite()) << "column " << j;
  }
  const Matrix<T> delta = random_matrix<T>(rows, m, rng);
  Matrix<T> g(rows, inner);
  narrow_outer_product(delta.data(), rows, rows, a.data(), inner, inner, m, T(1), g.data(), rows);
  for (Eigen::Index c = 0; c < inner; ++c) {
    EXPECT_EQ(c == 40, g.col(c).array().isNaN().all()) << "column " << c;
  }
}

}  // namespace
}  // namespace backprop
