#!/usr/bin/env bash
# WebAssembly vs native, the same picture in the same run: the photong command on chelsea.png (seed 1), native
# (build/examples/photong, one thread, as the wasm build has) and WebAssembly under Node (build-wasm/node/photong.js,
# scripts/build_wasm.sh), alternating ROUNDS times so both see the same machine. From the programs' own progress
# stamps it prints, per round and as medians, the loading time and the time for one picture (features to MIDI),
# and the median wasm/native ratio of each.
#   bench/wasm/compare.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${1:-5}
image=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
for f in build/examples/photong build-wasm/node/photong.js; do
  [ -f "$f" ] || { echo "compare: $f is missing (scripts/build.sh --target photong-cli; scripts/build_wasm.sh)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "[t s] InceptionV3 features" ends the loading; "[t s] done" ends the picture.
stamps() { awk '/InceptionV3 features/ { gsub(/[\[\]]/, "", $2); load = $2 } / done$/ { gsub(/[\[\]]/, "", $2); print load, $2 - load }' "$1"; }

: > "$work/native.txt"; : > "$work/wasm.txt"
for ((i = 1; i <= rounds; ++i)); do
  PHOTONG_NUM_THREADS=1 build/examples/photong "$image" --weights-dir weights --seed 1 -o "$work/n.mid" > /dev/null 2> "$work/n.log"
  node --no-experimental-fetch build-wasm/node/photong.js "$image" --weights-dir weights --seed 1 -o "$work/w.mid" > /dev/null 2> "$work/w.log"
  cmp -s "$work/n.mid" "$work/w.mid" || { echo "compare: the two builds wrote different MIDI files" >&2; exit 1; }
  read -r nl np < <(stamps "$work/n.log"); read -r wl wp < <(stamps "$work/w.log")
  echo "$nl $np" >> "$work/native.txt"; echo "$wl $wp" >> "$work/wasm.txt"
  printf 'round %d: native load %.2f s, picture %.2f s; wasm load %.2f s, picture %.2f s\n' "$i" "$nl" "$np" "$wl" "$wp"
done
/usr/bin/python3 - "$work/native.txt" "$work/wasm.txt" <<'PY'
import statistics, sys
native = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
wasm = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
for i, what in enumerate(["loading the weights", "one picture (features to MIDI)"]):
    ratios = sorted(w[i] / n[i] for n, w in zip(native, wasm))
    print(f"{what}: native median {statistics.median(n[i] for n in native):.2f} s, wasm median "
          f"{statistics.median(w[i] for w in wasm):.2f} s, wasm/native {statistics.median(ratios):.1f}x "
          f"(rounds {ratios[0]:.1f}x..{ratios[-1]:.1f}x)")
PY
