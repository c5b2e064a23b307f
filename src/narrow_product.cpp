#include "backprop/narrow_product.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "backprop/skipped_work.hpp"
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

// The rows k < inner at which one of the N columns of a (each a_stride
// apart) holds a value other than zero (+0 or -0; a NaN is not zero), in
// increasing order, into `kept` (which has room for 16 more: see
// set_bit_indices); returns how many. A packet of rows at a time: the bits
// of the columns' values are or-ed, and the sign bit cleared, which leaves
// zero exactly where every value is +0 or -0; the kept rows' indices are
// then written without a branch per row (where the zeros fall differs from
// packet to packet, and a branch that guesses wrong costs more than a row).
// A packet of zeros only (MNIST's borders come in runs of them) writes
// nothing.
template <typename T, int N>
Eigen::Index nonzero_rows(const T* a, Eigen::Index a_stride, Eigen::Index inner,
                          std::int32_t* kept) {
  constexpr int L = kLanes<T>;
  const Packet<T> zero = simd::pset1<Packet<T>>(T(0));
  Eigen::Index count = 0;
  const auto append = [&](Eigen::Index k0, const Packet<T>& bits, int lanes) {
    const std::uint32_t zeros = lane_bits<T>(simd::pcmp_eq(simd::pabs(bits), zero));
    const std::uint32_t kept_lanes = ~zeros & ((std::uint32_t{1} << lanes) - 1);  // lanes <= 16
    if (kept_lanes != 0) {
      count += set_bit_indices(kept_lanes, static_cast<std::int32_t>(k0), kept + count);
    }
  };
  Eigen::Index k0 = 0;
  for (; k0 + L <= inner; k0 += L) {
    Packet<T> bits = simd::ploadu<Packet<T>>(a + k0);
    for (int j = 1; j < N; ++j) {
      bits = simd::por(bits, simd::ploadu<Packet<T>>(a + k0 + j * a_stride));
    }
    append(k0, bits, L);
  }
  if (k0 < inner) {
    const int lanes = static_cast<int>(inner - k0);
    Packet<T> bits = zero;
    for (int j = 0; j < N; ++j) bits = simd::por(bits, load_first(a + k0 + j * a_stride, lanes));
    append(k0, bits, lanes);
  }
  return count;
}

template <typename T>
Eigen::Index nonzero_rows(const T* a, Eigen::Index a_stride, Eigen::Index inner,
                          Eigen::Index columns, std::int32_t* kept) {
  Eigen::Index count = 0;
  with_count<kNarrowColumns>(static_cast<int>(columns), [&](auto n) {
    count = nonzero_rows<T, n()>(a, a_stride, inner, kept);
  });
  return count;
}

// Per thread, reused by every call: the rows (or columns) a product keeps,
// and room for the 16 more that set_bit_indices may write.
inline std::vector<std::int32_t>& kept_buffer(Eigen::Index size) {
  thread_local std::vector<std::int32_t> buffer;
  if (static_cast<Eigen::Index>(buffer.size()) < size + 16) {
    buffer.resize(static_cast<std::size_t>(size + 16));
  }
  return buffer;
}

