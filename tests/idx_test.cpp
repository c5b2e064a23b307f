// IDX files: round trips raw and gzip, and every malformed file refused with
// a message naming the file and the problem.
#include "backprop/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "largest_allocation.hpp"
#include "temp_dir.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes header(std::uint8_t type, std::initializer_list<std::uint32_t> dims) {
  Bytes bytes{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<std::uint8_t>(dim >> shift));
    }
  }
  return bytes;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void write_raw(const fs::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const fs::path& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(file), Z_OK);
}

Bytes read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Bytes pattern(std::size_t size) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return bytes;
}

// The message of the InputError that read_idx throws, checked to name the file.
std::string read_error(const fs::path& path, std::uint64_t max_bytes = std::uint64_t{1} << 34) {
  try {
    read_idx(path, max_bytes);
  } catch (const InputError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find(path.filename().string()), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "read_idx accepted " << path;
  return "";
}

#define EXPECT_CONTAINS(text, phrase) \
  EXPECT_NE(std::string(text).find(phrase), std::string::npos) << (text)

class IdxRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(IdxRoundTrip, WritesAndReadsBackEveryShape) {
  const bool gzip = GetParam();
  test::TempDir dir;
  for (const std::vector<std::uint32_t>& dims :
       {std::vector<std::uint32_t>{5}, {3, 4, 5}, {2, 3, 4, 5}, {1000, 28, 28}}) {
    std::size_t size = 1;
    for (const auto dim : dims) size *= dim;
    const IdxArray written{dims, pattern(size)};
    const fs::path path = dir / "array";
    write_idx(path, written, gzip);
    const IdxArray read = read_idx(path);
    EXPECT_EQ(read.dims, written.dims);
    EXPECT_EQ(read.data, written.data);
  }
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxRoundTrip, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "gzip" : "raw"; });

TEST(Idx, RawFileIsHeaderThenData) {
  test::TempDir dir;
  write_idx(dir / "raw", IdxArray{{2, 3}, pattern(6)});
  EXPECT_EQ(read_raw(dir / "raw"), header(0x08, {2, 3}) + pattern(6));
  write_idx(dir / "gz", IdxArray{{2, 3}, pattern(6)}, true);
  const Bytes gz = read_raw(dir / "gz");
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(gz[0], 0x1f);
  EXPECT_EQ(gz[1], 0x8b);
}

TEST(Idx, WriteRefusesDimsThatDoNotMatchTheData) {
  test::TempDir dir;
  EXPECT_THROW(write_idx(dir / "x", IdxArray{{2, 3}, pattern(5)}), Error);
  EXPECT_THROW(write_idx(dir / "x", IdxArray{{}, pattern(1)}), Error);
  EXPECT_THROW(write_idx(dir / "x", IdxArray{{3, 0}, {}}), Error);
  EXPECT_THROW(write_idx(dir / "no-such-folder" / "x", IdxArray{{1}, pattern(1)}), Error);
}

TEST(Idx, MissingFile) {
  test::TempDir dir;
  EXPECT_CONTAINS(read_error(dir / "train-images-idx3-ubyte"), "no such file");
}

TEST(Idx, Directory) {
  test::TempDir dir;
  fs::create_directory(dir / "images");
  EXPECT_CONTAINS(read_error(dir / "images"), "directory");
}

TEST(Idx, EmptyFile) {
  test::TempDir dir;
  write_raw(dir / "empty", {});
  EXPECT_CONTAINS(read_error(dir / "empty"), "empty");
  write_gzip(dir / "empty.gz", {});
  EXPECT_CONTAINS(read_error(dir / "empty.gz"), "empty");
}

TEST(Idx, TruncatedHeader) {
  test::TempDir dir;
  write_raw(dir / "short-magic", {0, 0});
  EXPECT_CONTAINS(read_error(dir / "short-magic"), "truncated header");
  write_raw(dir / "short-dims", {0, 0, 8, 3, 0, 0, 0, 2, 0});
  EXPECT_CONTAINS(read_error(dir / "short-dims"), "truncated header");
  write_gzip(dir / "short-dims.gz", {0, 0, 8, 3, 0, 0, 0, 2, 0});
  EXPECT_CONTAINS(read_error(dir / "short-dims.gz"), "truncated header");
}

