#!/usr/bin/env bash
# The main job from a fresh machine: install, build in Release, fetch MNIST
# and train the book's chapter-1 network. Extra arguments go to `backprop train`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
./build/backprop train "$@"
