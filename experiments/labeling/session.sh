#!/usr/bin/env bash
# A labeling session in the real app, keyboard only, under Xvfb: xdotool types every key, and
# `import` takes a screenshot after each step into OUT. What it does, in one window:
#   1. creates a label store (passed on the command line) and names the annotator (Alt+A);
#   2. generates 50 text pairs from a text model (Ctrl+G), labels all 50 with the keys (1/2/T/B/S,
#      one Ctrl+Z), shows the keys (?);
#   3. a second annotator (Alt+A) labels the first 20: agreement appears;
#   4. ranks the queue by a policy and its reference (Ctrl+K);
#   5. Train on these labels (Ctrl+T), starts the run (Enter), waits for it; Compare then shows
#      reference and tuned answers to the labelled prompts; Pairs (Ctrl+3) how it ranks them;
#   6. an image store: 20 image pairs from the embedded diffusion model, labelled with the keys.
# The choices are a fixed pattern typed by the script, not a person's judgement.
#
# Usage: experiments/labeling/session.sh TEXT_MODEL POLICY OUT   (run from the repository root)
set -euo pipefail
model=$(realpath "$1") policy=$(realpath "$2") out=$(realpath -m "$3")
mkdir -p "$out"
work=$(mktemp -d)
export XDG_CONFIG_HOME="$work/config"
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
export DISPLAY=$display
sleep 1
app=$(realpath build/app/preflab)
(cd "$work" && exec "$app" "$work/text.preflab-labels") >"$out/app.log" 2>&1 &
pid=$!
trap 'kill $pid $xvfb 2>/dev/null || true' EXIT
win=$(xdotool search --sync --onlyvisible --name PrefLab | head -1)
xdotool windowsize "$win" 1440 900 windowmove "$win" 0 0 windowfocus --sync "$win"
sleep 2
shot() { sleep "${2:-0.6}"; import -window root "$out/$1.png"; echo "shot $1"; }
key() { xdotool key --delay 80 "$@"; }
typ() { xdotool type --delay 20 "$1"; }
# Without a window manager X gives the keyboard back to no window when a dialog closes: back()
# returns it to the main window, as a window manager would.
back() {
  xdotool windowfocus --sync "$win"
  sleep 0.7
}
focus() { # give a dialog the keyboard, and Qt a moment to notice
  xdotool windowfocus --sync "$(xdotool search --onlyvisible --name "$1" | tail -1)"
  sleep 0.7
}

# 1. the annotator
key alt+a ctrl+a; typ alice; key Return
shot 01-new-store
# 2. generate 50 text pairs
key ctrl+g; sleep 1; focus "Generate candidates"
typ "$model"; key Tab Tab Tab Tab ctrl+a; typ 50; key Tab ctrl+a; typ 1
shot 02-generate-dialog
key Return; back
for _ in $(seq 60); do grep -q . "$work/text-gen1.jsonl" 2>/dev/null && break; sleep 1; done
shot 03-generated 2
pattern=(1 2 1 1 2 t 1 2 2 b 1 1 2 1 s 2 1 2 1 1)
for i in $(seq 0 49); do
  key "${pattern[$((i % 20))]}"
  [ "$i" -eq 9 ] && shot 04-labeling
  [ "$i" -eq 12 ] && key ctrl+z
done
key question; sleep 1; focus "Labeling keys"; shot 05-keys; key Escape; back
shot 06-alice-done
# 3. a second annotator on the first 20 items
key alt+a ctrl+a; typ bob; key Return
for _ in $(seq 60); do key p; done
other=(1 2 2 1 2 t 1 1 2 b 1 2 2 1 1 2 1 2 2 1)
for i in $(seq 0 19); do key "${other[$i]}"; done
shot 07-agreement
# 4. rank by the policy and its reference (the generating model)
key ctrl+k; sleep 1; focus "Rank the queue"
typ "$policy"; key Tab Tab; typ "$model"
shot 08-rank-dialog
key Return; back
shot 09-ranked 4
# 5. train on the labels, then Compare and Pairs
key ctrl+t; sleep 1.5
shot 10-new-run
focus "New run"; key Return; back
shot 11-training 8
for _ in $(seq 300); do
  ls "$work"/runs/*/status.json >/dev/null 2>&1 && grep -q '"finished"\|"failed"' "$work"/runs/*/status.json && break
  sleep 2
done
shot 12-compare 25
key ctrl+3; shot 13-pairs 2
key ctrl+1; shot 14-curves 2
# 6. images: a second store, 20 pairs from the embedded diffusion model, labelled
key ctrl+6; sleep 0.5; key ctrl+l; sleep 1.5; focus "Open or create"
typ "$work/images.preflab-labels"; key Return; back
key ctrl+g; sleep 1; focus "Generate candidates"
typ "$(realpath resources/fashion-reference)"; key Tab Tab Tab Tab ctrl+a; typ 20
key Return
for _ in $(seq 120); do grep -q . "$work/images-gen1.jsonl" 2>/dev/null && break; sleep 1; done
shot 15-images-generated 2
back
for i in $(seq 0 19); do key "${pattern[$i]}"; [ "$i" -eq 4 ] && shot 16-image-labeling; done
shot 17-images-done
cp "$work"/*.preflab-labels "$out"/ 2>/dev/null || true
build/app/preflab-cli labels stats "$work/text.preflab-labels" >"$out/text-stats.txt"
build/app/preflab-cli labels agreement "$work/text.preflab-labels" >"$out/text-agreement.txt"
build/app/preflab-cli labels stats "$work/images.preflab-labels" >"$out/image-stats.txt"
ls "$work"/runs >"$out/runs.txt"
cp "$work"/runs/*/eval/pairs.jsonl "$out/run-pairs.jsonl" 2>/dev/null || true
echo "session done: $out (work folder $work)"