// One tile of z = w a: `rows` (<= P packets) rows by C columns, summed over
// the inner index in registers: over all of it (kept = null), or over the
// `count` rows `kept` at which the tile's columns of a are not all zeros
// (the others' terms are exact zeros, which leave each sum as it is).
// Never inlined: compiled alone, its sums keep to registers.
template <typename T, int P, int C>
[[gnu::noinline]] void product_tile(const T* w, Eigen::Index w_stride, Eigen::Index rows,
                                    Eigen::Index inner, const std::int32_t* kept,
                                    Eigen::Index count, const T* a, Eigen::Index a_stride, T* z,
                                    Eigen::Index z_stride) {
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
  const auto accumulate = [&](Eigen::Index k, bool in_whole) {
    Packet<T> w_k[P];
    for (int p = 0; p < P; ++p) {
      const T* from = w + k * w_stride + p * kLanes<T>;
      w_k[p] = in_whole ? simd::ploadu<Packet<T>>(from) : load_first(from, lanes_in<T>(rows, p));
    }
    for (int j = 0; j < C; ++j) {
      const Packet<T> a_kj = simd::pset1<Packet<T>>(a[k + j * a_stride]);
      for (int p = 0; p < P; ++p) sum[j][p] = simd::pmadd(w_k[p], a_kj, sum[j][p]);
    }
  };
  if (kept == nullptr) {
    for (Eigen::Index k = 0; k < whole; ++k) accumulate(k, true);
    for (Eigen::Index k = whole; k < inner; ++k) accumulate(k, false);
  } else {
    const Eigen::Index split = std::lower_bound(kept, kept + count, whole) - kept;
    for (Eigen::Index i = 0; i < split; ++i) accumulate(kept[i], true);
    for (Eigen::Index i = split; i < count; ++i) accumulate(kept[i], false);
  }
  for (int j = 0; j < C; ++j) {
    for (int p = 0; p < P; ++p) {
      const int lanes = lanes_in<T>(rows, p);
      if (lanes > 0) store_first(z + j * z_stride + p * kLanes<T>, sum[j][p], lanes);
    }
  }
}

