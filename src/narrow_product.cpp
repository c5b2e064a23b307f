#include "backprop/narrow_product.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backprop/skipped_work.hpp"
#include "simd_tile.hpp"

namespace backprop {
namespace {

using namespace simd_tile;  // NOLINT(google-build-using-namespace): the kernels' vocabulary

// Columns per register tile. A tile of two packets of rows by c columns
// holds 2c partial sums, plus two packets of W and one broadcast value: with
// 32 vector registers (AVX-512) c = 8 fits, with 16 (AVX2) c = 4.
constexpr int kTileColumns = kRegisters >= 32 ? 8 : 4;

template <typename F>
void with_columns(int n, F&& f) {
  with_count<kTileColumns>(n, std::forward<F>(f));
}

// The rows of a (inner rows, columns [0, count), leading dimension a_stride)
// that hold a value other than zero, increasing, written to `kept`; returns
// how many, or -1 (and `kept` is not to be read) when fewer than a quarter
// of the rows are zeros. A row of zeros adds nothing to any sum of the products below,
// which skip it: the same values, bit for bit (packed_product.hpp says why),
// with half the work on MNIST's pixels in mini-batches of 10.
template <typename T>
Eigen::Index nonzero_rows(const T* a, Eigen::Index a_stride, Eigen::Index inner, Eigen::Index count,
                          std::int32_t* kept) {
  // Flags as wide as the values, through a local pointer, so that the
  // comparisons run a packet at a time.
  thread_local std::vector<std::int32_t> flags;
  flags.resize(static_cast<std::size_t>(inner));
  std::int32_t* __restrict nonzero = flags.data();
  for (Eigen::Index k = 0; k < inner; ++k) nonzero[k] = a[k] != T(0) ? 1 : 0;
  for (Eigen::Index j = 1; j < count; ++j) {  // NaN != 0: a row with a NaN is kept
    const T* __restrict column = a + j * a_stride;
    for (Eigen::Index k = 0; k < inner; ++k) nonzero[k] |= column[k] != T(0) ? 1 : 0;
  }
  Eigen::Index n = 0;
  for (Eigen::Index k = 0; k < inner; ++k) {
    kept[n] = static_cast<std::int32_t>(k);
    n += nonzero[k];
  }
  return 4 * n > 3 * inner ? -1 : n;
}

// One tile of z = w a: `rows` (<= P packets) rows by C columns, summed over
// the whole inner dimension in registers; or, with `kept`, over the `depth`
// inner indices it lists (the others are rows of zeros of a).
template <typename T, int P, int C>
void product_tile(const T* w, Eigen::Index w_stride, Eigen::Index rows, Eigen::Index inner,
                  const T* a, Eigen::Index a_stride, T* z, Eigen::Index z_stride,
                  const std::int32_t* kept, Eigen::Index depth) {
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
  const auto whole_column = [&](Eigen::Index k) {
    Packet<T> w_k[P];
    for (int p = 0; p < P; ++p) w_k[p] = simd::ploadu<Packet<T>>(w + k * w_stride + p * kLanes<T>);
    accumulate(k, w_k);
  };
  const auto last_column = [&](Eigen::Index k) {
    Packet<T> w_k[P];
    for (int p = 0; p < P; ++p) {
      w_k[p] = load_first(w + k * w_stride + p * kLanes<T>, lanes_in<T>(rows, p));
    }
    accumulate(k, w_k);
  };
  if (kept != nullptr) {
    Eigen::Index i = 0;
    for (; i < depth && kept[i] < whole; ++i) whole_column(kept[i]);
    for (; i < depth; ++i) last_column(kept[i]);
  } else {
    for (Eigen::Index k = 0; k < whole; ++k) whole_column(k);
    for (Eigen::Index k = whole; k < inner; ++k) last_column(k);
  }
  for (int j = 0; j < C; ++j) {
    for (int p = 0; p < P; ++p) {
      const int lanes = lanes_in<T>(rows, p);
      if (lanes > 0) store_first(z + j * z_stride + p * kLanes<T>, sum[j][p], lanes);
    }
  }
}

// One tile of g = scale * delta a^T: `rows` (<= P packets) rows by C columns
// of g, from the tile's rows of delta (already in registers, `delta_rows`):
// columns column[0..C) of g and rows of a, or [0, C) without `column`.
template <typename T, int P, int C>
void outer_product_tile(const Packet<T> (*delta_rows)[P], Eigen::Index rows, const T* a,
                        Eigen::Index a_stride, Eigen::Index m, T scale, T* g, Eigen::Index g_stride,
                        const std::int32_t* column) {
  const auto at = [&](int c) -> Eigen::Index { return column == nullptr ? c : column[c]; };
  Packet<T> sum[C][P];
  for (auto& column : sum) {
    for (auto& packet : column) packet = simd::pset1<Packet<T>>(T(0));
  }
  // sum_x delta^x (a^x)^T, one example x at a time.
  for (Eigen::Index x = 0; x < m; ++x) {
    for (int c = 0; c < C; ++c) {
      const Packet<T> a_cx = simd::pset1<Packet<T>>(a[at(c) + x * a_stride]);
      for (int p = 0; p < P; ++p) sum[c][p] = simd::pmadd(delta_rows[x][p], a_cx, sum[c][p]);
    }
  }
  const Packet<T> factor = simd::pset1<Packet<T>>(scale);
  for (int c = 0; c < C; ++c) {
    for (int p = 0; p < P; ++p) {
      const int lanes = lanes_in<T>(rows, p);
      if (lanes > 0) {
        store_first(g + at(c) * g_stride + p * kLanes<T>, simd::pmul(sum[c][p], factor), lanes);
      }
    }
  }
}

// The row tiles: two packets of rows each, the last one possibly fewer.
template <typename T, typename F>
void for_each_row_tile(Eigen::Index rows, F&& f) {
  constexpr Eigen::Index kTileRows = 2 * kLanes<T>;
  for (Eigen::Index begin = 0; begin < rows; begin += kTileRows) {
    f(begin, std::min(kTileRows, rows - begin));
  }
}

}  // namespace

template <typename T>
void narrow_product(const T* w, Eigen::Index w_stride, Eigen::Index rows, Eigen::Index inner,
                    const T* a, Eigen::Index a_stride, Eigen::Index m, T* z,
                    Eigen::Index z_stride) {
  // Columns in tiles of near-equal width (10 = 5 + 5, not 8 + 2), so that
  // every tile has enough independent sums to keep the FMA units busy; and
  // for each, the rows of a its columns hold other than zeros.
  const Eigen::Index tiles = (m + kTileColumns - 1) / kTileColumns;
  struct ColumnTile {
    Eigen::Index column;
    int width;
    Eigen::Index depth;  // -1: every row
  };
  thread_local std::vector<ColumnTile> column_tiles;
  thread_local std::vector<std::int32_t> kept;
  column_tiles.resize(static_cast<std::size_t>(tiles));
  kept.resize(static_cast<std::size_t>(tiles * inner));
  for (Eigen::Index t = 0, column = 0; t < tiles; ++t) {
    const auto width = static_cast<int>((m - column) / (tiles - t));
    column_tiles[t] = {
        column, width,
        nonzero_rows(a + column * a_stride, a_stride, inner, width, kept.data() + t * inner)};
    column += width;
  }
  std::int64_t skipped = 0;
  for (const ColumnTile& tile : column_tiles) {
    if (tile.depth >= 0) skipped += (inner - tile.depth) * tile.width * rows;
  }
  count_skipped_multiply_adds(skipped);
  for_each_row_tile<T>(rows, [&](Eigen::Index row, Eigen::Index tile_rows) {
    with_packets<T>(tile_rows, [&](auto packets) {
      for (Eigen::Index t = 0; t < tiles; ++t) {
        const ColumnTile& tile = column_tiles[t];
        with_columns(tile.width, [&](auto columns) {
          product_tile<T, packets(), columns()>(
              w + row, w_stride, tile_rows, inner, a + tile.column * a_stride, a_stride,
              z + row + tile.column * z_stride, z_stride,
              tile.depth < 0 ? nullptr : kept.data() + t * inner, tile.depth);
        });
      }
    });
  });
}

template <typename T>
void narrow_outer_product(const T* delta, Eigen::Index delta_stride, Eigen::Index rows, const T* a,
                          Eigen::Index a_stride, Eigen::Index columns, Eigen::Index m, T scale,
                          T* g, Eigen::Index g_stride) {
  // The columns of g whose row of a holds other than zeros.
  thread_local std::vector<std::int32_t> kept;
  kept.resize(static_cast<std::size_t>(columns));
  const Eigen::Index count = nonzero_rows(a, a_stride, columns, m, kept.data());
  if (count >= 0) count_skipped_multiply_adds((columns - count) * m * rows);
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
      if (count < 0) {
        for (Eigen::Index column = 0; column < columns; column += kTileColumns) {
          const auto width =
              static_cast<int>(std::min<Eigen::Index>(kTileColumns, columns - column));
          with_columns(width, [&](auto tile_columns) {
            outer_product_tile<T, P, tile_columns()>(delta_rows, tile_rows, a + column, a_stride, m,
                                                     scale, g + row + column * g_stride, g_stride,
                                                     nullptr);
          });
        }
        return;
      }
      // The columns of a's rows of zeros: scale times a sum of zeros, +0.
      const T zero = scale * T(0);
      for (Eigen::Index k = 0, i = 0; k < columns; ++k) {
        if (i < count && kept[i] == k) {
          ++i;
          continue;
        }
        std::fill_n(g + row + k * g_stride, tile_rows, zero);
      }
      for (Eigen::Index i = 0; i < count; i += kTileColumns) {
        const auto width = static_cast<int>(std::min<Eigen::Index>(kTileColumns, count - i));
        with_columns(width, [&](auto tile_columns) {
          outer_product_tile<T, P, tile_columns()>(delta_rows, tile_rows, a, a_stride, m, scale,
                                                   g + row, g_stride, kept.data() + i);
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
