// A tiny image data set for end-to-end tests: 4x4 images of four classes,
// class k lighting up quadrant k, plus noise.
#pragma once

#include <cstdint>
#include <vector>

#include "backprop/idx.hpp"
#include "backprop/rng.hpp"

namespace backprop::test {

// `count` images as an IDX array; their labels are appended to `labels`.
inline IdxArray quadrant_images(int count, Rng& rng, std::vector<std::uint8_t>& labels) {
  IdxArray array{{static_cast<std::uint32_t>(count), 4, 4}, {}};
  for (int i = 0; i < count; ++i) {
    const int label = static_cast<int>(rng.below(4));
    labels.push_back(static_cast<std::uint8_t>(label));
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 4; ++c) {
        const bool lit = (r / 2) * 2 + (c / 2) == label;
        array.data.push_back(static_cast<std::uint8_t>((lit ? 200 : 0) + rng.below(50)));
      }
    }
  }
  return array;
}

}  // namespace backprop::test
