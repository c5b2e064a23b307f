// libFuzzer harness: a raw IDX file. Every input must either load or be
// refused with InputError; an accepted file must hold exactly the bytes its
// header declares, and the images loader must agree with it.
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>

#include "backprop/error.hpp"
#include "backprop/idx.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const backprop::fuzz::FuzzFile file("idx-raw");
  const auto& path = file.write(backprop::fuzz::as_text(data, size));
  try {
    const backprop::IdxArray array = backprop::read_idx(path);
    const std::uint64_t declared = std::accumulate(array.dims.begin(), array.dims.end(),
                                                   std::uint64_t{1}, std::multiplies<>());
    if (array.dims.empty() || declared != array.data.size()) std::abort();
    const backprop::Matrix<float> images = backprop::load_idx_images(path);
    if (static_cast<std::uint64_t>(images.cols()) != array.dims[0]) std::abort();
    if (images.size() > 0 && (images.minCoeff() < 0.0f || images.maxCoeff() > 1.0f)) std::abort();
  } catch (const backprop::InputError&) {
    // Refused with a message: what bad input should get.
  }
  return 0;
}
