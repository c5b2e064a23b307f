// The data-parallel seam: the ranks of a run and what they exchange.
//
// Every rank holds the whole network and takes a share of each global
// mini-batch; the trainer sums the ranks' gradients with allreduce_sum on
// the one gradient buffer, so every rank takes the same step. Layers and
// optimizers know nothing of this. One process is the default
// (single_process()); src/mpi_communicator.cpp joins the ranks of an MPI
// job (`mpirun -np N backprop train ...`) when built with BACKPROP_MPI.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace backprop {

class Communicator {
 public:
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  Communicator(Communicator&&) = delete;
  Communicator& operator=(Communicator&&) = delete;
  virtual ~Communicator() = default;

  virtual int rank() const = 0;  // 0 .. size() - 1
  virtual int size() const = 0;
  // Ranks sharing this machine's cores (to divide the threads among them).
  virtual int ranks_on_this_host() const = 0;

  // Replaces `values` on every rank by their element-wise sum over the
  // ranks. Every rank receives the same bits.
  virtual void allreduce_sum(std::span<float> values) = 0;
  virtual void allreduce_sum(std::span<double> values) = 0;
  // Copies `root`'s bytes over every other rank's.
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  // The lowest rank whose `flag` is true, or -1 where no rank's is; every
  // rank receives the same answer.
  virtual int lowest_rank_with(bool flag) = 0;
  virtual void barrier() = 0;
  // Ends every rank's process now with this exit code: for an error that
  // one rank alone meets while the others may be waiting for it.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// A run of one process: sums and broadcasts leave the values as they are.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int ranks_on_this_host() const override { return 1; }
  void allreduce_sum(std::span<float> /*values*/) override {}
  void allreduce_sum(std::span<double> /*values*/) override {}
  void broadcast(std::span<std::byte> /*bytes*/, int /*root*/) override {}
  int lowest_rank_with(bool flag) override { return flag ? 0 : -1; }
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override;
};

// The default communicator, shared by every single-process run.
Communicator& single_process();

// The communicator of this process: an MPI one when it was started by an
// MPI launcher (mpirun) and the library was built with MPI, else a single
// process. Throws InputError if a launcher started several ranks but the
// library was built without MPI (they would each train alone).
std::unique_ptr<Communicator> world_communicator();

// The data-parallel split of a global mini-batch of `count` examples:
// rank r takes a contiguous share, count / p examples each and one more
// for the first count % p ranks. It depends only on the mini-batch (and so
// on the seed and epoch that ordered it), never on timing.
struct Share {
  long first = 0;  // offset in the mini-batch
  long count = 0;  // may be 0 when the mini-batch is smaller than p
};
Share share_of(long count, int rank, int size);

// The lowest rank whose `bytes` differ from rank 0's, or -1 if all agree.
int first_rank_differing(Communicator& communicator, std::string_view bytes);

// Throws InputError on every rank, together, when `digest` differs between
// ranks: "<what> differs between rank 0 and rank r: <fix>".
void require_agreement(Communicator& communicator, std::string_view digest, const std::string& what,
                       const std::string& fix);

// Runs `work` (which must not communicate) on every rank. If it throws on
// any rank, every rank then throws the lowest failing rank's error, with
// its message and kind (InputError or Error), so that all stop together
// instead of waiting for the one that failed.
void on_every_rank(Communicator& communicator, const std::function<void()>& work);

}  // namespace backprop
