#!/usr/bin/python3
"""Checks the `photong` command end to end on skimage's chelsea.png, reading its MIDI with mido.

  check_photong_example.py PHOTONG MAKE_RANDOM_PIPELINE_WEIGHTS INCEPTION_V3.safetensors WORK_DIR

Until trained bridges and melody weights exist, WORK_DIR/weights gets seeded random ones from
MAKE_RANDOM_PIPELINE_WEIGHTS (tests/random_pipeline_weights.hpp) and a link to the real InceptionV3.
- a run exits 0 and writes a type-1 SMF with 3 tracks, one tempo event in 52.14..187.86 BPM, notes on
  the melody and chord tracks; the same seed twice gives identical bytes;
- --json prints one JSON object whose bpm matches the file's tempo, whose key mode follows valence
  (major iff valence >= 0.5), with 256 events; --variations 4 --rank groove picks the candidate with the
  highest groove consistency; --colour-affect runs too;
- bad flags exit 2 (unknown option, --rank bogus, --variations 0, --seed -1, no image);
- --png writes a piano roll that decodes; --wav without fluidsynth on PATH exits 1 naming it and writes
  nothing, and with fluidsynth and a GM soundfont installed writes a WAV of more than a second;
- a missing image exits 1; a missing arousal bridge exits 1 naming the file and suggesting
  --colour-affect, and --colour-affect then succeeds, as does --arousal A (the tempo T(A) in the file, the
  source "option"); --valence 0.1 gives a minor key; out-of-range values exit 2; a missing embedding bridge exits 1.
Exit 0 when all hold.
"""
import json
import math
import os
import shutil
import subprocess
import sys

import mido

CHELSEA = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import check, failures, random_weights_dir, run  # noqa: E402,F401


def tempo_bpm(path):
    mid = mido.MidiFile(path)
    tempos = [m.tempo for t in mid.tracks for m in t if m.type == "set_tempo"]
    return mid, tempos


