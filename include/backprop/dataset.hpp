// A labelled data set held once in memory, and mini-batch gathering.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backprop/matrix.hpp"

namespace backprop {

using PixelMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

// Classification data carry a class label per example (the target is its
// one-hot vector); regression data carry a real-valued target vector per
// example instead, and no labels.
//
// The inputs are held in one of two forms: real numbers (`values`: CSV
// files, or any data made in code), or, for images of bytes (IDX files:
// MNIST, Fashion-MNIST), the bytes themselves (`pixels`), each standing for
// the input pixel / 255. Bytes take a quarter of the memory, and a
// mini-batch gathered from them a quarter of the memory traffic; the
// network sees the same floats either way. Read inputs through input() and
// input_columns(), which serve both forms.
struct Dataset {
  Matrix<float> values;     // features x examples; one column per example
  PixelMatrix pixels;       // or: features x examples bytes, input = pixel / 255
  std::vector<int> labels;  // the class of each example, in [0, classes)
  Matrix<float> targets;    // regression only: outputs x examples; empty otherwise
  int classes = 0;          // number of classes (1 + the largest label seen)
  std::string source;       // where it came from, for error messages

  bool regression() const { return targets.rows() > 0; }
  long size() const {
    return regression() ? static_cast<long>(targets.cols()) : static_cast<long>(labels.size());
  }
  bool holds_pixels() const { return pixels.rows() > 0; }
  int features() const { return static_cast<int>(holds_pixels() ? pixels.rows() : values.rows()); }
  // Input `feature` of example `example`, and examples [first, first +
  // count)'s inputs, as the network sees them.
  float input(Eigen::Index feature, long example) const {
    return holds_pixels() ? static_cast<float>(pixels(feature, example)) / kPixelScale
                          : values(feature, example);
  }
  Matrix<float> input_columns(long first, long count) const;
  // The inputs that bytes stand for: pixel / 255, in float, on every path.
  template <typename Bytes>
  static auto pixel_inputs(const Eigen::MatrixBase<Bytes>& bytes) {
    return bytes.template cast<float>() / kPixelScale;
  }

  // Examples [first, first + count), copied.
  Dataset slice(long first, long count) const;

  static constexpr float kPixelScale = 255.0f;
};

// Gathers the examples named by `indices` into the columns of x (features x
// m) and their targets (one-hot, or the regression targets) into y
// (outputs x m), converting to T. The
// data set itself is never reordered: shuffling permutes indices only.
template <typename T>
void gather(const Dataset& data, std::span<const int> indices, int outputs, Matrix<T>& x,
            Matrix<T>& y);

// gather() in parts, for a caller that shares the rows of x out among
// threads (the trainer's shared first layer, training.cpp): y, sized here,
// from gather_targets(); rows [begin, end) of x, sized by the caller, from
// gather_inputs() (the same values as gather()'s).
template <typename T>
void gather_targets(const Dataset& data, std::span<const int> indices, int outputs, Matrix<T>& y);
template <typename T>
void gather_inputs(const Dataset& data, std::span<const int> indices, IndexRange rows,
                   Matrix<T>& x);

// Asks the caches to start loading the inputs of the examples named by
// `indices` (valid indices only; others are skipped), without waiting: called
// for the next mini-batch before computing this one, so that its gather finds
// them there instead of waiting on memory for each scattered example.
void prefetch(const Dataset& data, std::span<const int> indices);
// The same for rows [begin, end) of the inputs, and the labels if asked.
void prefetch(const Dataset& data, std::span<const int> indices, IndexRange rows, bool labels);

// Throws InputError if a network with these input and output sizes cannot
// be used on `data` (wrong feature count, a label >= outputs, a number of
// regression targets other than `outputs`).
void check_fits(const Dataset& data, int inputs, int outputs);

}  // namespace backprop
