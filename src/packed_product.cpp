// GCC 12 reports the placeholder operands of AVX-512 shuffle intrinsics
// (inlined into Eigen's ptranspose) as used uninitialized: they are not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "backprop/packed_product.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "backprop/parallel.hpp"
#include "backprop/skipped_work.hpp"
#include "simd_tile.hpp"

namespace backprop {
namespace {

using namespace simd_tile;  // NOLINT(google-build-using-namespace): the kernels' vocabulary

// The register tile: two packets of rows (kHeight) by kWidth columns. With
// 32 vector registers (AVX-512) 2 x 12 = 24 partial sums, two packets of X
// and a broadcast value of Y fit; with 16 (AVX2), 2 x 6.
template <typename T>
constexpr int kHeight = 2 * kLanes<T>;
constexpr int kWidth = kRegisters >= 32 ? 12 : 6;

// The inner index is taken in cache blocks of at most kDirectDepth (X read
// where it lies) or kPackedDepth (X packed) values, cut evenly (784 = 2 x
// 392, not 512 + 272). Each block after the first reloads the tile of c its
// sums continue from, so deeper blocks mean fewer passes over c; what bounds
// them is the block of packed Y (depth x cols) that every row tile reads
// again, which should stay in the level-2 cache. A sliver of X read in place
// is not kept in the level-1 cache however shallow the block (its columns,
// often 4 KiB apart, fall into two of its sets), so the sliver's depth costs
// nothing there; a packed sliver of X (kHeight x depth: 128 KiB of float
// for 1024) is copied once per block and read from the level-2 cache.
// Measured on C's products in a training step (AVX-512, 1 MiB level-2
// cache): 512 and 1024 against 256 for both, 2 % faster steps, BP2 6 %.
constexpr Eigen::Index kDirectDepth = 512;
constexpr Eigen::Index kPackedDepth = 1024;

// Whether a column-major X (W in eq. 25, Delta in BP4) is read where it lies
// rather than packed: with AVX-512, a step of the tile reads two lines of X
// for 24 multiply-adds of 16 lanes; with AVX2, one line for 12 of 8, so
// every line read in place from the level-2 cache (its columns 4 KiB apart,
// in one set of the level-1 cache) costs twice as much per multiply-add and
// the tile waits for it. Packed, the sliver is read in order. Measured on an
// AVX2 build (AMD EPYC, x86-64-v3), old and new alternating: C's training
// step 18.5-19.3 -> 11.8-12.5 ms, eq. 25 of layer 2 5.0-6.2 -> 2.8-3.1 ms;
// on AVX-512, packing was the slower by 5 % (12.1-12.9 against 11.6-12.2).
constexpr bool kReadInPlace = kRegisters >= 32;

// The first tile of each row tile of a product whose X is read in place (W
// in eq. 25) brings the row tile's sliver of X into the caches, where the
// tiles after it find it; its runs are pieces of columns often 4 KiB apart,
// each on a page of its own, which the hardware's prefetchers do not follow,
// so that tile waits for them a few at a time unless each is asked for
// kAhead steps before it is read. In a training step of C, where W arrives
// from beyond the level-2 cache, that first tile took twice as long as the
// others; asked for 32 steps ahead, the step is 2.5 % faster (16-64: about
// the same), the product repeated in place, as the peak is timed, 1 %.
constexpr Eigen::Index kAhead = 32;

// Each tile of a row tile then asks for a share of the next row tile's
// sliver of X, so that it is in the caches before that row tile's first
// tile needs it, instead of only kAhead steps before (eq. 25 of C, whose W
// comes from memory: the step 2-3 % faster with the tiles after the first
// asking, 0.7-1.3 % more with the first too; same binary, alternating).
template <typename T>
void prefetch_share(const T* next, Eigen::Index x_step, const std::int32_t* used,
                    Eigen::Index used_count, Eigen::Index block_start, Eigen::Index share,
                    Eigen::Index shares) {
  for (Eigen::Index i = share * used_count / shares; i < (share + 1) * used_count / shares; ++i) {
    const T* x = next + (used == nullptr ? i : used[i] - block_start) * x_step;
    __builtin_prefetch(x);
    __builtin_prefetch(x + kLanes<T>);
  }
}

Eigen::Index block_depth(Eigen::Index inner, Eigen::Index most) {
  const Eigen::Index blocks = (inner + most - 1) / most;
  return (inner + blocks - 1) / blocks;
}

// alpha sum + beta c, for the first `lanes` lanes of c. Without kAdd (beta
// = 0) c is not read: a product written, not added, ignores what c held,
// and the kernel has no load of c that could keep its sums from registers.
template <bool kAdd, typename T>
Packet<T> alpha_sum_plus_beta_c(const Packet<T>& sum, T alpha, T beta, const T* c, int lanes) {
  const Packet<T> factor = simd::pset1<Packet<T>>(alpha);
  if constexpr (!kAdd) {
    return simd::pmul(sum, factor);
  } else {
    const Packet<T> old = load_first(c, lanes);
    return simd::pmadd(sum, factor,
                       beta == T(1) ? old : simd::pmul(simd::pset1<Packet<T>>(beta), old));
  }
}

// Calls f(std::bool_constant<beta != 0>{}).
template <typename T, typename F>
void with_beta(T beta, F&& f) {
  if (beta == T(0)) {
    f(std::false_type{});
  } else {
    f(std::true_type{});
  }
}

// The sum of a tile's C x P packets, added pairwise, so that the additions
// form no long chain of dependent instructions.
template <typename T, int C, int P>
Packet<T> tile_sum(const Packet<T> (&tile)[C][P]) {
  Packet<T> column[C];
  for (int j = 0; j < C; ++j) {
    column[j] = tile[j][0];
    for (int p = 1; p < P; ++p) column[j] = simd::padd(column[j], tile[j][p]);
  }
  for (int n = C; n > 1;) {
    const int half = n / 2;
    for (int j = 0; j < half; ++j) column[j] = simd::padd(column[j], column[n - 1 - j]);
    n -= half;
  }
  return column[0];
}

// Rows [row, row + rows) (rows <= kHeight) and inner indices [k0, k0 + depth)
// of x, as depth runs of kHeight values (zeros below the rows).
template <typename T>
void pack_left(const StridedMatrix<T>& x, Eigen::Index row, Eigen::Index rows, Eigen::Index k0,
               Eigen::Index depth, T* to) {
  constexpr int L = kLanes<T>;
  const T* from = x.data + row * x.row_stride + k0 * x.column_stride;
  if (x.row_stride == 1) {
    // Column-major (W, Delta): each run is a piece of a column.
    for (Eigen::Index k = 0; k < depth; ++k, from += x.column_stride, to += kHeight<T>) {
      for (int p = 0; p < 2; ++p) {
        simd::pstore(to + p * L, load_first(from + p * L, lanes_in<T>(rows, p)));
      }
    }
    return;
  }
  Eigen::Index k = 0;
  if (x.column_stride == 1 && rows == kHeight<T>) {
    // Row-major (W^T): transpose L x L squares in registers.
    for (; k + L <= depth; k += L) {
      for (int p = 0; p < 2; ++p) {
        simd::PacketBlock<Packet<T>, L> square;
        for (int i = 0; i < L; ++i) {
          square.packet[i] = simd::ploadu<Packet<T>>(from + (p * L + i) * x.row_stride + k);
        }
        simd::ptranspose(square);
        for (int i = 0; i < L; ++i)
          simd::pstore(to + (k + i) * kHeight<T> + p * L, square.packet[i]);
      }
    }
  }
  for (; k < depth; ++k) {
    T* run = to + k * kHeight<T>;
    for (Eigen::Index i = 0; i < kHeight<T>; ++i) {
      run[i] = i < rows ? from[i * x.row_stride + k * x.column_stride] : T(0);
    }
  }
}

// One step of a tile's sum: sum += x_k y_k^T, for the tile's P packets of
// x_k and C values of y_k.
template <typename T, int P, int C>
[[gnu::always_inline]] inline void multiply_add(Packet<T> (&sum)[C][P], const T* x_k,
                                                const T* y_k) {
  constexpr int L = kLanes<T>;
  Packet<T> x[P];
  for (int p = 0; p < P; ++p) x[p] = simd::ploadu<Packet<T>>(x_k + p * L);
  for (int j = 0; j < C; ++j) {
    const Packet<T> y_kj = simd::pset1<Packet<T>>(y_k[j]);
    for (int p = 0; p < P; ++p) sum[j][p] = simd::pmadd(x[p], y_kj, sum[j][p]);
  }
}

// sum_k x_k y_k^T over a sliver of each (x_k: kHeight values, x_step apart
// from x_{k-1}: packed, or a column-major X in place), for a tile of `rows`
// (<= P packets) rows by C columns of c. The first cache block starts the
// sums at zero, the later ones at the values stored by the one before, so
// that each element is one chain of fused multiply-adds over the whole inner
// index; the last stores alpha sum + beta c (beta = 0: c is not read).
// With kAdd (an update), returns the sum of the values stored by the last
// block, lane by lane, for the finite check; else zeros. (Lanes past the tile's rows hold zeros, or
// a NaN only where the same column also has one within the rows: the sum is finite exactly when the
// values stored are.)
//
// With `ahead` > 0, each x_k is asked for `ahead` steps before it is read:
// for the first tile of a row tile whose X is read in place (kAhead below).
//
// With `kept` (a sliver of Y without its zero rows: packed_product.hpp), the
// sliver's k-th row is row kept[k] of y, and x_k is kept[k] - block_start
// steps along xs (which starts at the block's first inner index). A first
// tile with `kept` still asks for the values of x that the later tiles of
// its row tile may read, not only the rows it keeps, spread evenly over its
// steps (the step of C +1.6 %): the `fetch_count` rows `fetch` of the block
// (the rows some sliver keeps: PackedRight::used_rows), or, where that is
// null, all of them.
//
// With `columns` (Y's zero columns left out of the packing), the tile's
// column j is column columns[j] of c (and of the epilogue's `rectified`);
// else column j.
//
// Never inlined: compiled alone, its P x C sums and P packets of x keep to
// registers; inlined into the loops above, GCC 12 has been seen to keep a
// packet of x on the stack instead (a third slower).
template <typename T, int P, int C, bool kAdd>
[[gnu::noinline]] Packet<T> tile(Eigen::Index depth, const T* xs, Eigen::Index x_step, const T* ys,
                                 Eigen::Index rows, bool first, bool last, T alpha, T beta, T* c,
                                 Eigen::Index c_stride, const std::int32_t* columns,
                                 const Epilogue<T>& epilogue, Eigen::Index ahead,
                                 const std::int32_t* kept, Eigen::Index block_start,
                                 const std::int32_t* fetch, Eigen::Index fetch_count) {
  constexpr int L = kLanes<T>;
  Eigen::Index offset[C];  // of column j in c
  for (int j = 0; j < C; ++j) offset[j] = (columns == nullptr ? j : columns[j]) * c_stride;
  Packet<T> sum[C][P];
  // The update's tile of c (of W) is read and written only after the whole
  // sum: asked for now, for writing, its lines arrive while the sum runs.
  // Without, each tile waits for them at the end, and more so with two
  // threads, when the other core read them last (for BP2): a fifth of the
  // fused update's time on two threads, a few percent on one.
  if constexpr (kAdd) {
    if (last) {
      for (int j = 0; j < C; ++j) {
        for (int p = 0; p < P; ++p) __builtin_prefetch(c + offset[j] + p * L, 1, 3);
      }
    }
  }
  for (int j = 0; j < C; ++j) {
    for (int p = 0; p < P; ++p) {
      sum[j][p] = first ? simd::pset1<Packet<T>>(T(0))
                        : load_first(c + offset[j] + p * L, lanes_in<T>(rows, p));
    }
  }
  Eigen::Index k = 0;
  if (kept != nullptr) {
    const auto x_at = [&](Eigen::Index i) { return xs + (kept[i] - block_start) * x_step; };
    if (ahead > 0) {
      Eigen::Index fetched = 0;  // x_0 .. x_{fetched - 1} of the block asked for
      for (; k < depth; ++k, ys += kWidth) {
        const Eigen::Index due = std::min(fetch_count, (k + ahead + 1) * fetch_count / depth);
        for (; fetched < due; ++fetched) {
          const T* x = xs + (fetch == nullptr ? fetched : fetch[fetched] - block_start) * x_step;
          for (int p = 0; p < P; ++p) __builtin_prefetch(x + p * L);
        }
        multiply_add<T>(sum, x_at(k), ys);
      }
    }
    for (; k < depth; ++k, ys += kWidth) multiply_add<T>(sum, x_at(k), ys);
  } else {
    if (ahead > 0) {
      for (; k + ahead < depth; ++k, xs += x_step, ys += kWidth) {
        for (int p = 0; p < P; ++p) __builtin_prefetch(xs + ahead * x_step + p * L);
        multiply_add<T>(sum, xs, ys);
      }
    }
    for (; k < depth; ++k, xs += x_step, ys += kWidth) multiply_add<T>(sum, xs, ys);
  }
  for (int j = 0; j < C; ++j) {
    for (int p = 0; p < P; ++p) {
      const int lanes = lanes_in<T>(rows, p);
      T* to = c + offset[j] + p * L;
      if (lanes == 0) {
        sum[j][p] = simd::pset1<Packet<T>>(T(0));
        continue;
      }
      if (last) {
        sum[j][p] = alpha_sum_plus_beta_c<kAdd>(sum[j][p], alpha, beta, to, lanes);
        if (epilogue.bias != nullptr) {
          sum[j][p] = simd::padd(sum[j][p], load_first(epilogue.bias + p * L, lanes));
        }
        if (epilogue.rectified != nullptr) {
          store_first(epilogue.rectified + offset[j] + p * L,
                      simd::pmax(sum[j][p], simd::pset1<Packet<T>>(T(0))), lanes);
        }
      }
      store_first(to, sum[j][p], lanes);
    }
  }
  if constexpr (!kAdd) return simd::pset1<Packet<T>>(T(0));
  return last ? tile_sum<T>(sum) : simd::pset1<Packet<T>>(T(0));
}

// The epilogue of the tile whose first row is `row` and whose first value
// is `offset` past c's.
template <typename T>
Epilogue<T> tile_epilogue(const Epilogue<T>& epilogue, Eigen::Index row, Eigen::Index offset) {
  return {epilogue.bias == nullptr ? nullptr : epilogue.bias + row,
          epilogue.rectified == nullptr ? nullptr : epilogue.rectified + row + offset};
}

// Whether a packed row of kWidth values holds one that is not zero (+0 or
// -0); a NaN is not zero. A packet at a time: a pass of scalar comparisons
// over the packed values took 4-6 times as long as the packing itself.
template <typename T>
bool holds_nonzero(const T* row) {
  constexpr int L = kLanes<T>;
  const Packet<T> zero = simd::pset1<Packet<T>>(T(0));
  Packet<T> nonzero = zero;
  for (int j = 0; j < kWidth; j += L) {
    const Packet<T> values = load_first(row + j, std::min(L, kWidth - j));
    nonzero = simd::por(nonzero, simd::pandnot(simd::ptrue(values), simd::pcmp_eq(values, zero)));
  }
  return simd::predux_any(nonzero);
}

// Sliver s of y in the inner block [k0, k0 + depth): its first row there,
// how many it keeps, and their indices (null: all `depth` of them).
template <typename T>
struct SliverBlock {
  const T* rows;
  const std::int32_t* kept;
  Eigen::Index depth;
};

// The rows of an increasing list (null: every row) within [k0, k0 +
// depth): where they start in it and how many.
struct RowsInBlock {
  const std::int32_t* kept;
  Eigen::Index depth;
};

inline RowsInBlock rows_in_block(const std::int32_t* rows, Eigen::Index count, Eigen::Index k0,
                                 Eigen::Index depth) {
  if (rows == nullptr) return {nullptr, depth};
  const std::int32_t* begin = std::lower_bound(rows, rows + count, k0);
  const std::int32_t* end = std::lower_bound(begin, rows + count, k0 + depth);
  return {begin, end - begin};
}

template <typename T>
SliverBlock<T> sliver_block(const PackedRight<T>& y, Eigen::Index s, Eigen::Index k0,
                            Eigen::Index depth) {
  const std::int32_t* kept = y.kept_rows(s);
  if (kept == nullptr) return {y.sliver(s) + k0 * kWidth, nullptr, depth};
  const RowsInBlock part = rows_in_block(kept, y.kept_count(s), k0, depth);
  return {y.sliver(s) + (part.kept - kept) * kWidth, part.kept, part.depth};
}

// A packed sliver of X (kHeight x depth), per thread, reused by every call.
template <typename T>
T* left_sliver(Eigen::Index depth) {
  thread_local std::vector<T, Eigen::aligned_allocator<T>> buffer;
  const auto size = static_cast<std::size_t>(kHeight<T> * depth);
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

// Column j of y that packed column `first + j` holds (packed_columns: null
// when every column is packed, in order).
template <typename T>
const T* packed_column(const StridedMatrix<T>& y, const std::int32_t* packed_columns,
                       Eigen::Index first, Eigen::Index j) {
  const Eigen::Index column = packed_columns == nullptr ? first + j : packed_columns[first + j];
  return y.data + column * y.column_stride;
}

// The sliver of `width` packed columns from `first` on, of a column-major y
// (`inner` rows), as inner rows of kWidth values: L x L squares transposed
// in registers, L columns at a time.
template <typename T>
void pack_columns(const StridedMatrix<T>& y, const std::int32_t* packed_columns, Eigen::Index first,
                  Eigen::Index width, T* to) {
  constexpr int L = kLanes<T>;
  const Eigen::Index inner = y.rows;
  const T* column[kWidth];
  for (Eigen::Index j = 0; j < width; ++j) column[j] = packed_column(y, packed_columns, first, j);
  Eigen::Index k = 0;
  for (; k + L <= inner; k += L) {
    for (Eigen::Index j0 = 0; j0 < width; j0 += L) {
      const int columns = static_cast<int>(std::min<Eigen::Index>(L, width - j0));
      simd::PacketBlock<Packet<T>, L> square;
      for (int j = 0; j < L; ++j) {
        square.packet[j] = j < columns ? simd::ploadu<Packet<T>>(column[j0 + j] + k)
                                       : simd::pset1<Packet<T>>(T(0));
      }
      simd::ptranspose(square);
      for (int i = 0; i < L; ++i)
        store_first(to + (k + i) * kWidth + j0, square.packet[i], columns);
    }
  }
  for (; k < inner; ++k) {
    for (Eigen::Index j = 0; j < width; ++j) to[k * kWidth + j] = column[j][k];
  }
}

// Rows [begin, end) of a row-major y (A^T in BP4; begin a multiple of
// kRun) as inner rows of kWidth values per sliver: a piece of one of y's
// rows for each row of a sliver. The rows are taken kRun at a time across
// all the slivers, so that y is read as kRun streams front to back; sliver
// by sliver, every row of y would be touched for a few values each time.
// y's rows are often 4 KiB apart (a layer of 1024 neurons), which puts the
// streams' lines in one set of the level-1 cache: 8 streams fit its ways,
// 16 do not (half the speed). With packed_columns (y's zero columns left
// out), each value is taken from its column through the index.
constexpr Eigen::Index kRun = 8;

template <typename T>
void pack_rows(const StridedMatrix<T>& y, const std::int32_t* packed_columns,
               Eigen::Index packed_cols, Eigen::Index begin, Eigen::Index end, T* packed) {
  const Eigen::Index slivers = (packed_cols + kWidth - 1) / kWidth;
  for (Eigen::Index k0 = begin; k0 < end; k0 += kRun) {
    const Eigen::Index rows = std::min(kRun, end - k0);
    for (Eigen::Index s = 0; s < slivers; ++s) {
      const Eigen::Index first = s * kWidth;
      const Eigen::Index width = std::min<Eigen::Index>(kWidth, packed_cols - first);
      const T* from = y.data + k0 * y.row_stride;
      T* to = packed + (s * y.rows + k0) * kWidth;
      for (Eigen::Index k = 0; k < rows; ++k, from += y.row_stride, to += kWidth) {
        if (packed_columns != nullptr) {
          const std::int32_t* column = packed_columns + first;
          for (Eigen::Index j = 0; j < width; ++j) to[j] = from[column[j]];
        } else if (width == kWidth) {
          std::memcpy(to, from + first, sizeof(T) * kWidth);
        } else {
          std::copy_n(from + first, width, to);
        }
        std::fill(to + width, to + kWidth, T(0));  // the last sliver's padding
      }
    }
  }
}

}  // namespace

template <typename T>
void PackedRight<T>::find_zero_columns(const StridedMatrix<T>& y) {
  packed_columns_.clear();
  zero_columns_.clear();
  if (inner_ == 0 || cols_ > std::numeric_limits<std::int32_t>::max()) return;
  constexpr int L = kLanes<T>;
  const Packet<T> zero = simd::pset1<Packet<T>>(T(0));
  alignas(64) T lanes[L];  // all bits set (a NaN) where a column holds a value other than zero
  for (Eigen::Index j0 = 0; j0 < cols_; j0 += L) {
    const int count = static_cast<int>(std::min<Eigen::Index>(L, cols_ - j0));
    if (y.column_stride == 1) {
      // Row-major (A^T): a packet of columns down the rows, until each of
      // them has shown a value that is not zero (a NaN is not zero).
      const Packet<T> all = simd::ptrue(zero);
      const Packet<T> wanted = load_first(reinterpret_cast<const T*>(&all), count);
      Packet<T> seen = zero;
      for (Eigen::Index k = 0; k < inner_; ++k) {
        const Packet<T> values = load_first(y.data + k * y.row_stride + j0, count);
        seen = simd::por(seen, simd::pandnot(simd::ptrue(values), simd::pcmp_eq(values, zero)));
        if (k % 8 == 7 && !simd::predux_any(simd::pandnot(wanted, seen))) break;
      }
      simd::pstore(lanes, seen);
    } else {
      // Column by column, each up to its first value that is not zero.
      for (int j = 0; j < count; ++j) {
        const T* column = y.data + (j0 + j) * y.column_stride;
        Eigen::Index k = 0;
        while (k < inner_ && column[k * y.row_stride] == T(0)) ++k;
        lanes[j] = k < inner_ ? T(1) : T(0);
      }
    }
    for (int j = 0; j < count; ++j) {
      (lanes[j] == T(0) ? zero_columns_ : packed_columns_)
          .push_back(static_cast<std::int32_t>(j0 + j));
    }
  }
  // Packing from an index of columns takes longer (A^T of 128 x 1024 with a
  // quarter of its columns zero: 16 -> 47 us, 2-3 % of the update it
  // shortens by a fifth); below an eighth of zero columns, they are packed.
  if (8 * static_cast<Eigen::Index>(zero_columns_.size()) < cols_) zero_columns_.clear();
}

template <typename T>
void PackedRight<T>::pack(const StridedMatrix<T>& y) {
  inner_ = y.rows;
  cols_ = y.cols;
  find_zero_columns(y);
  const std::int32_t* columns = packed_columns();
  const Eigen::Index slivers = this->slivers();
  data_.resize(static_cast<std::size_t>(slivers * kWidth * inner_));
  kept_rows_.resize(static_cast<std::size_t>(slivers * inner_));
  kept_count_.resize(static_cast<std::size_t>(slivers));
  // Packing only copies: with more threads, each copies a share (of y's
  // rows, or of the slivers), and the packed values are the same.
  constexpr Eigen::Index kParallelValues = Eigen::Index{1} << 16;
  const Eigen::Index values = inner_ * packed_cols();
  if (y.column_stride == 1) {
    for_each_share(inner_, kRun, kParallelValues / std::max<Eigen::Index>(packed_cols(), 1),
                   [&](Eigen::Index begin, Eigen::Index end) {
                     pack_rows(y, columns, packed_cols(), begin, end, data_.data());
                   });
  }
  const Eigen::Index minimum_slivers =
      slivers * kParallelValues / std::max<Eigen::Index>(values, 1);
  if (y.column_stride == 1) {
    for_each_share(slivers, 1, minimum_slivers, [&](Eigen::Index begin, Eigen::Index end) {
      for (Eigen::Index s = begin; s < end; ++s) keep_nonzero_rows(s);
    });
  } else {
    pack_from_columns(y, minimum_slivers);
  }
  find_used_rows();
}

template <typename T>
void PackedRight<T>::find_used_rows() {
  all_rows_used_ = true;
  used_rows_.clear();
  for (Eigen::Index s = 0; s < slivers(); ++s) {
    if (kept_rows(s) == nullptr) return;  // a sliver keeps them all
  }
  std::vector<unsigned char>& used = row_flags_;
  used.assign(static_cast<std::size_t>(inner_), 0);
  for (Eigen::Index s = 0; s < slivers(); ++s) {
    const std::int32_t* kept = kept_rows(s);
    for (Eigen::Index i = 0; i < kept_count(s); ++i) used[kept[i]] = 1;
  }
  for (Eigen::Index k = 0; k < inner_; ++k) {
    if (used[k] != 0) used_rows_.push_back(static_cast<std::int32_t>(k));
  }
  all_rows_used_ = false;
}

template <typename T>
void PackedRight<T>::pack_from_columns(const StridedMatrix<T>& y, Eigen::Index minimum_slivers) {
  const std::int32_t* columns = packed_columns();
  for_each_share(slivers(), 1, minimum_slivers, [&](Eigen::Index begin, Eigen::Index end) {
    for (Eigen::Index s = begin; s < end; ++s) {
      T* to = data_.data() + s * kWidth * inner_;
      const Eigen::Index first = s * kWidth;
      const Eigen::Index width = std::min<Eigen::Index>(kWidth, packed_cols() - first);
      if (width < kWidth) std::fill_n(to, kWidth * inner_, T(0));  // the last sliver's padding
      if (y.row_stride == 1) {
        pack_columns(y, columns, first, width, to);
      } else {
        for (Eigen::Index j = 0; j < width; ++j) {
          const T* column = packed_column(y, columns, first, j);
          for (Eigen::Index k = 0; k < inner_; ++k) to[k * kWidth + j] = column[k * y.row_stride];
        }
      }
      keep_nonzero_rows(s);
    }
  });
}

template <typename T>
void PackedRight<T>::keep_nonzero_rows(Eigen::Index s) {
  if (inner_ > std::numeric_limits<std::int32_t>::max()) {  // indices would not fit
    kept_count_[s] = inner_;
    return;
  }
  T* rows = data_.data() + s * kWidth * inner_;
  // A first look at every 8th row: where fewer than an eighth of those are
  // zeros, the sliver is kept whole without a look at the others (a dense
  // factor costs its packing an eighth of a full look, not half again).
  constexpr Eigen::Index kSampled = 8;
  Eigen::Index sampled = 0;
  Eigen::Index zeros = 0;
  for (Eigen::Index k = 0; k < inner_; k += kSampled, ++sampled) {
    zeros += holds_nonzero(rows + k * kWidth) ? 0 : 1;
  }
  if (8 * zeros < sampled) {
    kept_count_[s] = inner_;
    return;
  }
  std::int32_t* kept = kept_rows_.data() + s * inner_;
  Eigen::Index count = 0;
  for (Eigen::Index k = 0; k < inner_; ++k) {
    kept[count] = static_cast<std::int32_t>(k);
    count += holds_nonzero(rows + k * kWidth) ? 1 : 0;
  }
  // Below a quarter of zero rows, the whole sliver is cheaper to read than
  // the index of its rows.
  if (4 * count > 3 * inner_) {
    kept_count_[s] = inner_;
    return;
  }
  for (Eigen::Index i = 0; i < count; ++i) {
    if (kept[i] != i) std::memcpy(rows + i * kWidth, rows + kept[i] * kWidth, sizeof(T) * kWidth);
  }
  kept_count_[s] = count;
}

template <typename T>
const T* PackedRight<T>::sliver(Eigen::Index s) const {
  return data_.data() + s * kWidth * inner_;
}

template <typename T>
Eigen::Index PackedRight<T>::sliver_width() {
  return kWidth;
}

template <typename T>
const std::int32_t* PackedRight<T>::kept_rows(Eigen::Index s) const {
  return kept_count_[s] == inner_ ? nullptr : kept_rows_.data() + s * inner_;
}

template <typename T>
Eigen::Index PackedRight<T>::kept_count(Eigen::Index s) const {
  return kept_count_[s];
}

template <typename T>
T packed_product(const StridedMatrix<T>& x, const PackedRight<T>& y, T alpha, T* c,
                 Eigen::Index c_stride, T beta, const Epilogue<T>& epilogue) {
  const Eigen::Index inner = y.inner();
  if (inner == 0) {  // an empty sum
    T total = 0;
    for (Eigen::Index j = 0; j < y.cols(); ++j) {
      for (Eigen::Index i = 0; i < x.rows; ++i) {
        T& value = c[i + j * c_stride];
        value = beta == T(0) ? T(0) : beta * value;
        if (epilogue.bias != nullptr) value += epilogue.bias[i];
        if (epilogue.rectified != nullptr)
          epilogue.rectified[i + j * c_stride] = std::max(value, T(0));
        total += value;
      }
    }
    return total;
  }
  // With beta, c's old values are needed at the end of the sum, so the
  // inner index is one block (the mini-batch, for BP4's update).
  const bool in_place = kReadInPlace && x.row_stride == 1;
  const Eigen::Index block =
      beta == T(0) ? block_depth(inner, in_place ? kDirectDepth : kPackedDepth) : inner;
  T* xs = left_sliver<T>(std::min(block, inner));
  thread_local std::vector<SliverBlock<T>> slivers;
  slivers.resize(static_cast<std::size_t>(y.slivers()));
  const std::int32_t* columns = y.packed_columns();
  const std::vector<std::int32_t>& zero_columns = y.zero_columns();
  // Y's zero columns give c's columns alpha 0 + beta c: c itself when beta
  // = 1 and alpha < 0 (c + -0 is c, for c = +0 and -0 too), which need not
  // be written; else the tile writes it from a sum of no terms.
  const bool zero_columns_unchanged =
      beta == T(1) && alpha < T(0) && epilogue.bias == nullptr && epilogue.rectified == nullptr;
  Packet<T> total = simd::pset1<Packet<T>>(T(0));
  // Multiply-adds (of one value of x by one of y) left out.
  std::int64_t left_out = static_cast<std::int64_t>(zero_columns.size()) * inner * x.rows;
  for (Eigen::Index k0 = 0; k0 < inner; k0 += block) {
    const Eigen::Index depth = std::min(block, inner - k0);
    const bool first = k0 == 0;
    const bool last = k0 + depth == inner;
    for (std::size_t s = 0; s < slivers.size(); ++s) {
      const auto sliver = static_cast<Eigen::Index>(s);
      slivers[s] = sliver_block(y, sliver, k0, depth);
      const Eigen::Index width = std::min<Eigen::Index>(kWidth, y.packed_cols() - sliver * kWidth);
      left_out += (depth - slivers[s].depth) * width * x.rows;
    }
    const RowsInBlock used = rows_in_block(y.used_rows(), y.used_count(), k0, depth);
    for (Eigen::Index row = 0; row < x.rows; row += kHeight<T>) {
      const Eigen::Index rows = std::min<Eigen::Index>(kHeight<T>, x.rows - row);
      // A whole sliver of a column-major X is read where it lies (its
      // columns are the runs the tile loads) where kReadInPlace; the rest is
      // packed.
      const bool direct = in_place && rows == kHeight<T>;
      if (!direct) pack_left(x, row, rows, k0, depth, xs);
      const T* x_sliver = direct ? x.data + row + k0 * x.column_stride : xs;
      const Eigen::Index x_step = direct ? x.column_stride : kHeight<T>;
      with_packets<T>(rows, [&](auto packets) {
        with_beta(beta, [&](auto add) {
          for (Eigen::Index column = 0, s = 0; column < y.packed_cols(); column += kWidth, ++s) {
            const auto width =
                static_cast<int>(std::min<Eigen::Index>(kWidth, y.packed_cols() - column));
            if (direct && !add() && row + 2 * kHeight<T> <= x.rows) {
              prefetch_share(x_sliver + kHeight<T>, x_step, used.kept, used.depth, k0, s,
                             y.slivers());
            }
            const SliverBlock<T>& part = slivers[static_cast<std::size_t>(s)];
            // Packed in order, the tile's columns start at c's column `column`;
            // else they are looked up.
            const Eigen::Index offset = columns == nullptr ? column * c_stride : 0;
            with_count<kWidth>(width, [&](auto count) {
              total = simd::padd(
                  total,
                  tile<T, packets(), count(), add()>(
                      part.depth, x_sliver, x_step, part.rows, rows, first, last, alpha, beta,
                      c + row + offset, c_stride, columns == nullptr ? nullptr : columns + column,
                      tile_epilogue(epilogue, row, offset), direct && s == 0 ? kAhead : 0,
                      part.kept, k0, used.kept, used.depth));
            });
          }
          if (!last || zero_columns_unchanged) return;
          const auto zeros = static_cast<Eigen::Index>(zero_columns.size());
          for (Eigen::Index column = 0; column < zeros; column += kWidth) {
            with_count<kWidth>(
                static_cast<int>(std::min<Eigen::Index>(kWidth, zeros - column)), [&](auto count) {
                  total = simd::padd(
                      total, tile<T, packets(), count(), add()>(
                                 0, x_sliver, x_step, nullptr, rows, true, true, alpha, beta,
                                 c + row, c_stride, zero_columns.data() + column,
                                 tile_epilogue(epilogue, row, 0), 0, nullptr, k0, nullptr, 0));
                });
          }
        });
      });
    }
  }
  count_skipped_multiply_adds(left_out);
  return simd::predux(total);
}

template class PackedRight<float>;
template class PackedRight<double>;
template float packed_product<float>(const StridedMatrix<float>&, const PackedRight<float>&, float,
                                     float*, Eigen::Index, float, const Epilogue<float>&);
template double packed_product<double>(const StridedMatrix<double>&, const PackedRight<double>&,
                                       double, double*, Eigen::Index, double,
                                       const Epilogue<double>&);

}  // namespace backprop
