#include "backprop/narrow_product.hpp"

#include <algorithm>

#include "simd_tile.hpp"

namespace backprop {
namespace {

using namespace simd_tile;  // NOLINT(google-build-using-namespace): the kernels' vocabulary

// Columns per register tile. A tile of two packets of rows by c columns
// holds 2c partial sums, plus two packets of W and one broadcast value: with
// 32 vector registers (AVX-512) c = 8 fits, with 16 (AVX2) c = 5, 13
// registers, so that a mini-batch of 10 is two tiles there too, not three
// that each read all of W (c = 4: AVX2's step of A 19.6 -> 15.9 us).
constexpr int kTileColumns = kRegisters >= 32 ? 8 : 5;

template <typename F>
void with_columns(int n, F&& f) {
  with_count<kTileColumns>(n, std::forward<F>(f));
}

// One tile of z = w a: `rows` (<= P packets) rows by C columns, summed over
// the whole inner dimension in registers.
template <typename T, int P, int C>
void product_tile(const T* w, Eigen::Index w_stride, Eigen::Index rows, Eigen::Index inner,
                  const T* a, Eigen::Index a_stride, T* z, Eigen::Index z_stride) {
  Packet<T> sum[C][P];
  for (auto& column : sum) {
    for (auto& packet : column) packet = simd::pset1<Packet<T>>(T(0));
  }
  // A whole-packet load of a column of w also reads the rows below the tile,
  // which belong to w's later columns; it must stop inside w, so the last
  // columns are read lane by lane.
  const Eigen::Index overhang = Eigen::Index{P} * kLanes<T> - rows;
  const Eigen::Index whole =
      std::max<Eigen::Index>(0, inner - (overhang + w_stride - 1) / w_stride);
  const auto accumulate = [&](Eigen::Index k, const Packet<T>(&w_k)[P]) {
    for (int j = 0; j < C; ++j) {
      const Packet<T> a_kj = simd::pset1<Packet<T>>(a[k + j * a_stride]);
      for (int p = 0; p < P; ++p) sum[j][p] = simd::pmadd(w_k[p], a_kj, sum[j][p]);
    }
  };
  for (Eigen::Index k = 0; k < whole; ++k) {
    Packet<T> w_k[P];
    for (int p = 0; p < P; ++p) w_k[p] = simd::ploadu<Packet<T>>(w + k * w_stride + p * kLanes<T>);
    accumulate(k, w_k);
  }
  for (Eigen::Index k = whole; k < inner; ++k) {
    Packet<T> w_k[P];
    for (int p = 0; p < P; ++p) {
      w_k[p] = load_first(w + k * w_stride + p * kLanes<T>, lanes_in<T>(rows, p));
    }
    accumulate(k, w_k);
  }
  for (int j = 0; j < C; ++j) {
    for (int p = 0; p < P; ++p) {
      const int lanes = lanes_in<T>(rows, p);
      if (lanes > 0) store_first(z + j * z_stride + p * kLanes<T>, sum[j][p], lanes);
    }
  }
}

// One tile of g = scale * delta a^T: `rows` (<= P packets) rows by C columns
// of g, from the tile's rows of delta (already in registers, `delta_rows`).
// Never inlined, like packed_product.cpp's tile: compiled alone, its sums
// keep to registers whatever its callers look like.
template <typename T, int P, int C>
[[gnu::noinline]] void outer_product_tile(const Packet<T> (*delta_rows)[P], Eigen::Index rows,
                                          const T* a, Eigen::Index a_stride, Eigen::Index m,
                                          T scale, T* g, Eigen::Index g_stride) {
  Packet<T> sum[C][P];
  for (auto& column : sum) {
    for (auto& packet : column) packet = simd::pset1<Packet<T>>(T(0));
  }
  // sum_x delta^x (a^x)^T, one example x at a time (m >= 1). Written as
  // do-while: with a loop that may run no times, GCC 12 keeps the sums in
  // memory around it, and for a sum over 10 examples that store and reload
  // is a tenth of the tile's time.
  Eigen::Index x = 0;
  do {
    for (int c = 0; c < C; ++c) {
      const Packet<T> a_cx = simd::pset1<Packet<T>>(a[c + x * a_stride]);
      for (int p = 0; p < P; ++p) sum[c][p] = simd::pmadd(delta_rows[x][p], a_cx, sum[c][p]);
    }
  } while (++x < m);
  const Packet<T> factor = simd::pset1<Packet<T>>(scale);
  // Every packet but the last is whole (rows > (P - 1) lanes).
  const int last_lanes = lanes_in<T>(rows, P - 1);
  for (int c = 0; c < C; ++c) {
    for (int p = 0; p + 1 < P; ++p) {
      simd::pstoreu(g + c * g_stride + p * kLanes<T>, simd::pmul(sum[c][p], factor));
    }
    store_first(g + c * g_stride + (P - 1) * kLanes<T>, simd::pmul(sum[c][P - 1], factor),
                last_lanes);
  }
}

// The row tiles: two packets of rows each, the last one possibly fewer. A
// last tile that would take two packets but not fill them is moved up to
// end at the last row, so that it overlaps the tile before: the same
// multiply-adds, but whole loads and stores (30 rows on AVX2: 16 + 14 ->
// rows 0-15 and 14-29). The overlapping rows are computed twice, each time
// by the same chain of multiply-adds, and so written twice with the same
// bits.
template <typename T, typename F>
void for_each_row_tile(Eigen::Index rows, F&& f) {
  constexpr Eigen::Index kTileRows = 2 * kLanes<T>;
  for (Eigen::Index begin = 0; begin < rows; begin += kTileRows) {
    const Eigen::Index left = rows - begin;
    if (left < kTileRows && left > kLanes<T> && begin > 0) {
      f(rows - kTileRows, kTileRows);
    } else {
      f(begin, std::min(kTileRows, left));
    }
  }
}

}  // namespace

template <typename T>
void narrow_product(const T* w, Eigen::Index w_stride, Eigen::Index rows, Eigen::Index inner,
                    const T* a, Eigen::Index a_stride, Eigen::Index m, T* z,
                    Eigen::Index z_stride) {
  // Columns in tiles of near-equal width (10 = 5 + 5, not 8 + 2), so that
  // every tile has enough independent sums to keep the FMA units busy.
  const Eigen::Index tiles = (m + kTileColumns - 1) / kTileColumns;
  for_each_row_tile<T>(rows, [&](Eigen::Index row, Eigen::Index tile_rows) {
    with_packets<T>(tile_rows, [&](auto packets) {
      Eigen::Index column = 0;
      for (Eigen::Index t = 0; t < tiles; ++t) {
        const auto width = static_cast<int>((m - column) / (tiles - t));
        with_columns(width, [&](auto columns) {
          product_tile<T, packets(), columns()>(w + row, w_stride, tile_rows, inner,
                                                a + column * a_stride, a_stride,
                                                z + row + column * z_stride, z_stride);
        });
        column += width;
      }
    });
  });
}

template <typename T>
void narrow_outer_product(const T* delta, Eigen::Index delta_stride, Eigen::Index rows, const T* a,
                          Eigen::Index a_stride, Eigen::Index columns, Eigen::Index m, T scale,
                          T* g, Eigen::Index g_stride) {
  if (m == 0) {  // an empty sum: the tiles below assume at least one example
    Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>>(g, rows, columns, Eigen::OuterStride<>(g_stride))
        .setConstant(scale * T(0));
    return;
  }
  for_each_row_tile<T>(rows, [&](Eigen::Index row, Eigen::Index tile_rows) {
    with_packets<T>(tile_rows, [&](auto packets) {
      constexpr int P = packets();
      // This tile's rows of delta, one packet row per example, kept for
      // every column of g.
      Packet<T> delta_rows[kNarrowColumns][P];
      for (Eigen::Index x = 0; x < m; ++x) {
        for (int p = 0; p < P; ++p) {
          delta_rows[x][p] =
              load_first(delta + row + x * delta_stride + p * kLanes<T>, lanes_in<T>(tile_rows, p));
        }
      }
      for (Eigen::Index column = 0; column < columns; column += kTileColumns) {
        const auto width = static_cast<int>(std::min<Eigen::Index>(kTileColumns, columns - column));
        with_columns(width, [&](auto tile_columns) {
          outer_product_tile<T, P, tile_columns()>(delta_rows, tile_rows, a + column, a_stride, m,
                                                   scale, g + row + column * g_stride, g_stride);
        });
      }
    });
  });
}

template void narrow_product<float>(const float*, Eigen::Index, Eigen::Index, Eigen::Index,
                                    const float*, Eigen::Index, Eigen::Index, float*, Eigen::Index);
template void narrow_product<double>(const double*, Eigen::Index, Eigen::Index, Eigen::Index,
                                     const double*, Eigen::Index, Eigen::Index, double*,
                                     Eigen::Index);
template void narrow_outer_product<float>(const float*, Eigen::Index, Eigen::Index, const float*,
                                          Eigen::Index, Eigen::Index, Eigen::Index, float, float*,
                                          Eigen::Index);
template void narrow_outer_product<double>(const double*, Eigen::Index, Eigen::Index, const double*,
                                           Eigen::Index, Eigen::Index, Eigen::Index, double,
                                           double*, Eigen::Index);

}  // namespace backprop
