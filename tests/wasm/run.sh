#!/usr/bin/env bash
# ctest wasm_cli: the WebAssembly builds of photong-melody and photong (scripts/build_wasm.sh), run under Node,
# write the same MIDI bytes as the native programs for seed 1 (photong-melody with our melody model; photong on
# skimage's chelsea.png), and the time of each for one picture is printed beside the native one (not asserted).
#   tests/wasm/run.sh NATIVE_PHOTONG NATIVE_PHOTONG_MELODY WORK_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
native=${1:?usage: run.sh NATIVE_PHOTONG NATIVE_PHOTONG_MELODY WORK_DIR}
native_melody=${2:?usage: run.sh NATIVE_PHOTONG NATIVE_PHOTONG_MELODY WORK_DIR}
work=${3:?usage: run.sh NATIVE_PHOTONG NATIVE_PHOTONG_MELODY WORK_DIR}
cd "$root"
for tool in em++ node; do
  if ! command -v "$tool" >/dev/null; then echo "wasm_cli: skipped: $tool not found (scripts/install_deps.sh installs it)"; exit 77; fi
done
scripts/build_wasm.sh
mkdir -p "$work"
image=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
melody_weights=weights/hierdec_mel16_photong.safetensors
# Node 18+ has a global fetch that emscripten 3.1.6 would use for the .wasm file; the file system is the right way.
wasm_node=(node --no-experimental-fetch)

"$native_melody" --weights "$melody_weights" --seed 1 -o "$work/melody-native.mid" > /dev/null
"${wasm_node[@]}" build-wasm/node/photong-melody.js --weights "$melody_weights" --seed 1 -o "$work/melody-wasm.mid" > /dev/null
cmp "$work/melody-native.mid" "$work/melody-wasm.mid"
echo "wasm_cli: photong-melody seed 1: the same bytes natively and in WebAssembly: $(sha256sum < "$work/melody-wasm.mid" | cut -c1-16)…"

"$native" "$image" --weights-dir weights --seed 1 -o "$work/chelsea-native.mid" > /dev/null 2> "$work/native.log"
"${wasm_node[@]}" build-wasm/node/photong.js "$image" --weights-dir weights --seed 1 -o "$work/chelsea-wasm.mid" > /dev/null 2> "$work/wasm.log"
cmp "$work/chelsea-native.mid" "$work/chelsea-wasm.mid"
echo "wasm_cli: photong chelsea.png seed 1: the same bytes natively and in WebAssembly: $(sha256sum < "$work/chelsea-wasm.mid" | cut -c1-16)…"

# The programs' own progress stamps: "[t s] InceptionV3 features" ends the loading, "[t s] done" the picture.
stage_seconds() { awk '/InceptionV3 features/ { gsub(/[\[\]]/, "", $2); start = $2 } / done$/ { gsub(/[\[\]]/, "", $2); print $2 - start }' "$1"; }
echo "wasm_cli: one picture (features to MIDI, one thread): native $(stage_seconds "$work/native.log") s, WebAssembly $(stage_seconds "$work/wasm.log") s (bench/wasm/compare.sh measures the ratio over several rounds)"
