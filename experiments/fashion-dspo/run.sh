#!/usr/bin/env bash
# Fashion-DSPO: from the embedded pretrained reference, generate oracle-labelled image pairs, train
# diffusion SFT, Diffusion-DPO and DSPO (both code paths) on the same pairs, evaluate each against
# the reference on held-out prompt phrasings and seeds, and write a table (Markdown + CSV) and the
# image grids.
#
# Usage:  experiments/fashion-dspo/run.sh [PATH/TO/preflab-cli] [--pairs-per-class N] [--steps N]
#   default CLI: build/app/preflab-cli (relative to the repository root)
#   --pairs-per-class N: pairs per class prompt (default 100, so 1,000 pairs)
#   --steps N:           optimizer steps per objective (default: the configs' max_steps)
#
# Work goes to runs/fashion-dspo/ (pairs/ and one run folder per objective, replaced each time);
# the table, run times and grids go to experiments/fashion-dspo/results/.
set -uo pipefail

cli=build/app/preflab-cli
pairs_per_class=100
steps=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pairs-per-class) pairs_per_class=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) cli=$1; shift ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
work=runs/fashion-dspo
results="$here/results"
mkdir -p "$work" "$results"
times="$results/run_times.tsv"
printf 'stage\tseconds\texit\n' > "$times"
failed=()
total_start=$(date +%s)

stage() { # name command...
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "== $name: $*"
  "$@"
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$(( $(date +%s) - start ))" "$rc" >> "$times"
  if [[ $rc -ne 0 ]]; then
    echo "== $name FAILED (exit $rc)" >&2
    failed+=("$name")
  fi
  return $rc
}

# 1. Pairs: two samples per class prompt from the reference (different seeds), scored by the
#    oracle, five Bradley-Terry raters vote. Sampling settings match the evaluation's.
rm -rf "$work/pairs"
stage pairs "$cli" generate-pairs --out "$work/pairs" --pairs-per-class "$pairs_per_class" --seed 0 \
  --sampler ddim --sampling-steps 25 --guidance 1.5 -q || exit 1

# 2. The three objectives on the same pairs, same seed, same schedule.
extra=()
[[ -n "$steps" ]] && extra+=("max_steps=$steps")
for name in sft diffusion-dpo dspo dspo-sdxl-path; do
  stage "$name" "$cli" train "experiments/fashion-dspo/$name.yaml" --overwrite -q \
    "train_file=$work/pairs/manifest.jsonl" "output_dir=$work/$name" "${extra[@]}"
done

# 3. Table and grids.
python3 "$here/tabulate.py" "$work" "$results" sft diffusion-dpo dspo dspo-sdxl-path
for name in sft diffusion-dpo dspo dspo-sdxl-path; do
  [[ -f "$work/$name/samples/grid.png" ]] && cp "$work/$name/samples/grid.png" "$results/grid-$name.png"
done
printf 'total\t%s\t%s\n' "$(( $(date +%s) - total_start ))" "${#failed[@]}" >> "$times"
echo "== total $(( $(date +%s) - total_start )) s; table: $results/comparison.md"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "== failed: ${failed[*]}" >&2
  exit 1
fi
