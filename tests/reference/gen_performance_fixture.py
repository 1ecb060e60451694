#!/usr/bin/env python3
"""Fixture for tests/test_performance.cpp: Tan & Antony performance events and controls of real MIDI files, made by
tools/performance_events.py (the encoder the piano model was trained with), for the C++ encoder to reproduce.
usage: gen_performance_fixture.py OUT_DIR"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import performance_events as pe  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "..", "shared", "data")
FILES = ["vgmidi/phrases/Banjo-Kazooie_N64_Banjo-Kazooie_Ending_0.mid", "vgmidi/phrases/Banjo-Kazooie_N64_Banjo-Kazooie_Boggys Igloo Sad_0.mid",
         "pop909/001/001.mid", "pop909/437/437.mid"]


def main():
    out = {}
    for rel in FILES:
        path = os.path.join(SHARED, rel)
        if not os.path.exists(path):
            continue
        events, _ = pe.encode(pe.midi_notes(path))
        density, hist = pe.controls(events)
        out[rel] = {"events": events, "density": [int(d) for d in density], "hist": [[float(x) for x in h] for h in hist[:: max(1, len(hist) // 200)]],
                    "hist_stride": max(1, len(hist) // 200)}
    os.makedirs(sys.argv[1], exist_ok=True)
    with open(os.path.join(sys.argv[1], "performance_events.json"), "w") as f:
        json.dump(out, f)
    print("performance fixture:", {k: len(v["events"]) for k, v in out.items()})


if __name__ == "__main__":
    main()
