#!/usr/bin/env bash
# End-to-end test of preflab-cli on real files: train, eval, analyze, sample, export, inspect, exit codes.
set -u
cli="$1"
data="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/shell_checks.sh"
expect_exit() { # expect_exit CODE command...
  local code="$1"; shift
  "$@" >"$work/out.txt" 2>"$work/err.txt"
  [ "$?" -eq "$code" ]
}
lines() { wc -l <"$1" | tr -d ' '; }

# inspect: good file, JSON summary with the pair count; bad file names file and line, exits 1.
check "inspect good file" expect_exit 0 "$cli" inspect "$data/tiny_train/pairs.jsonl" --json
check "inspect reports 32 pairs" contains "$work/out.txt" '"pairs": 32'
check "inspect bad file exits 1" expect_exit 1 "$cli" inspect "$data/truncated_line/input.jsonl"
check "inspect error names file and line" contains "$work/err.txt" "truncated_line/input.jsonl:[0-9]"
check "inspect --skip-invalid reports skipped" expect_exit 0 "$cli" inspect "$data/wrong_types/input.jsonl" --skip-invalid --json
check "skipped lines listed" contains "$work/out.txt" '"skipped_lines"'
check "bad usage exits 2" expect_exit 2 "$cli" inspect
check "unknown command exits 2" expect_exit 2 "$cli" frobnicate
check "help exits 0" expect_exit 0 "$cli" train --help
check "help lists config keys" contains "$work/out.txt" "per_device_train_batch_size"

# train: a tiny DPO run leaves a complete run folder.
run="$work/runs/tiny"
check "train tiny dpo" expect_exit 0 "$cli" train "$data/tiny_train/config.yaml" --output-dir "$run" -q \
  train_file="$data/tiny_train/pairs.jsonl"
check "config.yaml saved" contains "$run/config.yaml" "loss_type: dpo"
check "metrics has 12 train lines" test "$(grep -c '"loss"' "$run/metrics.jsonl")" -ge 12
check "metrics has TRL names" contains "$run/metrics.jsonl" '"rewards/accuracies"'
check "status finished" contains "$run/status.json" '"finished"'
check "checkpoint step-4" test -f "$run/checkpoints/step-4/trainer_state.json"
check "checkpoint step-12" test -f "$run/checkpoints/step-12/model.pt"
check "hf export written" test -f "$run/hf/model.safetensors" -a -f "$run/hf/config.json"
check "TensorBoard events match metrics.jsonl and config.yaml (independent reader)" /usr/bin/python3 \
  "$data/tensorboard/read_events.py" "$run" "$run/metrics.jsonl" --config "$run/config.yaml"
check "rerun without --resume refuses" expect_exit 1 "$cli" train "$data/tiny_train/config.yaml" --output-dir "$run" -q \
  train_file="$data/tiny_train/pairs.jsonl"
check "resume of a missing folder refused" expect_exit 1 "$cli" train "$data/tiny_train/config.yaml" \
  --output-dir "$work/nothing-here" --resume -q train_file="$data/tiny_train/pairs.jsonl"
check "resume refusal names the folder" contains "$work/err.txt" "holds no run to resume"
check "resume with a changed beta refused" expect_exit 1 "$cli" train "$data/tiny_train/config.yaml" --output-dir "$run" \
  --resume -q train_file="$data/tiny_train/pairs.jsonl" beta=0.9
check "refusal names beta" contains "$work/err.txt" "beta 0.5 -> 0.9"
check "config.yaml kept after the refusal" contains "$run/config.yaml" "beta: 0.5"
mkdir -p "$work/mine" && echo keep >"$work/mine/notes.txt"
check "overwrite of a non-run folder refused" expect_exit 1 "$cli" train "$data/tiny_train/config.yaml" \
  --output-dir "$work/mine" --overwrite -q train_file="$data/tiny_train/pairs.jsonl"
check "its files kept" test -f "$work/mine/notes.txt"
check "overwrite of the current directory refused" expect_exit 1 bash -c \
  "cd '$run' && '$cli' train '$data/tiny_train/config.yaml' --output-dir . --overwrite -q train_file='$data/tiny_train/pairs.jsonl'"
