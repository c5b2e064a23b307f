// libFuzzer harness: CSV data (include/backprop/csv.hpp), parsed from memory.
// The first byte chooses the options (header detected, present or absent;
// classification or regression; target the last column or the first), the
// rest is the text. Every input must load or be refused with InputError; a
// data set that loads has one column of finite inputs per example, and
// classes that cover its labels.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backprop/csv.hpp"
#include "backprop/error.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  backprop::CsvOptions options;
  constexpr backprop::CsvHeader kHeaders[] = {
      backprop::CsvHeader::detect, backprop::CsvHeader::present, backprop::CsvHeader::absent};
  options.header = kHeaders[data[0] % 3];
  options.regression = (data[0] & 4) != 0;
  if ((data[0] & 8) != 0) options.target = "1";
  const std::string_view text = backprop::fuzz::as_text(data + 1, size - 1);
  backprop::Dataset set;
  try {
    set = backprop::parse_csv(text, "fuzz.csv", options);
  } catch (const backprop::InputError&) {
    return 0;  // refused with a message: what bad input should get
  }
  if (set.size() <= 0 || set.values.cols() != set.size()) std::abort();
  if (!set.values.array().isFinite().all()) std::abort();
  if (set.regression()) {
    if (!set.targets.array().isFinite().all()) std::abort();
  } else if (std::ranges::any_of(set.labels,
                                 [&](int label) { return label < 0 || label >= set.classes; })) {
    std::abort();
  }
  return 0;
}