// Tiles of g = scale * delta a^T: `rows` (<= P packets) rows by C columns
// of g each, the columns columns[C t .. C t + C) of g (and of a^T) for tile
// t < tiles, from the tiles' rows of delta (already in registers,
// `delta_rows`). Never inlined, like packed_product.cpp's tile: compiled
// alone, its sums keep to registers whatever its callers look like; and
// the loop over the tiles is inside, so that a call's cost (the saved
// registers, the stack) is paid once for all of them, not once per 10 x C
// multiply-adds.
template <typename T, int P, int C>
[[gnu::noinline]] void outer_product_tiles(const Packet<T> (*delta_rows)[P], Eigen::Index rows,
                                           const T* a, Eigen::Index a_stride,
                                           const std::int32_t* columns, Eigen::Index tiles,
                                           Eigen::Index m, T scale, T* g, Eigen::Index g_stride) {
  const Packet<T> factor = simd::pset1<Packet<T>>(scale);
  // Every packet but the last is whole (rows > (P - 1) lanes).
  const int last_lanes = lanes_in<T>(rows, P - 1);
  for (Eigen::Index t = 0; t < tiles; ++t, columns += C) {
    const T* a_c[C];  // column c of the tile: a^T's column columns[c]
    for (int c = 0; c < C; ++c) a_c[c] = a + columns[c];
    Packet<T> sum[C][P];
    for (auto& column : sum) {
      for (auto& packet : column) packet = simd::pset1<Packet<T>>(T(0));
    }
    // sum_x delta^x (a^x)^T, one example x at a time (m >= 1). Written as
    // do-while: with a loop that may run no times, GCC 12 keeps the sums in
    // memory around it, and for a sum over 10 examples that store and
    // reload is a tenth of the tile's time.
    Eigen::Index x = 0;
    do {
      for (int c = 0; c < C; ++c) {
        const Packet<T> a_cx = simd::pset1<Packet<T>>(a_c[c][x * a_stride]);
        for (int p = 0; p < P; ++p) sum[c][p] = simd::pmadd(delta_rows[x][p], a_cx, sum[c][p]);
      }
    } while (++x < m);
    for (int c = 0; c < C; ++c) {
      T* g_c = g + columns[c] * g_stride;
      for (int p = 0; p + 1 < P; ++p) {
        simd::pstoreu(g_c + p * kLanes<T>, simd::pmul(sum[c][p], factor));
      }
      store_first(g_c + (P - 1) * kLanes<T>, simd::pmul(sum[c][P - 1], factor), last_lanes);
    }
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
  // The column tiles are taken a group at a time (m can be any width for an
  // output layer of up to kNarrowRows neurons: narrow_product.hpp), row
  // tiles outside, the group's column tiles inside: a row tile's slice of
  // w, read by each of them, is then still in the caches for the next.
  constexpr Eigen::Index kGroup = (kNarrowColumns + kTileColumns - 1) / kTileColumns;
  struct ColumnTile {
    Eigen::Index column;
    int width;
    const std::int32_t* kept;  // null: all rows
    Eigen::Index count;
  };
  std::array<ColumnTile, kGroup> group;
  std::int32_t* kept = kept_buffer(kGroup * inner).data();
  std::int64_t skipped = 0;
  Eigen::Index column = 0;
  for (Eigen::Index first = 0; first < tiles; first += kGroup) {
    const Eigen::Index size = std::min(kGroup, tiles - first);
    for (Eigen::Index t = 0; t < size; ++t) {
      const auto width = static_cast<int>((m - column) / (tiles - first - t));
      // The rows of zeros of the tile's columns of a, left out of every row
      // tile's sums: the pixels' zeros (in 5 MNIST images, 58 % of the rows).
      std::int32_t* tile_kept = kept + t * inner;
      const Eigen::Index count =
          nonzero_rows(a + column * a_stride, a_stride, inner, width, tile_kept);
      skipped += (inner - count) * width * rows;
      group[static_cast<std::size_t>(t)] = {column, width, count == inner ? nullptr : tile_kept,
                                            count};
      column += width;
    }
    for_each_row_tile<T>(rows, [&](Eigen::Index row, Eigen::Index tile_rows) {
      with_packets<T>(tile_rows, [&](auto packets) {
        for (Eigen::Index t = 0; t < size; ++t) {
          const ColumnTile& tile = group[static_cast<std::size_t>(t)];
          with_columns(tile.width, [&](auto columns) {
            product_tile<T, packets(), columns()>(w + row, w_stride, tile_rows, inner, tile.kept,
                                                  tile.count, a + tile.column * a_stride, a_stride,
                                                  z + row + tile.column * z_stride, z_stride);
          });
        }
      });
    });
  }
  count_skipped_multiply_adds(skipped);
}

template <typename T>
void narrow_outer_product(const T* delta, Eigen::Index delta_stride, Eigen::Index rows, const T* a,
                          Eigen::Index a_stride, Eigen::Index columns, Eigen::Index m, T scale,
                          T* g, Eigen::Index g_stride) {
  using Block = Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>>;
  if (m == 0) {  // an empty sum: the tiles below assume at least one example
    Block(g, rows, columns, Eigen::OuterStride<>(g_stride)).setConstant(scale * T(0));
    return;
  }
  // The columns of g whose a^x are zero in every example x (the pixels that
  // are zero in all the mini-batch's images: in 10 MNIST images, half of
  // them) are scale * 0, the value the tiles' sums of exact zeros give:
  // written, not summed. The others are taken kTileColumns at a time.
  std::int32_t* kept = kept_buffer(columns).data();
  const Eigen::Index count = nonzero_rows(a, a_stride, columns, m, kept);
  if (count < columns) {
    Eigen::Index next = 0;  // the first column of g not yet written
    for (Eigen::Index i = 0; i <= count; ++i) {
      const Eigen::Index until = i < count ? kept[i] : columns;
      if (until > next) {
        // A run of columns: one run of memory where g's columns are its rows
        // (a fill of it, against Eigen's column by column: A's epoch 0.115
        // -> 0.088 s).
        if (g_stride == rows) {
          std::fill_n(g + next * g_stride, (until - next) * rows, scale * T(0));
        } else {
          Block(g + next * g_stride, rows, until - next, Eigen::OuterStride<>(g_stride))
              .setConstant(scale * T(0));
        }
      }
      next = until + 1;
    }
  }
  count_skipped_multiply_adds((columns - count) * m * rows);
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
      const Eigen::Index whole_tiles = count / kTileColumns;
      outer_product_tiles<T, P, kTileColumns>(delta_rows, tile_rows, a, a_stride, kept, whole_tiles,
                                              m, scale, g + row, g_stride);
      const auto rest = static_cast<int>(count - whole_tiles * kTileColumns);
      if (rest > 0) {
        with_columns(rest, [&](auto tile_columns) {
          outer_product_tiles<T, P, tile_columns()>(delta_rows, tile_rows, a, a_stride,
                                                    kept + whole_tiles * kTileColumns, 1, m, scale,
                                                    g + row, g_stride);
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