check "the run is intact" test -f "$run/config.yaml" -a -f "$run/hf/model.safetensors"
# Two writers on one folder: the second is refused while the first runs.
"$cli" train "$data/tiny_train/config.yaml" --output-dir "$work/busy" -q train_file="$data/tiny_train/pairs.jsonl" \
  max_steps=100000 save_steps=0 >/dev/null 2>&1 &
busy=$!
for _ in $(seq 100); do [ -f "$work/busy/metrics.jsonl" ] && break; sleep 0.1; done
check "second writer refused" expect_exit 1 "$cli" train "$data/tiny_train/config.yaml" --output-dir "$work/busy" \
  --resume -q train_file="$data/tiny_train/pairs.jsonl" max_steps=100000 save_steps=0
check "refusal says in use" contains "$work/err.txt" "is in use by another run"
kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null
check "unknown config key is an error" expect_exit 1 "$cli" train "$data/tiny_train/config.yaml" --output-dir "$work/x" \
  -q bogus_key=1
check "error names the key" contains "$work/err.txt" "bogus_key"

# eval + analyze on the trained model against the untrained reference (step-4 checkpoint).
check "eval with ref" expect_exit 0 "$cli" eval --model "$run/hf" --data "$data/tiny_train/pairs.jsonl" \
  --ref "$run/checkpoints/step-4" --out "$work/eval.jsonl" --dump-tokens
check "eval writes one line per pair" test "$(lines "$work/eval.jsonl")" -eq 32
check "eval lines carry ids and ref logps" contains "$work/eval.jsonl" '"ref_logp_chosen"'
check "eval dumps token ids" contains "$work/eval.jsonl" '"chosen_ids"'
check "eval summary has ranking accuracy" contains "$work/out.txt" '"ranking/accuracy"'
check "eval on empty prompts" expect_exit 0 "$cli" eval --model "$run/hf" --data "$data/empty_prompt/pairs.jsonl" \
  --out "$work/empty.jsonl"
check "eval scores every empty-prompt pair" test "$(lines "$work/empty.jsonl")" -eq 5
cp "$data/empty_prompt/pairs.jsonl" "$work/pairs_copy.jsonl"
check "eval --out equal to --data refused" expect_exit 1 "$cli" eval --model "$run/hf" --data "$work/pairs_copy.jsonl" \
  --out "$work/pairs_copy.jsonl"
check "dataset left intact" cmp -s "$work/pairs_copy.jsonl" "$data/empty_prompt/pairs.jsonl"
check "eval --max-length 0 refused" expect_exit 2 "$cli" eval --model "$run/hf" --data "$data/empty_prompt/pairs.jsonl" \
  --out "$work/x.jsonl" --max-length 0
check "a negative option is refused" expect_exit 2 "$cli" pretrain-diffusion --out "$work/pd" --lr -1
check "its message is plain" contains "$work/err.txt" "is -1, must be > 0"
check "no 300-digit bound" bash -c "! grep -q 17976931348623157 '$work/err.txt'"
check "eval beyond the block size fails" expect_exit 1 "$cli" eval --model "$run/hf" --data "$data/tiny_train/pairs.jsonl" \
  --out "$work/long.jsonl" --max-length 4096
check "naming --max-length" contains "$work/err.txt" "key '--max-length': is 4096; the model takes at most 32"
check "a prompt longer than the model refused" expect_exit 1 "$cli" sample --model "$run/hf" \
  -p "a prompt that is far longer than the thirty-two tokens this tiny model can take in all"
check "naming the prompt, without a stack trace" bash -c \
  "grep -q 'prompt 1 has 86 tokens' '$work/err.txt' && ! grep -q 'frame #' '$work/err.txt'"
check "analyze" expect_exit 0 "$cli" analyze "$work/eval.jsonl" --out "$work/analysis.jsonl"
check "analyze summary has alignment gap" contains "$work/out.txt" '"ranking/alignment_gap"'
check "analyze per-pair difficulty" contains "$work/analysis.jsonl" '"difficulty"'
check "analyze needs ref logps" expect_exit 1 "$cli" analyze "$data/tiny_train/pairs.jsonl"

# sample: same seed, same text.
check "sample" expect_exit 0 "$cli" sample --model "$run/hf" -p "the film" --seed 5 --max-new-tokens 12
cp "$work/out.txt" "$work/sample1.txt"
"$cli" sample --model "$run/hf" -p "the film" --seed 5 --max-new-tokens 12 >"$work/sample2.txt"
check "sample is deterministic for a seed" cmp -s "$work/sample1.txt" "$work/sample2.txt"

