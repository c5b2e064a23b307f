#!/usr/bin/env bash
# From a fresh machine: install, build, run the whole test suite, then build
# and run the examples against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
bash scripts/test_package.sh
