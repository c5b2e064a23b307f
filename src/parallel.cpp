#include "backprop/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <thread>

namespace backprop {
namespace {

constexpr Eigen::Index kMinimumRows = 128;
constexpr int kMaximumBlocks = 8;

int threads_in_effect = 1;

Eigen::Index block_rows(Eigen::Index rows) {
  const Eigen::Index per_block = (rows + kMaximumBlocks - 1) / kMaximumBlocks;
  // Round up to a multiple of 16 rows.
  return std::max(kMinimumRows, (per_block + kMinimumRows - 1) / kMinimumRows * kMinimumRows);
}

}  // namespace

int set_threads(int threads) {
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  threads_in_effect = threads <= 0 ? cores : threads;
  omp_set_num_threads(threads_in_effect);
  return threads_in_effect;
}

int threads() { return threads_in_effect; }

int block_count(Eigen::Index rows) {
  const Eigen::Index size = block_rows(rows);
  return static_cast<int>((rows + size - 1) / size);
}

void for_each_block(Eigen::Index rows,
                    const std::function<void(Eigen::Index begin, Eigen::Index size)>& body) {
  const Eigen::Index size = block_rows(rows);
  const int blocks = block_count(rows);
  const auto run = [&](int block) {
    const Eigen::Index begin = block * size;
    body(begin, std::min(size, rows - begin));
  };
  if (threads_in_effect == 1 || blocks == 1) {
    for (int block = 0; block < blocks; ++block) run(block);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads_in_effect)
  for (int block = 0; block < blocks; ++block) run(block);
}

void for_each_share(Eigen::Index count, Eigen::Index granule, Eigen::Index minimum,
                    const std::function<void(Eigen::Index begin, Eigen::Index end)>& body) {
  const Eigen::Index granules = (count + granule - 1) / granule;
  const auto shares =
      static_cast<int>(count < minimum ? 1 : std::min<Eigen::Index>(threads_in_effect, granules));
  if (shares <= 1) {
    body(0, count);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(shares)
  for (int share = 0; share < shares; ++share) {
    const Eigen::Index begin = granules * share / shares * granule;
    const Eigen::Index end = std::min(count, granules * (share + 1) / shares * granule);
    body(begin, end);
  }
}

}  // namespace backprop
