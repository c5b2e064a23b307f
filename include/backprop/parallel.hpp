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

// Work too short for an OpenMP region (a few microseconds: the steps of
// mini-batches of 10) is shared out among a team of threads that spin
// between calls: a call costs a fifth of a microsecond, not three quarters.
// Calls body(share) for each share in [0, shares), share s on thread s mod
// threads() (thread 0 is the caller), so that a share's data stays in one
// core's caches from call to call, unless that thread has not taken it up
// by the time the caller is done with its own: then the caller runs it
// (another process may have the helper's core). Where the caller has still
// waited long for a helper, the next calls run on the caller alone, for
// longer each time it happens again; set_threads() forgets this. Which
// thread runs a share never changes what it computes. Returns when every
// share is done; an exception thrown by a share is rethrown here. Called
// from inside a share, or from a second thread while the team is busy, it
// runs the shares in order on the calling thread; so do more than 32
// shares.
void for_each_pinned_share(int shares, const std::function<void(int share)>& body);

// The shares of a first layer's inputs (the data's features) for narrow
// mini-batches: two, cut at a multiple of 16 (a cache line of floats) near
// the middle, for 512 inputs or more; one below. Returns the first input of
// the second share, or `inputs` when there is one. From the shape alone, so
// that the same sums are computed with any thread count.
Eigen::Index input_cut(Eigen::Index inputs);

}  // namespace backprop
