#!/usr/bin/env bash
# Installs what photong needs on a Debian machine (12 "bookworm" or later), from Debian's archive only.
# Idempotent: packages already present are skipped. Runs apt-get through sudo when not root.
set -euo pipefail

packages=(
  # build: compiler, CMake, the header-only libraries photong uses
  g++ cmake make libeigen3-dev libstb-dev nlohmann-json3-dev
  # the piano roll's labels: DejaVu Sans, read at run time by stb_truetype (image/text.hpp)
  fonts-dejavu-core
  # tests and benchmarks
  doctest-dev libbenchmark-dev
  # reference generators and converters (Debian's python3, never pip)
  python3 python3-numpy python3-torch python3-torchvision python3-h5py python3-skimage python3-mido python3-pil
  # ONNX's own node tests (LSTM cases) and the library to read them
  python3-onnx libonnx-testdata
  # the default weights come from npm (nsfwjs), unpacked with node
  nodejs npm ca-certificates
  # beyond native C++ (issue 25): WebAssembly, the Python module, batch runs on Dask, the web page's browser test
  emscripten pybind11-dev python3-dev python3-dask python3-distributed chromium
)

missing=()
for p in "${packages[@]}"; do
  # node and npm may come from outside Debian (a newer Node.js); accept any working install.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install_deps: done"
