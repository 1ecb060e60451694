#!/usr/bin/env bash
# README command 1: from a fresh Debian machine to a melody made from a photo by real networks.
# Installs the Debian packages, fetches and converts the default InceptionV3 (nsfwjs's, from npm), builds
# photong, samples one melody from our own 16-bar MusicVAE (weights/hierdec_mel16_photong.safetensors) with
# photong-melody, and runs the whole Photong pipeline on skimage's chelsea.png (a cat): chelsea.mid, with a
# piano roll in chelsea.png, in the current directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install_deps.sh
weights/fetch_default_weights.sh
scripts/build.sh --target photong-cli photong-melody
./build/examples/photong-melody --weights weights/hierdec_mel16_photong.safetensors --seed 1 -o melody.mid
./build/examples/photong /usr/lib/python3/dist-packages/skimage/data/chelsea.png --seed 1 -o chelsea.mid --png chelsea-roll.png
