// libFuzzer harness: backprop's binary model file (docs/file-formats.md).
//
// The file ends with a CRC-32 of everything before its END section, so
// nearly every mutation would stop at "checksum mismatch". Where the input
// ends in an END section, the harness writes the right checksum into it
// first, so the fuzzer reaches the sections behind the checksum. Every
// input must load or be refused with InputError; a model that loads must
// build its network and survive a save and a reload unchanged.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backprop/error.hpp"
#include "backprop/model_file.hpp"
#include "fuzz_file.hpp"

namespace {

// "END " tag, 8-byte length 4, CRC-32: the last 16 bytes of a sound file.
constexpr std::size_t kEndBytes = 16;

void fix_checksum(std::string& bytes) {
  if (bytes.size() < kEndBytes) return;
  const std::size_t end = bytes.size() - kEndBytes;
  if (bytes.compare(end, 4, "END ") != 0) return;
  const auto crc = static_cast<std::uint32_t>(
      crc32_z(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), end));
  for (int i = 0; i < 4; ++i) {
    bytes[bytes.size() - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
}

bool same(const backprop::ModelFile& a, const backprop::ModelFile& b) {
  return a.spec.sizes == b.spec.sizes && a.spec.activations == b.spec.activations &&
         a.spec.cost == b.spec.cost && a.precision == b.precision &&
         a.parameters.size() == b.parameters.size() &&
         std::memcmp(a.parameters.data(), b.parameters.data(),
                     sizeof(double) * static_cast<std::size_t>(a.parameters.size())) == 0 &&
         a.settings == b.settings && a.state.has_value() == b.state.has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const backprop::fuzz::FuzzFile file("model");
  static const backprop::fuzz::FuzzFile copy("model-copy");
  std::string bytes(backprop::fuzz::as_text(data, size));
  fix_checksum(bytes);
  backprop::ModelFile model;
  try {
    model = backprop::read_model_file(file.write(bytes));
  } catch (const backprop::InputError&) {
    return 0;  // refused with a message: what bad input should get
  }
  // Accepted: the network must build, and the model must save and reload as it was.
  (void)model.to_network<double>();
  if (model.precision == backprop::Precision::float32) (void)model.to_network<float>();
  backprop::write_model_file(copy.path(), model);
  if (!same(model, backprop::read_model_file(copy.path()))) std::abort();
  return 0;
}
