#!/usr/bin/env python3
"""Seed corpus for fuzz_melody: a 13-byte options prefix (valence, arousal as u32, seed u32, grid
byte) and then one byte per step, class + 2 (so 2 is a hold, 3 a note off, 4.. pitches 21..):
scales, arpeggios, long holds, rests, the empty melody. Usage: make_seed_melodies.py OUT_DIR."""
import os
import struct
import sys


def seed(valence, arousal, rng_seed, grid, classes):
    prefix = struct.pack("<III", int(valence * 0xFFFFFFFF), int(arousal * 0xFFFFFFFF), rng_seed) + bytes([grid])
    return prefix + bytes(c + 2 for c in classes)


def main(out):
    os.makedirs(out, exist_ok=True)
    pitch = lambda p: p - 21 + 2  # class of MIDI pitch p
    scale = [pitch(p) for p in (60, 62, 64, 65, 67, 69, 71, 72)]
    seeds = {
        "c_major_scale": seed(0.8, 0.5, 1, 15, [c for p in scale for c in (p, 0, 0, 1)] * 8),
        "chromatic_minor": seed(0.2, 0.9, 2, 15, [pitch(p) for p in range(55, 80)] * 4),
        "holds_only": seed(0.5, 0.5, 3, 15, [0] * 256),
        "rests_and_notes": seed(0.6, 0.1, 4, 15, ([1] * 7 + [pitch(67)] + [0] * 8) * 16),
        "extremes": seed(1.0, 0.0, 5, 2, [pitch(21), 0, pitch(108), 1] * 20),
        "empty": seed(0.5, 0.5, 6, 15, []),
        "three_four": seed(0.3, 0.7, 7, 11, [pitch(64), 0, 0, pitch(57), 0, 1] * 32),
    }
    for name, b in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)
    print(f"make_seed_melodies: {len(seeds)} sequences in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
