#!/usr/bin/env bash
# Configures and builds photong (tests, benchmarks, examples, the C library and the Python module; the CUDA kernels
# when nvcc is installed) in build/, Release, all cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The CUDA kernels are built (and their GPU test registered, skipped without a device) wherever nvcc is installed.
cuda=()
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -n "$nvcc" ] && cuda=(-DPHOTONG_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc")
# The Python module is built for Debian's python3 (the one with python3-numpy), whatever python3 comes first on PATH.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPHOTONG_PYTHON=ON -DPython3_EXECUTABLE=/usr/bin/python3 "${cuda[@]}" >/dev/null
cmake --build build -j"$(nproc)" "$@"
