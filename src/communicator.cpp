#include "backprop/communicator.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

#include "backprop/error.hpp"
#include "mpi_communicator.hpp"

namespace backprop {
namespace {

// Sends root's string to every rank: its length first, then its bytes.
std::string broadcast_string(Communicator& communicator, std::string text, int root) {
  std::uint64_t length = text.size();
  communicator.broadcast(std::as_writable_bytes(std::span(&length, 1)), root);
  text.resize(length);
  communicator.broadcast(std::as_writable_bytes(std::span(text)), root);
  return text;
}

// The number of ranks an MPI launcher started this process among, or 0
// where none did: Open MPI's mpirun, and the PMI and PMIx launchers of
// MPICH and Slurm.
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value);
  }
  return 0;
}

}  // namespace

void SingleProcess::abort(int exit_code) { std::_Exit(exit_code); }

Communicator& single_process() {
  static SingleProcess communicator;
  return communicator;
}

std::unique_ptr<Communicator> world_communicator() {
  const int ranks = launched_ranks();
  if (ranks == 0) return std::make_unique<SingleProcess>();
#ifdef BACKPROP_WITH_MPI
  return make_mpi_communicator();
#else
  if (ranks > 1) {
    throw InputError("started as one of " + std::to_string(ranks) +
                     " MPI ranks, but this backprop was built without MPI: install Open MPI "
                     "(libopenmpi-dev) and rebuild with -DBACKPROP_MPI=ON, or run one process");
  }
  return std::make_unique<SingleProcess>();
#endif
}

Share share_of(long count, int rank, int size) {
  const long base = count / size;
  const long extra = count % size;  // one more each for ranks 0 .. extra - 1
  return {rank * base + std::min<long>(rank, extra), base + (rank < extra ? 1 : 0)};
}

int first_rank_differing(Communicator& communicator, std::string_view bytes) {
  if (communicator.size() == 1) return -1;
  const std::string root = broadcast_string(communicator, std::string(bytes), 0);
  return communicator.lowest_rank_with(root != bytes);
}

void require_agreement(Communicator& communicator, std::string_view digest, const std::string& what,
                       const std::string& fix) {
  const int rank = first_rank_differing(communicator, digest);
  if (rank >= 0) {
    throw InputError(what + " differs between rank 0 and rank " + std::to_string(rank) + ": " +
                     fix);
  }
}

void on_every_rank(Communicator& communicator, const std::function<void()>& work) {
  if (communicator.size() == 1) {
    work();
    return;
  }
  enum Kind : char { kError = 'E', kInput = 'I', kNumeric = 'N' };
  std::string failure;  // kind, then the message; empty when the work succeeded
  try {
    work();
  } catch (const InputError& e) {
    failure = std::string(1, kInput) + e.what();
  } catch (const NumericError& e) {
    failure = std::string(1, kNumeric) + e.what();
  } catch (const std::exception& e) {
    failure = std::string(1, kError) + e.what();
  }
  const int failed = communicator.lowest_rank_with(!failure.empty());
  if (failed < 0) return;
  failure = broadcast_string(communicator, failure, failed);
  std::string message = failure.substr(1);
  if (failed != 0) message = "on rank " + std::to_string(failed) + ": " + message;
  if (failure.front() == kInput) throw InputError(message);
  if (failure.front() == kNumeric) throw NumericError(message);
  throw Error(message);
}

}  // namespace backprop
