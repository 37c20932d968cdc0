#!/usr/bin/env bash
# Sentiment steering with the same tuning budget for every objective: each objective's β ×
# learning-rate grid (tune/<objective>.yaml, a sweep; SimPER has only learning rates) is run on the
# validation split (sentiment.eval_split=validation: the pairs' openers, other sampling seeds), the
# point with the highest validation win rate is chosen, and that point is rerun with three seeds on
# the test split (the openers no pair has, as in the README's table). A seed changes the whole task
# (SFT reference, pairs, evaluation prompts), shared by the objectives at that seed.
#
# Usage:  experiments/sentiment/tune.sh [PATH/TO/preflab-cli] [--steps N] [--seeds "42 43 44"]
#   default CLI: build/app/preflab-cli; --steps: optimizer steps of every run (default 300)
#
# Work goes to runs/sentiment-tune/ (one sweep folder per objective and per objective's seeds, one
# cache of SFT models and pairs for all; run again to continue). Results: results/tuned.md, .csv.
set -uo pipefail

cli=build/app/preflab-cli
steps=300
seeds="42 43 44"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) cli=$1; shift ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
work=runs/sentiment-tune
mkdir -p "$work" "$here/results"
objectives=(dpo ipo simpo simper orpo)
start=$(date +%s)
common=("max_steps=$steps" "eval_steps=0" "cache_dir=$work/.cache")
for name in "${objectives[@]}"; do
  echo "== tuning $name ($(( $(date +%s) - start )) s)"
  "$cli" sweep "$here/tune/$name.yaml" -q "${common[@]}" sentiment.eval_split=validation || exit 1
done
for name in "${objectives[@]}"; do
  python3 "$here/../tune.py" choose "$work/$name" "$here/$name.yaml" "$work/$name-seeds.yaml" $seeds || exit 1
  echo "== seeds of $name ($(( $(date +%s) - start )) s)"
  "$cli" sweep "$work/$name-seeds.yaml" -q "${common[@]}" sentiment.eval_split=test || exit 1
done
python3 "$here/../tune.py" table "$work" "$here/results" "${objectives[@]}" || exit 1
echo "== total $(( $(date +%s) - start )) s; table: $here/results/tuned.md"
