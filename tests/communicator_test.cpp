// The communicator seam on one process, and the data-parallel split rule.
// (Several ranks are tested end to end under mpirun in mpi_test.cpp.)
#include "backprop/communicator.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "backprop/error.hpp"

namespace backprop {
namespace {

TEST(ShareOf, SplitsAMiniBatchIntoContiguousSharesWithTheRemainderToTheLowestRanks) {
  for (long count : {1L, 2L, 7L, 9L, 10L, 128L, 129L}) {
    for (int size : {1, 2, 3, 4, 8}) {
      long next = 0;
      for (int rank = 0; rank < size; ++rank) {
        const Share share = share_of(count, rank, size);
        EXPECT_EQ(share.first, next) << count << " over " << size << ", rank " << rank;
        // count / size each, one more for the first count % size ranks.
        EXPECT_EQ(share.count, count / size + (rank < count % size ? 1 : 0));
        next += share.count;
      }
      EXPECT_EQ(next, count) << "the shares cover the mini-batch exactly";
    }
  }
  EXPECT_EQ(share_of(9, 0, 2).count, 5);
  EXPECT_EQ(share_of(9, 1, 2).first, 5);
  EXPECT_EQ(share_of(1, 1, 2).count, 0);  // fewer examples than ranks
}

TEST(SingleProcess, IsRankZeroOfOneAndLeavesValuesAsTheyAre) {
  Communicator& one = single_process();
  EXPECT_EQ(one.rank(), 0);
  EXPECT_EQ(one.size(), 1);
  std::vector<float> values{1.5F, -2.0F};
  one.allreduce_sum(values);
  EXPECT_EQ(values, (std::vector<float>{1.5F, -2.0F}));
  EXPECT_EQ(one.lowest_rank_with(true), 0);
  EXPECT_EQ(one.lowest_rank_with(false), -1);
  EXPECT_EQ(first_rank_differing(one, "anything"), -1);
  EXPECT_NO_THROW(require_agreement(one, "digest", "the data", "fix it"));
}

TEST(OnEveryRank, OnOneProcessPassesTheErrorThroughUnchanged) {
  Communicator& one = single_process();
  int calls = 0;
  on_every_rank(one, [&] { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(on_every_rank(one, [] { throw InputError("bad flag"); }), InputError);
  EXPECT_THROW(on_every_rank(one, [] { throw NumericError("diverged"); }), NumericError);
}

TEST(WorldCommunicator, IsOneProcessWithoutAnMpiLauncher) {
  // ctest does not run this under mpirun.
  ASSERT_EQ(std::getenv("OMPI_COMM_WORLD_SIZE"), nullptr);
  const auto world = world_communicator();
  EXPECT_EQ(world->size(), 1);
  EXPECT_EQ(world->rank(), 0);
}

}  // namespace
}  // namespace backprop
