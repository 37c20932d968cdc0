#!/usr/bin/env bash
# Win-rate optimisation (h = identity and h = logit) vs DPO vs SFT on the chosen answers, on the
# same labelled pairs of the embedded sentiment task and the same number of optimizer steps; three
# seeds. Then tabulate.py writes the table, CSV and plots.
#
# Usage:  experiments/wro/run.sh [PATH/TO/preflab-cli] [--seeds "1 2 3"]
#   default CLI: build/app/preflab-cli (relative to the repository root)
#
# Per seed (64 optimizer steps each, base.yaml):
#   rm            a Bradley-Terry reward model (loss_type: reward) on the task's labelled pairs:
#                 the preference classifier the WRO runs train against
#   wro-identity  trainer: wro, h = identity (win probability), judge = that reward model
#   wro-logit     trainer: wro, h = logit (the reward gap: RLHF with RLOO), judge = that reward model
#   wro-identity-oracle  as wro-identity with the task's raters as the training judge (no judge
#                 error: what is left is the optimisation)
#   dpo           trainer: offline, loss_type: dpo on the same pairs (batches of 32)
#   sft           trainer: offline, loss_type: sft on the chosen answers of the same pairs
# All are judged by the task's raters (the fixed judge) against the SFT reference on the evaluation
# prompts. Runs go to runs/wro-exp/<method>-s<seed>/ and are replaced; results to experiments/wro/results/.
set -uo pipefail

cli=build/app/preflab-cli
seeds="1 2 3"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) cli=$1; shift ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
work=runs/wro-exp
results="$here/results"
mkdir -p "$work" "$results"
times="$results/run_times.tsv"
printf 'run\tseconds\texit\n' > "$times"
failed=()
total_start=$(date +%s)

run() { # name overrides...
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "== $name"
  "$cli" train "$here/base.yaml" --quiet --overwrite --output-dir "$work/$name" cache_dir=runs/.cache "$@" \
    > "$work/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$(( $(date +%s) - start ))" "$rc" >> "$times"
  if [[ $rc -ne 0 ]]; then
    echo "== $name FAILED (exit $rc): $(tail -n 3 "$work/$name.log")" >&2
    failed+=("$name")
  fi
}

for seed in $seeds; do
  run "rm-s$seed" seed="$seed" loss_type=reward learning_rate=1.0e-3
  run "wro-identity-s$seed" seed="$seed" trainer=wro wro.h=identity wro.judge=reward_model \
    wro.reward_model="$work/rm-s$seed"
  run "wro-logit-s$seed" seed="$seed" trainer=wro wro.h=logit wro.judge=reward_model \
    wro.reward_model="$work/rm-s$seed"
  run "wro-identity-oracle-s$seed" seed="$seed" trainer=wro wro.h=identity wro.judge=oracle
  run "dpo-s$seed" seed="$seed" loss_type=dpo
  run "sft-s$seed" seed="$seed" loss_type=sft
done

echo "total: $(( $(date +%s) - total_start )) s"
/usr/bin/python3 "$here/tabulate.py" "$work" "$results" || failed+=(tabulate)
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
