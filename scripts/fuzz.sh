#!/usr/bin/env bash
# Builds photong's libFuzzer harnesses (clang, ASan+UBSan) in build-fuzz/, makes their seed corpora
# and runs each one until it has done RUNS executions or spent SECONDS, then prints one line per
# harness: executions, exec/s and findings (crash-, leak-, timeout-, oom- files left in
# build-fuzz/findings/<harness>/; each one reproduces with `build-fuzz/fuzz/<harness> FILE`).
# Usage: scripts/fuzz.sh [SECONDS per harness, default 600] [RUNS, default 10000000] [harness...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
runs="${2:-10000000}"
shift $(( $# > 2 ? 2 : $# ))
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(fuzz_safetensors fuzz_weight_models fuzz_image fuzz_midi fuzz_melody)

bash scripts/install_deps.sh
# clang and its libFuzzer runtime; Pillow writes the image seeds. Installed only when missing.
need=()
command -v clang++ >/dev/null || need+=(clang)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-dev)
/usr/bin/python3 -c "import PIL" 2>/dev/null || need+=(python3-pil)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# PHOTONG_FUZZ_NO_BUILD=1 reuses the build (for a second run started beside the first).
if [ ! -x build-fuzz/fuzz/fuzz_melody ] || [ -z "${PHOTONG_FUZZ_NO_BUILD:-}" ]; then
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHOTONG_BUILD_FUZZERS=ON \
    -DPHOTONG_BUILD_TESTS=OFF -DPHOTONG_BUILD_BENCH=OFF -DPHOTONG_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build build-fuzz -j"$(nproc)" >/dev/null
fi
[ -d build-fuzz/corpus ] || fuzz/make_seed_corpora.sh build-fuzz >/dev/null

for h in "${harnesses[@]}"; do
  work="build-fuzz/work/$h" findings="build-fuzz/findings/$h" log="build-fuzz/logs/$h.log"
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  # New inputs go to work/ (the first directory); the seed corpus stays as it was made.
  # -rss_limit_mb and -malloc_limit_mb make an unbounded allocation a finding, -timeout a hang.
  # fuzz_melody's inputs are one byte per decoder step: 512 bytes hold the pipeline's 256-step
  # melodies with room to spare, and longer inputs only slow every execution down.
  extra=()
  [ "$h" = fuzz_melody ] && extra=(-max_len=512)
  set +e
  "build-fuzz/fuzz/$h" "${extra[@]}" -runs="$runs" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$findings/" "$work" "build-fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  found=$(find "$findings" -type f | wc -l)
  echo "$h: ${execs:-0} executions, ${rate:-0} exec/s, $found findings (exit $rc, log $log)"
done
