// How much arithmetic the product kernels have left out.
//
// The packed products skip the multiply-adds by rows of zeros of their
// right factor (the pixels' zeros, ReLU's: packed_product.hpp), and the
// narrow products of mini-batches up to 16 those by the zeros of their
// narrow factor (narrow_product.hpp), which leaves every value bit for bit
// as the whole sum would. Benchmarks count the work of the formulas; to
// compare a rate with the machine's peak they need the work performed,
// which is that less what this counts.
#pragma once

#include <cstdint>

namespace backprop {

// The multiply-adds (of one value by another) the products of this process
// have skipped so far, on all threads.
std::int64_t skipped_multiply_adds();

// Adds to that count: for the kernels, once per call.
void count_skipped_multiply_adds(std::int64_t count);

}  // namespace backprop
