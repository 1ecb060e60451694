#!/usr/bin/env bash
# photong vs ONNX Runtime on InceptionV3 features (299x299), same weights, same run: batch 1 and 8, 1 and 2
# threads. Builds time_inception and runs bench/peer_ort/interleave.py, which alternates single inferences
# between the two programs, each kept warm in its own process, and prints per configuration the median ratio
# photong/ORT with its spread (see that script). Lower is better; the issue's goal is <= 0.8.
# usage: bench/peer_ort/compare.sh [WEIGHTS.safetensors] [PAIRS] [CONFIGS, e.g. 1x1,1x2,8x1,8x2]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WEIGHTS="${1:-$ROOT/weights/inception_v3.safetensors}"
PAIRS="${2:-30}"
CONFIGS="${3:-1x1,1x2,8x1,8x2}"
cd "$ROOT"
scripts/build.sh --target time_inception >/dev/null
exec /usr/bin/python3 bench/peer_ort/interleave.py --weights "$WEIGHTS" --pairs "$PAIRS" --configs "$CONFIGS"
