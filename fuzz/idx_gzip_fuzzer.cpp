// libFuzzer harness: gzip IDX files, two ways.
//
// An input that starts with gzip's magic (1f 8b) is a gzip file as it is:
// corrupt, cut short or a bomb, it must load or be refused with InputError.
// Any other input is the uncompressed content of an IDX file: the harness
// reads it raw, then gzips it and reads it again, and the two must agree
// (both refused, or both the same array), so the gzip path, which cannot
// know the data's size in advance, is checked against the raw one.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <optional>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "fuzz_file.hpp"

namespace {

std::optional<backprop::IdxArray> read_or_refuse(const std::filesystem::path& path) {
  try {
    return backprop::read_idx(path);
  } catch (const backprop::InputError&) {
    return std::nullopt;
  }
}

void write_gzip(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  gzFile out = gzopen(path.c_str(), "wb1");
  if (out == nullptr) std::abort();
  if (size > 0 && gzwrite(out, data, static_cast<unsigned>(size)) != static_cast<int>(size)) {
    std::abort();
  }
  if (gzclose(out) != Z_OK) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const backprop::fuzz::FuzzFile raw("idx-gzip-raw");
  static const backprop::fuzz::FuzzFile gzip("idx-gzip");
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    const auto array = read_or_refuse(gzip.write(backprop::fuzz::as_text(data, size)));
    if (array && array->dims.empty()) std::abort();
    return 0;
  }
  const auto from_raw = read_or_refuse(raw.write(backprop::fuzz::as_text(data, size)));
  write_gzip(gzip.path(), data, size);
  const auto from_gzip = read_or_refuse(gzip.path());
  if (from_raw.has_value() != from_gzip.has_value()) std::abort();
  if (from_raw && (from_raw->dims != from_gzip->dims || from_raw->data != from_gzip->data)) {
    std::abort();
  }
  return 0;
}
