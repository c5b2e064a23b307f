#!/usr/bin/env bash
# From a fresh machine: install, build, and run the whole test suite; build and
# run the examples against the installed package (scripts/test_package.sh); then the
# same suite under AddressSanitizer + UndefinedBehaviorSanitizer and the threaded
# tests under ThreadSanitizer (scripts/sanitize.sh), then every fuzzer for
# FUZZ_SECONDS (default 60) seconds each (scripts/fuzz.sh). CI runs all of it;
# BACKPROP_QUICK=1 stops after the ordinary suite and the package, for a quick local check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
bash scripts/test_package.sh
if [[ ${BACKPROP_QUICK:-0} == 1 ]]; then
  echo "test: BACKPROP_QUICK=1: skipped the sanitizer builds and the fuzzers"
  exit 0
fi
bash scripts/sanitize.sh
bash scripts/fuzz.sh
