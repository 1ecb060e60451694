#!/usr/bin/env bash
# Builds, on this machine (nvcc needed, no GPU), everything scripts/device_check.sh runs on a lent GPU machine,
# which has CUDA, PyTorch and cuDNN but not photong's build dependencies (Eigen, doctest, Google Benchmark):
#   build-gpu/bin/      test_gpu_kernels, test_gpu_models, bench_gpu (Release, sm_80 + sm_90a device code)
#   build-gpu/lib/      libbenchmark.so.1debian (the only shared library they need beside CUDA's and libc's)
#   build-gpu/weights/  InceptionV3 stored in F16 (45 MB instead of 89 MB, so that
#                       the bundle fits the 64 MiB a device call carries; the GPU tests compare GPU and CPU on the
#                       same file, so the F16 rounding of the weights does not matter to them), its sha256 beside; the
#                       device script adds the small committed weights from weights/
# Then: run(command="scripts/device_check.sh", carry=["build-gpu"]).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -n "$nvcc" ] || { echo "gpu_bundle: nvcc is not installed" >&2; exit 1; }
weights/fetch_default_weights.sh
cmake -S . -B build-gpu/cmake -DCMAKE_BUILD_TYPE=Release -DPHOTONG_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null
cmake --build build-gpu/cmake -j"$(nproc)" --target test_gpu_kernels test_gpu_models bench_gpu
mkdir -p build-gpu/bin build-gpu/lib build-gpu/weights
cp build-gpu/cmake/tests/test_gpu_kernels build-gpu/cmake/tests/test_gpu_models build-gpu/cmake/bench/bench_gpu build-gpu/bin/
strip build-gpu/bin/*
cp -L /usr/lib/x86_64-linux-gnu/libbenchmark.so.1debian build-gpu/lib/
/usr/bin/python3 - <<'PY'
import sys
sys.path.insert(0, "weights")
import numpy as np
import safetensors_io
tensors, meta = safetensors_io.load("weights/inception_v3.safetensors")
half = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in tensors.items()}
meta = dict(meta, note="F16 copy made by scripts/gpu_bundle.sh for the device check")
safetensors_io.save("build-gpu/weights/inception_v3.safetensors", half, meta)
safetensors_io.write_checksum("build-gpu/weights/inception_v3.safetensors")
PY
du -sh build-gpu/bin build-gpu/lib build-gpu/weights
total=$(du -scb build-gpu/bin build-gpu/lib build-gpu/weights | tail -1 | cut -f1)
echo "gpu_bundle: $((total / 1048576)) MiB to carry (limit 64); build-gpu/cmake stays here (carry build-gpu/bin, build-gpu/lib, build-gpu/weights)"
