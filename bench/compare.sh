#!/usr/bin/env bash
# Trains configurations A, B and C with backprop-bench and with PyTorch (float32) in the same
# run, with the same thread count, and prints both medians and the ratio PyTorch / backprop.
#
# Usage: bench/compare.sh [--threads N] [--build-dir DIR] [options of compare_pytorch.py]
#   e.g. bench/compare.sh --epochs 3 --repeats 2 --configs A,B,C --data-dir data
# The environment reaches both sides: an OPENBLAS_CORETYPE in it holds PyTorch's OpenBLAS to
# that core's kernels (e.g. Haswell: AVX2 only); OPENBLAS_CORETYPE=SkylakeX bench/compare.sh gives
# it AVX-512 kernels. The default run takes about 3-4 minutes on 2 cores.
#
# Installs what it needs from Debian if missing: python3-torch, python3-numpy and OpenBLAS
# (without OpenBLAS, Debian's PyTorch falls back to the reference BLAS, which would make the
# comparison meaningless). Builds backprop-bench in the build directory (default: build/,
# configured as Release if it is not configured yet).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$root/build"
threads=1
pass=()
while (($# > 0)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --threads=*) threads="${1#*=}"; shift ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    -h|--help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exec /usr/bin/python3 "$root/bench/compare_pytorch.py" --help ;;
    *) pass+=("$1"); shift ;;
  esac
done

# Debian's python3 (not a pyenv or virtualenv on PATH) sees the Debian packages.
python=/usr/bin/python3

packages=(python3 python3-numpy python3-torch libopenblas0-pthread)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 ||
      { echo "compare: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "compare: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

# Configure if needed, and bring backprop-bench up to date (a no-op when it is).
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build_dir" --target backprop_bench -j "$(nproc)" >&2
bench="$build_dir/backprop-bench"

# One thread setting for both sides: OpenMP (PyTorch's intra-op pool), OpenBLAS, MKL.
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
exec "$python" "$root/bench/compare_pytorch.py" --bench "$bench" --threads "$threads" \
  ${pass[@]+"${pass[@]}"}
