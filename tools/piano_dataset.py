#!/usr/bin/env python3
"""Builds the piano generator's training data (issue 24) from ../shared/data into build/piano-data/piano.npz:
every piece encoded as Tan & Antony's performance events (tools/performance_events.py), with its valence and
arousal where it has them, its source and its split.

  EIMG     3,000 rated piano clips (dataset.zip; labels.xlsx Valence_Mean / Arousal_Mean on 1-9 -> (v - 1) / 8)
  VGMIDI   204 labelled video-game phrases (vgmidi_labelled.csv: valence, arousal = +-1 -> 0.25 / 0.75)
  POP909   909 pop songs, all three tracks (MELODY, BRIDGE, PIANO: one piano arrangement), unrated (NaN)
Splits by piece (seeded): EIMG and VGMIDI 80 / 10 / 10 % (a VGMIDI piece's phrases together), POP909 90 / 5 / 5 %.
Reads labels.xlsx with the standard library (an .xlsx is zipped XML; no openpyxl on these machines).

usage: piano_dataset.py [--shared ../shared/data] [--out build/piano-data/piano.npz]
"""
import argparse
import csv
import os
import random
import re
import sys
import time
import xml.etree.ElementTree as ET
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import performance_events as pe  # noqa: E402

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def read_xlsx(path):
    """The first sheet as {(row, col letters): text}."""
    z = zipfile.ZipFile(path)
    shared = [("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"]))) for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    cells = {}
    for c in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter("{%s}c" % NS["m"]):
        ref = c.get("r")
        v = c.find("m:v", NS)
        if v is None:
            continue
        text = shared[int(v.text)] if c.get("t") == "s" else v.text
        col, row = re.match(r"([A-Z]+)(\d+)", ref).groups()
        cells[(int(row), col)] = text
    return cells


def eimg(shared):
    cells = read_xlsx(os.path.join(shared, "eimg", "labels.xlsx"))
    where = {text: key for key, text in cells.items() if text in ("File name", "Valence_Mean", "Arousal_Mean")}
    (hr, fcol), (_, vcol), (_, acol) = where["File name"], where["Valence_Mean"], where["Arousal_Mean"]
    labels = {}
    for (row, col), text in cells.items():
        if col == fcol and row > hr and text.endswith(".mid"):
            labels[text] = (float(cells[(row, vcol)]), float(cells[(row, acol)]))
    z = zipfile.ZipFile(os.path.join(shared, "eimg", "dataset.zip"))
    out = []
    for name in sorted(n for n in z.namelist() if n.endswith(".mid")):
        base = os.path.basename(name)
        v, a = labels[base]
        out.append(("eimg/" + base, pe.midi_notes(data=z.read(name)), (v - 1) / 8, (a - 1) / 8, base))
    return out


def vgmidi(shared):
    out = []
    with open(os.path.join(shared, "vgmidi", "vgmidi_labelled.csv")) as f:
        for r in csv.DictReader(f):
            path = os.path.join(shared, "vgmidi", "phrases", os.path.basename(r["midi"]))
            v, a = 0.5 + 0.25 * float(r["valence"]), 0.5 + 0.25 * float(r["arousal"])
            out.append(("vgmidi/" + os.path.basename(path), pe.midi_notes(path), v, a, r["game"] + "/" + r["piece"]))
    return out


def pop909(shared):
    out = []
    root = os.path.join(shared, "pop909")
    for song in sorted(d for d in os.listdir(root) if d.isdigit()):
        out.append(("pop909/" + song, pe.midi_notes(os.path.join(root, song, song + ".mid")), float("nan"), float("nan"), song))
    return out


def split_of(group, fractions, rng_seed):
    """0 train, 1 val, 2 test: a stable function of the piece's group name."""
    r = random.Random(f"{rng_seed}:{group}").random()
    return 0 if r < fractions[0] else (1 if r < fractions[0] + fractions[1] else 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default="build/piano-data/piano.npz")
    a = ap.parse_args()
    t0 = time.time()
    events, offsets, val, aro, source, split, names = [], [0], [], [], [], [], []
    for sid, (loader, fractions) in enumerate([(eimg, (0.8, 0.1)), (vgmidi, (0.8, 0.1)), (pop909, (0.9, 0.05))]):
        pieces = loader(a.shared)
        kept = 0
        for name, notes, v, ar, group in pieces:
            ev, _ = pe.encode(notes)
            if len(ev) < 20:
                continue
            events.extend(ev)
            offsets.append(len(events))
            val.append(v), aro.append(ar), source.append(sid), split.append(split_of(group, fractions, 24)), names.append(name)
            kept += 1
        print(f"{loader.__name__}: {kept} of {len(pieces)} pieces, {offsets[-1]} events so far ({time.time() - t0:.0f} s)", flush=True)
    ev = np.asarray(events, np.uint8)
    density = np.zeros(len(ev), np.uint8)
    hist = np.zeros((len(ev), 12), np.float16)
    for i in range(len(offsets) - 1):
        d, h = pe.controls(ev[offsets[i]:offsets[i + 1]].tolist())
        density[offsets[i]:offsets[i + 1]] = d
        hist[offsets[i]:offsets[i + 1]] = h
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    np.savez(a.out, events=ev, offsets=np.asarray(offsets, np.int64), valence=np.asarray(val, np.float32), arousal=np.asarray(aro, np.float32),
             source=np.asarray(source, np.uint8), split=np.asarray(split, np.uint8), names=np.asarray(names), density=density, hist=hist)
    split_arr, src = np.asarray(split), np.asarray(source)
    for sid, s in enumerate(["eimg", "vgmidi", "pop909"]):
        print(s, "train/val/test pieces:", [int(((src == sid) & (split_arr == k)).sum()) for k in range(3)])
    print(f"-> {a.out}: {len(names)} pieces, {len(ev)} events ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
