#!/usr/bin/env python3
"""Judges photong's two generators the way Kundu et al. judge theirs (issue 24): for 50 pictures (skimage's photos and
the first Twitter photos of ../shared/data) and the four valence-arousal corners (0.15 / 0.85 each, given with
--valence/--arousal), each generator writes a piece with `photong --json`; for each piece:
  - the VA predictor's valence and arousal (tools/va_predictor.py, on 1-9; held-out r 0.77 / 0.89 on EIMG),
  - Kundu's three metrics exactly as their Music_Quality.py computes them through MusPy (ticks of the written file,
    polyphony threshold 2, 4-tick measures; music/metrics.hpp's kundu_metrics is the C++ twin) and the MQL.
Then, at the pictures' own affect (no override), how many of the 50 pieces are distinct at one seed.
Prints the corner table and a JSON summary (--out).

usage: eval_generators.py [--binary build/examples/photong] [--weights-dir weights] [--pictures 50] [--seconds 20] [--out F]
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import performance_events as pe  # noqa: E402
import va_predictor  # noqa: E402

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
CORNERS = [("low V, low A", 0.15, 0.15), ("low V, high A", 0.15, 0.85), ("high V, low A", 0.85, 0.15), ("high V, high A", 0.85, 0.85)]
REF = [0.5302987662965006, 3.986320228665771, 0.9921825307541308]


def pictures(n, shared):
    sk = [p for p in sorted(glob.glob(os.path.join(SKIMAGE, "*"))) if p.lower().endswith((".png", ".jpg")) and "truncated" not in p]
    tw = sorted(glob.glob(os.path.join(shared, "twitter-sentiment", "*", "*.jpg")))
    out = []
    for p in sk + tw:
        try:
            from PIL import Image
            with Image.open(p) as im:
                if min(im.size) < 64:
                    continue
        except Exception:
            continue
        out.append(p)
    return out[:n]


def muspy_ticks_notes(path):
    """(pitch, start_tick, end_tick, channel) per track, FIFO per (channel, pitch), open notes end at the track's last tick."""
    import mido
    mid = mido.MidiFile(path)
    notes = []
    for track in mid.tracks:
        t, last, open_ = 0, 0, {}
        for msg in track:
            t += msg.time
            last = max(last, t)
            if msg.type not in ("note_on", "note_off"):
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                open_.setdefault(key, []).append(t)
            elif open_.get(key):
                notes.append((msg.note, open_[key].pop(0), t, msg.channel))
        for (ch, p), starts in open_.items():
            notes += [(p, s, last, ch) for s in starts]
    return notes


