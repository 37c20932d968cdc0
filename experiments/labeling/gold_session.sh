#!/usr/bin/env bash
# A person as D2PO's gold labeller across two processes: preflab-cli trains D2PO with
# d2po.gold_labeller=person and waits at each round; the app, open on the run's gold store under
# Xvfb, answers with the keys (xdotool) and the run goes on. Screenshots go to OUT.
# Usage: experiments/labeling/gold_session.sh OUT   (run from the repository root; ~2 minutes
# once the D2PO experiment's SFT stage is cached)
set -euo pipefail
out=$(realpath -m "$1")
mkdir -p "$out"
work=$(mktemp -d)
cli=$(realpath build/app/preflab-cli) app=$(realpath build/app/preflab)
"$cli" train experiments/d2po/base.yaml trainer=d2po d2po.gold_labeller=person d2po.gold_budget=6 \
  d2po.gold_per_round=3 max_steps=2 d2po.prompts_per_round=8 --output-dir "$work/d2po" >"$out/run.log" 2>&1 &
run=$!
for _ in $(seq 600); do [ -f "$work/d2po/gold.preflab-labels" ] && break; sleep 1; done
export XDG_CONFIG_HOME="$work/config" DISPLAY=:$((80 + RANDOM % 9))
Xvfb "$DISPLAY" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 1
"$app" "$work/d2po/gold.preflab-labels" >"$out/app.log" 2>&1 &
pid=$!
trap 'kill $pid $xvfb $run 2>/dev/null || true' EXIT
win=$(xdotool search --sync --onlyvisible --name PrefLab | head -1)
xdotool windowsize "$win" 1440 900 windowmove "$win" 0 0 windowfocus --sync "$win"
sleep 2
key() { xdotool key --delay 120 "$@"; }
key alt+a ctrl+a; xdotool type carol; key Return
import -window root "$out/round1.png"
key 1 2 1 # round 1's three questions
for _ in $(seq 120); do [ "$(grep -c 'waiting for' "$out/run.log")" -ge 2 ] && break; sleep 1; done
sleep 3 # the view picks up round 2's questions by itself
key 2 2 1
import -window root "$out/round2.png"
wait $run
"$cli" labels stats "$work/d2po/gold.preflab-labels" | tee "$out/gold-stats.txt"
grep -o '"d2po/gold_labels":[0-9.]*' "$work/d2po/metrics.jsonl" | tee -a "$out/gold-stats.txt"
