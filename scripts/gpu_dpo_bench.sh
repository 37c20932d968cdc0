#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and PyTorch: builds preflab-cli and the DPO step benchmark
# against PyTorch's own LibTorch (CUDA, no UI), then times one DPO step (policy forward and
# backward, reference forward, AdamW) at bf16 autocast on GPT-2-124M and on a SmolLM-135M-shaped
# Llama, in C++ and in plain Python PyTorch, and prints tokens/s, the C++/Python ratio and MFU.
# Then it checks the trainer itself on CUDA: a short bf16 DPO run, and the same run on two
# data-parallel processes sharing the GPU.
#
# Usage: scripts/gpu_dpo_bench.sh [BUILD_DIR] [OUT_DIR]
#   BUILD_DIR defaults to build-gpu, OUT_DIR to $OUT or BUILD_DIR/results.
#   PEAK_TFLOPS: the GPU's dense bf16 peak for MFU (default: 989 for H100/H200, else required).
# Needs: cmake, a C++17 compiler, python3 with torch (CUDA build), the headers of yaml-cpp,
# nlohmann-json, CLI11 and zlib (installed with apt-get when missing and root).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build-gpu}
OUT=${2:-${OUT:-$BUILD/results}}
mkdir -p "$BUILD" "$OUT"

source "$ROOT/scripts/gpu_common.sh"
gpu_build preflab-cli preflab-bench-dpo
GPU=$(python3 -c 'import torch; print(torch.cuda.get_device_name(0))')
if [[ -z ${PEAK_TFLOPS:-} ]]; then
  case $GPU in
    *H100* | *H200*) PEAK_TFLOPS=989 ;; # dense bf16, SXM
    *A100*) PEAK_TFLOPS=312 ;;
    *) echo "set PEAK_TFLOPS (dense bf16 TFLOP/s of $GPU) for MFU" >&2; PEAK_TFLOPS=0 ;;
  esac
fi

GPT2=(--arch gpt2 --layers 12 --heads 12 --d 768 --vocab 50257 --block 512 --pairs 8)
SMOL=(--arch llama --layers 30 --heads 9 --kv-heads 3 --d 576 --mlp 1536 --vocab 49152 --block 512 --pairs 8)
: >"$OUT/bench.jsonl"
for model in gpt2 smollm; do
  if [[ $model == gpt2 ]]; then shape=("${GPT2[@]}"); else shape=("${SMOL[@]}"); fi
  for impl in cpp python; do
    if [[ $impl == cpp ]]; then cmd=("$BUILD/bench/preflab-bench-dpo"); else cmd=(python3 "$ROOT/bench/dpo_step_bench.py"); fi
    line=$("${cmd[@]}" "${shape[@]}" --device cuda --bf16 --steps 20 --warmup 3 | tail -n 1)
    echo "{\"model\": \"$model\", \"result\": $line}" | tee -a "$OUT/bench.jsonl"
  done
done
python3 - "$OUT/bench.jsonl" "$PEAK_TFLOPS" "$GPU" <<'PY' | tee "$OUT/bench.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peak = float(sys.argv[2]) * 1e12
print(f"One DPO step, bf16 autocast, 8 pairs of 512 tokens, on {sys.argv[3]}:\n")
print("| model | params | C++ tokens/s | Python tokens/s | C++ / Python | C++ MFU | Python MFU |")
print("|---|---:|---:|---:|---:|---:|---:|")
for model in ("gpt2", "smollm"):
    r = {x["result"]["impl"]: x["result"] for x in rows if x["model"] == model}
    c, p = r["cpp"], r["python"]
    mfu = lambda x: f"{100 * x['model_flops_per_s'] / peak:.1f}%" if peak > 0 else "n/a"
    print(f"| {model} | {c['params'] / 1e6:.1f} M | {c['tokens_per_s']:,.0f} | {p['tokens_per_s']:,.0f} | "
          f"{c['tokens_per_s'] / p['tokens_per_s']:.2f}x | {mfu(c)} | {mfu(p)} |")
PY

# The trainer on CUDA: the tiny DPO run at bf16, then on two processes sharing the GPU.
cd "$ROOT"
cli="$BUILD/app/preflab-cli"
"$cli" train tests/data/tiny_train/config.yaml --overwrite -q device=cuda bf16=true \
  train_file=tests/data/tiny_train/pairs.jsonl "output_dir=$OUT/tiny-cuda" | tail -5
# Data parallel needs Gloo's headers at build time (a PyTorch wheel may lack them: cmake.log warns).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for rank in 1 0; do
  RANK=$rank WORLD_SIZE=2 LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$cli" train tests/data/tiny_train/config.yaml --overwrite -q device=cuda bf16=true \
    train_file=tests/data/tiny_train/pairs.jsonl "output_dir=$OUT/tiny-cuda-2" >"$OUT/dp-rank$rank.txt" 2>&1 &
done
wait || true
tail -3 "$OUT/dp-rank0.txt" "$OUT/dp-rank1.txt"
if [[ -f $OUT/tiny-cuda-2/metrics.jsonl ]]; then
  python3 - "$OUT/tiny-cuda/metrics.jsonl" "$OUT/tiny-cuda-2/metrics.jsonl" <<'PY' | tee "$OUT/dp.txt"
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
la = [r["loss"] for r in a if "loss" in r]
lb = [r["loss"] for r in b if "loss" in r]
print("one process vs two on CUDA, bf16:", len(la), "and", len(lb), "steps; largest loss difference",
      max(abs(x - y) for x, y in zip(la, lb)))
PY
fi
