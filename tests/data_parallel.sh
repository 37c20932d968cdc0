#!/usr/bin/env bash
# Data parallel end to end: two preflab-cli processes started as torchrun starts them (RANK,
# WORLD_SIZE, MASTER_ADDR, MASTER_PORT) train the tiny DPO run. Their curve must match one process
# that splits each batch across two threads (the same split), rank 0 alone writes the folder, a
# resume continues with both, refusals reach both, and a rank that dies stops the other promptly.
set -u
cli="$1"
data="$2"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/shell_checks.sh"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

config="$data/tiny_train/config.yaml"
pairs="$data/tiny_train/pairs.jsonl"

# two RUN_DIR ARGS...: rank 0 and rank 1 of one run; exit codes in $work/rc0 and $work/rc1,
# output in $work/err0 and $work/err1.
two() {
  local dir="$1"; shift
  local port; port=$(free_port)
  for rank in 1 0; do
    ( RANK=$rank WORLD_SIZE=2 LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port PREFLAB_DIST_WAIT_TIMEOUT=120 \
        "$cli" train "${run_config:-$config}" --output-dir "$dir" -q \
          $([ -z "${run_config:-}" ] && echo train_file="$pairs") "$@" >"$work/out$rank" 2>"$work/err$rank"
      echo $? >"$work/rc$rank" ) &
  done
  wait
}
rc() { [ "$(cat "$work/rc$1")" -eq "$2" ]; }

# One process, each batch of 4 pairs split across two threads; then two processes of one thread.
"$cli" train "$config" --output-dir "$work/one" -q train_file="$pairs" threads=2 >/dev/null 2>"$work/err-one"
check "one process with two threads trains" test -f "$work/one/hf/model.safetensors"
two "$work/two" threads=1
check "rank 0 exits 0" rc 0 0
check "rank 1 exits 0" rc 1 0
check "status finished" contains "$work/two/status.json" '"finished"'
check "the curve matches one process split the same way" /usr/bin/python3 - "$work/one/metrics.jsonl" \
  "$work/two/metrics.jsonl" <<'EOF'
import json, math, sys
one, two = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
assert len(one) == len(two) and len(one) >= 12, (len(one), len(two))
worst = 0.0
for a, b in zip(one, two):
    assert a["step"] == b["step"] and set(a) == set(b), (a, b)
    for key, x in a.items():
        if key in ("step", "elapsed") or not isinstance(x, float) or key.startswith("throughput"):
            continue
        y = b[key]
        worst = max(worst, abs(x - y) / max(1.0, abs(x)))
print("largest relative difference", worst)
assert worst < 1e-5, worst
EOF
check "one events file: rank 0 alone writes" test "$(ls "$work/two" | grep -c '^events.out.tfevents')" -eq 1
check "checkpoints written once" test -f "$work/two/checkpoints/step-12/trainer_state.json"
check "the checkpoint records two processes" contains "$work/two/checkpoints/step-12/trainer_state.json" '"processes": 2'
check "rank 1 prints no summary" test ! -s "$work/out1"

# A resume with both processes from rank 0's step-4 checkpoint (the later ones removed) repeats
# steps 5 to 12 of the uninterrupted run.
cp "$work/two/metrics.jsonl" "$work/uninterrupted.jsonl"
rm -rf "$work/two/checkpoints/step-8" "$work/two/checkpoints/step-12"
two "$work/two" threads=1 --resume
check "resumed rank 0 exits 0" rc 0 0
check "resumed rank 1 exits 0" rc 1 0
check "the resumed run reaches step 12" contains "$work/two/status.json" '"step": 12'
check "the resumed steps repeat the uninterrupted ones" /usr/bin/python3 - "$work/uninterrupted.jsonl" \
  "$work/two/metrics.jsonl" <<'EOF'
import json, sys
one, two = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
losses = lambda rows: [(r["step"], r["loss"]) for r in rows if "loss" in r]
a, b = losses(one), losses(two)
assert [s for s, _ in a] == [s for s, _ in b], (a, b)
worst = max(abs(x - y) for (_, x), (_, y) in zip(a, b))
print("largest loss difference after the resume", worst)
assert worst < 1e-6, worst
EOF

