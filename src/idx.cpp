// Reading and writing IDX files, raw or gzip.
//
// A header is only a claim: its sizes are checked against the limit and, for
// raw files, against the file's size before anything is allocated, and gzip
// data is read in chunks so that a tiny stream claiming gigabytes costs
// nothing. zlib's gzread also reads raw files as they are, so one reader
// serves both.
#include "backprop/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "backprop/error.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kUnsignedByte = 0x08;
constexpr std::size_t kChunk = std::size_t{4} << 20;  // gzip data is read this much at a time
constexpr std::string_view kRefetch = "re-download it (for MNIST: `backprop fetch mnist`)";

[[noreturn]] void fail(const fs::path& path, const std::string& problem, std::string_view hint) {
  throw InputError(path.string() + ": " + problem + "; " + std::string(hint));
}

std::string type_name(std::uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "16-bit integer";
    case 0x0C:
      return "32-bit integer";
    case 0x0D:
      return "32-bit float";
    case 0x0E:
      return "64-bit float";
    default:
      return "unknown";
  }
}

std::string hex_byte(std::uint8_t byte) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string{'0', 'x', kDigits[byte >> 4], kDigits[byte & 0xF]};
}

std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
  return text;
}

struct GzClose {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

// An open IDX file, raw or gzip, with the error reporting read_idx needs.
class IdxReader {
 public:
  explicit IdxReader(const fs::path& path) : path_(path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) {
      fail(path, "no such file", "check the path (for MNIST: `backprop fetch mnist`)");
    }
    if (fs::is_directory(status)) fail(path, "is a directory, not an IDX file", "name a file");
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) {
      fail(path, std::string("cannot open: ") + std::strerror(errno), "check permissions");
    }
    gzbuffer(file_.get(), 1 << 17);
    gzip_ = gzdirect(file_.get()) == 0;
    if (!gzip_) raw_size_ = fs::file_size(path, error);
  }

  bool gzip() const { return gzip_; }
  std::uint64_t raw_size() const { return raw_size_; }

  // Reads up to `size` bytes and returns how many came; fewer only at the end
  // of the data. Throws on corrupt gzip data or a gzip stream cut short.
  std::size_t read(void* buffer, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(size - total, 1u << 30));
      const int got = gzread(file_.get(), static_cast<char*>(buffer) + total, chunk);
      if (got <= 0) break;
      total += static_cast<std::size_t>(got);
    }
    int status = Z_OK;
    const char* message = gzerror(file_.get(), &status);
    // zlib reports a stream that ends before its trailer as Z_BUF_ERROR.
    if (status == Z_BUF_ERROR) {
      fail(path_, "truncated: the gzip stream breaks off (the file is cut short)", kRefetch);
    }
    if (status != Z_OK) fail(path_, std::string("corrupt gzip data (") + message + ")", kRefetch);
    return total;
  }

 private:
  fs::path path_;
  GzFile file_;
  bool gzip_ = false;
  std::uint64_t raw_size_ = 0;
};

// Reads the dims after the 4-byte magic and checks they can describe data.
std::vector<std::uint32_t> read_dims(IdxReader& reader, const fs::path& path, int count) {
  if (count == 0) fail(path, "the header declares no dimensions", "check that this is an IDX file");
  std::vector<std::uint8_t> bytes(4 * static_cast<std::size_t>(count));
  if (reader.read(bytes.data(), bytes.size()) < bytes.size()) {
    fail(path,
         "truncated header: it declares " + std::to_string(count) +
             " dimensions but the file ends before their sizes",
         kRefetch);
  }
  std::vector<std::uint32_t> dims(count);
  for (int i = 0; i < count; ++i) {
    const std::uint8_t* b = &bytes[4 * static_cast<std::size_t>(i)];  // big-endian
    dims[i] =
        std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  }
  for (int i = 0; i < count; ++i) {
    if (dims[i] == 0) {
      fail(path,
           "dimension " + std::to_string(i + 1) + " of " + std::to_string(count) +
               " is zero (dims " + dims_text(dims) + "), so the file holds no data",
           "use a data set with at least one example");
    }
  }
  return dims;
}

// The number of data bytes the dims declare, refused above `max_bytes`
// (which also rules out overflow, since max_bytes fits in 64 bits).
std::uint64_t data_size(const std::vector<std::uint32_t>& dims, std::uint64_t max_bytes,
                        const fs::path& path) {
  std::uint64_t size = 1;
  for (const std::uint32_t dim : dims) {
    if (size > max_bytes / dim) {
      fail(path,
           "the header declares dims " + dims_text(dims) + ", more than the limit of " +
               std::to_string(max_bytes) + " bytes of data",
           "the file is corrupt or not an IDX file; re-download it");
    }
    size *= dim;
  }
  return size;
}

}  // namespace

