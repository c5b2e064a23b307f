// Register-tile helpers shared by the product kernels (narrow_product.cpp,
// packed_product.cpp), written with Eigen's packet primitives so that they
// build for SSE, AVX2 and AVX-512, in float and double.
#pragma once

#include <algorithm>
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
