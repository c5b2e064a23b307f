#!/usr/bin/env bash
# The test suite under the sanitizers, built with clang:
#
# 1. AddressSanitizer + UndefinedBehaviorSanitizer: the library, the command and
#    every test, in build-asan/, and the whole ctest suite. Any report stops the
#    program (-fno-sanitize-recover=all), so the test fails. Eigen's own bounds and
#    size assertions stay on (no NDEBUG).
# 2. ThreadSanitizer: the tests that use threads (parallel_test, packed_product_test,
#    training_test, concurrency_test), in build-tsan/. Training's threads come from OpenMP; with
#    clang that is LLVM's libomp, whose Archer tool (libarcher.so, loaded by libomp
#    itself when the program is built with TSan) tells TSan about OpenMP's barriers
#    and joins. libomp's own code is not instrumented, so TSan is told to ignore
#    what happens inside it (ignore_noninstrumented_modules=1), as Archer's
#    documentation asks. GCC's libgomp has no such tool, which is why this build
#    uses clang.
#
# The kernels' register tiles depend on the instruction set (16-lane packets,
# 32 registers and masked loads with AVX-512; 8 lanes and 16 registers with
# AVX2), so the AddressSanitizer build takes AVX2 + FMA (x86-64-v3, the kind of
# machine the speed targets are set on) while the ordinary build
# (scripts/build.sh) and the ThreadSanitizer build take this machine's own
# (-march=native): on an AVX-512 machine both kinds of tile are tested.
#
#   bash scripts/sanitize.sh           # both
#   bash scripts/sanitize.sh asan      # or tsan: one of them
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
jobs=$(nproc)
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# The bench is not tested here; -O1 keeps the sanitized builds quick to compile.
common=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=None -DBACKPROP_BUILD_BENCH=OFF
        "${launcher[@]}")

if [[ $which == all || $which == asan ]]; then
  echo "sanitize: AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite, AVX2 + FMA kernels"
  cmake -S . -B build-asan "${common[@]}" -DBACKPROP_NATIVE=OFF >/dev/null \
    -DCMAKE_CXX_FLAGS="-march=x86-64-v3 -O1 -gline-tables-only -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
  cmake --build build-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi

if [[ $which == all || $which == tsan ]]; then
  echo "sanitize: ThreadSanitizer, the tests that use threads"
  cmake -S . -B build-tsan "${common[@]}" >/dev/null \
    -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only -fno-omit-frame-pointer -fsanitize=thread"
  tests=(parallel_test packed_product_test training_test concurrency_test)
  cmake --build build-tsan -j "$jobs" --target "${tests[@]}"
  for test in "${tests[@]}"; do
    echo "sanitize: $test under ThreadSanitizer"
    OMP_NUM_THREADS=4 TSAN_OPTIONS=ignore_noninstrumented_modules=1:halt_on_error=1 \
      "build-tsan/tests/$test" --gtest_brief=1
  done
fi