def kundu_metrics(path):
    notes = muspy_ticks_notes(path)
    if not notes:
        return [float("nan")] * 3
    pitched = [n for n in notes if n[3] != 9]
    length = max(n[2] for n in notes)
    counts = np.bincount([n[0] for n in pitched], minlength=128).astype(float)
    p = counts[counts > 0] / counts.sum() if counts.sum() else np.array([])
    entropy = float(-(p * np.log2(p)).sum()) if len(p) else float("nan")
    roll = np.zeros((length, 128), bool)
    for pitch, s, e, ch in pitched:
        roll[s:e, pitch] = True
    poly = float((roll.sum(1) > 2).sum() / length) if length else float("nan")
    mr = 4
    measures = length // mr + 1
    if measures < 2:
        groove = float("nan")
    else:
        pat = np.zeros((measures, mr), bool)
        for pitch, s, e, ch in notes:
            pat[s // mr, s % mr] = True
        groove = 1 - float((pat[:-1] != pat[1:]).sum()) / (mr * (measures - 1))
    return [poly, entropy, groove]


def mql(m):
    return sum(abs(a - r) / r for a, r in zip(m, REF))


def run(binary, weights, image, generator, seconds, seed, va, out_mid):
    cmd = [binary, image, "-o", out_mid, "--json", "--weights-dir", weights, "--seed", str(seed), "--generator", generator]
    if generator == "piano":
        cmd += ["--seconds", str(seconds)]
    if va is not None:
        cmd += ["--valence", str(va[0]), "--arousal", str(va[1])]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "build", "examples", "photong"))
    ap.add_argument("--weights-dir", default=os.path.join(HERE, "..", "weights"))
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared", "data"))
    ap.add_argument("--pictures", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--generators", default="piano,melody")
    ap.add_argument("--out")
    a = ap.parse_args()
    pics = pictures(a.pictures, a.shared)
    predictor = va_predictor.load()
    summary = {"pictures": len(pics), "seconds": a.seconds, "seed": a.seed, "generators": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for gen in a.generators.split(","):
            rows = {c[0]: {"valence": [], "arousal": [], "metrics": []} for c in CORNERS}
            for i, pic in enumerate(pics):
                for name, v, ar in CORNERS:
                    mid = os.path.join(tmp, f"{gen}_{i}_{v}_{ar}.mid")
                    run(a.binary, a.weights_dir, pic, gen, a.seconds, a.seed, (v, ar), mid)
                    pv, pa = va_predictor.predict_notes(predictor, [pe.midi_notes(mid)])[0]
                    rows[name]["valence"].append(float(pv)), rows[name]["arousal"].append(float(pa))
                    rows[name]["metrics"].append(kundu_metrics(mid))
                print(f"{gen}: {i + 1}/{len(pics)} pictures", file=sys.stderr, flush=True)
            own = set()
            for i, pic in enumerate(pics):
                mid = os.path.join(tmp, f"{gen}_own_{i}.mid")
                run(a.binary, a.weights_dir, pic, gen, a.seconds, a.seed, None, mid)
                own.add(open(mid, "rb").read())
            g = {"corners": {}, "distinct_pieces": len(own)}
            allm = []
            for name, _, _ in CORNERS:
                m = np.nanmean(np.array(rows[name]["metrics"]), axis=0).tolist()
                allm += rows[name]["metrics"]
                g["corners"][name] = {"valence": float(np.mean(rows[name]["valence"])), "arousal": float(np.mean(rows[name]["arousal"])),
                                      "polyphony_rate": m[0], "pitch_entropy": m[1], "groove_consistency": m[2], "mql": mql(m)}
            m = np.nanmean(np.array(allm), axis=0).tolist()
            g["metrics"] = {"polyphony_rate": m[0], "pitch_entropy": m[1], "groove_consistency": m[2], "mql": mql(m)}
            c = g["corners"]
            g["arousal_gap"] = (c["low V, high A"]["arousal"] + c["high V, high A"]["arousal"] - c["low V, low A"]["arousal"] - c["high V, low A"]["arousal"]) / 2
            g["valence_gap"] = (c["high V, low A"]["valence"] + c["high V, high A"]["valence"] - c["low V, low A"]["valence"] - c["low V, high A"]["valence"]) / 2
            summary["generators"][gen] = g
    for gen, g in summary["generators"].items():
        print(f"\n{gen}: predicted valence / arousal (1-9) and Kundu's metrics per corner, {summary['pictures']} pictures, seed {a.seed}")
        print(f"  {'corner':<16}{'valence':>9}{'arousal':>9}{'polyphony':>11}{'entropy':>9}{'groove':>9}{'MQL':>8}")
        for name, r in g["corners"].items():
            print(f"  {name:<16}{r['valence']:>9.2f}{r['arousal']:>9.2f}{r['polyphony_rate']:>11.4f}{r['pitch_entropy']:>9.4f}{r['groove_consistency']:>9.4f}{r['mql']:>8.4f}")
        m = g["metrics"]
        print(f"  all: polyphony {m['polyphony_rate']:.4f}, pitch entropy {m['pitch_entropy']:.4f}, groove {m['groove_consistency']:.4f}, MQL {m['mql']:.4f}")
        print(f"  high - low arousal corners: {g['arousal_gap']:+.2f} predicted arousal; high - low valence: {g['valence_gap']:+.2f} predicted valence")
        print(f"  distinct pieces over {summary['pictures']} pictures at their own affect: {g['distinct_pieces']}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
