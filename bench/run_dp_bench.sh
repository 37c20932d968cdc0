#!/usr/bin/env bash
# Data parallel on one machine: the same DPO step as run_dpo_bench.sh, each batch split across
# PROCESSES processes of one thread (C++: PrefLab's c10d group; Python: DistributedDataParallel
# over Gloo), against one process splitting it across as many threads. Prints a Markdown table.
#
# Usage: bench/run_dp_bench.sh PATH/TO/preflab-bench-dpo [ROUNDS] [PROCESSES] [-- shape arguments]
# Shape defaults as run_dpo_bench.sh (--threads is set here: PROCESSES for one process, 1 per rank).
set -euo pipefail

if [[ $# -lt 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH/TO/preflab-bench-dpo [ROUNDS] [PROCESSES] [-- shape arguments]" >&2
  exit 2
fi
CPP_BENCH=$1
shift
ROUNDS=3
PROCS=2
if [[ $# -gt 0 && $1 != "--" ]]; then ROUNDS=$1; shift; fi
if [[ $# -gt 0 && $1 != "--" ]]; then PROCS=$1; shift; fi
[[ $# -gt 0 && $1 == "--" ]] && shift
SHAPE=(--layers 4 --heads 4 --d 128 --block 128 --pairs 8 --vocab 257 --steps 20 --warmup 3)
[[ $# -gt 0 ]] && SHAPE=("$@")

PYTHON=${PYTHON:-/usr/bin/python3}
PY_BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dpo_step_bench.py"
export OPENBLAS_NUM_THREADS=1 # as run_dpo_bench.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[[ $OMP_WAIT_POLICY == default ]] && unset OMP_WAIT_POLICY

LOG=$(mktemp)
OUT=$(mktemp -d)
trap 'rm -rf "$LOG" "$OUT"' EXIT

field() { "$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

command_of() { # command_of IMPL: the benchmark's command line
  if [[ $1 == cpp ]]; then echo "$CPP_BENCH"; else echo "$PYTHON $PY_BENCH"; fi
}

group() { # group IMPL: PROCS ranks of one thread; rank 0's line on stdout
  local port; port=$(free_port)
  local pids=()
  for ((r = PROCS - 1; r >= 0; r--)); do
    RANK=$r WORLD_SIZE=$PROCS LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      $(command_of "$1") "${SHAPE[@]}" --threads 1 >"$OUT/rank$r" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  tail -n 1 "$OUT/rank0"
}

for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(cpp python); else order=(python cpp); fi
  for impl in "${order[@]}"; do
    line=$($(command_of "$impl") "${SHAPE[@]}" --threads "$PROCS" | tail -n 1)
    echo "$line" >&2
    echo "threads $impl $(field "$line" tokens_per_s) $(field "$line" loss)" >>"$LOG"
    line=$(group "$impl")
    echo "$line" >&2
    echo "processes $impl $(field "$line" tokens_per_s) $(field "$line" loss)" >>"$LOG"
  done
done

echo
echo "Shape: ${SHAPE[*]}; $PROCS threads in one process against $PROCS processes of one thread;"
echo "$ROUNDS interleaved rounds, median step time per run, median over rounds."
echo
"$PYTHON" - "$LOG" "$PROCS" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    mode, impl, tps, loss = line.split()
    runs.setdefault((mode, impl), []).append((float(tps), float(loss)))
procs = sys.argv[2]
print("| split | C++ tokens/s | Python tokens/s | C++ / Python | last loss C++ / Python |")
print("|---|---:|---:|---:|---|")
for mode, label in [("threads", f"{procs} threads, one process"), ("processes", f"{procs} processes (c10d / DDP)")]:
    cpp, py = runs[(mode, "cpp")], runs[(mode, "python")]
    c = statistics.median(x[0] for x in cpp)
    p = statistics.median(x[0] for x in py)
    print(f"| {label} | {c:,.0f} | {p:,.0f} | {c / p:.2f}x | {cpp[0][1]:.6f} / {py[0][1]:.6f} |")
c_t = statistics.median(x[0] for x in runs[("threads", "cpp")])
c_p = statistics.median(x[0] for x in runs[("processes", "cpp")])
print(f"\nC++ processes / threads: {c_p / c_t:.2f}x")
EOF
