#!/usr/bin/env bash
# Runs the C++ and Python DPO-step benchmarks interleaved on one shape and prints a Markdown table.
#
# Usage: bench/run_dpo_bench.sh PATH/TO/preflab-bench-dpo [ROUNDS] [-- shape arguments]
#   e.g. bench/run_dpo_bench.sh /work/build-bench/bench/preflab-bench-dpo 3
# Builds nothing. Shape defaults: --layers 4 --heads 4 --d 128 --block 128 --pairs 8 --vocab 257
# --threads 2 --steps 20 --warmup 3; arguments after "--" replace them. PYTHON selects the
# interpreter (default /usr/bin/python3, Debian's python3-torch: the same libtorch as the C++ side).
set -euo pipefail

if [[ $# -lt 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH/TO/preflab-bench-dpo [ROUNDS] [-- shape arguments]" >&2
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
SHAPE=(--layers 4 --heads 4 --d 128 --block 128 --pairs 8 --vocab 257 --threads 2 --steps 20 --warmup 3)
[[ $# -gt 0 ]] && SHAPE=("$@")

PYTHON=${PYTHON:-/usr/bin/python3}
PY_BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dpo_step_bench.py"
# One OpenBLAS thread in both processes, set before torch loads (the C++ side also calls
# openblas_set_num_threads(1)); no OMP_NUM_THREADS: both call set_num_threads(--threads).
export OPENBLAS_NUM_THREADS=1
# libgomp reads its wait policy once, at load. Its default spinning made a 2-thread step ~7x
# slower whenever another process held a core (see README), which buries the C++/Python
# difference in scheduler noise. On an idle machine passive waiting may add a little latency
# per parallel region (not measured: no idle machine was available).
# OMP_WAIT_POLICY=default runs with libgomp's own default (unset); ACTIVE or PASSIVE pass through.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[[ $OMP_WAIT_POLICY == default ]] && unset OMP_WAIT_POLICY

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

field() { # field JSON_LINE NAME
  "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

for mode in full cached; do
  extra=()
  [[ $mode == cached ]] && extra=(--cached-ref)
  for ((r = 1; r <= ROUNDS; r++)); do
    # Alternate which side goes first so drift on a shared machine does not favour one.
    if ((r % 2)); then order=(cpp python); else order=(python cpp); fi
    for impl in "${order[@]}"; do
      if [[ $impl == cpp ]]; then
        line=$("$CPP_BENCH" "${SHAPE[@]}" "${extra[@]}" | tail -n 1)
      else
        line=$("$PYTHON" "$PY_BENCH" "${SHAPE[@]}" "${extra[@]}" | tail -n 1)
      fi
      echo "$line" >&2
      echo "$mode $impl $(field "$line" tokens_per_s) $(field "$line" cpu_ms_per_step)" >>"$LOG"
    done
  done
done

echo
echo "Shape: ${SHAPE[*]}; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}; $ROUNDS interleaved rounds,"
echo "median step time per run, median over rounds. The CPU column divides CPU time per step"
echo "(all threads of the process), which other processes on a shared machine do not inflate."
echo
"$PYTHON" - "$LOG" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    mode, impl, tps, cpu_ms = line.split()
    runs.setdefault((mode, impl), []).append((float(tps), float(cpu_ms)))
print("| reference | C++ tokens/s | Python tokens/s | C++ / Python | per-round ratios | C++ / Python, CPU time |")
print("|---|---:|---:|---:|---|---:|")
for mode, label in [("full", "forward of a frozen copy"), ("cached", "cached log-probs")]:
    cpp, py = runs[(mode, "cpp")], runs[(mode, "python")]
    ratios = ", ".join(f"{c[0] / p[0]:.2f}" for c, p in zip(cpp, py))
    c = statistics.median(x[0] for x in cpp)
    p = statistics.median(x[0] for x in py)
    cpu = statistics.median(x[1] for x in py) / statistics.median(x[1] for x in cpp)
    print(f"| {label} | {c:,.0f} | {p:,.0f} | {c / p:.2f}x | {ratios} | {cpu:.2f}x |")
EOF
