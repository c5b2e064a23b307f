// The ranks of an MPI job (Open MPI), through MPI's C interface.
//
// Only the main thread calls MPI (MPI_THREAD_FUNNELED): the OpenMP threads
// inside a step never do. Errors keep MPI's default handler,
// MPI_ERRORS_ARE_FATAL, so a rank that dies ends the whole job through the
// launcher rather than leaving the others waiting.
#include "mpi_communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>

#include "backprop/error.hpp"

namespace backprop {
namespace {

// MPI counts are int: longer buffers go in pieces of this many elements.
constexpr std::size_t kPiece = std::size_t{1} << 30;

template <typename T>
void allreduce_in_place(std::span<T> values, MPI_Datatype type) {
  for (std::size_t first = 0; first < values.size(); first += kPiece) {
    const auto count = static_cast<int>(std::min(kPiece, values.size() - first));
    MPI_Allreduce(MPI_IN_PLACE, values.data() + first, count, type, MPI_SUM, MPI_COMM_WORLD);
  }
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      throw Error("MPI_Init failed: check the MPI installation and the mpirun command line");
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm host = MPI_COMM_NULL;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &host);
    MPI_Comm_size(host, &ranks_on_host_);
    MPI_Comm_free(&host);
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;
  MpiCommunicator(MpiCommunicator&&) = delete;
  MpiCommunicator& operator=(MpiCommunicator&&) = delete;
  ~MpiCommunicator() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int ranks_on_this_host() const override { return ranks_on_host_; }

  // With MPI_SUM the result is the same on every rank. Over two ranks each
  // element is one addition, a + b = b + a exactly, so it is also the same
  // from run to run; over more, Open MPI picks its algorithm from the
  // message size and rank count alone, and the trainer checks each epoch
  // that the ranks' weights still agree.
  void allreduce_sum(std::span<float> values) override { allreduce_in_place(values, MPI_FLOAT); }
  void allreduce_sum(std::span<double> values) override { allreduce_in_place(values, MPI_DOUBLE); }

  void broadcast(std::span<std::byte> bytes, int root) override {
    for (std::size_t first = 0; first < bytes.size(); first += kPiece) {
      const auto count = static_cast<int>(std::min(kPiece, bytes.size() - first));
      MPI_Bcast(bytes.data() + first, count, MPI_BYTE, root, MPI_COMM_WORLD);
    }
  }

  int lowest_rank_with(bool flag) override {
    int lowest = flag ? rank_ : size_;
    MPI_Allreduce(MPI_IN_PLACE, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return lowest == size_ ? -1 : lowest;
  }

  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this is in case it does
  }

 private:
  int rank_ = 0;
  int size_ = 1;
  int ranks_on_host_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiCommunicator>();
}

}  // namespace backprop
