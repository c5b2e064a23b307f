// The MPI communicator, built only with BACKPROP_MPI (see communicator.hpp).
#pragma once

#include <memory>

#include "backprop/communicator.hpp"

namespace backprop {

// Joins MPI_COMM_WORLD (MPI_Init); the communicator's destructor leaves it
// (MPI_Finalize). One per process. Throws Error if MPI cannot start.
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace backprop
