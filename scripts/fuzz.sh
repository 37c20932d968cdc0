#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) and runs each for SECONDS, starting from
# the seed corpora under tests/fuzz/corpus/. New inputs go to build-fuzz/corpus/<target>/ (the
# committed seeds are not touched); a crash, leak, timeout or out-of-memory input is written to
# build-fuzz/findings/<target>/ and listed at the end. Turn each into a regression test with its
# input under tests/data/.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]   (default 300 s, every target; 2 at a time)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
seconds=${1:-300}
shift || true
all=(text_preferences train_config safetensors hf_config idx image_manifest run_folder tokenizer sentencepiece chat_template model_folder label_candidates label_store prompt_list sweep_spec trainer_state event_file)
targets=("${@:-${all[@]}}")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPREFLAB_BUILD_FUZZ=ON -DPREFLAB_BUILD_UI=OFF -DPREFLAB_BUILD_TESTS=OFF -DPREFLAB_BUILD_BENCH=OFF >/dev/null || exit 2
cmake --build build-fuzz -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") || exit 2
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
run() {
  local t=$1 corpus=build-fuzz/corpus/$1 findings=build-fuzz/findings/$1
  mkdir -p "$corpus" "$findings"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  build-fuzz/tests/fuzz/fuzz_"$t" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 \
    -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 >build-fuzz/fuzz_"$t".log 2>&1
  local execs found
  execs=$(grep -m1 'stat::number_of_executed_units' build-fuzz/fuzz_"$t".log | awk '{print $2}')
  found=$(ls "$findings" | wc -l)
  printf '%-18s %12s execs  %3s findings  (%s s)\n' "$t" "${execs:-?}" "$found" "$seconds"
}
jobs=0
for t in "${targets[@]}"; do
  run "$t" &
  jobs=$((jobs + 1))
  if [ $jobs -ge "$(nproc)" ]; then wait -n; jobs=$((jobs - 1)); fi
done
wait
found=$(find build-fuzz/findings -type f 2>/dev/null | wc -l)
echo "findings: $found (build-fuzz/findings/)"
[ "$found" -eq 0 ]
