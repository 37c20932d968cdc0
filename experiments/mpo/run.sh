#!/usr/bin/env bash
# MPO vs MaxMin-RLHF vs uniform mixing on the embedded sentiment task with two rewards that pull
# apart (the lexicon's sentiment, and conciseness: fewer words); three seeds. Then tabulate.py
# writes the table, CSV and plots.
#
# Usage:  experiments/mpo/run.sh [PATH/TO/preflab-cli] [--seeds "1 2 3"] [--iterations T]
#   default CLI: build/app/preflab-cli (relative to the repository root)
#
# Per seed, from the same SFT reference and beta:
#   dpo-sentiment, dpo-conciseness  DPO on pairs the raters label by one reward (the parts)
#   maxmin                          DPO on pairs labelled by the lower of the two standardised
#                                   rewards: MaxMin-RLHF's target, one policy trained for it
#   mpo                             preflab-cli mix of the two parts, weights by mirror descent
#                                   (T iterations, 4 prompts x 8 reference samples each)
#   uniform                         the same mixture with weights 0.5, 0.5 (a reward-soup-like point)
# CPU seconds (user + system) of each command are measured with /usr/bin/time.
# Runs go to runs/mpo-exp/<method>-s<seed>/ and are replaced; results to experiments/mpo/results/.
set -uo pipefail

cli=build/app/preflab-cli
seeds="1 2 3"
iterations=100
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) cli=$1; shift ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
work=runs/mpo-exp
results="$here/results"
mkdir -p "$work" "$results"
times="$results/run_times.tsv"
printf 'run\tseconds\tcpu_seconds\texit\n' > "$times"
failed=()
total_start=$(date +%s)

run() { # name command-and-args...
  local name=$1 start rc cpu
  shift
  start=$(date +%s)
  echo "== $name"
  /usr/bin/time -f '%U %S' -o "$work/$name.cpu" "$cli" "$@" --quiet --overwrite --output-dir "$work/$name" \
    cache_dir=runs/.cache > "$work/$name.log" 2>&1
  rc=$?
  cpu=$(awk '{print $1 + $2}' "$work/$name.cpu" 2>/dev/null | tail -n 1)
  printf '%s\t%s\t%s\t%s\n' "$name" "$(( $(date +%s) - start ))" "${cpu:-}" "$rc" >> "$times"
  if [[ $rc -ne 0 ]]; then
    echo "== $name FAILED (exit $rc): $(tail -n 3 "$work/$name.log")" >&2
    failed+=("$name")
  fi
}

for seed in $seeds; do
  run "dpo-sentiment-s$seed" train "$here/base.yaml" seed="$seed" sentiment.reward=sentiment
  run "dpo-conciseness-s$seed" train "$here/base.yaml" seed="$seed" sentiment.reward=conciseness
  run "maxmin-s$seed" train "$here/base.yaml" seed="$seed" sentiment.reward=maxmin
  run "mpo-s$seed" mix "$here/base.yaml" seed="$seed" max_steps="$iterations" \
    --policy "$work/dpo-sentiment-s$seed" --policy "$work/dpo-conciseness-s$seed"
  run "uniform-s$seed" mix "$here/base.yaml" seed="$seed" --weights 0.5,0.5 \
    --policy "$work/dpo-sentiment-s$seed" --policy "$work/dpo-conciseness-s$seed"
done

echo "total: $(( $(date +%s) - total_start )) s"
/usr/bin/python3 "$here/tabulate.py" "$work" "$results" || failed+=(tabulate)
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
