#!/usr/bin/env bash
# Sentiment steering: train DPO, IPO, SimPO, SimPER and ORPO on the embedded task, plus a small DPO
# β sweep, then tabulate and plot them with compare.py.
#
# Usage:  experiments/sentiment/run_all.sh [PATH/TO/preflab-cli] [--no-sweep]
#   default CLI: build/app/preflab-cli (relative to the repository root)
#   --no-sweep:  skip the DPO β sweep (β 0.03, 0.3, 1; dpo.yaml itself is β 0.1)
#
# Runs go to runs/sentiment-<name>/ and are replaced if they exist (--overwrite). The first run
# builds the shared SFT model, pairs and reference log-probs under runs/.cache/; every later run
# reuses them. Tables and the plot go to experiments/sentiment/results/.
set -uo pipefail

cli=build/app/preflab-cli
sweep=1
for arg in "$@"; do
  case "$arg" in
    --no-sweep) sweep=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) cli=$arg ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
enter_repository
mkdir -p "$here/results"
times="$here/results/run_times.tsv"
printf 'run\tseconds\texit\n' > "$times"

failed=()
total_start=$(date +%s)

train() { # name config [overrides...]
  local name=$1 config=$2
  shift 2
  local start rc
  start=$(date +%s)
  echo "== $name: $cli train $config $*"
  "$cli" train "$config" --overwrite -q "$@"
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$(( $(date +%s) - start ))" "$rc" >> "$times"
  if [[ $rc -ne 0 ]]; then
    echo "== $name FAILED (exit $rc)" >&2
    failed+=("$name")
  fi
}

# dpo first: it builds the cached stages the others reuse.
for name in dpo ipo simpo simper orpo; do
  train "$name" "experiments/sentiment/$name.yaml"
done
if [[ $sweep -eq 1 ]]; then
  for beta in 0.03 0.3 1; do
    train "dpo-beta$beta" experiments/sentiment/dpo.yaml "beta=$beta" \
      --output-dir "runs/sentiment-dpo-beta$beta"
  done
fi

/usr/bin/python3 "$here/compare.py" --runs-dir runs --out "$here/results" || failed+=("compare.py")
total=$(( $(date +%s) - total_start ))
printf 'total\t%s\t%s\n' "$total" "${#failed[@]}" >> "$times"
echo "== total wall time: ${total} s (per run: $times)"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "== failed: ${failed[*]}" >&2
  exit 1
fi
