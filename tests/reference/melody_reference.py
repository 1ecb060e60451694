#!/usr/bin/python3
"""An independent reference for photong's melody extraction (photong/music/melody.hpp).

usage: melody_reference.py OUTDIR [POP909_DIR]
  writes OUTDIR/melody_pop909.json for the first 20 POP909 songs (folders sorted by name),
  POP909_DIR defaulting to ../shared/data/pop909 beside the repository.

Written here from the facts of magenta/note-seq and magenta/magenta (no import of either, and no
code shared with the C++):
  - reading (pretty_midi, which note_seq's midi_io uses): per track, a note-off or a velocity-0
    note-on closes every open note of its (channel, pitch) that started at an earlier tick; notes
    opened on that same tick stay open only if something was closed; unclosed notes are dropped;
  - quantization, sequences_lib.quantize_to_step: step = int(steps + 0.5) (QUANTIZE_CUTOFF 0.5),
    a zero-length note gets one step (_quantize_notes). note_seq computes `steps` in float seconds
    at one tempo and refuses tempo maps (MultipleTempoError), which most POP909 files have; a
    melody model wants the score's 16th-note grid, so here `steps` is the exact rational
    tick * 4 / ppq (fractions.Fraction), whatever the tempo. The float path of note_seq
    (pretty_midi's tick * 60 / (qpm * ppq) seconds times 4 * qpm / 60 steps per second, first tempo)
    is computed beside it, and the boundaries where it rounds differently (exact half-step ties
    that float error pushes just below .5) are counted into the fixture as `float_ties_flipped`;
  - OneHotMelodyConverter (mel_16bar_converter): notes outside 21..108 dropped; extract_melodies
    with min_bars=1, gap_bars=1, min_unique_pitches=1, ignore_polyphonic_notes=True, pad_end=True,
    max_steps_truncate=1600, 16 steps per bar; Melody.from_quantized_sequence's rules;
    MelodyOneHotEncoding(21, 109): -2 -> 0, -1 -> 1, pitch -> pitch - 21 + 2; slices of 256 steps
    with a hop of 16 (whole windows only).
"""
import json
import os
import sys
from fractions import Fraction

import mido

NO_EVENT, NOTE_OFF = -2, -1
STEPS_PER_QUARTER, STEPS_PER_BAR = 4, 16
MIN_PITCH, MAX_PITCH = 21, 108
GAP_BARS, MAX_STEPS_TRUNCATE, SLICE_STEPS = 1, 1600, 256


def read_notes(path, track_name="MELODY"):
    """(pitch, velocity, start_tick, end_tick) of the named track, paired the pretty_midi way."""
    mid = mido.MidiFile(path)
    tracks = [t for t in mid.tracks if t.name == track_name]
    if not tracks:
        raise SystemExit(f"{path}: no track named {track_name}")
    notes = track_notes(tracks[0])
    tempo = 500000
    for msg in mid.tracks[0]:
        if msg.type == "set_tempo":
            tempo = msg.tempo
            break
    return notes, mid.ticks_per_beat, tempo


def track_notes(track, skip_drums=False):
    """(pitch, velocity, start_tick, end_tick) of one mido track, paired the pretty_midi way.

    skip_drums leaves out channel 9 (10 in 1-based numbering), which pretty_midi marks is_drum and
    Melody.from_quantized_sequence skips."""
    opened = {}
    notes = []
    tick = 0
    for msg in track:
        tick += msg.time
        if skip_drums and msg.type in ("note_on", "note_off") and msg.channel == 9:
            continue
        if msg.type == "note_on" and msg.velocity > 0:
            opened.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
        elif msg.type in ("note_off", "note_on"):
            key = (msg.channel, msg.note)
            if key not in opened:
                continue
            closing = [o for o in opened[key] if o[0] != tick]
            staying = [o for o in opened[key] if o[0] == tick]
            for start, vel in closing:
                notes.append((msg.note, vel, start, tick))
            if closing and staying:
                opened[key] = staying
            else:
                del opened[key]
    return notes


def quantize(notes, ppq, tempo):
    """Steps of each note: exact round-half-up of tick * 4 / ppq; also counts note_seq float flips."""
    tick_scale = 60.0 / ((6e7 / tempo) * ppq)  # pretty_midi's seconds per tick
    qpm = 60.0 / (tick_scale * ppq)  # what note_seq reads back as the tempo
    steps_per_second = STEPS_PER_QUARTER * qpm / 60.0
    out = []
    flipped = 0
    for pitch, vel, t0, t1 in notes:
        s, e = (int(Fraction(t * STEPS_PER_QUARTER, ppq) + Fraction(1, 2)) for t in (t0, t1))
        flipped += sum(int(t * tick_scale * steps_per_second + 0.5) != q for t, q in ((t0, s), (t1, e)))
        if e == s:
            e += 1
        out.append((pitch, vel, s, e))
    return out, flipped


