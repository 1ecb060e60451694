#!/usr/bin/env bash
# README command 2 (and what CI runs): the whole test suite.
# Installs the Debian packages, fetches the default weights, regenerates the PyTorch reference
# fixtures when their generator changed, builds everything, and runs every suite through ctest,
# which prints the pass/fail counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install_deps.sh
weights/fetch_default_weights.sh

# PyTorch/ONNX fixtures (tests/reference/gen_*_fixtures.py) are ~120 MB, so they are made here
# rather than committed; a stamp with the generator's hash skips the work when nothing changed.
mkdir -p build/fixtures
stamp=build/fixtures/.generator-sha256
want=$( (cat tests/reference/gen_torch_fixtures.py tests/reference/gen_lstm_fixtures.py tests/reference/gen_hierdec_fixture.py tests/reference/gen_encoder_fixture.py \
  tests/reference/gen_bridge_fixtures.py weights/tfjs_layers_to_safetensors.py weights/keras_h5_to_safetensors.py \
  tests/reference/melody_reference.py tests/reference/gen_bad_images.py \
  tests/reference/gen_performance_fixture.py tools/performance_events.py tests/reference/gen_gru_fixtures.py \
  tests/reference/gen_piano_fixture.py tools/piano_decode.py tools/train_piano.py tools/hierdec_decode.py \
  weights/inception_torchvision.py \
  weights/safetensors_io.py; cat weights/piano_performance_rnn.sha256 2>/dev/null || true) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "test: generating PyTorch and ONNX reference fixtures"
  /usr/bin/python3 tests/reference/gen_torch_fixtures.py build/fixtures
  /usr/bin/python3 tests/reference/gen_lstm_fixtures.py build/fixtures
  /usr/bin/python3 tests/reference/gen_hierdec_fixture.py build/fixtures
  /usr/bin/python3 tests/reference/gen_encoder_fixture.py build/fixtures
  /usr/bin/python3 tests/reference/gen_bridge_fixtures.py build/fixtures
  /usr/bin/python3 tests/reference/melody_reference.py build/fixtures
  /usr/bin/python3 tests/reference/gen_bad_images.py build/fixtures
  /usr/bin/python3 tests/reference/gen_performance_fixture.py build/fixtures
  /usr/bin/python3 tests/reference/gen_gru_fixtures.py build/fixtures
  /usr/bin/python3 tests/reference/gen_piano_fixture.py build/fixtures
  echo "$want" > "$stamp"
fi

# Magenta's real mel_2bar_small decoder from ../shared (never committed), as safetensors.
if [ ! -f build/fixtures/mel_2bar_small.safetensors ]; then
  /usr/bin/python3 weights/magenta_manifest_to_safetensors.py ../shared/weights/mel_2bar_small_decoder \
    build/fixtures/mel_2bar_small.safetensors --model-name mel_2bar_small --allow-missing
fi

# The web page's browser test drives Debian's chromium with npm's playwright-core (pinned by tests/web/package-lock.json).
if [ ! -d tests/web/node_modules/playwright-core ] || [ tests/web/package-lock.json -nt tests/web/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
fi

scripts/build.sh
scripts/build_wasm.sh
# InceptionV3's packed-weights cache (models/packed_weights_cache.hpp) goes in the build tree, not the user's home:
# the suites load several InceptionV3 files (random fixtures, the shipped weights), ~90 MB of cache each.
export PHOTONG_CACHE_DIR="${PHOTONG_CACHE_DIR:-$PWD/build/packed-cache}"
ctest --test-dir build --output-on-failure
