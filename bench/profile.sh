#!/usr/bin/env bash
# Profiles one configuration of backprop-bench with perf (Debian: linux-perf) and prints where the
# time goes: the hottest functions, and the same grouped by kind of work.
#
# Usage: bench/profile.sh [A|B|C] [epochs] [build dir]     (default: A 4 build)
# The profile covers the configuration's own process (backprop-bench trains each in a child
# process): loading MNIST (a few percent for A and B, less for C, shown apart) and the training
# epochs, not the sgemm timing. Sampling is by CPU clock, as virtual machines often have no
# hardware counters.
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
  --configs "$config" --epochs "$epochs" --gemm-seconds 0.02 \
  --data-dir "${BACKPROP_DATA:-$root/data}" | grep -E "^Config|seconds per epoch|GFLOP/s  "
# The configuration's process: the one with the most samples.
pid=$(perf report -i "$data/perf.data" --sort pid --stdio -q 2>/dev/null |
  awk '/^ +[0-9]/ { split($2, p, ":"); print p[1]; exit }')
perf report -i "$data/perf.data" --pid "$pid" --no-children --sort sym --stdio -q 2>/dev/null |
  grep -E '^ +[0-9]' >"$data/symbols.txt"

echo
echo "Hottest functions (% of the samples of all processes; this one has $(awk '{ s += $1 } END { printf "%.0f", s }' "$data/symbols.txt")%):"
head -15 "$data/symbols.txt" | cut -c1-150
echo
echo "By kind of work:"
/usr/bin/python3 - "$data/symbols.txt" <<'PY'
import collections, re, sys
groups = [
    ("loading and verifying MNIST (not timed)",
     r"load_idx|read_idx|images_to_inputs|sha256|gz|inflate|copy_to_iter|filemap|fetch|verified"),
    ("GEMM kernel (Eigen gebp)", r"gebp_kernel"),
    ("GEMM packing (Eigen gemm_pack)", r"gemm_pack"),
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
loading = totals.pop("loading and verifying MNIST (not timed)", 0.0)
rest = sum(totals.values())
print(f"  (loading and verifying MNIST, not timed: {100 * loading / (loading + rest):.1f}% of "
      "this process; the shares below are of the rest)")
for name, percent in totals.most_common():
    print(f"  {100 * percent / rest:5.1f}%  {name}")
PY
