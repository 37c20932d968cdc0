#!/usr/bin/env bash
# D2PO vs offline DPO vs online DPO on gold labels only, at equal gold budgets, on the embedded
# sentiment task; three seeds each. Then tabulate.py writes the table, CSV and plots.
#
# Usage:  experiments/d2po/run.sh [PATH/TO/preflab-cli] [--budgets "64 128 256"] [--seeds "1 2 3"]
#   default CLI: build/app/preflab-cli (relative to the repository root)
#
# Every method takes 32 optimizer steps (max_steps in base.yaml) and may ask for B gold labels:
#   d2po       trainer: d2po; B/2 labelled task pairs warm-start the discriminator, then B/64 gold
#              labels a round go to the pairs it is least sure of; the policy trains on all of a
#              round's pairs (gold where asked, the discriminator's labels elsewhere)
#   gold-only  trainer: d2po with silver off: B/32 random gold labels a round, the policy trains on
#              those pairs only (online DPO, no discriminator labels)
#   offline    trainer: offline on the first B labelled task pairs (sampled from the SFT model,
#              labelled by the same raters), batches of 32
# Runs go to runs/d2po-exp/<method>-b<B>-s<seed>/ and are replaced; results to experiments/d2po/results/.
set -uo pipefail

cli=build/app/preflab-cli
budgets="64 128 256"
seeds="1 2 3"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --budgets) budgets=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) cli=$1; shift ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
work=runs/d2po-exp
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
  for b in $budgets; do
    run "d2po-b$b-s$seed" seed="$seed" trainer=d2po d2po.gold_budget="$b" d2po.initial_gold=$(( b / 2 )) \
      d2po.gold_per_round=$(( b / 64 > 0 ? b / 64 : 1 ))
    run "gold-only-b$b-s$seed" seed="$seed" trainer=d2po d2po.silver=false d2po.gold_selection=random \
      d2po.gold_budget="$b" d2po.initial_gold=0 d2po.gold_per_round=$(( b / 32 > 0 ? b / 32 : 1 ))
    run "offline-b$b-s$seed" seed="$seed" trainer=offline sentiment.train_pairs="$b"
  done
done

echo "total: $(( $(date +%s) - total_start )) s"
/usr/bin/python3 "$here/tabulate.py" "$work" "$results" || failed+=(tabulate)
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
