#!/usr/bin/env bash
# Runs a command as one rank of an Open MPI job, for tests/mpi_test.cpp:
# "@RANK@" in any argument becomes the rank (OMPI_COMM_WORLD_RANK), so
# ranks can be given different files; where BACKPROP_TEST_PID_DIR is set,
# the rank's process id goes to $BACKPROP_TEST_PID_DIR/rank<r>.pid, so a
# test can kill one rank.
set -euo pipefail
rank=${OMPI_COMM_WORLD_RANK:?"per_rank.sh: not started by Open MPI's mpirun"}
if [[ -n ${BACKPROP_TEST_PID_DIR:-} ]]; then
  echo $$ >"$BACKPROP_TEST_PID_DIR/rank$rank.pid"
fi
exec "${@//@RANK@/$rank}"