TEST(Idx, TruncatedData) {
  test::TempDir dir;
  const Bytes cut = header(0x08, {10, 10}) + pattern(50);
  write_raw(dir / "raw", cut);
  const std::string raw = read_error(dir / "raw");
  EXPECT_CONTAINS(raw, "truncated");
  EXPECT_CONTAINS(raw, "declares 100 bytes of data but the file holds 50");
  write_gzip(dir / "gz", cut);
  const std::string gz = read_error(dir / "gz");
  EXPECT_CONTAINS(gz, "truncated");
  EXPECT_CONTAINS(gz, "declares 100 bytes");
}

TEST(Idx, GzipStreamCutShort) {
  test::TempDir dir;
  write_idx(dir / "whole.gz", IdxArray{{100, 100}, pattern(10000)}, true);
  Bytes gz = read_raw(dir / "whole.gz");
  for (const std::size_t cut : {std::size_t{4}, gz.size() / 2}) {  // trailer gone; data cut
    write_raw(dir / "cut.gz", Bytes(gz.begin(), gz.end() - static_cast<long>(cut)));
    EXPECT_CONTAINS(read_error(dir / "cut.gz"), "truncated");
  }
}

TEST(Idx, ExtraBytesAfterTheData) {
  test::TempDir dir;
  const Bytes longer = header(0x08, {4}) + pattern(7);
  write_raw(dir / "raw", longer);
  EXPECT_CONTAINS(read_error(dir / "raw"), "extra bytes");
  write_gzip(dir / "gz", longer);
  EXPECT_CONTAINS(read_error(dir / "gz"), "extra bytes");
}

TEST(Idx, WrongMagic) {
  test::TempDir dir;
  write_raw(dir / "pic.png", Bytes{0x89, 'P', 'N', 'G', 0, 0, 0, 1} + pattern(1));
  const std::string message = read_error(dir / "pic.png");
  EXPECT_CONTAINS(message, "not an IDX file");
  EXPECT_CONTAINS(message, "0x89");
}

TEST(Idx, UnsupportedType) {
  test::TempDir dir;
  write_raw(dir / "floats", header(0x0D, {2}) + pattern(8));
  const std::string message = read_error(dir / "floats");
  EXPECT_CONTAINS(message, "unsupported IDX type 0x0D (32-bit float)");
  EXPECT_CONTAINS(message, "only unsigned-byte");
}

TEST(Idx, ZeroDimension) {
  test::TempDir dir;
  write_raw(dir / "zero", header(0x08, {3, 0, 2}));
  EXPECT_CONTAINS(read_error(dir / "zero"), "dimension 2 of 3 is zero");
  write_raw(dir / "none", header(0x08, {}));
  EXPECT_CONTAINS(read_error(dir / "none"), "no dimensions");
}

