// A small MNIST-like data set drawn in the test: 28 x 28 images of four
// shapes (0 a ring, 1 a vertical bar, 2 a horizontal bar, 3 a cross), white
// on black and anti-aliased, each fitted to about 20 x 20 and centred as
// MNIST's digits are, with random size, stroke width and position jitter.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "backprop/idx.hpp"
#include "backprop/rng.hpp"

namespace backprop::test {

constexpr int kShapeClasses = 4;

// Distance from (x, y) to the segment from (ax, ay) to (bx, by).
inline double segment_distance(double x, double y, double ax, double ay, double bx, double by) {
  const double dx = bx - ax;
  const double dy = by - ay;
  const double t = std::clamp(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::hypot(x - ax - t * dx, y - ay - t * dy);
}

// One 28 x 28 image of `shape`, pixel values 0..255, row by row.
inline std::vector<std::uint8_t> draw_shape(int shape, Rng& rng) {
  const double half = 8.5 + 1.5 * rng.uniform();  // half the size: 17 to 20 pixels across
  const double width = 2.0 + 1.5 * rng.uniform();
  const double cx = 14 + rng.uniform() - 0.5;
  const double cy = 14 + rng.uniform() - 0.5;
  std::vector<std::uint8_t> pixels;
  for (int row = 0; row < 28; ++row) {
    for (int column = 0; column < 28; ++column) {
      const double x = column + 0.5;
      const double y = row + 0.5;
      double distance = 0;
      switch (shape) {
        case 0:
          distance = std::abs(std::hypot(x - cx, y - cy) - (half - width / 2));
          break;
        case 1:
          distance = segment_distance(x, y, cx, cy - half, cx, cy + half);
          break;
        case 2:
          distance = segment_distance(x, y, cx - half, cy, cx + half, cy);
          break;
        default:
          distance = std::min(segment_distance(x, y, cx - half, cy - half, cx + half, cy + half),
                              segment_distance(x, y, cx - half, cy + half, cx + half, cy - half));
      }
      // Coverage of the pixel by a stroke of this width, linearly anti-aliased.
      const double ink = std::clamp(width / 2 - distance + 0.5, 0.0, 1.0);
      pixels.push_back(static_cast<std::uint8_t>(std::lround(255 * ink)));
    }
  }
  return pixels;
}

// Writes <prefix>-images.idx and <prefix>-labels.idx with `count` shapes.
inline void write_shapes(const std::filesystem::path& prefix, int count, std::uint64_t seed) {
  Rng rng(seed);
  IdxArray images{{static_cast<std::uint32_t>(count), 28, 28}, {}};
  IdxArray labels{{static_cast<std::uint32_t>(count)}, {}};
  for (int i = 0; i < count; ++i) {
    const int shape = static_cast<int>(rng.below(kShapeClasses));
    labels.data.push_back(static_cast<std::uint8_t>(shape));
    const std::vector<std::uint8_t> pixels = draw_shape(shape, rng);
    images.data.insert(images.data.end(), pixels.begin(), pixels.end());
  }
  write_idx(prefix.string() + "-images.idx", images);
  write_idx(prefix.string() + "-labels.idx", labels);
}

// The data flags of `backprop train` for shapes written in `dir`.
inline std::string shapes_data_flags(const std::filesystem::path& dir) {
  return " --train-images " + (dir / "train-images.idx").string() + " --train-labels " +
         (dir / "train-labels.idx").string() + " --test-images " +
         (dir / "test-images.idx").string() + " --test-labels " +
         (dir / "test-labels.idx").string();
}

}  // namespace backprop::test
