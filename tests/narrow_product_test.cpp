// The narrow-batch kernels against Eigen's general product, computed
// independently, for every tiling case: rows that fill 1 or 2 packets or
// leave a partial one, column counts that split into unequal tiles, blocks
// inside a larger matrix (stride > rows), and the guard cells around the
// output, which must stay untouched.
#include "backprop/narrow_product.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "backprop/rng.hpp"
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

}  // namespace
}  // namespace backprop
