#!/usr/bin/env bash
# Cross-compiles photong's test suites and example programs for another architecture with Debian's
# cross toolchain and runs them under qemu-user (issue 7: aarch64, and s390x for big-endian), then
# makes the two reference MIDI files (photong-melody and the whole photong pipeline, seed 1) and
# prints their SHA-256, to compare with the x86-64 build's (printed too when build/ has one).
# With --midi-only it configures the same way but builds only photong-melody and photong-cli, one job
# at a time, skips ctest and makes just the reference MIDI files.
# Usage: scripts/cross_test.sh aarch64|s390x [--midi-only]   (needs scripts/test.sh's fixtures in build/fixtures)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arch="${1:?usage: cross_test.sh aarch64|s390x [--midi-only]}"
case "$arch" in aarch64|s390x) ;; *) echo "cross_test: unknown architecture $arch" >&2; exit 2 ;; esac
midi_only=0
case "${2-}" in "") ;; --midi-only) midi_only=1 ;; *) echo "cross_test: unknown option $2" >&2; exit 2 ;; esac
build="build-$arch"
sysroot="/usr/$arch-linux-gnu"

need=()
command -v "$arch-linux-gnu-g++" >/dev/null || need+=("g++-$arch-linux-gnu")
command -v "qemu-$arch" >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Portable code only: no -march=native; the benchmarks need Google Benchmark built for the target.
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="cmake/toolchains/$arch-linux-gnu.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DPHOTONG_NATIVE=OFF -DPHOTONG_BUILD_BENCH=OFF -DPHOTONG_GENERATED_FIXTURES="$PWD/build/fixtures" >/dev/null
if [ "$midi_only" -eq 1 ]; then
  cmake --build "$build" --target photong-melody photong-cli -j1
else
  cmake --build "$build" -j"$(nproc)"
  # The doctest suites run through CMAKE_CROSSCOMPILING_EMULATOR; the Python-driven checks call the
  # programs directly (no emulator) and test the host's converters, so they are left to the native run.
  ctest --test-dir "$build" -j"$(nproc)" --timeout 3000 -E '^(install_and_find_package|converter_|example_|crosscheck_|tool_)' | tail -n 4
fi

run() { "qemu-$arch" -L "$sysroot" "$@"; }
out="$build/reference-midi"
mkdir -p "$out"
img=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
run "$build/examples/photong-melody" --weights weights/hierdec_mel16_photong.safetensors --seed 1 -o "$out/melody.mid" >/dev/null
run "$build/examples/photong" "$img" --seed 1 -o "$out/chelsea.mid" >/dev/null
echo "cross_test $arch reference MIDI:"
(cd "$out" && sha256sum melody.mid chelsea.mid)
if [ -x build/examples/photong ]; then
  mkdir -p build/reference-midi
  build/examples/photong-melody --weights weights/hierdec_mel16_photong.safetensors --seed 1 -o build/reference-midi/melody.mid >/dev/null
  build/examples/photong "$img" --seed 1 -o build/reference-midi/chelsea.mid >/dev/null
  echo "x86-64 (build/) reference MIDI:"
  (cd build/reference-midi && sha256sum melody.mid chelsea.mid)
fi
