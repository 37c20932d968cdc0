#!/usr/bin/env bash
# Runs the C++ and Python Diffusion-DPO step benchmarks alternately on one shape and prints a
# Markdown table of steps/s and C++ / Python per round, then the medians.
#
# Usage: bench/run_diffusion_bench.sh PATH/TO/preflab-bench-diffusion-dpo [ROUNDS] [-- bench arguments]
#   e.g. bench/run_diffusion_bench.sh build/bench/preflab-bench-diffusion-dpo 3
# Builds nothing. Arguments default to the C++ bench's defaults, with the thread count explicit:
# --pairs 64 --steps 10 --warmup 2 --threads 2. Arguments after "--" replace them and go to both
# programs unchanged (--model DIR, --device cpu|cuda, --pairs, --steps, --warmup, --threads).
# PYTHON selects the interpreter (default /usr/bin/python3, Debian's python3-torch: the same
# libtorch as the C++ side).
set -euo pipefail

if [[ $# -lt 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH/TO/preflab-bench-diffusion-dpo [ROUNDS] [-- bench arguments]" >&2
  exit 2
fi
CPP_BENCH=$1
shift
ROUNDS=3
if [[ $# -gt 0 && $1 != "--" ]]; then
  ROUNDS=$1
  shift
fi
[[ $# -gt 0 && $1 == "--" ]] && shift
SHAPE=(--pairs 64 --steps 10 --warmup 2 --threads 2)
[[ $# -gt 0 ]] && SHAPE=("$@")

PYTHON=${PYTHON:-/usr/bin/python3}
PY_BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/diffusion_dpo_step_bench.py"
# One OpenBLAS thread in both processes, set before torch loads (both programs also call
# openblas_set_num_threads(1)); no OMP_NUM_THREADS: both call set_num_threads(--threads).
export OPENBLAS_NUM_THREADS=1
# libgomp reads its wait policy once, at load; passive waiting keeps a shared machine's scheduler
# noise out of the ratio (see README, DPO findings). OMP_WAIT_POLICY=default runs with libgomp's
# own default (unset); ACTIVE or PASSIVE pass through.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[[ $OMP_WAIT_POLICY == default ]] && unset OMP_WAIT_POLICY

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

for ((r = 1; r <= ROUNDS; r++)); do
  # Alternate which side goes first so drift on a shared machine does not favour one.
  if ((r % 2)); then order=(cpp python); else order=(python cpp); fi
  for impl in "${order[@]}"; do
    if [[ $impl == cpp ]]; then
      out=$("$CPP_BENCH" "${SHAPE[@]}")
    else
      out=$("$PYTHON" "$PY_BENCH" "${SHAPE[@]}")
    fi
    while IFS= read -r line; do # one JSON line per --device
      [[ $line == \{* ]] || continue
      echo "$line" >&2
      echo "$r $impl ${order[0]} $line" >>"$LOG"
    done <<<"$out"
  done
done

echo
echo "Arguments: ${SHAPE[*]}; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}; $ROUNDS rounds, C++ and Python"
echo "alternately (the first side alternates). steps/s = timed steps / their total wall time."
echo
"$PYTHON" - "$LOG" <<'EOF'
import json, statistics, sys
runs = {}  # (device, round) -> {impl: record}
firsts = {}
for line in open(sys.argv[1]):
    rnd, impl, first, rec = line.split(" ", 3)
    rec = json.loads(rec)
    runs.setdefault((rec["device"], int(rnd)), {})[impl] = rec
    firsts[int(rnd)] = first
print("| device | round | first | C++ steps/s | Python steps/s | C++ / Python |")
print("|---|---:|---|---:|---:|---:|")
for device in sorted({d for d, _ in runs}):
    cpp, py, ratios = [], [], []
    for (d, rnd), sides in sorted(runs.items()):
        if d != device or len(sides) != 2:
            continue
        c, p = sides["cpp"], sides["python"]
        if c["threads"] != p["threads"] or c["pairs_per_step"] != p["pairs_per_step"]:
            sys.exit(f"round {rnd}: the two sides ran different settings: {c} / {p}")
        cpp.append(c["steps_per_s"]); py.append(p["steps_per_s"]); ratios.append(cpp[-1] / py[-1])
        print(f"| {device} | {rnd} | {firsts[rnd]} | {cpp[-1]:.3f} | {py[-1]:.3f} | {ratios[-1]:.2f}x |")
    if ratios:
        print(f"| {device} | median | | {statistics.median(cpp):.3f} | {statistics.median(py):.3f} "
              f"| {statistics.median(ratios):.2f}x |")
print("\nThe median row gives each side's median steps/s and the median of the per-round ratios.")
EOF
