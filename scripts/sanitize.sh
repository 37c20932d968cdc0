#!/usr/bin/env bash
# Builds core, the CLI, the app and the tests with a sanitizer and runs the suite under it.
#
# Usage: scripts/sanitize.sh address   # AddressSanitizer + UBSan over every test (build-asan/)
#        scripts/sanitize.sh thread    # ThreadSanitizer over the threaded tests (build-tsan/)
#
# Not part of the README's test command: the instrumented build and run take far longer. Needs
# the packages scripts/setup.sh installs. Exit status: ctest's (0 when every test is clean).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
kind=${1:-address}
case "$kind" in
  address) dir=build-asan; option=-DPREFLAB_SANITIZE_ADDRESS=ON; tests='.' ;;
  # The tests that run threads: run controller and worker, batch sharding, the compare worker,
  # the folder watcher, and the trainer's sharded and paused runs.
  thread) dir=build-tsan; option=-DPREFLAB_SANITIZE_THREAD=ON
          tests='ui.run_controller|ui.main_window|core.batch_shards|ui.compare_view|ui.run_folder_watcher|core.preference_trainer' ;;
  *) echo "usage: $0 address|thread" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPREFLAB_BUILD_BENCH=OFF "$option" || exit 2
cmake --build "$dir" -j "$(nproc)" || exit 2
here=$(pwd)
# Leaks: LibTorch keeps process-lifetime allocations (its allocator caches, registries); those
# come from inside libtorch and are suppressed by library name, PrefLab's own are reported.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tests/sanitizers/tsan.supp"
export QT_QPA_PLATFORM=offscreen
export QTEST_FUNCTION_TIMEOUT=3600000 # instrumented runs are slower than Qt Test's 5-minute watchdog
ctest --test-dir "$dir" --output-on-failure -R "$tests" --timeout 1800
