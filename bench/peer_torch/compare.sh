#!/usr/bin/env bash
# photong vs PyTorch (CPU, float32) on MusicVAE's LSTM work, same run: one step of a 2 x 1024 LSTM stack and a whole
# 16-bar hierarchical decode, batch 1 and 8, on PHOTONG_NUM_THREADS threads (default: nproc) for both. Builds
# time_lstm and runs bench/peer_torch/interleave.py, which keeps photong (build/bench/time_lstm) and idiomatic PyTorch
# (torch_lstm_peer.py --serve: nn.LSTM stepped on length-1 sequences, the decode with torch.multinomial) each warm in
# its own process and alternates their timings, printing the median ratio photong/PyTorch with its spread
# (< 1: photong is faster).
# PyTorch runs on OpenBLAS's OpenMP build (Debian's libopenblas0-openmp, installed here when missing, put first on
# LD_LIBRARY_PATH for the peer only): Debian's python3-torch otherwise loads the system libblas.so.3, whose
# pthread OpenBLAS threads fight PyTorch's own OpenMP threads (2.3x slower at batch 8 on a 2-core AVX2 machine).
# PEER_TORCH_BLAS_DIR=DIR puts another libblas.so.3 first instead.
# usage: bench/peer_torch/compare.sh [PAIRS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PAIRS="${1:-20}"
cd "$ROOT"
THREADS="${PHOTONG_NUM_THREADS:-$(nproc)}"
scripts/build.sh --target time_lstm >/dev/null
if [[ -z "${PEER_TORCH_BLAS_DIR:-}" ]]; then
  PEER_TORCH_BLAS_DIR="/usr/lib/$(gcc -print-multiarch)/openblas-openmp"
  if [[ ! -e "$PEER_TORCH_BLAS_DIR/libblas.so.3" ]]; then
    SUDO=(); [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo)
    "${SUDO[@]}" apt-get install -y --no-install-recommends libopenblas0-openmp >&2
  fi
fi
export PEER_TORCH_BLAS_DIR
exec /usr/bin/python3 bench/peer_torch/interleave.py --pairs "$PAIRS" \
  --configs "step:1x$THREADS,step:8x$THREADS,decode:1x$THREADS,decode:8x$THREADS"
