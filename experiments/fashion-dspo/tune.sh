#!/usr/bin/env bash
# Fashion-DSPO with the same tuning budget for every objective: each objective's β × learning-rate
# grid (tune/<objective>.yaml, a sweep) is run on the validation split (the pairs' phrasings, seeds
# 2^32 above the test seeds: eval_split=validation), the point with the highest validation win rate
# is chosen, and that point is rerun with three training seeds on the test split (the phrasings and
# seeds of run.sh's table). The table reports mean ± spread over the seeds with each seed's interval
# and the pooled one.
#
# Usage:  experiments/fashion-dspo/tune.sh [PATH/TO/preflab-cli] [--steps N] [--seeds "42 43 44"]
#   default CLI: build/app/preflab-cli; --steps: optimizer steps of every run (default 400)
#
# Work goes to runs/fashion-dspo-tune/ (one sweep folder per objective and one per objective's
# seeds; run again to continue, finished points are kept); pairs are runs/fashion-dspo/pairs
# (made as run.sh makes them when missing). Results: experiments/fashion-dspo/results/tuned.md, .csv.
set -uo pipefail

cli=build/app/preflab-cli
steps=400
seeds="42 43 44"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) cli=$1; shift ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
pairs=runs/fashion-dspo/pairs
work=runs/fashion-dspo-tune
mkdir -p "$work" "$here/results"
objectives=(sft diffusion-dpo dspo dspo-sdxl-path)
start=$(date +%s)

if [[ ! -f "$pairs/manifest.jsonl" ]]; then
  echo "== pairs"
  "$cli" generate-pairs --out "$pairs" --pairs-per-class 100 --seed 0 \
    --sampler ddim --sampling-steps 25 --guidance 1.5 -q || exit 1
fi

common=("train_file=$pairs/manifest.jsonl" "max_steps=$steps" "eval_steps=0")
# 1. Every objective's grid on the validation split.
for name in "${objectives[@]}"; do
  echo "== tuning $name ($(( $(date +%s) - start )) s)"
  "$cli" sweep "$here/tune/$name.yaml" -q "${common[@]}" eval_split=validation grid_seeds=0 || exit 1
done
# 2. The chosen point of each, three seeds, on the test split.
for name in "${objectives[@]}"; do
  python3 "$here/../tune.py" choose "$work/$name" "$here/$name.yaml" "$work/$name-seeds.yaml" $seeds || exit 1
  echo "== seeds of $name ($(( $(date +%s) - start )) s)"
  "$cli" sweep "$work/$name-seeds.yaml" -q "${common[@]}" eval_split=test || exit 1
done
python3 "$here/../tune.py" table "$work" "$here/results" "${objectives[@]}" || exit 1
echo "== total $(( $(date +%s) - start )) s; table: $here/results/tuned.md"
