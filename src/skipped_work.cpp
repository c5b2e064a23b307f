#include "backprop/skipped_work.hpp"

#include <atomic>

namespace backprop {

namespace {
std::atomic<std::int64_t> skipped{0};
}  // namespace

std::int64_t skipped_multiply_adds() { return skipped.load(std::memory_order_relaxed); }

void count_skipped_multiply_adds(std::int64_t count) {
  if (count > 0) skipped.fetch_add(count, std::memory_order_relaxed);
}

}  // namespace backprop
