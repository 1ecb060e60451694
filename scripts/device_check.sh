#!/usr/bin/env bash
# The whole device check of the kernel backend, for a lent GPU machine (run from the repository root there, with
# build-gpu/bin, build-gpu/lib and build-gpu/weights carried from scripts/gpu_bundle.sh). Fits in 10 minutes:
#   1. the GPU: nvidia-smi's line, never a setting changed
#   2. test_gpu_kernels: every kernel at full InceptionV3 size against its CPU reference      (~1 min)
#   3. test_gpu_models: InceptionV3, 16-bar decodes and the whole pipeline against the CPU path (~2 min)
#   4. bench_gpu: kernels, features, decode, image -> MIDI, CUDA events                        (~2 min)
#   5. PyTorch + cuDNN on the same shapes (bench/peer_torch_gpu/peer.py), then the table of ratios
# Logs and JSON go to $OUT (or build-gpu/out); the table is printed last.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${OUT:-build-gpu/out}
mkdir -p "$out"
cublas_dir=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$PWD/build-gpu/lib:/usr/local/cuda/lib64:${cublas_dir}:${LD_LIBRARY_PATH:-}"
export PHOTONG_GPU_WEIGHTS="$PWD/build-gpu/weights"
for f in bridge_arousal bridge_embedding bridge_valence hierdec_mel16_photong image_latent_map; do  # committed: not carried
  cp weights/$f.safetensors weights/$f.sha256 build-gpu/weights/
done
status=0
step() {  # step NAME SECONDS COMMAND...: runs it with a time limit, its output to $out/NAME.log
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  echo "== $name: exit $rc in $((SECONDS - t0)) s"
  tail -n 4 "$out/$name.log"
  [ $rc -eq 0 ] || status=1
}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
step test_gpu_kernels 150 build-gpu/bin/test_gpu_kernels
step test_gpu_models 200 build-gpu/bin/test_gpu_models
step bench_gpu 150 build-gpu/bin/bench_gpu --benchmark_min_time=0.05 --benchmark_format=json --benchmark_out="$out/bench_gpu.json" \
  --benchmark_out_format=json
step peer_torch 120 python3 bench/peer_torch_gpu/peer.py --batches 1,8,64 --reps 20 --decode-reps 5
cp "$out/peer_torch.log" "$out/peer.jsonl"
grep -E "MESSAGE|test cases|assertions" "$out/test_gpu_kernels.log" "$out/test_gpu_models.log" | cut -c1-200 | tail -n 30
python3 bench/peer_torch_gpu/compare.py "$out/bench_gpu.json" "$out/peer.jsonl" || status=1
exit $status
