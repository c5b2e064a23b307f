// The packed product against an independent computation, for every layout a
// layer uses (W, Delta and A column-major; W^T and A^T read through
// strides), for shapes that leave partial register tiles and cross the
// inner-index cache blocks, written into a block of a larger matrix whose
// other cells must stay untouched.
#include "backprop/packed_product.hpp"
#include "backprop/skipped_work.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "backprop/parallel.hpp"
#include "backprop/rng.hpp"
#include "random_matrix.hpp"

namespace backprop {
namespace {

using test::random_matrix;

constexpr double kGuard = 12345.0;

// x (rows x inner) and y (inner x cols) stored as given or transposed.
template <typename T>
struct Factors {
  Matrix<T> x_storage;
  Matrix<T> y_storage;
  StridedMatrix<T> x;
  StridedMatrix<T> y;
  Matrix<double> x_value;
  Matrix<double> y_value;
};

template <typename T>
Factors<T> factors(Eigen::Index rows, Eigen::Index inner, Eigen::Index cols, bool x_transposed,
                   bool y_transposed, Rng& rng) {
  Factors<T> f;
  // Stored transposed, x is inner x rows and y is cols x inner.
  const Eigen::Index x_stored_rows = x_transposed ? inner : rows;
  const Eigen::Index x_stored_cols = x_transposed ? rows : inner;
  const Eigen::Index y_stored_rows = y_transposed ? cols : inner;
  const Eigen::Index y_stored_cols = y_transposed ? inner : cols;
  f.x_storage = random_matrix<T>(x_stored_rows, x_stored_cols, rng);
  f.y_storage = random_matrix<T>(y_stored_rows, y_stored_cols, rng);
  f.x = x_transposed ? strided_transpose<T>(f.x_storage) : strided<T>(f.x_storage);
  f.y = y_transposed ? strided_transpose<T>(f.y_storage) : strided<T>(f.y_storage);
  f.x_value = f.x_storage.template cast<double>();
  if (x_transposed) f.x_value.transposeInPlace();
  f.y_value = f.y_storage.template cast<double>();
  if (y_transposed) f.y_value.transposeInPlace();
  return f;
}

template <typename T>
void check(Eigen::Index rows, Eigen::Index inner, Eigen::Index cols, bool x_transposed,
           bool y_transposed, Rng& rng) {
  const Factors<T> f = factors<T>(rows, inner, cols, x_transposed, y_transposed, rng);
  PackedRight<T> packed;
  packed.pack(f.y);
  ASSERT_EQ(packed.inner(), inner);
  ASSERT_EQ(packed.cols(), cols);
  // c is rows [2, 2 + rows) of a taller matrix, with a guard column after it.
  Matrix<T> c = Matrix<T>::Constant(rows + 5, cols + 1, static_cast<T>(kGuard));
  const T alpha = static_cast<T>(-0.375);
  packed_product(f.x, packed, alpha, c.data() + 2, c.outerStride());

  const Matrix<double> expected = -0.375 * f.x_value * f.y_value;
  const double tolerance = std::is_same_v<T, float> ? 2e-5 : 1e-13;
  const auto where = [&] {
    return ::testing::Message() << rows << "x" << inner << " times " << inner << "x" << cols
                                << (x_transposed ? ", x transposed" : "")
                                << (y_transposed ? ", y transposed" : "");
  };
  for (Eigen::Index j = 0; j <= cols; ++j) {
    for (Eigen::Index i = 0; i < c.rows(); ++i) {
      if (j == cols || i < 2 || i >= rows + 2) {
        ASSERT_EQ(c(i, j), static_cast<T>(kGuard))
            << "guard cell " << i << "," << j << ", " << where();
        continue;
      }
      const double want = expected(i - 2, j);
      // The sum's scale: sum_k |x_ik y_kj|, what the rounding errors grow with.
      const double scale =
          0.375 * (f.x_value.row(i - 2).cwiseAbs() * f.y_value.col(j).cwiseAbs()).value();
      ASSERT_NEAR(c(i, j), want, tolerance * (1 + scale))
          << "at " << i - 2 << "," << j << ", " << where();
    }
  }
}

template <typename T>
class PackedProductTest : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(PackedProductTest, Precisions);

TYPED_TEST(PackedProductTest, MatchesAnIndependentProductInEveryLayout) {
  Rng rng(11);
  for (const bool x_transposed : {false, true}) {
    for (const bool y_transposed : {false, true}) {
      for (const Eigen::Index rows : {1, 7, 8, 15, 16, 17, 31, 32, 33, 100}) {
        for (const Eigen::Index inner : {1, 5, 16, 17, 191, 192, 193, 400, 1100}) {
          for (const Eigen::Index cols : {1, 5, 6, 11, 12, 13, 17, 40}) {
            check<TypeParam>(rows, inner, cols, x_transposed, y_transposed, rng);
            if (::testing::Test::HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

// Packing a large right factor is shared among the threads (each copies
// part of it): the packed values, and so the product, must not depend on
// how many there are, in either layout (columns: eq. 25 and BP2; rows: A^T
// in BP4). Large enough to be split: 700 x 150 values.
TYPED_TEST(PackedProductTest, TwoThreadsPackTheSameValuesAsOne) {
  using T = TypeParam;
  for (const bool y_transposed : {false, true}) {
    Rng rng(23);
    const Factors<T> f = factors<T>(70, 700, 150, false, y_transposed, rng);
    Matrix<T> products[2];
    for (const int threads : {1, 2}) {
      set_threads(threads);
      PackedRight<T> packed;
      packed.pack(f.y);
      products[threads - 1].resize(70, 150);
      packed_product(f.x, packed, T(1), products[threads - 1].data(), 70);
    }
    set_threads(1);
    EXPECT_EQ(0, std::memcmp(products[0].data(), products[1].data(), sizeof(T) * 70 * 150))
        << (y_transposed ? "y transposed" : "y column-major");
    set_threads(2);
    check<T>(70, 700, 150, false, y_transposed, rng);
    set_threads(1);
  }
}

// Each output element is one chain of multiply-adds over the inner index in
// increasing order, however the rows are blocked (threads) and the inner
// index cut into cache blocks (1100: three blocks where x is read in place,
// two where it is packed): with fused multiply-add, every element equals the
// sequential std::fma chain bit for bit, then times alpha.
TYPED_TEST(PackedProductTest, EachElementIsOneFusedChainInOrder) {
#ifndef EIGEN_VECTORIZE_FMA
  GTEST_SKIP() << "built without fused multiply-add";
#endif
  using T = TypeParam;
  Rng rng(12);
  for (const bool x_transposed : {false, true}) {
    const Eigen::Index rows = 70, inner = 1100, cols = 30;
    const Factors<T> f = factors<T>(rows, inner, cols, x_transposed, true, rng);
    PackedRight<T> packed;
    packed.pack(f.y);
    const T alpha = static_cast<T>(0.1);
    Matrix<T> blocked(rows, cols);
    for (const Eigen::Index begin : {0, 37}) {
      const Eigen::Index size = std::min<Eigen::Index>(37, rows - begin);
      packed_product(f.x.middle_rows(begin, size), packed, alpha, blocked.data() + begin, rows);
    }
    for (Eigen::Index j = 0; j < cols; ++j) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        T sum = 0;
        for (Eigen::Index k = 0; k < inner; ++k) {
          sum = std::fma(static_cast<T>(f.x_value(i, k)), static_cast<T>(f.y_value(k, j)), sum);
        }
        ASSERT_EQ(blocked(i, j), sum * alpha) << "at " << i << "," << j;
      }
    }
  }
}

// Eq. 25's bias and ReLU taken as the values are stored: c is the product
// plus b_i, rounded once more, and the rectified copy is max(c, 0), for
// partial tiles and sums that cross the cache blocks; cells outside the
// product are not written.
TYPED_TEST(PackedProductTest, TheEpilogueAddsTheBiasAndRectifiesAsItStores) {
  using T = TypeParam;
  Rng rng(13);
  for (const Eigen::Index rows : {7, 33, 100}) {
    for (const Eigen::Index inner : {0, 5, 600}) {
      for (const Eigen::Index cols : {5, 13}) {
        const Factors<T> f = factors<T>(rows, inner, cols, false, false, rng);
        PackedRight<T> packed;
        packed.pack(f.y);
        const Vector<T> bias = random_matrix<T>(rows, 1, rng);
        const T alpha = static_cast<T>(0.5);
        Matrix<T> plain(rows, cols);
        packed_product(f.x, packed, alpha, plain.data(), rows);
        // c and the rectified copy are rows [1, 1 + rows) of taller matrices.
        Matrix<T> c = Matrix<T>::Constant(rows + 2, cols, static_cast<T>(kGuard));
        Matrix<T> rectified = c;
        packed_product(f.x, packed, alpha, c.data() + 1, c.outerStride(), T(0),
                       Epilogue<T>{bias.data(), rectified.data() + 1});
        for (Eigen::Index j = 0; j < cols; ++j) {
          ASSERT_EQ(c(0, j), static_cast<T>(kGuard));
          ASSERT_EQ(rectified(rows + 1, j), static_cast<T>(kGuard));
          for (Eigen::Index i = 0; i < rows; ++i) {
            const T z = plain(i, j) + bias(i);
            ASSERT_EQ(c(i + 1, j), z) << rows << "x" << inner << "x" << cols << " at " << i;
            ASSERT_EQ(rectified(i + 1, j), z > 0 ? z : T(0)) << "at " << i << "," << j;
          }
        }
      }
    }
  }
}

// Rows of a sliver of y that are zero in all its columns are left out of
// the packed sliver (pixels: packed_product.hpp); the products must be bit
// for bit the fused chains over every inner index, zeros included, in
// order: for y packed from columns (eq. 25) and from rows (A^T in the
// update), x read in place or packed, written (beta = 0) or added to c
// (beta = 1, the update), across the cache blocks of the inner index, on one
// thread or two.
template <typename T>
void check_zero_rows(bool x_transposed, bool y_transposed, T beta) {
  const Eigen::Index rows = 70, inner = 1100, cols = 30;  // the last sliver partial
  Rng rng(31);
  Factors<T> f = factors<T>(rows, inner, cols, x_transposed, y_transposed, rng);
  Matrix<double>& y = f.y_value;
  // Zero rows: in all columns (k % 3 == 0), in the first sliver's columns
  // only (k % 3 == 1, k < 700), and a stretch of zero rows in every
  // sliver (k in [200, 500)), some of them -0.
  for (Eigen::Index k = 0; k < inner; ++k) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      const bool zero = k % 3 == 0 || (k % 3 == 1 && k < 700 && j < 12) || (k >= 200 && k < 500);
      if (zero) y(k, j) = (k + j) % 5 == 0 ? -0.0 : 0.0;
    }
  }
  f.y_storage = (y_transposed ? Matrix<double>(y.transpose()) : y).template cast<T>();
  f.y = y_transposed ? strided_transpose<T>(f.y_storage) : strided<T>(f.y_storage);
  const Matrix<T> c0 = random_matrix<T>(rows, cols, rng);
  const T alpha = static_cast<T>(-0.3);
  Matrix<T> products[2];
  for (const int threads : {1, 2}) {
    set_threads(threads);
    PackedRight<T> packed;
    packed.pack(f.y);
    const Eigen::Index width = PackedRight<T>::sliver_width();
    ASSERT_EQ(packed.slivers(), (cols + width - 1) / width);
    for (Eigen::Index s = 0; s < packed.slivers(); ++s) {
      ASSERT_NE(packed.kept_rows(s), nullptr) << "sliver " << s << " keeps every row";
      ASSERT_LT(packed.kept_count(s), inner / 2) << "sliver " << s;
    }
    Matrix<T>& c = products[threads - 1];
    c = c0;
    const std::int64_t skipped_before = skipped_multiply_adds();
    packed_product(f.x, packed, alpha, c.data(), rows, beta);
    // What was left out: each zero row of a sliver, for each row of x and
    // column of the sliver.
    std::int64_t left_out = 0;
    for (Eigen::Index s = 0; s < packed.slivers(); ++s) {
      left_out += (inner - packed.kept_count(s)) * rows * std::min(width, cols - width * s);
    }
    EXPECT_EQ(skipped_multiply_adds() - skipped_before, left_out) << threads << " thread(s)";
  }
  set_threads(1);
  const auto where = [&] {
    return ::testing::Message() << (x_transposed ? "x packed" : "x in place")
                                << (y_transposed ? ", y from rows" : ", y from columns")
                                << ", beta " << beta;
  };
  ASSERT_EQ(0, std::memcmp(products[0].data(), products[1].data(), sizeof(T) * rows * cols))
      << "1 and 2 threads differ, " << where();
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      T sum = 0;
      for (Eigen::Index k = 0; k < inner; ++k) {
        sum = std::fma(static_cast<T>(f.x_value(i, k)), static_cast<T>(y(k, j)), sum);
      }
      const T want = beta == T(0) ? sum * alpha : std::fma(sum, alpha, c0(i, j));
      ASSERT_EQ(products[0](i, j), want) << "at " << i << "," << j << ", " << where();
    }
  }
}

TYPED_TEST(PackedProductTest, ZeroRowsOfYAreSkippedWithoutChangingABit) {
#ifndef EIGEN_VECTORIZE_FMA
  GTEST_SKIP() << "built without fused multiply-add";
#endif
  using T = TypeParam;
  for (const bool x_transposed : {false, true}) {
    for (const bool y_transposed : {false, true}) {
      for (const T beta : {T(0), T(1)}) {
        check_zero_rows<T>(x_transposed, y_transposed, beta);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

// Columns of y that are all zeros (+0 or -0) are not packed: their columns
// of c get alpha 0 + beta c, which is c itself, bit for bit, for gradient
// descent's update (beta = 1, alpha < 0), and is written otherwise. Every
// element must be what the fused chain over every index gives, for y
// packed from columns and from rows, x in place and packed, across the
// cache blocks, with c's -0 and +0 kept or changed as that chain would, on
// one thread or two; the epilogue applies to the zero columns too.
template <typename T>
void check_zero_columns(bool x_transposed, bool y_transposed, T alpha, T beta, bool epilogue) {
  const Eigen::Index rows = 70, inner = 1100, cols = 40;
  Rng rng(34);
  Factors<T> f = factors<T>(rows, inner, cols, x_transposed, y_transposed, rng);
  Matrix<double>& y = f.y_value;
  // Zero columns in runs and alone, one of them of -0s, one in the middle
  // of zero rows (k in [300, 500), which some slivers leave out).
  const std::vector<Eigen::Index> zero = {0, 1, 2, 5, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 39};
  for (const Eigen::Index j : zero) y.col(j).setConstant(j == 5 ? -0.0 : 0.0);
  y.middleRows(300, 200).leftCols(24).setZero();
  f.y_storage = (y_transposed ? Matrix<double>(y.transpose()) : y).template cast<T>();
  f.y = y_transposed ? strided_transpose<T>(f.y_storage) : strided<T>(f.y_storage);
  Matrix<T> c0 = random_matrix<T>(rows, cols, rng);
  c0.row(3).setConstant(T(-0.0));
  c0.row(4).setConstant(T(0));
  const Vector<T> bias = random_matrix<T>(rows, 1, rng);
  Matrix<T> rectified[2];
  Matrix<T> products[2];
  for (const int threads : {1, 2}) {
    set_threads(threads);
    PackedRight<T> packed;
    packed.pack(f.y);
    ASSERT_EQ(packed.zero_columns(), std::vector<std::int32_t>(zero.begin(), zero.end()));
    ASSERT_EQ(packed.packed_cols(), cols - static_cast<Eigen::Index>(zero.size()));
    Matrix<T>& c = products[threads - 1];
    c = c0;
    rectified[threads - 1] = Matrix<T>::Constant(rows, cols, static_cast<T>(kGuard));
    const std::int64_t skipped_before = skipped_multiply_adds();
    packed_product(
        f.x, packed, alpha, c.data(), rows, beta,
        epilogue ? Epilogue<T>{bias.data(), rectified[threads - 1].data()} : Epilogue<T>{});
    std::int64_t left_out = static_cast<std::int64_t>(zero.size()) * inner * rows;
    const Eigen::Index width = PackedRight<T>::sliver_width();
    for (Eigen::Index s = 0; s < packed.slivers(); ++s) {
      left_out +=
          (inner - packed.kept_count(s)) * rows * std::min(width, packed.packed_cols() - width * s);
    }
    EXPECT_EQ(skipped_multiply_adds() - skipped_before, left_out) << threads << " thread(s)";
  }
  set_threads(1);
  const auto where = [&] {
    return ::testing::Message() << (x_transposed ? "x packed" : "x in place")
                                << (y_transposed ? ", y from rows" : ", y from columns")
                                << ", alpha " << alpha << ", beta " << beta
                                << (epilogue ? ", epilogue" : "");
  };
  ASSERT_EQ(0, std::memcmp(products[0].data(), products[1].data(), sizeof(T) * rows * cols))
      << "1 and 2 threads differ, " << where();
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) {
      T sum = 0;
      for (Eigen::Index k = 0; k < inner; ++k) {
        sum = std::fma(static_cast<T>(f.x_value(i, k)), static_cast<T>(y(k, j)), sum);
      }
      T want = beta == T(0) ? sum * alpha : std::fma(sum, alpha, beta * c0(i, j));
      if (epilogue) want += bias(i);
      const T got = products[0](i, j);
      ASSERT_TRUE(std::memcmp(&got, &want, sizeof(T)) == 0)
          << "at " << i << "," << j << ": " << got << " for " << want << ", " << where();
      if (epilogue) ASSERT_EQ(rectified[0](i, j), want > 0 ? want : T(0)) << "at " << i << "," << j;
    }
  }
}

TYPED_TEST(PackedProductTest, ZeroColumnsOfYAreLeftOutWithoutChangingABit) {
#ifndef EIGEN_VECTORIZE_FMA
  GTEST_SKIP() << "built without fused multiply-add";
#endif
  using T = TypeParam;
  for (const bool x_transposed : {false, true}) {
    for (const bool y_transposed : {false, true}) {
      // The update (c unchanged where y's column is zero), the same with
      // alpha > 0 (c's -0 becomes +0), weight decay, a gradient written.
      for (const auto [alpha, beta] :
           {std::pair<T, T>{T(-0.3), T(1)}, {T(0.3), T(1)}, {T(-0.3), T(0.75)}, {T(-0.3), T(0)}}) {
        check_zero_columns<T>(x_transposed, y_transposed, alpha, beta, false);
        if (::testing::Test::HasFatalFailure()) return;
      }
      check_zero_columns<T>(x_transposed, y_transposed, T(1), T(0), true);  // eq. 25
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// A NaN or an infinity in y is not a zero: its row is kept, and reaches
// every output of its column.
TYPED_TEST(PackedProductTest, ANonFiniteValueAmongZerosIsKept) {
  using T = TypeParam;
  Rng rng(32);
  for (const T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity()}) {
    const Matrix<T> x = random_matrix<T>(40, 100, rng);
    Matrix<T> y = Matrix<T>::Zero(100, 12);
    y(37, 5) = bad;
    y(3, 0) = T(1);
    PackedRight<T> packed;
    packed.pack(strided<T>(y));
    ASSERT_EQ(packed.kept_count(0), 2);
    Matrix<T> c(40, 12);
    packed_product(strided<T>(x), packed, T(1), c.data(), 40);
    for (Eigen::Index i = 0; i < 40; ++i) {
      ASSERT_FALSE(std::isfinite(c(i, 5))) << "row " << i;
      ASSERT_EQ(c(i, 0), x(i, 3));
      ASSERT_EQ(c(i, 1), T(0));
    }
  }
}

// An all-zero y packs no column: the product is zeros (or beta c).
TYPED_TEST(PackedProductTest, AnAllZeroYGivesZeros) {
  using T = TypeParam;
  Rng rng(33);
  const Matrix<T> x = random_matrix<T>(50, 600, rng);
  const Matrix<T> y = Matrix<T>::Zero(600, 20);
  for (const bool transposed : {false, true}) {
    const Matrix<T> y_stored = transposed ? Matrix<T>(y.transpose()) : y;
    PackedRight<T> packed;
    packed.pack(transposed ? strided_transpose<T>(y_stored) : strided<T>(y_stored));
    EXPECT_EQ(packed.slivers(), 0);
    EXPECT_EQ(packed.zero_columns().size(), 20U);
    Matrix<T> c = Matrix<T>::Constant(50, 20, static_cast<T>(kGuard));
    packed_product(strided<T>(x), packed, T(1), c.data(), 50);
    EXPECT_TRUE(c.isZero());
    c.setConstant(T(2));
    packed_product(strided<T>(x), packed, T(1), c.data(), 50, T(0.5));
    EXPECT_TRUE(c.isOnes());
  }
}

TYPED_TEST(PackedProductTest, EmptyInnerDimensionGivesZeros) {
  using T = TypeParam;
  const Matrix<T> x(4, 0);
  const Matrix<T> y(0, 3);
  PackedRight<T> packed;
  packed.pack(strided<T>(y));
  Matrix<T> c = Matrix<T>::Constant(4, 3, static_cast<T>(kGuard));
  packed_product(strided<T>(x), packed, T(1), c.data(), 4);
  EXPECT_TRUE(c.isZero());
}

}  // namespace
}  // namespace backprop
