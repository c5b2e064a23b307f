// Slicing a data set and gathering mini-batches from it.
#include "backprop/dataset.hpp"

#include "backprop/error.hpp"

namespace backprop {
namespace {

std::string label_outside(const Dataset& data, long example, int outputs) {
  const int label = data.labels[static_cast<std::size_t>(example)];
  return "label " + std::to_string(label) + " of example " + std::to_string(example) + " in " +
         data.source + " is outside the " + std::to_string(outputs) +
         " outputs of the network; use a network with at least " + std::to_string(label + 1) +
         " outputs";
}

std::string targets_mismatch(const Dataset& data, int outputs) {
  return "the network has " + std::to_string(outputs) + " outputs but " + data.source + " has " +
         std::to_string(data.targets.rows()) + " regression targets per example; make the last " +
         "layer " + std::to_string(data.targets.rows()) + " wide";
}

}  // namespace

Dataset Dataset::slice(long first, long count) const {
  if (first < 0 || count < 0 || first > size() - count) {
    throw Error("cannot take examples [" + std::to_string(first) + ", " +
                std::to_string(first + count) + ") of " + source + ", which holds " +
                std::to_string(size()) + "; ask for a range inside it");
  }
  Dataset part;
  if (holds_pixels()) {
    part.pixels = pixels.middleCols(first, count);
  } else {
    part.values = values.middleCols(first, count);
  }
  if (regression()) {
    part.targets = targets.middleCols(first, count);
  } else {
    part.labels.assign(labels.begin() + first, labels.begin() + first + count);
  }
  part.classes = classes;  // a property of the data set, not of which examples were taken
  part.source = source + (count == 0 ? std::string(" (no examples)")
                                     : " (examples " + std::to_string(first) + " to " +
                                           std::to_string(first + count - 1) + ")");
  return part;
}

namespace {

// Always inlined, here and in gather: a function that only prefetches has no
// effect GCC must keep (its analysis of pure and const functions ignores
// prefetches), so a call to one, where GCC sees its body, is dropped with
// its prefetches.
template <typename Value>
[[gnu::always_inline]] inline void prefetch_columns(const Value* values, Eigen::Index features,
                                                    Eigen::Index first, Eigen::Index last,
                                                    std::span<const int> indices, long size) {
  constexpr Eigen::Index kLine = 64 / sizeof(Value);  // values per cache line
  for (const int example : indices) {
    if (example < 0 || example >= size) continue;
    const Value* column = values + static_cast<Eigen::Index>(example) * features;
    for (Eigen::Index i = first; i < last; i += kLine) __builtin_prefetch(column + i);
    // A column need not start on a line: its last value may lie on one more.
    if (last > first) __builtin_prefetch(column + last - 1);
  }
}

// Rows [first, last) of the inputs of the examples named.
[[gnu::always_inline]] inline void prefetch_rows(const Dataset& data, std::span<const int> indices,
                                                 Eigen::Index first, Eigen::Index last) {
  if (data.holds_pixels()) {
    prefetch_columns(data.pixels.data(), data.features(), first, last, indices, data.size());
  } else {
    prefetch_columns(data.values.data(), data.features(), first, last, indices, data.size());
  }
}

[[gnu::always_inline]] inline void prefetch_labels(const Dataset& data,
                                                   std::span<const int> indices) {
  // Read at random like the columns, each a likely miss (a fifth of
  // gather's time for A without this).
  if (!data.regression()) {
    for (const int example : indices) {
      if (example >= 0 && example < data.size()) {
        __builtin_prefetch(data.labels.data() + example);
      }
    }
  }
}

[[gnu::always_inline]] inline void prefetch_inputs(const Dataset& data,
                                                   std::span<const int> indices) {
  prefetch_rows(data, indices, 0, data.features());
  prefetch_labels(data, indices);
}

void check_index(const Dataset& data, int example) {
  // Checked on every path (cheap next to the column copy) so that a bad
  // index is an error, never a read or write out of bounds.
  if (example < 0 || example >= data.size()) {
    throw Error("example index " + std::to_string(example) + " is outside " + data.source +
                ", which holds " + std::to_string(data.size()) + " examples");
  }
}

// Column j of y: example's regression targets, or its label one-hot.
template <typename T>
void gather_target(const Dataset& data, int example, int outputs, Matrix<T>& y, Eigen::Index j) {
  if (data.regression()) {
    if (data.targets.rows() != outputs) throw InputError(targets_mismatch(data, outputs));
    y.col(j) = data.targets.col(example).template cast<T>();
    return;
  }
  const int label = data.labels[static_cast<std::size_t>(example)];
  if (label < 0 || label >= outputs) throw InputError(label_outside(data, example, outputs));
  y(label, j) = T{1};  // one-hot target
}

// Rows [begin, end) of column j of x: those inputs of example.
template <typename T>
void copy_inputs(const Dataset& data, int example, IndexRange rows, Matrix<T>& x, Eigen::Index j) {
  const Eigen::Index count = rows.end - rows.begin;
  auto column = x.col(j).segment(rows.begin, count);
  if (data.holds_pixels()) {
    column = Dataset::pixel_inputs(data.pixels.col(example).segment(rows.begin, count))
                 .template cast<T>();
  } else {
    column = data.values.col(example).segment(rows.begin, count).template cast<T>();
  }
}

}  // namespace

template <typename T>
void gather(const Dataset& data, std::span<const int> indices, int outputs, Matrix<T>& x,
            Matrix<T>& y) {
  const auto m = static_cast<Eigen::Index>(indices.size());
  // Reuse the caller's buffers: gather runs once per mini-batch.
  if (x.rows() != data.features() || x.cols() != m) x.resize(data.features(), m);
  if (y.rows() != outputs || y.cols() != m) y.resize(outputs, m);
  y.setZero();
  // Every line of the mini-batch asked for first, so that the memory system
  // fetches them together; copied column by column, each column's first line
  // would be waited for in turn. (C's 128 examples after a training step,
  // which evicts what the trainer prefetched a step ahead: 70 -> 44 us.)
  prefetch_inputs(data, indices);
  for (Eigen::Index j = 0; j < m; ++j) {
    const int example = indices[static_cast<std::size_t>(j)];
    check_index(data, example);
    copy_inputs(data, example, {0, data.features()}, x, j);
    gather_target(data, example, outputs, y, j);
  }
}

template <typename T>
void gather_targets(const Dataset& data, std::span<const int> indices, int outputs, Matrix<T>& y) {
  const auto m = static_cast<Eigen::Index>(indices.size());
  if (y.rows() != outputs || y.cols() != m) y.resize(outputs, m);
  y.setZero();
  prefetch_labels(data, indices);
  for (Eigen::Index j = 0; j < m; ++j) {
    const int example = indices[static_cast<std::size_t>(j)];
    check_index(data, example);
    gather_target(data, example, outputs, y, j);
  }
}

template <typename T>
void gather_inputs(const Dataset& data, std::span<const int> indices, IndexRange rows,
                   Matrix<T>& x) {
  prefetch_rows(data, indices, rows.begin, rows.end);
  for (Eigen::Index j = 0; j < static_cast<Eigen::Index>(indices.size()); ++j) {
    const int example = indices[static_cast<std::size_t>(j)];
    check_index(data, example);
    copy_inputs(data, example, rows, x, j);
  }
}

void prefetch(const Dataset& data, std::span<const int> indices, IndexRange rows, bool labels) {
  prefetch_rows(data, indices, rows.begin, rows.end);
  if (labels) prefetch_labels(data, indices);
}

void prefetch(const Dataset& data, std::span<const int> indices) { prefetch_inputs(data, indices); }

Matrix<float> Dataset::input_columns(long first, long count) const {
  if (holds_pixels()) return pixel_inputs(pixels.middleCols(first, count));
  return values.middleCols(first, count);
}

template void gather<float>(const Dataset&, std::span<const int>, int, Matrix<float>&,
                            Matrix<float>&);
template void gather<double>(const Dataset&, std::span<const int>, int, Matrix<double>&,
                             Matrix<double>&);
template void gather_targets<float>(const Dataset&, std::span<const int>, int, Matrix<float>&);
template void gather_targets<double>(const Dataset&, std::span<const int>, int, Matrix<double>&);
template void gather_inputs<float>(const Dataset&, std::span<const int>, IndexRange,
                                   Matrix<float>&);
template void gather_inputs<double>(const Dataset&, std::span<const int>, IndexRange,
                                    Matrix<double>&);

void check_fits(const Dataset& data, int inputs, int outputs) {
  if (data.features() != inputs) {
    throw InputError("the network takes " + std::to_string(inputs) + " inputs but " + data.source +
                     " has " + std::to_string(data.features()) +
                     " features per example; make the first layer " +
                     std::to_string(data.features()) + " wide");
  }
  if (data.regression()) {
    if (data.targets.rows() != outputs) throw InputError(targets_mismatch(data, outputs));
    return;
  }
  for (long example = 0; example < data.size(); ++example) {
    const int label = data.labels[static_cast<std::size_t>(example)];
    if (label < 0 || label >= outputs) throw InputError(label_outside(data, example, outputs));
  }
}

}  // namespace backprop
