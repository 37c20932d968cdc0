# Shared by the GPU scripts (sourced, with ROOT, BUILD and OUT set): installs the few build
# packages when missing (as root, with apt-get), then configures BUILD against Python PyTorch's own
# LibTorch (CUDA, no UI, no tests, no OpenCV) and builds the targets given, logs in OUT.
# Usage: gpu_build TARGET...
gpu_build() {
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    local need=() p
    for p in cmake ninja-build libyaml-cpp-dev nlohmann-json3-dev libcli11-dev zlib1g-dev; do
      dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [[ ${#need[@]} -gt 0 ]]; then
      apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null || true
    fi
  fi
  local prefix generator=()
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpus", torch.cuda.device_count(),
    torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' | tee "$OUT/torch.txt"
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$ROOT" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DPREFLAB_BUILD_UI=OFF -DPREFLAB_BUILD_TESTS=OFF -DPREFLAB_WITH_OPENCV=OFF -DPREFLAB_BUILD_BENCH=ON \
    >"$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
  cmake --build "$BUILD" -j "$(nproc)" --target "$@" >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
}
