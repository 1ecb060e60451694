#!/usr/bin/python3
"""Reads a touched-up MIDI file (photong::to_midi) with mido and checks what tests/test_touch_up.cpp expects.

usage: check_touch_up_mido.py FILE BPM KEY MELODY_NOTES CHORD_NOTES
  BPM           expected tempo in BPM (compared within 1e-3 after the microsecond rounding)
  KEY           mido's key name for the key signature, e.g. "C", "F#", "Am", "D#m"; "-" for none
  *_NOTES       expected note counts on track 1 (channel 0) and track 2 (channel 1)
Exits non-zero with a message on the first disagreement.
"""
import sys

import mido


def main():
    path, bpm, key, n_mel, n_chord = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    f = mido.MidiFile(path)
    assert f.type == 1, f"type {f.type}"
    assert len(f.tracks) == 3, f"{len(f.tracks)} tracks"
    metas = [m for m in f.tracks[0] if m.is_meta]
    tempos = [m.tempo for m in metas if m.type == "set_tempo"]
    assert len(tempos) == 1, tempos
    got_bpm = mido.tempo2bpm(tempos[0])
    assert abs(got_bpm - bpm) < 1e-3, (got_bpm, bpm)
    keys = [m.key for m in metas if m.type == "key_signature"]
    assert keys == ([] if key == "-" else [key]), (keys, key)
    ts = [(m.numerator, m.denominator) for m in metas if m.type == "time_signature"]
    assert ts == [(4, 4)], ts
    for ti, (want, ch) in ((1, (n_mel, 0)), (2, (n_chord, 1))):
        ons = [m for m in f.tracks[ti] if m.type == "note_on" and m.velocity > 0]
        assert len(ons) == want, (ti, len(ons), want)
        assert all(m.channel == ch for m in ons), ti
    print(f"mido: type 1, 3 tracks, {got_bpm:.4f} BPM, key {keys}, {n_mel} melody and {n_chord} chord notes, {f.length:.3f} s")


if __name__ == "__main__":
    main()