# labels: generate candidates from the trained model into a store, label, rank, export.
printf 'the film\n{"prompt": "this story"}\nthe plot\n' >"$work/prompts.txt"
store="$work/project.preflab-labels"
check "labels generate" expect_exit 0 "$cli" labels generate --model "$run/hf" --prompts "$work/prompts.txt" \
  --out "$work/gen.jsonl" --store "$store" --seed 7 --max-new-tokens 8
check "generated lines record seeds" contains "$work/gen.jsonl" '"seed_b":8'
check "generated pairs imported" contains "$work/out.txt" "item(s) added"
check "labels decide" expect_exit 0 "$cli" labels decide "$store" --item gen-1 --annotator ann --choice second
check "labels rank" expect_exit 0 "$cli" labels rank "$store" --policy "$run/hf" --reference "$run/checkpoints/step-4" --json
check "rank gives margins" contains "$work/out.txt" '"difficulty"'
check "labels export" expect_exit 0 "$cli" labels export "$store" --format trl --out "$work/labelled.jsonl"
check "exported pair readable" expect_exit 0 "$cli" inspect "$work/labelled.jsonl" --json
check "greedy generation refused" expect_exit 1 "$cli" labels generate --model "$run/hf" --count 2 \
  --out "$work/greedy.jsonl" --temperature 0
check "naming temperature" contains "$work/err.txt" "temperature"
check "a bad prompt list names its line" expect_exit 1 "$cli" labels generate --model "$run/hf" \
  --prompts "$data/wrong_types/input.jsonl" --out "$work/bad.jsonl"
check "naming the line" contains "$work/err.txt" "input.jsonl:[0-9]"

# sweep: a 2 x 2 grid over the tiny run, each point a run folder; a rerun keeps finished points;
# a bad value is refused before anything runs, naming the point.
cat >"$work/sweep.yaml" <<EOF
base: $data/tiny_train/config.yaml
output_dir: $work/sweep
grid:
  beta: [0.1, 0.5]
  loss_type: [dpo, ipo]
EOF
check "sweep runs" expect_exit 0 "$cli" sweep "$work/sweep.yaml" -q max_steps=3 save_steps=0 \
  train_file="$data/tiny_train/pairs.jsonl"
check "four run folders finished" test "$(grep -l '"finished"' "$work"/sweep/*/status.json | wc -l)" -eq 4
check "ipo at beta 0.5 trained with both" contains "$work/sweep/beta=0.5,loss_type=ipo/config.yaml" "loss_type: ipo"
check "summary has four lines" test "$(lines "$work/sweep/summary.jsonl")" -eq 4
check "table printed" contains "$work/out.txt" "| beta=0.1,loss_type=ipo | finished |"
check "sweep rerun keeps finished points" expect_exit 0 "$cli" sweep "$work/sweep.yaml" -q max_steps=3 save_steps=0 \
  train_file="$data/tiny_train/pairs.jsonl"
check "kept, not rerun" test "$(grep -c 'finished before: kept' "$work/err.txt")" -eq 4
printf 'base: %s\noutput_dir: %s\ngrid:\n  beta: [0.1, -1]\n' "$data/tiny_train/config.yaml" "$work/badsweep" \
  >"$work/bad-sweep.yaml"
check "a bad point is refused" expect_exit 1 "$cli" sweep "$work/bad-sweep.yaml" train_file="$data/tiny_train/pairs.jsonl"
check "naming the point and key" contains "$work/err.txt" "point beta=-1: key 'beta'"
check "nothing ran" test ! -e "$work/badsweep"

# export a checkpoint; a corrupt safetensors file is rejected with its name.
check "export checkpoint" expect_exit 0 "$cli" export "$run/checkpoints/step-4" --out "$work/exported"
check "exported folder" test -f "$work/exported/model.safetensors"
head -c 100 "$work/exported/model.safetensors" >"$work/exported/model.safetensors.cut"
mv "$work/exported/model.safetensors.cut" "$work/exported/model.safetensors"
check "corrupt model exits 1" expect_exit 1 "$cli" sample --model "$work/exported" -p "x"
check "corrupt model error names file" contains "$work/err.txt" "model.safetensors"

finish "cli end-to-end"
