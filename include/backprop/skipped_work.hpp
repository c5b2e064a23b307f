// How much arithmetic the product kernels have left out.
//
// The packed products skip the multiply-adds by rows of zeros of their
// right factor (the pixels' zeros, ReLU's: packed_product.hpp), which leaves
// every value bit for bit as the whole sum would. (The narrow products of
// mini-batches up to 16 do not: finding the rows of zeros of 5 or 10 images
// took longer than the multiply-adds it saved, layer 1 of configuration A
// 2.6 -> 3.4 us forward and 4.3 -> 6.4 us for its gradient.) Benchmarks count
// the work of the formulas; to compare a rate with the machine's peak they
// need the work performed, which is that less what this counts.
#pragma once

#include <cstdint>

namespace backprop {

// The multiply-adds (of one value by another) the products of this process
// have skipped so far, on all threads.
std::int64_t skipped_multiply_adds();

// Adds to that count: for the kernels, once per call.
void count_skipped_multiply_adds(std::int64_t count);

}  // namespace backprop
