// Register-tile helpers shared by the product kernels (narrow_product.cpp,
// packed_product.cpp), written with Eigen's packet primitives so that they
// build for SSE, AVX2 and AVX-512, in float and double.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "backprop/matrix.hpp"

// Eigen's packet types are vector types with attributes (__m512 and kin),
// which GCC drops, and warns about, when they are template arguments; the
// attributes do not matter for the traits looked up here.
#pragma GCC diagnostic ignored "-Wignored-attributes"

namespace backprop::simd_tile {

namespace simd = Eigen::internal;

template <typename T>
using Packet = typename simd::packet_traits<T>::type;

template <typename T>
constexpr int kLanes = simd::unpacket_traits<Packet<T>>::size;

// Vector registers of the target: 32 with AVX-512, 16 with AVX2.
constexpr int kRegisters = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS;

// The first `count` lanes from `from`, zeros in the rest; reads nothing past
// from[count - 1].
template <typename T>
Packet<T> load_first(const T* from, int count) {
  if (count == kLanes<T>) return simd::ploadu<Packet<T>>(from);
  if constexpr (simd::unpacket_traits<Packet<T>>::masked_load_available) {
    using Mask = typename simd::unpacket_traits<Packet<T>>::mask_t;
    return simd::ploadu<Packet<T>>(from, static_cast<Mask>((1U << count) - 1));
  }
  alignas(64) T lanes[kLanes<T>] = {};
  std::memcpy(lanes, from, sizeof(T) * static_cast<std::size_t>(count));
  return simd::pload<Packet<T>>(lanes);
}

// Whether a masked store is one fast instruction: AVX-512's, with its mask
// registers. AVX's (vmaskmovps) is microcoded on AMD's cores.
#ifdef EIGEN_VECTORIZE_AVX512
constexpr bool kFastMaskedStore = true;
#else
constexpr bool kFastMaskedStore = false;
#endif

// Stores the first `count` lanes of `packet`; writes nothing past
// to[count - 1]. A fast masked store where there is one; else in pieces of
// half a packet, a quarter, ...: with AVX's masked store (which Eigen uses
// for AVX2), configuration A's BP4, whose every tile ends in four of them,
// spent 40 % of its time in them.
template <typename T>
void store_first(T* to, const Packet<T>& packet, int count) {
  if (count == kLanes<T>) {
    simd::pstoreu(to, packet);
  } else if constexpr (simd::unpacket_traits<Packet<T>>::masked_store_available &&
                       kFastMaskedStore) {
    using Mask = typename simd::unpacket_traits<Packet<T>>::mask_t;
    simd::pstoreu<T>(to, packet, static_cast<Mask>((1U << count) - 1));
  } else {
    alignas(64) T lanes[kLanes<T>];
    simd::pstore(lanes, packet);
    int done = 0;
    // Each copy is of a size known here, one move each.
    for (int piece = kLanes<T> / 2; piece >= 1; piece /= 2) {
      if (count - done >= piece) {
        std::memcpy(to + done, lanes + done, sizeof(T) * static_cast<std::size_t>(piece));
        done += piece;
      }
    }
  }
}

// Bit i set where lane i of `mask` (all bits set or none, as pcmp_eq
// leaves each lane) is set: one instruction where the target has one.
template <typename T>
std::uint32_t lane_bits(const Packet<T>& mask) {
#if defined(EIGEN_VECTORIZE_AVX512)
  if constexpr (std::is_same_v<Packet<T>, __m512>) {
    return _mm512_cmpneq_epi32_mask(_mm512_castps_si512(mask), _mm512_setzero_si512());
  } else if constexpr (std::is_same_v<Packet<T>, __m512d>) {
    return _mm512_cmpneq_epi64_mask(_mm512_castpd_si512(mask), _mm512_setzero_si512());
  }
#elif defined(EIGEN_VECTORIZE_AVX)
  if constexpr (std::is_same_v<Packet<T>, __m256>) {
    return static_cast<std::uint32_t>(_mm256_movemask_ps(mask));
  } else if constexpr (std::is_same_v<Packet<T>, __m256d>) {
    return static_cast<std::uint32_t>(_mm256_movemask_pd(mask));
  }
#elif defined(EIGEN_VECTORIZE_SSE2)
  if constexpr (std::is_same_v<Packet<T>, __m128>) {
    return static_cast<std::uint32_t>(_mm_movemask_ps(mask));
  } else if constexpr (std::is_same_v<Packet<T>, __m128d>) {
    return static_cast<std::uint32_t>(_mm_movemask_pd(mask));
  }
#endif
  alignas(64) T lanes[kLanes<T>];
  simd::pstore(lanes, mask);
  std::uint32_t bits = 0;
  for (int i = 0; i < kLanes<T>; ++i) {
    // A set lane is a NaN (all bits set), the only value unequal to itself.
    if (lanes[i] != lanes[i]) bits |= std::uint32_t{1} << i;
  }
  return bits;
}

namespace detail {
// For each byte m: the positions of its set bits, 4 bits each, lowest first.
inline constexpr auto kSetBitPositions = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t m = 0; m < 256; ++m) {
    int n = 0;
    for (std::uint32_t i = 0; i < 8; ++i) {
      if (((m >> i) & 1) != 0) table[m] |= i << (4 * n++);
    }
  }
  return table;
}();
}  // namespace detail

