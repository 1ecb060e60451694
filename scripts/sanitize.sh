#!/usr/bin/env bash
# The whole test suite under a sanitizer (issue 7): address = AddressSanitizer + UndefinedBehavior-
# Sanitizer, thread = ThreadSanitizer (the CPU kernels' thread pool). Builds photong's programs with
# PHOTONG_SANITIZE in build-asan/ or build-tsan/ and runs every test through ctest against the
# fixtures scripts/test.sh generated in build/fixtures (run that first). Any sanitizer report fails
# its test: ASan and TSan exit non-zero, UBSan is built with -fno-sanitize-recover.
# Usage: scripts/sanitize.sh address|thread
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kind="${1:?usage: sanitize.sh address|thread}"
case "$kind" in address) dir=build-asan ;; thread) dir=build-tsan ;; *) echo "sanitize: address or thread" >&2; exit 2 ;; esac
[ -d build/fixtures ] || { echo "sanitize: run scripts/test.sh first (it makes build/fixtures)" >&2; exit 2; }

# The benchmarks are left out: they measure time, which a sanitizer distorts 2-15x.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DPHOTONG_SANITIZE="$kind" -DPHOTONG_BUILD_BENCH=OFF \
  -DPHOTONG_GENERATED_FIXTURES="$PWD/build/fixtures" >/dev/null
cmake --build "$dir" -j"$(nproc)"
# detect_leaks: LeakSanitizer too; halt_on_error: the first report ends the test. TSan's second_deadlock_stack
# makes a lock-order report show both stacks.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
ctest --test-dir "$dir" -j"$(nproc)" --timeout 3000 --output-on-failure
