#!/usr/bin/env bash
# Fills build-fuzz/corpus/<harness>/ with the seed inputs the issue asks for: tiny valid weight files
# of every model kind (make_seed_weights) and our test fixtures for the weight harnesses; small
# crops of skimage photos in every container stb_image reads for fuzz_image; a few real MIDI files
# from ../shared/data (copied at run time, never committed) for fuzz_midi; hand-made melodies for
# fuzz_melody. Usage: fuzz/make_seed_corpora.sh BUILD_DIR (after the fuzz build).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: make_seed_corpora.sh BUILD_DIR}"
corpus="$build/corpus"
shared="$root/../shared/data"

rm -rf "$corpus"
mkdir -p "$corpus"/{fuzz_safetensors,fuzz_weight_models,fuzz_image,fuzz_midi,fuzz_melody}

"$build/fuzz/make_seed_weights" "$corpus/fuzz_weight_models"
# The small real fixture (nsfwjs's bridge layout) as well; the two decoder fixtures (~200 KB each)
# would raise libFuzzer's -max_len for every input and slow the run tenfold for no new code path.
cp "$root/tests/fixtures/nsfwjs_reference.safetensors" "$corpus/fuzz_weight_models/"
cp "$corpus/fuzz_weight_models/"* "$corpus/fuzz_safetensors/"

/usr/bin/python3 "$root/fuzz/make_seed_images.py" "$corpus/fuzz_image"
/usr/bin/python3 "$root/fuzz/make_seed_melodies.py" "$corpus/fuzz_melody"

# Real MIDI: the smallest files of each set (format 0 and 1, running status, meta events of all kinds).
if [ -d "$shared" ]; then
  for set in nottingham vgmidi pop909 bass; do
    [ -d "$shared/$set" ] || continue
    find "$shared/$set" -iname '*.mid' -size -4k | sort | sed -n 1,8p | while read -r f; do
      name="$(basename "$f")"
      cp "$f" "$corpus/fuzz_midi/${set}_${name//[^A-Za-z0-9._-]/_}"
    done
  done
fi
# And one file of our own writer, so the corpus is never empty where ../shared is absent.
/usr/bin/python3 - "$corpus/fuzz_midi/photong_writer_style.mid" <<'PY'
import sys, mido
mid = mido.MidiFile(ticks_per_beat=220)
t = mido.MidiTrack(); mid.tracks.append(t)
t.append(mido.MetaMessage("set_tempo", tempo=500000)); t.append(mido.MetaMessage("key_signature", key="D"))
for i, p in enumerate([62, 64, 66, 67, 69]):
    t.append(mido.Message("note_on", note=p, velocity=80, time=0 if i == 0 else 0))
    t.append(mido.Message("note_off", note=p, velocity=0, time=110))
mid.save(sys.argv[1])
PY
for h in "$corpus"/*; do echo "seed corpus $(basename "$h"): $(ls "$h" | wc -l) files"; done
