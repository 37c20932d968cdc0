#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and PyTorch: builds preflab-cli and the Diffusion-DPO step
# benchmark against PyTorch's own LibTorch (CUDA), then reports steps/s of one Diffusion-DPO step
# at 64 pairs (128 images) on CUDA and on the CPU, and runs a short image preference run on CUDA.
#
# Usage: scripts/gpu_diffusion_bench.sh [BUILD_DIR] [OUT_DIR]
#   BUILD_DIR defaults to build-gpu, OUT_DIR to $OUT or build-gpu/results.
# Needs: cmake, ninja or make, a C++17 compiler, python3 with torch (CUDA build), and the headers
# of yaml-cpp, nlohmann-json, CLI11 and zlib (installed with apt-get when missing and root).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build-gpu}
OUT=${2:-${OUT:-$BUILD/results}}
mkdir -p "$BUILD" "$OUT"

source "$ROOT/scripts/gpu_common.sh"
gpu_build preflab-cli preflab-bench-diffusion-dpo

# Step rate at 64 pairs: CUDA first (20 timed steps), then the CPU (all cores, 3 timed steps).
"$BUILD/bench/preflab-bench-diffusion-dpo" --device cuda --pairs 64 --steps 20 --warmup 3 | tee "$OUT/bench.jsonl"
"$BUILD/bench/preflab-bench-diffusion-dpo" --device cpu --pairs 64 --steps 3 --warmup 1 | tee -a "$OUT/bench.jsonl"
python3 - "$OUT/bench.jsonl" <<'PY' | tee "$OUT/bench.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {r["device"].split(":")[0]: r for r in rows}
print("| device | steps/s | images/s |\n|---|---:|---:|")
for r in rows:
    print(f"| {r['device']} | {r['steps_per_s']:.2f} | {r['images_per_s']:.0f} |")
if "cuda" in by and "cpu" in by:
    print(f"\nCUDA / CPU: {by['cuda']['steps_per_s'] / by['cpu']['steps_per_s']:.1f}x")
PY

# A short DSPO run on CUDA from the IDX data (no image files needed).
cd "$ROOT"
"$BUILD/app/preflab-cli" train experiments/fashion-dspo/dspo.yaml --overwrite -q device=cuda \
  train_file=fashion-mnist max_steps=100 eval_steps=50 "output_dir=$OUT/dspo-cuda" | tail -25