TEST(Idx, AbsurdSizeRefusedWithoutAllocating) {
  test::TempDir dir;
  // 2^128 bytes: the product overflows 64 bits.
  write_raw(dir / "huge", header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  // 2^33 bytes: under the default limit, but the data is not there.
  write_raw(dir / "big", header(0x08, {2, 0x10000, 0x10000}) + pattern(100));
  write_gzip(dir / "big.gz", header(0x08, {2, 0x10000, 0x10000}) + pattern(100));

  largest_allocation = 0;
  EXPECT_CONTAINS(read_error(dir / "huge"), "more than the limit");
  EXPECT_CONTAINS(read_error(dir / "big"), "truncated");
  EXPECT_CONTAINS(read_error(dir / "big.gz"), "truncated");
  EXPECT_LT(largest_allocation.load(), std::size_t{64} << 20);
}

TEST(Idx, LimitIsChecked) {
  test::TempDir dir;
  write_idx(dir / "hundred", IdxArray{{10, 10}, pattern(100)});
  EXPECT_CONTAINS(read_error(dir / "hundred", 99), "more than the limit of 99 bytes");
  EXPECT_EQ(read_idx(dir / "hundred", 100).data.size(), 100u);
}

TEST(Idx, CorruptGzip) {
  test::TempDir dir;
  write_idx(dir / "good.gz", IdxArray{{100, 100}, pattern(10000)}, true);
  Bytes gz = read_raw(dir / "good.gz");
  gz[gz.size() - 6] ^= 0xFF;  // inside the CRC-32 of the trailer
  write_raw(dir / "bad-crc.gz", gz);
  EXPECT_CONTAINS(read_error(dir / "bad-crc.gz"), "corrupt gzip");
  write_raw(dir / "bad-method.gz", {0x1f, 0x8b, 0x63, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4});
  EXPECT_CONTAINS(read_error(dir / "bad-method.gz"), "corrupt gzip");
}

TEST(IdxDataset, ScalesPixelsAndCountsClasses) {
  test::TempDir dir;
  write_idx(dir / "images", IdxArray{{3, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40}});
  write_idx(dir / "labels.gz", IdxArray{{3}, {2, 0, 5}}, true);
  const Dataset data = load_idx_dataset(dir / "images", dir / "labels.gz");
  ASSERT_EQ(data.size(), 3);
  ASSERT_EQ(data.features(), 4);
  EXPECT_EQ(data.input(0, 0), 0.0f);
  EXPECT_EQ(data.input(1, 0), 1.0f);
  EXPECT_EQ(data.input(2, 0), 51.0f / 255.0f);
  EXPECT_EQ(data.input(3, 2), 40.0f / 255.0f);  // example 2 is column 2, row-major pixels down it
  EXPECT_EQ(data.labels, (std::vector<int>{2, 0, 5}));
  // Held as the bytes themselves (a quarter of the memory of floats); a
  // gathered mini-batch, and the inputs taken in columns, hold byte / 255.
  ASSERT_TRUE(data.holds_pixels());
  EXPECT_EQ(data.pixels(2, 0), 51);
  EXPECT_EQ(data.values.size(), 0);
  Matrix<float> x;
  Matrix<float> y;
  const std::vector<int> order{2, 0, 1};
  gather(data, std::span<const int>(order), 6, x, y);
  const Matrix<float> columns = data.input_columns(1, 2);
  const std::uint8_t bytes[3][4] = {{0, 255, 51, 102}, {1, 2, 3, 4}, {10, 20, 30, 40}};
  for (int j = 0; j < 3; ++j) {
    for (int k = 0; k < 4; ++k) {
      const float want = static_cast<float>(bytes[order[j]][k]) / 255.0f;
      EXPECT_EQ(x(k, j), want) << "pixel " << k << " of example " << order[j];
      if (j > 0) EXPECT_EQ(columns(k, j - 1), static_cast<float>(bytes[j][k]) / 255.0f);
    }
  }
  EXPECT_EQ(data.classes, 6);
  EXPECT_CONTAINS(data.source, "images");
}

TEST(IdxDataset, OneDimensionalImagesHaveOneFeature) {
  test::TempDir dir;
  write_idx(dir / "values", IdxArray{{4}, {0, 85, 170, 255}});
  write_idx(dir / "labels", IdxArray{{4}, {0, 1, 1, 0}});
  const Dataset data = load_idx_dataset(dir / "values", dir / "labels");
  EXPECT_EQ(data.features(), 1);
  EXPECT_EQ(data.size(), 4);
  EXPECT_FLOAT_EQ(data.input(0, 2), 170.0f / 255.0f);
}

TEST(IdxDataset, CountMismatch) {
  test::TempDir dir;
  write_idx(dir / "train-images", IdxArray{{3, 2}, pattern(6)});
  write_idx(dir / "t10k-labels", IdxArray{{2}, {0, 1}});
  try {
    load_idx_dataset(dir / "train-images", dir / "t10k-labels");
    FAIL() << "accepted 3 images with 2 labels";
  } catch (const InputError& error) {
    EXPECT_CONTAINS(error.what(), "train-images holds 3 images");
    EXPECT_CONTAINS(error.what(), "t10k-labels holds 2 labels");
  }
}

TEST(IdxDataset, LabelsMustBeOneDimensional) {
  test::TempDir dir;
  write_idx(dir / "images", IdxArray{{3, 2}, pattern(6)});
  try {
    load_idx_dataset(dir / "images", dir / "images");
    FAIL() << "accepted a 2-D labels file";
  } catch (const InputError& error) {
    EXPECT_CONTAINS(error.what(), "one-dimensional");
    EXPECT_CONTAINS(error.what(), "dims 3 x 2");
  }
}

}  // namespace
}  // namespace backprop