class MelodyEvents:
    """The event list of note_seq's Melody with the operations from_quantized_sequence uses."""

    def __init__(self):
        self.ev = []

    def resize(self, n):
        if n <= len(self.ev):
            del self.ev[n:]
            return
        old = len(self.ev)
        self.ev += [NO_EVENT] * (n - old)
        for i in range(old - 1, -1, -1):
            if self.ev[i] == NOTE_OFF:
                break
            if self.ev[i] != NO_EVENT:
                self.ev[old] = NOTE_OFF
                break

    def add(self, pitch, start, end):
        assert start < end
        self.resize(end + 1)
        self.ev[start] = pitch
        self.ev[start + 1:end] = [NO_EVENT] * (end - start - 1)
        self.ev[end] = NOTE_OFF

    def last_on_off(self):
        off = len(self.ev)
        for i in range(len(self.ev) - 1, -1, -1):
            if self.ev[i] == NOTE_OFF:
                off = i
            if self.ev[i] >= 0:
                return i, off
        raise ValueError("no note")


def one_melody(notes, search):
    """Melody.from_quantized_sequence(ignore_polyphonic_notes=True, pad_end=True): (start, events)."""
    cand = sorted([n for n in notes if n[2] >= search], key=lambda n: (n[2], -n[0]))
    if not cand:
        return None
    first = cand[0][2]
    base = first - (first - search) % STEPS_PER_BAR
    mel = MelodyEvents()
    for pitch, vel, s, e in cand:
        if vel == 0:
            continue
        s, e = s - base, e - base
        if mel.ev:
            on, off = mel.last_on_off()
            if s == on:
                continue
            if s - off >= GAP_BARS * STEPS_PER_BAR:
                break
        mel.add(pitch, s, e)
    if not mel.ev:
        return None
    if mel.ev[-1] == NOTE_OFF:
        mel.ev.pop()
    mel.resize(len(mel.ev) + (-len(mel.ev)) % STEPS_PER_BAR)
    return base, mel


def extract(notes, max_steps_truncate=MAX_STEPS_TRUNCATE):
    """extract_melodies with the mel_16bar_converter settings (max_bars=100: max_steps_truncate=1600;
    None keeps whole melodies)."""
    out = []
    search = 0
    while True:
        got = one_melody(notes, search)
        if got is None:
            break
        base, mel = got
        end = base + len(mel.ev)
        search = end + (0 - end) % STEPS_PER_BAR
        if len(mel.ev) < STEPS_PER_BAR:
            continue
        if max_steps_truncate is not None and len(mel.ev) > max_steps_truncate:
            mel.resize(max_steps_truncate - max_steps_truncate % STEPS_PER_BAR)
        if not any(e >= 0 for e in mel.ev):
            continue
        out.append((base, [e + 2 if e < 0 else e - MIN_PITCH + 2 for e in mel.ev]))
    return out


def main():
    outdir = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "..", "shared", "data", "pop909")
    if not os.path.isdir(root):
        raise SystemExit(f"melody_reference.py: {root} is missing (POP909 from ../shared/data)")
    songs = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, d + ".mid")))[:20]
    result = []
    total = ties = 0
    for name in songs:
        notes, ppq, tempo = read_notes(os.path.join(root, name, name + ".mid"))
        notes = [n for n in notes if MIN_PITCH <= n[0] <= MAX_PITCH]
        quantized, flipped = quantize(notes, ppq, tempo)
        mels = extract(quantized)
        ties += flipped
        windows = sum(max(0, (len(c) - SLICE_STEPS) // STEPS_PER_BAR + 1) for _, c in mels)
        result.append({"song": name, "file": f"{name}/{name}.mid", "notes": len(notes), "windows_16bar": windows,
                       "float_ties_flipped": flipped,
                       "melodies": [{"start_step": b, "classes": c} for b, c in mels]})
        total += sum(len(c) for _, c in mels)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "melody_pop909.json"), "w") as f:
        json.dump({"source": "tests/reference/melody_reference.py", "steps_per_quarter": STEPS_PER_QUARTER,
                   "songs": result}, f)
    print(f"melody_reference.py: {len(result)} songs, {sum(len(s['melodies']) for s in result)} melodies, "
          f"{total} events, {sum(s['windows_16bar'] for s in result)} 16-bar windows; "
          f"{ties} note boundaries where note_seq's float seconds would round a half-step tie differently")


if __name__ == "__main__":
    main()
