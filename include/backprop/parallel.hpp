// Threads for the work inside a training step.
//
// Work is always cut into the same blocks, chosen from the problem's shape
// alone; the thread count only decides which thread computes which block.
// Every number is therefore computed by the same operations in the same
// order with 1 thread or with N, and training gives bitwise the same
// weights whatever the thread count.
#pragma once

#include <Eigen/Core>
#include <functional>

namespace backprop {

// Threads used from now on (OpenMP); 0 means every core. Returns the count
// in effect.
int set_threads(int threads);
int threads();

// The fixed split of `rows` into at most 8 blocks of at least 128 rows, each
// starting at a multiple of 128 (whole SIMD registers); narrower layers are
// one block, computed as a whole (splitting them costs more than it gains).
int block_count(Eigen::Index rows);

// Calls body(begin, size) for every block of `rows`, in parallel.
void for_each_block(Eigen::Index rows,
                    const std::function<void(Eigen::Index begin, Eigen::Index size)>& body);

// Calls body(begin, end) for one share of [0, count) per thread, in
// parallel, each share a multiple of `granule` long (but the last). For work
// whose result does not depend on how it is cut (copying: packing a
// matrix); below `minimum` items it runs as one share on this thread.
void for_each_share(Eigen::Index count, Eigen::Index granule, Eigen::Index minimum,
                    const std::function<void(Eigen::Index begin, Eigen::Index end)>& body);

}  // namespace backprop
