// libFuzzer harness: Nielsen's network2.py JSON, through read_any_model as
// the command line reads a model (a leading byte order mark or white space
// and '{' choose JSON). Every input must load or be refused with
// InputError; a network that loads must save as JSON and reload with
// bitwise the same parameters.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "backprop/error.hpp"
#include "backprop/model_file.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const backprop::fuzz::FuzzFile file("network2");
  static const backprop::fuzz::FuzzFile copy("network2-copy");
  backprop::ModelFile model;
  try {
    model = backprop::read_any_model(file.write(backprop::fuzz::as_text(data, size)));
  } catch (const backprop::InputError&) {
    return 0;  // refused with a message: what bad input should get
  }
  (void)model.to_network<double>();
  // Only sigmoid networks with the two network2 costs can be written back.
  try {
    backprop::write_network2_json(copy.path(), model);
  } catch (const backprop::InputError&) {
    return 0;
  }
  const backprop::ModelFile again = backprop::read_network2_json(copy.path());
  if (again.spec.sizes != model.spec.sizes || again.parameters.size() != model.parameters.size() ||
      std::memcmp(again.parameters.data(), model.parameters.data(),
                  sizeof(double) * static_cast<std::size_t>(model.parameters.size())) != 0) {
    std::abort();
  }
  return 0;
}
