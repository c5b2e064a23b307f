#!/usr/bin/env bash
# The C++ package as a user gets it: installs the finished build (build/, or
# $BUILD_DIR) into a temporary prefix, builds the programs in examples/
# against it with CMake's find_package(backprop CONFIG), builds the XOR one
# again with pkg-config, and runs them. Rebuilds nothing of the library.
#
# The MNIST example uses MNIST if it is in the data folder ($BACKPROP_DATA,
# else ./data), else Fashion-MNIST (same format) from Debian's
# dataset-fashion-mnist, so that it needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "package: installing into a temporary prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libbackprop.a -o -name 'libbackprop.so' | head -n 1)")
for file in bin/backprop include/backprop/network.hpp include/backprop/version.hpp \
            share/bash-completion/completions/backprop; do
  [[ -f $prefix/$file ]] || { echo "package: $file was not installed" >&2; exit 1; }
done
for file in cmake/backprop/backpropConfig.cmake cmake/backprop/backpropConfigVersion.cmake \
            cmake/backprop/backpropTargets.cmake pkgconfig/backprop.pc; do
  [[ -f $libdir/$file ]] || { echo "package: $libdir/$file was not installed" >&2; exit 1; }
done
"$prefix/bin/backprop" --version

for example in xor mnist; do
  echo "package: building examples/$example with find_package(backprop CONFIG)"
  cmake -S "examples/$example" -B "$work/$example" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/$example" -j "$(nproc)" >/dev/null
done

echo "package: building examples/xor with pkg-config"
# shellcheck disable=SC2046  # pkg-config's output is meant to split into words
${CXX:-c++} -O2 examples/xor/xor.cpp -o "$work/xor-pkg-config" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs backprop)

"$work/xor/xor"
"$work/xor-pkg-config" >/dev/null

data=${BACKPROP_DATA:-data}
if [[ -f $data/mnist/train-images-idx3-ubyte ]]; then
  dataset=mnist
elif [[ -f $data/fashion-mnist/train-images-idx3-ubyte ]]; then
  dataset=fashion-mnist
else
  dataset=fashion-mnist
  data=$work/data
fi
"$work/mnist/mnist" "$data" "$dataset" "$work/model.bpm"
# The installed command reads what the installed library wrote.
"$prefix/bin/backprop" inspect "$work/model.bpm" | head -n 1
echo "package: OK"
