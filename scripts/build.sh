#!/usr/bin/env bash
# Configures and builds photong (tests, benchmarks, examples; the CUDA kernels when nvcc is installed) in build/,
# Release, all cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The CUDA kernels are built (and their GPU test registered, skipped without a device) wherever nvcc is installed.
cuda=()
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -n "$nvcc" ] && cuda=(-DPHOTONG_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc")
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${cuda[@]}" >/dev/null
cmake --build build -j"$(nproc)" "$@"