IdxArray read_idx(const fs::path& path, std::uint64_t max_bytes) {
  IdxReader reader(path);
  std::uint8_t magic[4];
  const std::size_t got = reader.read(magic, sizeof magic);
  if (got == 0) fail(path, "the file is empty", kRefetch);
  if (got < sizeof magic) {
    fail(path, "truncated header: the file holds " + std::to_string(got) + " bytes", kRefetch);
  }
  if (magic[0] != 0 || magic[1] != 0) {
    fail(path,
         "not an IDX file: it starts with " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) +
             " instead of two zero bytes",
         "give an MNIST-format IDX file, raw or gzip");
  }
  if (magic[2] != kUnsignedByte) {
    fail(path,
         "unsupported IDX type " + hex_byte(magic[2]) + " (" + type_name(magic[2]) +
             "); only unsigned-byte (0x08) IDX files are supported",
         "convert the data to unsigned bytes");
  }

  IdxArray array;
  array.dims = read_dims(reader, path, magic[3]);
  const std::uint64_t size = data_size(array.dims, max_bytes, path);
  const std::string declared = "the header declares " + std::to_string(size) + " bytes of data";

  if (!reader.gzip()) {
    // A raw file's size is known: compare before allocating.
    const std::uint64_t header = 4 + 4 * std::uint64_t{magic[3]};
    const std::uint64_t held = reader.raw_size() > header ? reader.raw_size() - header : 0;
    if (held < size) {
      fail(path, "truncated: " + declared + " but the file holds " + std::to_string(held),
           kRefetch);
    }
    if (held > size) {
      fail(path, "extra bytes: " + declared + " but the file holds " + std::to_string(held),
           kRefetch);
    }
    array.data.resize(size);
    if (reader.read(array.data.data(), size) < size) {
      fail(path, "truncated: the file shrank while being read", "read it again");
    }
    return array;
  }

  // gzip: the stream's length is unknown until read, so grow as data comes.
  std::uint64_t have = 0;
  while (have < size) {
    const std::size_t want = std::min<std::uint64_t>(kChunk, size - have);
    array.data.resize(have + want);
    const std::size_t got_now = reader.read(array.data.data() + have, want);
    have += got_now;
    if (got_now < want) {
      fail(path,
           "truncated: " + declared + " but the decompressed file holds " + std::to_string(have),
           kRefetch);
    }
  }
  std::uint8_t extra;
  if (reader.read(&extra, 1) != 0) {
    fail(path, "extra bytes: " + declared + " but the decompressed file holds more", kRefetch);
  }
  return array;
}

void write_idx(const fs::path& path, const IdxArray& array, bool gzip) {
  std::uint64_t size = 1;
  for (const std::uint32_t dim : array.dims) {
    size *= dim;
    if (size == 0 || size > array.data.size()) break;  // stops before any overflow
  }
  if (array.dims.empty() || array.dims.size() > 255 || size != array.data.size()) {
    throw Error(path.string() + ": cannot write IDX: dims " + dims_text(array.dims) +
                " do not describe the " + std::to_string(array.data.size()) +
                " bytes given; give 1 to 255 nonzero dims whose product is the data size");
  }
  // "T" makes zlib write the bytes as they are: one writer for both forms.
  GzFile file(gzopen(path.c_str(), gzip ? "wb" : "wbT"));
  if (!file) {
    throw Error(path.string() + ": cannot create: " + std::strerror(errno) +
                "; check that the folder exists and is writable");
  }
  std::vector<std::uint8_t> header{0, 0, kUnsignedByte,
                                   static_cast<std::uint8_t>(array.dims.size())};
  for (const std::uint32_t dim : array.dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      header.push_back(static_cast<std::uint8_t>(dim >> shift));
    }
  }
  auto write = [&](const std::uint8_t* bytes, std::size_t count) {
    while (count > 0) {
      const auto chunk = static_cast<unsigned>(std::min<std::size_t>(count, 1u << 30));
      if (gzwrite(file.get(), bytes, chunk) != static_cast<int>(chunk)) {
        int status = Z_OK;
        throw Error(path.string() + ": cannot write: " + gzerror(file.get(), &status) +
                    "; check the free disk space");
      }
      bytes += chunk;
      count -= chunk;
    }
  };
  write(header.data(), header.size());
  write(array.data.data(), array.data.size());
  if (gzclose(file.release()) != Z_OK) {
    throw Error(path.string() + ": cannot finish writing; check the free disk space");
  }
}

namespace {

PixelMatrix images_to_pixels(const fs::path& path, const IdxArray& images) {
  const std::uint64_t count = images.dims[0];
  const std::uint64_t features = images.data.size() / count;  // 1 for a 1-D file
  if (count > INT_MAX || features > INT_MAX) {
    fail(path, "dims " + dims_text(images.dims) + " are too large (limit 2^31 - 1 each)",
         "split the data set into smaller files");
  }
  // Row-major images are one contiguous block per example: exactly the
  // column-major features x examples layout.
  return Eigen::Map<const PixelMatrix>(images.data.data(), static_cast<Eigen::Index>(features),
                                       static_cast<Eigen::Index>(count));
}

}  // namespace

Matrix<float> load_idx_images(const fs::path& images) {
  return Dataset::pixel_inputs(images_to_pixels(images, read_idx(images)));
}

Dataset load_idx_dataset(const fs::path& images, const fs::path& labels) {
  // Labels first: they are small, and a wrong file shows up before the images are read.
  const IdxArray label_array = read_idx(labels);
  if (label_array.dims.size() != 1) {
    fail(labels,
         "a labels file must be one-dimensional, but this one has dims " +
             dims_text(label_array.dims),
         "give the *-labels-idx1-ubyte file here");
  }
  const IdxArray image_array = read_idx(images);
  const std::uint64_t count = image_array.dims[0];
  if (count != label_array.dims[0]) {
    throw InputError(images.string() + " holds " + std::to_string(count) + " images but " +
                     labels.string() + " holds " + std::to_string(label_array.dims[0]) +
                     " labels; give the labels file that belongs to these images");
  }

  Dataset data;
  data.pixels = images_to_pixels(images, image_array);
  data.labels.assign(label_array.data.begin(), label_array.data.end());
  data.classes = 1 + *std::max_element(data.labels.begin(), data.labels.end());
  data.source = images.string();
  return data;
}

}  // namespace backprop