def main(argv):
    if len(argv) != 5:
        print(__doc__)
        return 2
    photong, make_weights, inception, work = argv[1:]
    if not os.path.exists(CHELSEA):
        print("skipped: %s is not on this machine (python3-skimage)" % CHELSEA)
        return 0
    if not os.path.exists(inception):
        print("skipped: %s is missing (weights/fetch_default_weights.sh)" % inception)
        return 0
    wdir = random_weights_dir(make_weights, inception, work)

    # A plain run.
    out = os.path.join(work, "cat.mid")
    r = run(photong, CHELSEA, "-o", out, "--seed", "7", "--weights-dir", wdir)
    print(r.stdout, end="")
    check(r.returncode == 0, "plain run exit %d: %s" % (r.returncode, r.stderr))
    check("BPM" in r.stdout and "bar 1:" in r.stdout and out in r.stdout, "summary lacks BPM / bar 1 / output path")
    mid, tempos = tempo_bpm(out)
    check(mid.type == 1, "SMF type %d, expected 1" % mid.type)
    check(len(mid.tracks) == 3, "%d tracks, expected 3" % len(mid.tracks))
    check(len(tempos) == 1, "%d tempo events, expected 1" % len(tempos))
    bpm = mido.tempo2bpm(tempos[0]) if tempos else 0
    check(52.14 <= bpm <= 187.86, "tempo %.3f BPM outside [52.14, 187.86]" % bpm)
    for ti in (1, 2):
        ons = [m for m in mid.tracks[ti] if m.type == "note_on" and m.velocity > 0] if len(mid.tracks) > ti else []
        check(len(ons) > 0, "track %d has no notes" % ti)
    # The same seed again: identical bytes.
    out2 = os.path.join(work, "cat2.mid")
    r = run(photong, CHELSEA, "-o", out2, "--seed", "7", "--weights-dir", wdir)
    check(r.returncode == 0 and open(out, "rb").read() == open(out2, "rb").read(), "same seed, different file")

    # --json.
    out3 = os.path.join(work, "cat3.mid")
    r = run(photong, CHELSEA, "-o", out3, "--seed", "7", "--weights-dir", wdir, "--json")
    check(r.returncode == 0, "--json exit %d: %s" % (r.returncode, r.stderr))
    try:
        j = json.loads(r.stdout)
    except ValueError as e:
        j = {}
        check(False, "--json output does not parse: %s" % e)
    if j:
        check(abs(j["bpm"] - bpm) < 1e-3, "json bpm %s vs file %.4f" % (j["bpm"], bpm))
        check(j["tempo_us_per_quarter"] == tempos[0], "json tempo %s vs file %s" % (j["tempo_us_per_quarter"], tempos[0]))
        check(j["key"]["mode"] == ("major" if j["valence"] >= 0.5 else "minor"), "key mode does not follow valence")
        check(len(j["events"]) == 256, "%d events, expected 256" % len(j["events"]))
        check(len(j["latent"]) == 512, "latent of %d numbers" % len(j["latent"]))
        check(j["output"] == out3 and open(out, "rb").read() == open(out3, "rb").read(), "--json changed the file")
        check(j["affect_source"] == "bridges", "affect source %s" % j["affect_source"])

    # Variations ranked by groove consistency.
    r = run(photong, CHELSEA, "-o", os.path.join(work, "v.mid"), "--seed", "3", "--variations", "4", "--rank", "groove",
            "--weights-dir", wdir, "--json")
    check(r.returncode == 0, "--variations exit %d: %s" % (r.returncode, r.stderr))
    if r.returncode == 0:
        j = json.loads(r.stdout)
        g = [c["groove_consistency"] if c["groove_consistency"] is not None else -1 for c in j["candidates"]]
        check(len(g) == 4 and j["chosen"] == g.index(max(g)), "chosen %s is not the best groove of %s" % (j["chosen"], g))

    # --colour-affect.
    r = run(photong, CHELSEA, "-o", os.path.join(work, "c.mid"), "--colour-affect", "--weights-dir", wdir, "--json")
    check(r.returncode == 0 and json.loads(r.stdout or "{}").get("affect_source") == "colour", "--colour-affect failed: " + r.stderr)

    # --png: a labelled piano roll that decodes, about as wide as 16 or 17 bars of 4-pixel steps.
    png = os.path.join(work, "roll.png")
    r = run(photong, CHELSEA, "-o", os.path.join(work, "r.mid"), "--seed", "7", "--weights-dir", wdir, "--png", png)
    check(r.returncode == 0 and os.path.exists(png), "--png exit %d: %s" % (r.returncode, r.stderr))
    if os.path.exists(png):
        from skimage import io
        roll = io.imread(png)
        # 16 or 17 bars of 4-pixel steps (the tonic's bar), plus the pitch names on the left and a margin on the right
        check(roll.ndim == 3 and 16 * 16 * 4 < roll.shape[1] < 17 * 16 * 4 + 200, "piano roll shape %s" % (roll.shape,))
    # --wav: fluidsynth absent (PATH without it) is an error before any work, nothing written; present, a WAV file.
    wav = os.path.join(work, "w.wav")
    env = dict(os.environ, PATH=os.path.join(work, "empty-path"))
    r = subprocess.run([photong, CHELSEA, "-o", os.path.join(work, "w.mid"), "--weights-dir", wdir, "--wav", wav],
                       capture_output=True, text=True, timeout=300, env=env)
    check(r.returncode == 1 and "fluidsynth" in r.stderr and not os.path.exists(wav) and not os.path.exists(os.path.join(work, "w.mid")),
          "--wav without fluidsynth: exit %d, stderr %r" % (r.returncode, r.stderr))
    if shutil.which("fluidsynth") and any(os.path.exists(f) for f in ("/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2")):
        r = run(photong, CHELSEA, "-o", os.path.join(work, "w.mid"), "--weights-dir", wdir, "--wav", wav)
        check(r.returncode == 0 and os.path.exists(wav), "--wav exit %d: %s" % (r.returncode, r.stderr))
        if os.path.exists(wav):
            import wave
            with wave.open(wav) as wf:
                seconds = wf.getnframes() / wf.getframerate()
            check(seconds > 1, "--wav: %.2f s of audio" % seconds)
            print("--wav: %.1f s of audio at %d Hz" % (seconds, 44100))
    else:
        print("--wav rendering not checked: fluidsynth / fluid-soundfont-gm not installed")

    # Bad flags: exit 2.
    for args in (["--bogus"], ["--rank", "bogus"], ["--variations", "0"], ["--seed", "-1"], ["--temperature", "x"], ["-o"],
                 ["--valence", "1.5"], ["--arousal", "-0.1"], ["--arousal", "nan"], ["--valence"]):
        r = run(photong, CHELSEA, "--weights-dir", wdir, *args)
        check(r.returncode == 2, "%s: exit %d, expected 2" % (" ".join(args), r.returncode))
    r = run(photong, "--weights-dir", wdir)
    check(r.returncode == 2, "no image: exit %d, expected 2" % r.returncode)

    # Errors: exit 1.
    r = run(photong, os.path.join(work, "no_such.png"), "-o", os.path.join(work, "x.mid"), "--weights-dir", wdir)
    check(r.returncode == 1 and not os.path.exists(os.path.join(work, "x.mid")), "missing image: exit %d" % r.returncode)
    partial = os.path.join(work, "partial")
    shutil.copytree(wdir, partial, symlinks=True)
    os.remove(os.path.join(partial, "bridge_arousal.safetensors"))
    r = run(photong, CHELSEA, "-o", os.path.join(work, "p.mid"), "--weights-dir", partial)
    check(r.returncode == 1 and "bridge_arousal.safetensors" in r.stderr and "--colour-affect" in r.stderr,
          "missing arousal bridge: exit %d, stderr %r" % (r.returncode, r.stderr))
    r = run(photong, CHELSEA, "-o", os.path.join(work, "p.mid"), "--weights-dir", partial, "--colour-affect")
    check(r.returncode == 0, "missing arousal bridge with --colour-affect: exit %d: %s" % (r.returncode, r.stderr))
    # --arousal A: the user's value, the tempo T(A) in the file, and no arousal bridge needed; valence still the bridge's.
    r = run(photong, CHELSEA, "-o", os.path.join(work, "u.mid"), "--weights-dir", partial, "--arousal", "0.75", "--json")
    j = json.loads(r.stdout or "{}") if r.returncode == 0 else {}
    want = 160 / (1 + math.exp(-5 * (0.75 - 0.5))) + 40
    check(j.get("arousal") == 0.75 and j.get("arousal_source") == "option" and j.get("valence_source") == "bridge"
          and abs(60e6 / tempo_bpm(os.path.join(work, "u.mid"))[1][0] - want) < 0.01,
          "--arousal 0.75 without the arousal bridge: exit %d, %s, stderr %r" % (r.returncode, {k: j.get(k) for k in ("arousal", "arousal_source", "valence_source")}, r.stderr))
    r = run(photong, CHELSEA, "-o", os.path.join(work, "v.mid"), "--weights-dir", wdir, "--valence", "0.1", "--json")
    j = json.loads(r.stdout or "{}") if r.returncode == 0 else {}
    check(j.get("valence_source") == "option" and j.get("key", {}).get("mode") == "minor",
          "--valence 0.1: exit %d, %s" % (r.returncode, r.stderr))
    os.remove(os.path.join(partial, "bridge_embedding.safetensors"))
    r = run(photong, CHELSEA, "-o", os.path.join(work, "q.mid"), "--weights-dir", partial, "--colour-affect")
    check(r.returncode == 1 and "bridge_embedding.safetensors" in r.stderr, "missing embedding bridge: exit %d" % r.returncode)

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all photong example checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