# Refusals reach both ranks: rank 0 names the key, rank 1 says that rank 0 failed.
two "$work/small" per_device_train_batch_size=1
check "a batch smaller than the group is refused on rank 0" rc 0 1
check "naming per_device_train_batch_size" contains "$work/err0" "per_device_train_batch_size"
check "rank 1 stops too" rc 1 1
check "rank 1 says rank 0 failed" contains "$work/err1" "rank 0 failed"
two "$work/kto" loss_type=kto
check "KTO (a batch statistic) is refused" rc 0 1
check "naming loss_type" contains "$work/err0" "loss_type"
check "rank 1 refuses too" rc 1 1
# MPO (a mixing run, not a training loop) is refused before the task is prepared (seconds, no SFT).
start=$(date +%s)
run_config="$data/../../experiments/sentiment/dpo.yaml" two "$work/mpo" trainer=mpo \
  mpo.policies="$work/one/hf,$work/two/hf"
check "trainer: mpo is refused" rc 0 1
check "naming trainer" contains "$work/err0" "key 'trainer'"
check "before the task is prepared" test "$(($(date +%s) - start))" -lt 20
check "rank 1 stops with it" rc 1 1

# online_curves_match ONE TWO [SKIP_KEY...]: the three training lines of two online runs (one
# process, two) agree to 1e-5 relative (float32 gradients summed in another order: 7e-7 for WRO,
# 1.2e-7 for D2PO here), and their loss is not zero throughout (which would compare nothing).
online_curves_match() {
  /usr/bin/python3 - "$@" <<'EOF'
import json, sys
one, two = ([json.loads(l) for l in open(d + "/metrics.jsonl") if "loss" in json.loads(l)] for d in sys.argv[1:3])
skip = {"step", "elapsed", "time", *sys.argv[3:]}
assert len(one) == len(two) == 3, (len(one), len(two))
worst = 0.0
for a, b in zip(one, two):
    assert set(a) == set(b), set(a) ^ set(b)
    for key, x in a.items():
        if key in skip or not isinstance(x, float) or key.startswith("throughput"):
            continue
        worst = max(worst, abs(x - b[key]) / max(1.0, abs(x)))
assert any(abs(l["loss"]) > 0 for l in one), "a zero loss would compare nothing"
print("largest relative difference", worst)
assert worst < 1e-5, worst
EOF
}

# WRO on a tiny embedded task: each step's 4 prompts shared by two processes, the answers'
# rewards and log-probs gathered: the same curve as one process (the competitor caches, one per
# process, are the only difference), rank 0 alone writes and evaluates.
wro=(trainer=wro wro.prompts_per_step=4 wro.samples_per_prompt=3 wro.competitors=2 max_steps=3 logging_steps=1 eval_steps=0
  save_steps=0 threads=1 max_length=32 max_prompt_length=12 model.n_layer=1 model.n_head=2 model.n_embd=16
  model.block_size=32 sentiment.corpus_size=64 sentiment.sft_steps=2 sentiment.num_prompts=24
  sentiment.eval_prompts=4 sentiment.max_new_tokens=10 sentiment.reward=conciseness learning_rate=1e-3
  cache_dir="$work/cache") # conciseness: word counts differ even in a tiny model's babble
"$cli" train "$data/../../experiments/sentiment/dpo.yaml" --output-dir "$work/wro-one" -q "${wro[@]}" \
  >/dev/null 2>"$work/err-wro-one"
check "WRO in one process trains" contains "$work/wro-one/status.json" '"finished"'
run_config="$data/../../experiments/sentiment/dpo.yaml" two "$work/wro-two" "${wro[@]}"
check "WRO rank 0 exits 0" rc 0 0
check "WRO rank 1 exits 0" rc 1 0
check "WRO status finished" contains "$work/wro-two/status.json" '"finished"'
check "WRO's curve matches one process" online_curves_match "$work/wro-one" "$work/wro-two" wro/competitor_prompts
check "WRO: rank 0 alone evaluates" test -f "$work/wro-two/eval/summary.json"
check "WRO: rank 1 prints no summary" test ! -s "$work/out1"
run_config="$data/../../experiments/sentiment/dpo.yaml" two "$work/wro-few" "${wro[@]}" wro.prompts_per_step=1
check "WRO with fewer prompts than processes is refused" rc 0 1
check "naming wro.prompts_per_step" contains "$work/err0" "wro.prompts_per_step"

# Online D2PO on the same tiny task: every rank samples, labels (the raters) and trains its
# discriminator alike; the policy's pairs are split. Same curve as one process.
d2po=("${wro[@]}" trainer=d2po d2po.prompts_per_round=4 d2po.gold_budget=6 d2po.gold_per_round=2)
"$cli" train "$data/../../experiments/sentiment/dpo.yaml" --output-dir "$work/d2po-one" -q "${d2po[@]}" \
  >/dev/null 2>"$work/err-d2po-one"
