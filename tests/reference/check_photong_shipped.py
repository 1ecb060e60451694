#!/usr/bin/python3
"""The `photong` command on real photos with the shipped weights (weights/), its MIDI read with mido.

  check_photong_shipped.py PHOTONG WEIGHTS_DIR WORK_DIR

Skipped (exit 0, says so) when a weight file or skimage's photos are missing. Otherwise, on four skimage photos
(a cat, a portrait, a cup of coffee, a rocket launch: the paper's test pictures were a cat, people, food and a
scene, so these are its four kinds in spirit):
- exit 0; an SMF type 1 with tempo in [52.14, 187.86] BPM equal to the JSON's, the key mode following valence
  (major iff valence >= 0.5), the melody ending on the tonic's pitch class, every melody note inside 17 bars;
- the shipped melody model makes music, not silence: the chosen decode has >= 8 notes of >= 3 distinct pitches;
- the same seed twice gives identical bytes; another seed gives another melody from the same image;
- controlled set: the photo with its saturation raised (HSV S x 1.6) gives a faster tempo than with it lowered
  (x 0.4) under --colour-affect (Valdez & Mehrabian: arousal rises with saturation). The learned arousal bridge's
  tempos for the same pair are printed, not asserted (it was trained on grey silhouettes, see weights/BRIDGES.md).
"""
import json
import os
import shutil
import sys

import mido
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import check, finish, run  # noqa: E402

DATA = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ["chelsea.png", "astronaut.png", "coffee.png", "rocket.jpg"]
FILES = ["inception_v3", "bridge_embedding", "bridge_arousal", "bridge_valence", "hierdec_mel16_photong"]
NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def generate(photong, wdir, image, out, *extra):
    r = run(photong, image, "-o", out, "--weights-dir", wdir, "--json", *extra, threads="2")
    check(r.returncode == 0, "%s %s: exit %d: %s" % (os.path.basename(image), " ".join(extra), r.returncode, r.stderr))
    return json.loads(r.stdout) if r.returncode == 0 else None


def saturated(src, dst, factor):
    from skimage import color, io
    rgb = io.imread(src)[..., :3].astype(np.float64) / 255
    hsv = color.rgb2hsv(rgb)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 1)
    io.imsave(dst, (color.hsv2rgb(hsv) * 255).round().astype(np.uint8), check_contrast=False)


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    photong, wdir, work = argv[1:]
    missing = [f for f in FILES if not os.path.exists(os.path.join(wdir, f + ".safetensors"))]
    if missing or not all(os.path.exists(os.path.join(DATA, p)) for p in PHOTOS):
        print("skipped: missing %s" % (missing or "skimage photos (python3-skimage)"))
        return 0
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for photo in PHOTOS:
        image = os.path.join(DATA, photo)
        out = os.path.join(work, photo.split(".")[0] + ".mid")
        j = generate(photong, wdir, image, out, "--seed", "1")
        if not j:
            continue
        mid = mido.MidiFile(out)
        tempos = [m.tempo for t in mid.tracks for m in t if m.type == "set_tempo"]
        bpm = mido.tempo2bpm(tempos[0]) if tempos else 0
        check(mid.type == 1 and len(tempos) == 1 and 52.14 <= bpm <= 187.86 and abs(bpm - j["bpm"]) < 1e-3,
              "%s: tempo %.3f BPM (json %.3f)" % (photo, bpm, j["bpm"]))
        check(j["key"]["mode"] == ("major" if j["valence"] >= 0.5 else "minor"), "%s: key does not follow valence" % photo)
        mel = j["melody"]
        pitches = [n["pitch"] for n in mel]
        check(len(mel) >= 9 and len(set(pitches)) >= 3, "%s: %d notes, %d distinct pitches" % (photo, len(mel), len(set(pitches))))
        if mel:
            check(pitches[-1] % 12 == j["key"]["tonic_pitch_class"], "%s: ends on %s, tonic %s" % (photo, pitches[-1], j["key"]["tonic"]))
            check(max(n["end_step"] for n in mel) <= 17 * 16, "%s: a melody note past bar 17" % photo)
        print("%-14s arousal %.3f -> %6.2f BPM, valence %.3f -> %s %s, %d notes, %d chords; first notes %s"
              % (photo, j["arousal"], j["bpm"], j["valence"], j["key"]["tonic"], j["key"]["mode"], len(mel), len(j["chords"]),
                 " ".join(n["name"] for n in mel[:8])))
        if photo == PHOTOS[0]:
            again = os.path.join(work, "again.mid")
            generate(photong, wdir, image, again, "--seed", "1")
            check(open(out, "rb").read() == open(again, "rb").read(), "%s: same seed, different bytes" % photo)
            other = generate(photong, wdir, image, os.path.join(work, "seed2.mid"), "--seed", "2")
            check(other is not None and other["events"] != j["events"], "%s: seeds 1 and 2 gave the same events" % photo)

    # Controlled set: one photo, saturation lowered and raised.
    src = os.path.join(DATA, "coffee.png")
    low, high = os.path.join(work, "coffee_s04.png"), os.path.join(work, "coffee_s16.png")
    saturated(src, low, 0.4)
    saturated(src, high, 1.6)
    res = {}
    for label, path in (("low", low), ("high", high)):
        for mode, extra in (("colour", ("--colour-affect",)), ("bridges", ())):
            j = generate(photong, wdir, path, os.path.join(work, "%s_%s.mid" % (label, mode)), "--seed", "1", *extra)
            res[(label, mode)] = j["bpm"] if j else float("nan")
    check(res[("high", "colour")] > res[("low", "colour")],
          "colour affect: saturation x1.6 gave %.2f BPM, x0.4 gave %.2f" % (res[("high", "colour")], res[("low", "colour")]))
    print("coffee saturation x0.4 / x1.6: colour baseline %.2f / %.2f BPM; arousal bridge %.2f / %.2f BPM (not asserted)"
          % (res[("low", "colour")], res[("high", "colour")], res[("low", "bridges")], res[("high", "bridges")]))
    return finish("shipped-weights photong")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
