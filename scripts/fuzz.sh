#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/ (or $FUZZ_BUILD_DIR) and runs each
# for FUZZ_SECONDS seconds (default 60), starting from the seeds in
# fuzz/corpus/<harness>/. Inputs the fuzzer finds go to build-fuzz/corpus/, never
# into the repository; a crash leaves its input in build-fuzz/artifacts/ and fails
# the script. Any single allocation above FUZZ_MALLOC_MB (default 256 MiB) counts as
# a crash: no input of at most 64 KiB may make a parser allocate that much.
#
#   bash scripts/fuzz.sh                      # every harness, 60 s each
#   FUZZ_SECONDS=10 bash scripts/fuzz.sh model_file network2_json
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
malloc_mb=${FUZZ_MALLOC_MB:-256}

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1 and line tables only: quick to compile, fast enough to fuzz, and stack traces
# still name the lines.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DBACKPROP_FUZZ=ON -DBACKPROP_BUILD_TESTS=OFF -DBACKPROP_BUILD_BENCH=OFF "${launcher[@]}" \
  >/dev/null

harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  for source in fuzz/*_fuzzer.cpp; do
    name=$(basename "$source" .cpp)
    harnesses+=("${name%_fuzzer}")
  done
fi
cmake --build "$build_dir" -j "$(nproc)" --target "${harnesses[@]/%/_fuzzer}"

mkdir -p "$build_dir/artifacts"
for name in "${harnesses[@]}"; do
  corpus="$build_dir/corpus/$name"
  mkdir -p "$corpus"
  echo "fuzz: $name for ${seconds} s"
  log="$build_dir/$name.log"
  if ! "$build_dir/fuzz/${name}_fuzzer" "$corpus" "fuzz/corpus/$name" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb="$malloc_mb" -print_final_stats=1 \
      -artifact_prefix="$build_dir/artifacts/$name-" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $name FAILED: the input is in $build_dir/artifacts/" >&2
    exit 1
  fi
  # The last status line (#runs, cov, ft, corpus) and the total executions.
  grep -E '^#[0-9]+' "$log" | tail -n 1
  grep -E 'stat::number_of_executed_units' "$log"
done
