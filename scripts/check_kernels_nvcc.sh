#!/usr/bin/env bash
# Compiles every kernels/cuda/*.cu with nvcc for sm_80 (A100) and sm_90a (H100/H200), warnings as errors, and
# writes ptxas's resource usage (registers, shared memory, spills per kernel) to OUT (default
# build/kernels_resource_usage.txt); bench/KERNELS.md records them with each kernel's floors.
# Exit 77 (ctest: skipped, never passed) when nvcc is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/kernels_resource_usage.txt}
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -z "$nvcc" ]; then
  echo "skipped: nvcc is not installed (the kernels still run through the host SIMT executor in test_kernels)"
  exit 77
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$out"
"$nvcc" --version | tail -1 >> "$out"
for cu in kernels/cuda/*.cu; do
  for arch in sm_80 sm_90a; do
    echo "== $cu $arch" >> "$out"
    "$nvcc" -std=c++17 -O3 -arch="$arch" -Werror all-warnings --resource-usage -c "$cu" -o "$tmp/k.o" 2>> "$out"
  done
done
grep -E "^==|Compiling entry|Used|spill" "$out"
echo "resource usage -> $out"
