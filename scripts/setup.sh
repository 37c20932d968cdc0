#!/usr/bin/env bash
# Installs the Debian packages PrefLab needs (once) and builds it into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread libgloo-dev
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  qt6-base-dev qt6-svg-dev libqcustomplot-dev
  libopencv-dev dataset-fashion-mnist zlib1g-dev
  libpcre2-dev libicu-dev libsentencepiece-dev libsqlite3-dev
  xvfb python3-torch
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build_type="${PREFLAB_BUILD_TYPE:-Release}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" ${PREFLAB_CMAKE_ARGS:-}
cmake --build build -j "$(nproc)"
