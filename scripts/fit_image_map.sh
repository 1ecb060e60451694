#!/usr/bin/env bash
# Refit the image -> latent map (issue 21; weights/BRIDGES.md) for the melody model in weights/: run it whenever
# weights/hierdec_mel16_photong.safetensors changes (the pipeline refuses a map made for another model).
#   1. attribute vectors of the melody model's encoder over 6,000 training windows (tools/latent_attributes.py);
#   2. pooled InceptionV3 features of the reference photographs (../shared/data/twitter-sentiment, 52 photos);
#   3. the map: PCA whitening (16 components), spread, gains (tools/fit_image_latent_map.py).
# Needs the built photong-embed (scripts/build.sh) and the melody data (tools/melody_dataset.py). ~12 min on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=build/image-map
mkdir -p "$out"
ref="${PHOTONG_MAP_REFERENCE:-../shared/data/twitter-sentiment}"
[ -f build/melody-data/mel16.safetensors ] || /usr/bin/python3 tools/melody_dataset.py
/usr/bin/python3 tools/latent_attributes.py --out "$out/latent_attributes.safetensors" --json "$out/latent_attributes.json"
./build/examples/photong-embed --recursive "$ref" --pooled -o "$out/reference_pooled.safetensors"
/usr/bin/python3 tools/fit_image_latent_map.py --reference-features "$out/reference_pooled.safetensors" --reference-dir "$ref" \
    --attributes "$out/latent_attributes.safetensors" --components 16 --gain-register 2 --gain-density 2 \
    --out weights/image_latent_map.safetensors
# photong checks every weights file against the NAME.sha256 beside it (core/sha256.hpp)
(cd weights && sha256sum image_latent_map.safetensors > image_latent_map.sha256)
