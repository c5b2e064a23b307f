// The IDX file format of MNIST (LeCun et al.), raw or gzip-compressed.
//
// Layout: two zero bytes, a type byte (0x08 = unsigned byte), a byte giving
// the number of dimensions d, then d big-endian uint32 sizes, then the data
// in row-major order. Only unsigned-byte data is read: that is what MNIST,
// Fashion-MNIST and their kin use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "backprop/dataset.hpp"

namespace backprop {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // product(dims) bytes, row-major
};

// Reads a raw or gzip IDX file (detected by the gzip magic). Throws
// InputError naming the file for: a missing or unreadable file, a wrong
// magic, an unsupported type, a header whose sizes do not match the data,
// or one claiming more than `max_bytes` of data (checked before anything
// is allocated).
IdxArray read_idx(const std::filesystem::path& path,
                  std::uint64_t max_bytes = std::uint64_t{1} << 34);

// Writes an IDX file, gzip-compressed if `gzip` is set.
void write_idx(const std::filesystem::path& path, const IdxArray& array, bool gzip = false);

// Reads an images file (N x d1 x ...) alone: one column of d1 x ... pixels
// per image, scaled to [0, 1].
Matrix<float> load_idx_images(const std::filesystem::path& images);

// Reads an images file (N x d1 x ... ) and a labels file (N) into a data
// set: pixels scaled to [0, 1], one column per image. Throws InputError if
// the counts differ or the labels file is not one-dimensional.
Dataset load_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels);

}  // namespace backprop