check "D2PO in one process trains" contains "$work/d2po-one/status.json" '"finished"'
run_config="$data/../../experiments/sentiment/dpo.yaml" two "$work/d2po-two" "${d2po[@]}"
check "D2PO rank 0 exits 0" rc 0 0
check "D2PO rank 1 exits 0" rc 1 0
check "D2PO's curve matches one process" online_curves_match "$work/d2po-one" "$work/d2po-two"
check "D2PO gave gold labels (its discriminator trained)" /usr/bin/python3 -c \
  'import json, sys; assert max(json.loads(l).get("d2po/gold_labels", 0) for l in open(sys.argv[1])) > 0' \
  "$work/d2po-two/metrics.jsonl"
check "D2PO: rank 0 alone exports the discriminator" test -f "$work/d2po-two/discriminator/config.json"
run_config="$data/../../experiments/sentiment/dpo.yaml" two "$work/d2po-person" "${d2po[@]}" d2po.gold_labeller=person
check "D2PO with a person labelling is refused" rc 0 1
check "naming d2po.gold_labeller" contains "$work/err0" "d2po.gold_labeller"

# A text-to-image run (oracle-labelled Fashion-MNIST pairs, the embedded reference): two processes
# against one, each batch of 4 pairs split in two; the grids and summary written once.
cat >"$work/image.yaml" <<'EOF'
task: text-to-image
train_file: fashion-mnist
fashion_pairs_per_class: 4
loss_type: diffusion-dpo
per_device_train_batch_size: 4
prompt_dropout: 0.2
max_steps: 8
save_steps: 4
logging_steps: 1
eval_steps: 4
eval_seeds_per_class: 1
eval_sampling_steps: 2
eval_timesteps: 1
grid_seeds: 1
threads: 1
EOF
"$cli" train "$work/image.yaml" --output-dir "$work/image-one" -q >/dev/null 2>"$work/err-image"
run_config="$work/image.yaml" two "$work/image-two"
check "image run: both ranks exit 0" test "$(cat "$work/rc0")$(cat "$work/rc1")" = 00
check "image run: the curve and evaluation match one process" /usr/bin/python3 - "$work/image-one/metrics.jsonl" \
  "$work/image-two/metrics.jsonl" <<'EOF'
import json, sys
one, two = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
assert [r["step"] for r in one] == [r["step"] for r in two]
worst = 0.0
for a, b in zip(one, two):
    for key in ("loss", "grad_norm", "eval/win_rate", "eval/oracle_reward", "eval/implicit_acc"):
        if key in a:
            worst = max(worst, abs(a[key] - b[key]) / max(1.0, abs(a[key])))
print("image run: largest relative difference", worst)
assert worst < 1e-4, worst  # float32 convolutions on half batches, amplified by beta 5000
EOF
check "image run: one events file" test "$(ls "$work/image-two" | grep -c '^events.out.tfevents')" -eq 1
check "image run: the grid written" test -f "$work/image-two/samples/grid-step-8.png"
check "image run: the grids and config in TensorBoard (independent reader)" /usr/bin/python3 \
  "$data/tensorboard/read_events.py" "$work/image-two" "$work/image-two/metrics.jsonl" \
  --config "$work/image-two/config.yaml" --images 2
run_config="$work/image.yaml" two "$work/image-kto" loss_type=diffusion-kto
check "diffusion-kto (a batch statistic) is refused" rc 0 1
check "naming loss_type" contains "$work/err0" "loss_type"

# A rank that dies mid-run (either one): the other fails with a data-parallel error well before
# its 120 s collective timeout.
for victim in 1 0; do
  survivor=$((1 - victim))
  dir="$work/killed$victim"
  port=$(free_port)
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port PREFLAB_DIST_TIMEOUT=120 \
      "$cli" train "$config" --output-dir "$dir" -q train_file="$pairs" threads=1 max_steps=100000 \
      save_steps=0 >/dev/null 2>"$work/kill-err$rank" &
    eval "pid$rank=$!"
  done
  for _ in $(seq 1 300); do
    [ -s "$dir/metrics.jsonl" ] && break
    sleep 0.1
  done
  eval "kill -9 \$pid$victim; wait \$pid$victim 2>/dev/null"
  start=$(date +%s)
  eval "wait \$pid$survivor"
  code=$?
  took=$(($(date +%s) - start))
  echo "rank $survivor stopped $took s after rank $victim was killed (exit $code)"
  check "rank $survivor fails when rank $victim dies" test "$code" -eq 1
  check "within 30 s, not the 120 s timeout" test "$took" -lt 30
  check "the error says data parallel" contains "$work/kill-err$survivor" "data parallel (rank $survivor of 2)"
done
check "rank 0's folder says failed" contains "$work/killed1/status.json" '"failed"'

finish "data parallel"