// Writes k0 + i for each bit i set in `bits` (i < 16), in increasing order,
// to out[0 ..), and returns how many; may write up to 16 values in all, so
// `out` must have room for 16 past the last it keeps. One compress with
// AVX-512; with AVX2, the lanes' order from a table of 256 (8 bits at a
// time); else a lane at a time, without branches.

inline int set_bit_indices(std::uint32_t bits, std::int32_t k0, std::int32_t* out) {
#if defined(EIGEN_VECTORIZE_AVX512)
  const __m512i indices =
      _mm512_add_epi32(_mm512_set1_epi32(k0),
                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  _mm512_storeu_si512(out, _mm512_maskz_compress_epi32(static_cast<__mmask16>(bits), indices));
  return std::popcount(bits & 0xFFFFU);
#elif defined(EIGEN_VECTORIZE_AVX2)
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  int count = 0;
  for (int half = 0; half < 2; ++half, bits >>= 8) {
    const auto byte = bits & 0xFFU;
    const __m256i positions = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(detail::kSetBitPositions[byte])),
                          shifts),
        _mm256_set1_epi32(15));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + count),
                        _mm256_add_epi32(positions, _mm256_set1_epi32(k0 + 8 * half)));
    count += std::popcount(byte);
    if ((bits >> 8) == 0) break;
  }
  return count;
#else
  int count = 0;
  for (int i = 0; i < 16; ++i) {
    out[count] = k0 + i;
    count += static_cast<int>((bits >> i) & 1);
  }
  return count;
#endif
}

// Calls f(std::integral_constant<int, n>) for 1 <= n <= N.
template <int N, typename F>
void with_count(int n, F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    ((n == I + 1 ? (f(std::integral_constant<int, I + 1>{}), 0) : 0), ...);
  }
  (std::make_integer_sequence<int, N>{});
}

// Calls f(std::integral_constant<int, p>) with the packets (1 or 2) that
// hold `rows` rows.
template <typename T, typename F>
void with_packets(Eigen::Index rows, F&& f) {
  if (rows > kLanes<T>) {
    f(std::integral_constant<int, 2>{});
  } else {
    f(std::integral_constant<int, 1>{});
  }
}

// Lanes of packet p that hold one of a tile's `rows` rows.
template <typename T>
int lanes_in(Eigen::Index rows, int p) {
  return static_cast<int>(
      std::clamp<Eigen::Index>(rows - Eigen::Index{p} * kLanes<T>, 0, kLanes<T>));
}

}  // namespace backprop::simd_tile
