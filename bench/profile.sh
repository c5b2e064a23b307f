#!/usr/bin/env bash
# Profiles one configuration of backprop-bench with perf (Debian: linux-perf) and prints where the
# time goes: the hottest functions, and the same grouped by kind of work.
#
# Usage: bench/profile.sh [A|B|C] [epochs] [build dir]     (default: A 4 build)
# The profile covers the whole process: the short sgemm timing, loading MNIST (a few percent for
# A and B, less for C) and the training epochs. Sampling is by CPU clock, as virtual machines
# often have no hardware counters.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${1:-A}
epochs=${2:-4}
build_dir=${3:-$root/build}
command -v perf >/dev/null 2>&1 || { echo "profile: needs perf (Debian: linux-perf)" >&2; exit 1; }
if [[ ! -x "$build_dir/backprop-bench" ]]; then
  echo "profile: no $build_dir/backprop-bench: build the backprop_bench target first" >&2
  exit 1
fi

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
perf record -e cpu-clock -F 2000 -o "$data/perf.data" -- "$build_dir/backprop-bench" \
  --configs "$config" --epochs "$epochs" --gemm-seconds 0.02 --in-process \
  --data-dir "${BACKPROP_DATA:-$root/data}" | grep -E "^Config|seconds per epoch|GFLOP/s  "
perf report -i "$data/perf.data" --no-children --sort sym --stdio -q 2>/dev/null |
  grep -E '^ +[0-9]' >"$data/symbols.txt"

echo
echo "Hottest functions (% of samples):"
head -15 "$data/symbols.txt" | cut -c1-150
echo
echo "By kind of work (% of samples):"
/usr/bin/python3 - "$data/symbols.txt" <<'PY'
import collections, re, sys
groups = [
    ("loading and verifying MNIST (not timed)",
     r"load_idx|read_idx|images_to_inputs|sha256|gz|inflate|copy_to_iter|filemap|fetch|verified"),
    ("GEMM kernel (Eigen gebp)", r"gebp_kernel"),
    ("GEMM packing (Eigen gemm_pack)", r"gemm_pack"),
    ("sgemm timing (OpenBLAS, random matrices)", r"sgemm|openblas|blas_|random"),
    ("numeric guards and other work inlined into the training loop", r"Trainer<.*>::train_epoch"),
    ("gathering mini-batches", r"gather"),
    ("optimizer step", r"Optimizer|sgd|step"),
    ("activations, costs, deltas", r"exp|log|activate|derivative|cost|delta|softmax|logistic"),
    ("memory (memset, memcpy, malloc)", r"mem(set|cpy|move)|malloc|free|_int_"),
    ("kernel", r"\[k\]"),
]
totals = collections.Counter()
for line in open(sys.argv[1]):
    percent, symbol = float(line.split("%")[0]), line.split("%", 1)[1]
    for name, pattern in groups:
        if re.search(pattern, symbol):
            totals[name] += percent
            break
    else:
        totals["other"] += percent
for name, percent in totals.most_common():
    print(f"  {percent:5.1f}%  {name}")
PY
