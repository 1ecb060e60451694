#!/usr/bin/python3
"""Training data for photong's own hierarchical MusicVAE (the hierdec-mel_16bar layout): 16-bar melody windows.

usage: tools/melody_dataset.py [--sets pop909,nottingham] [--data DIR] [--out FILE] [--max-bars N]
                               [--val-fraction F] [--transpose-augment K]
       tools/melody_dataset.py --check [FILE]

Reads the real MIDI in ../shared/data (read-only; nothing is copied into the repository), turns each song into
monophonic melodies with the note_seq rules implemented in tests/reference/melody_reference.py (imported, not
copied), cuts 256-step windows and writes build/melody-data/mel16.safetensors (weights/safetensors_io.py):

  train_events int32 [N, 256]  classes 0 = no event (hold), 1 = note off, 2..89 = note on at MIDI pitch 21..108
  train_song   int32 [N]       index into the song list in the metadata ("songs": [[set, name], ...])
  val_events   int32 [M, 256]
  val_song     int32 [M]
  train_shift  int32 [N]       semitones each train window was transposed by (only with --transpose-augment K > 0)

Metadata (all strings, JSON where structured): songs, counts (per set), rules, licences, sources, sets, command.

Rules (magenta/magenta music_vae configs.py `hierdec-mel_16bar` uses mel_16bar_converter =
OneHotMelodyConverter(skip_polyphony=False, max_bars=100, slice_bars=16, steps_per_quarter=4); data.py):
  - 4 steps per quarter, 16 steps per bar; notes outside MIDI 21..108 dropped before extraction (not transposed);
  - melodies extracted as note_seq's extract_melodies(min_bars=1, gap_bars=1, min_unique_pitches=1,
    ignore_polyphonic_notes=True, pad_end=True, max_steps_truncate=16 * max_bars): highest pitch wins among
    notes starting on the same step, a later onset cuts the sounding note, a silence of >= 1 bar ends a melody;
    melodies longer than --max-bars (default 100, magenta's) are truncated to that many bars, as magenta does;
  - windows l[i-256:i] for i in range(256, len(l)+1, 16): whole 16-bar windows, hop one bar;
  - quantization is exact in MIDI ticks (step = floor(tick * 4 / ppq + 1/2)), so tempo maps do not move notes
    off the score's grid; magenta (note_seq) quantizes in float seconds and splits the sequence at every tempo
    change instead (tests/reference/melody_reference.py and include/photong/music/melody.hpp explain this);
  - time signatures: magenta splits a sequence at time-signature changes and drops every piece whose bar is not
    16 steps (4/4, 2/2). Here: POP909 files all declare 2/4 but are written in 4/4 feel (001/beat_midi.txt, for
    one, marks a downbeat every 4 beats), so POP909 is read as one piece with 16-step bars whatever it declares. Nottingham and
    VGMIDI files are split at each change of time signature (no signature = 4/4, repeats of the same signature are
    not changes); a piece is kept when its bar is 16 steps (4/4, 2/2, 8/8) or 8 steps (2/4, 4/8), a 2/4 piece
    being read as 16-step bars that pair its bars two by two from the start of the piece (a pickup bar can put
    the pairing half a bar off: the windows are still real 16-bar stretches of melody; magenta would drop
    2/4 pieces). Everything else (3/4, 6/8, 9/8, 3/2, 6/4, 5/4, ...) is dropped and counted. Notes belong to the
    piece in which they start; one that sounds past the piece's end is cut there;
  - VGMIDI pieces (piano): all non-drum notes of all tracks together (right and left hand); the extraction's
    highest-note-wins rule takes the top line. Channel 10 (drums) is skipped for every set. VGMIDI's labelled
    phrases are not used (most are far shorter than 16 bars);
  - windows with no note-on (all holds / note-offs) are skipped;
  - exact duplicate windows (the same 256 classes) are removed over the whole output, train and validation
    together, keeping the first in reading order (sets in the order given, songs sorted by name): a window in
    validation never equals one in training. magenta instead deduplicates per sequence and samples at most
    max_tensors_per_notesequence = 5 windows of each; here all unique windows are kept (a trainer may subsample);
  - split by song, never by window: a song goes to validation when
    int(sha256("SET/NAME").hexdigest()[:8], 16) % 10000 < 10000 * val_fraction (default 0.05); deterministic and
    independent of which sets are chosen; at least 20 POP909 songs must land in validation (checked);
  - --transpose-augment K (default 0, which is what magenta's mel_16bar training did: no transposition): each
    training window (never validation) is also added shifted by every k in -K..K, k != 0, for which all its
    pitches stay within 21..108; then deduplicated again against everything, validation included.

Licences and the default set choice: POP909 is MIT; Nottingham (jukedeck/nottingham-dataset) is GPL-3.0; VGMIDI's
repository states no licence (its pieces are arrangements of commercial video-game music; see the repository
README and cite Ferreira & Whitehead, ISMIR 2019). Because VGMIDI's terms are unclear, the DEFAULT is
`pop909,nottingham`; VGMIDI must be asked for (--sets pop909,nottingham,vgmidi). Weights trained on GPL data
arguably inherit GPL obligations, so for an MIT-only model use --sets pop909. The script prints these
implications for the sets chosen.
"""
import argparse
import hashlib
import json
import os
import sys
import time
from fractions import Fraction

import mido
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
sys.path.insert(0, os.path.join(ROOT, "weights"))
sys.path.insert(0, HERE)
import melody_reference as ref  # noqa: E402
import melody_stats  # noqa: E402  (tools/, next to this file)
import safetensors_io  # noqa: E402

SLICE_STEPS = ref.SLICE_STEPS  # 256
STEPS_PER_BAR = ref.STEPS_PER_BAR  # 16
NUM_CLASSES = 90
DEFAULT_SETS = "pop909,nottingham"
ALL_SETS = ("pop909", "nottingham", "vgmidi")

LICENCES = {
    "pop909": "MIT (pop909/LICENSE, Copyright (c) 2020 Music X Lab)",
    "nottingham": "GPL-3.0 (nottingham/LICENSE.md)",
    "vgmidi": "see repository README; cite Ferreira & Whitehead 2019 (no licence stated)",
}
SOURCES = {
    "pop909": "music-x-lab/POP909-Dataset @ d83e6edba6872a704f5d3b8b32f5cb540088dae6, NNN/NNN.mid track MELODY",
    "nottingham": "jukedeck/nottingham-dataset @ 0992bb6cd864f6d4b90d6663e08c0ef53ffaa08f, melody/*.mid",
    "vgmidi": "lucasnfe/vgmidi @ 1e62f0af8c866ded8e665cefad06dc02c35cb739, pieces/*.mid (all non-drum tracks)",
}
IMPLICATIONS = {
    "pop909": "MIT: keep the copyright notice with the data; weights are unencumbered in practice.",
    "nottingham": "GPL-3.0: weights trained on it arguably inherit GPL obligations (use --sets pop909 for MIT-only).",
    "vgmidi": "no licence stated and arrangements of commercial game music: redistribution of weights is unclear.",
}


def list_songs(data, name):
    """(song name, path) pairs of one set, sorted by name."""
    if name == "pop909":
        base = os.path.join(data, "pop909")
        return [(d, os.path.join(base, d, d + ".mid")) for d in sorted(os.listdir(base))
                if os.path.isfile(os.path.join(base, d, d + ".mid"))]
    base = os.path.join(data, "nottingham", "melody") if name == "nottingham" else os.path.join(data, "vgmidi", "pieces")
    return [(f[:-4], os.path.join(base, f)) for f in sorted(os.listdir(base)) if f.lower().endswith(".mid")]


def time_signature_pieces(mid):
    """[(start_tick, end_tick or None, numerator, denominator)] split at changes of time signature."""
    events = {}
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "time_signature":
                events[tick] = (msg.numerator, msg.denominator)  # at one tick the last read wins
    if 0 not in events:
        events[0] = (4, 4)
    pieces = []
    for tick in sorted(events):
        if pieces and (pieces[-1][2], pieces[-1][3]) == events[tick]:
            continue
        if pieces:
            pieces[-1][1] = tick
        pieces.append([tick, None, *events[tick]])
    return [tuple(p) for p in pieces]


def read_song(set_name, path, stats):
    """Note lists (pitch, velocity, start_tick, end_tick) in ticks from the start of each kept piece, and ppq.

    Returns (pieces, ppq) or (None, reason)."""
    try:
        mid = mido.MidiFile(path)
    except Exception as e:  # a broken file is skipped and counted, not fatal
        return None, f"unreadable ({type(e).__name__})"
    if set_name == "pop909":
        tracks = [t for t in mid.tracks if t.name == "MELODY"]
        if not tracks:
            return None, "no MELODY track"
        notes = ref.track_notes(tracks[0], skip_drums=True)
        return [notes], mid.ticks_per_beat
    notes = []
    for track in mid.tracks:
        notes += ref.track_notes(track, skip_drums=True)
    kept = []
    for start, end, num, den in time_signature_pieces(mid):
        bar = Fraction(16 * num, den)  # steps per bar at 4 steps per quarter
        sig = f"{num}/{den}"
        inside = [n for n in notes if n[2] >= start and (end is None or n[2] < end)]
        if bar not in (16, 8):
            if inside:
                stats["pieces_dropped_time_signature"][sig] = stats["pieces_dropped_time_signature"].get(sig, 0) + 1
            continue
        if inside:
            stats["pieces_kept_time_signature"][sig] = stats["pieces_kept_time_signature"].get(sig, 0) + 1
            kept.append([(p, v, s - start, (e if end is None else min(e, end)) - start) for p, v, s, e in inside])
    if not kept:
        return None, "no piece in 4/4, 2/2 or 2/4 (time signature)"
    return kept, mid.ticks_per_beat


def is_validation(set_name, song, fraction):
    h = int(hashlib.sha256(f"{set_name}/{song}".encode()).hexdigest()[:8], 16)
    return h % 10000 < round(10000 * fraction)


def build(args):
    t0 = time.time()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    for s in sets:
        if s not in ALL_SETS:
            raise SystemExit(f"melody_dataset.py: unknown set {s!r} (choose from {', '.join(ALL_SETS)})")
    max_steps = args.max_bars * STEPS_PER_BAR if args.max_bars > 0 else None
    songs = []  # [set, name]
    seen = set()
    windows = {"train": [], "val": []}
    owners = {"train": [], "val": []}
    counts = {}
    for set_name in sets:
        c = counts[set_name] = {
            "files": 0, "songs_read": 0, "songs_skipped": {}, "songs_without_windows": 0,
            "notes": 0, "notes_dropped_out_of_range": 0,
            "pieces_kept_time_signature": {}, "pieces_dropped_time_signature": {},
            "melodies": 0, "melody_steps": 0, "windows": 0, "windows_no_note_on": 0,
            "windows_duplicate": 0, "windows_unique": 0,
            "songs_train": 0, "songs_val": 0, "windows_train": 0, "windows_val": 0}
        for song, path in list_songs(args.data, set_name):
            c["files"] += 1
            pieces, ppq = read_song(set_name, path, c)
            if pieces is None:
                c["songs_skipped"][ppq] = c["songs_skipped"].get(ppq, 0) + 1
                continue
            c["songs_read"] += 1
            split = "val" if is_validation(set_name, song, args.val_fraction) else "train"
            index = len(songs)
            songs.append([set_name, song])
            c["songs_" + split] += 1
            got = 0
            for notes in pieces:
                c["notes"] += len(notes)
                inside = [n for n in notes if ref.MIN_PITCH <= n[0] <= ref.MAX_PITCH]
                c["notes_dropped_out_of_range"] += len(notes) - len(inside)
                quantized, _ = ref.quantize(inside, ppq, 500000)
                for _, classes in ref.extract(quantized, max_steps):
                    c["melodies"] += 1
                    c["melody_steps"] += len(classes)
                    mel = np.asarray(classes, dtype=np.int8)
                    for i in range(SLICE_STEPS, len(mel) + 1, STEPS_PER_BAR):
                        w = mel[i - SLICE_STEPS:i]
                        c["windows"] += 1
                        if not (w >= 2).any():
                            c["windows_no_note_on"] += 1
                            continue
                        key = w.tobytes()
                        if key in seen:
                            c["windows_duplicate"] += 1
                            continue
                        seen.add(key)
                        c["windows_unique"] += 1
                        c["windows_" + split] += 1
                        windows[split].append(w)
                        owners[split].append(index)
                        got += 1
            if not got:
                c["songs_without_windows"] += 1
    if "pop909" in sets and counts["pop909"]["songs_val"] < 20:
        raise SystemExit(f"melody_dataset.py: only {counts['pop909']['songs_val']} POP909 songs in validation "
                         "(need 20): raise --val-fraction")

    shifts = [0] * len(windows["train"])
    augmented = {"added": 0, "out_of_range": 0, "duplicate": 0}
    if args.transpose_augment > 0:
        base = list(zip(windows["train"], owners["train"]))
        for w, owner in base:
            notes = w >= 2
            lo, hi = int(w[notes].min()), int(w[notes].max())
            for k in range(-args.transpose_augment, args.transpose_augment + 1):
                if k == 0:
                    continue
                if lo + k < 2 or hi + k > NUM_CLASSES - 1:
                    augmented["out_of_range"] += 1
                    continue
                t = w.copy()
                t[notes] += k
                key = t.tobytes()
                if key in seen:
                    augmented["duplicate"] += 1
                    continue
                seen.add(key)
                windows["train"].append(t)
                owners["train"].append(owner)
                shifts.append(k)
                augmented["added"] += 1

    def stack(ws):
        return np.stack(ws).astype(np.int32) if ws else np.zeros((0, SLICE_STEPS), np.int32)

    tensors = {"train_events": stack(windows["train"]), "train_song": np.asarray(owners["train"], np.int32),
               "val_events": stack(windows["val"]), "val_song": np.asarray(owners["val"], np.int32)}
    if args.transpose_augment > 0:
        tensors["train_shift"] = np.asarray(shifts, np.int32)
    rules = __doc__[__doc__.index("Rules"):__doc__.index("Licences and")].strip()
    meta = {
        "format": "photong melody windows v1: classes 0 hold, 1 note off, 2..89 = MIDI 21..108; 16 steps per bar",
        "sets": json.dumps(sets),
        "songs": json.dumps(songs),
        "counts": json.dumps(counts),
        "transpose_augment": json.dumps({"K": args.transpose_augment, **augmented}),
        "max_bars": str(args.max_bars),
        "val_fraction": str(args.val_fraction),
        "rules": rules,
        "licences": json.dumps({s: LICENCES[s] for s in sets}),
        "sources": json.dumps({s: SOURCES[s] for s in sets}),
        "command": " ".join(["tools/melody_dataset.py"] + sys.argv[1:]),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    safetensors_io.save(args.out, tensors, meta)
    elapsed = time.time() - t0

    cols = ["files", "songs_read", "songs_train", "songs_val", "melodies", "windows", "windows_no_note_on",
            "windows_duplicate", "windows_train", "windows_val"]
    heads = ["files", "songs", "train", "val", "melodies", "windows", "no-note", "dupes", "w.train", "w.val"]
    print(f"{'set':<11}" + "".join(f"{h:>10}" for h in heads))
    for s in sets:
        print(f"{s:<11}" + "".join(f"{counts[s][k]:>10}" for k in cols))
    print(f"{'total':<11}" + "".join(f"{sum(counts[s][k] for s in sets):>10}" for k in cols))
    for s in sets:
        c = counts[s]
        extra = [f"notes {c['notes']} ({c['notes_dropped_out_of_range']} outside 21..108 dropped)",
                 f"songs with no window {c['songs_without_windows']}"]
        if c["songs_skipped"]:
            extra.append("skipped " + ", ".join(f"{n} {r}" for r, n in c["songs_skipped"].items()))
        if c["pieces_kept_time_signature"] or c["pieces_dropped_time_signature"]:
            extra.append("pieces kept " + json.dumps(c["pieces_kept_time_signature"]) +
                         " dropped " + json.dumps(c["pieces_dropped_time_signature"]))
        print(f"  {s}: " + "; ".join(extra))
    if args.transpose_augment > 0:
        print(f"  transpose-augment ±{args.transpose_augment}: {augmented['added']} train windows added, "
              f"{augmented['out_of_range']} out of range, {augmented['duplicate']} duplicates")
    print(f"train {tensors['train_events'].shape[0]} windows, val {tensors['val_events'].shape[0]} windows, "
          f"{len(songs)} songs -> {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB) in {elapsed:.1f} s")
    print("licences:")
    for s in sets:
        print(f"  {s}: {LICENCES[s]} -- {IMPLICATIONS[s]}")


def check(path):
    tensors, meta = safetensors_io.load(path)
    songs = json.loads(meta["songs"])
    for split in ("train", "val"):
        ev, so = tensors[f"{split}_events"], tensors[f"{split}_song"]
        assert ev.dtype == np.int32 and so.dtype == np.int32, (ev.dtype, so.dtype)
        assert ev.ndim == 2 and ev.shape[1] == SLICE_STEPS and so.shape == (ev.shape[0],), (ev.shape, so.shape)
        assert ev.size == 0 or (ev.min() >= 0 and ev.max() < NUM_CLASSES), "class outside 0..89"
        assert so.size == 0 or (so.min() >= 0 and so.max() < len(songs)), "song index outside the song list"
        assert (ev >= 2).any(axis=1).all(), "a window without a note-on"
    if "train_shift" in tensors:
        assert tensors["train_shift"].shape == tensors["train_song"].shape
    both = set(tensors["train_song"].tolist()) & set(tensors["val_song"].tolist())
    assert not both, f"{len(both)} songs in both splits, e.g. {songs[min(both)]}"
    allw = np.concatenate([tensors["train_events"], tensors["val_events"]]).astype(np.int8)
    assert len(np.unique(allw, axis=0)) == len(allw), "duplicate windows"
    ev = tensors["train_events"]
    n = ev.shape[0]
    print(f"check {path}: OK (train {n}, val {tensors['val_events'].shape[0]} windows of {SLICE_STEPS} steps, "
          f"int32, classes in 0..89, {len(songs)} songs, none in both splits, no duplicate windows)")
    which = "train"
    if "train_shift" in tensors:  # the figures describe the data itself, not the transposed copies
        ev = ev[tensors["train_shift"] == 0]
        n = ev.shape[0]
        which = f"train (the {n} untransposed windows)"
    st = melody_stats.summary(ev)  # the same code measures model samples (tools/eval_hierdec.py)
    hist = st["pitch_class_counts"]
    print(f"{which} pitch-class histogram of note-ons (share %):")
    print("  " + " ".join(f"{p:>5}" for p in melody_stats.PC_NAMES))
    print("  " + " ".join(f"{100 * h / max(1, sum(hist)):5.1f}" for h in hist))
    print(f"{which} mean note-ons per bar {st['note_ons_per_bar']:.3f}; "
          f"note-offs per bar {st['note_offs_per_bar']:.3f}; "
          f"holds {100 * st['hold_fraction']:.1f}% of steps; pitch mean {st['pitch_mean']:.2f}, "
          f"range {st['pitch_min']}..{st['pitch_max']}")
    print(f"{which} mean pitch range per window {st['mean_pitch_range']:.2f} semitones; "
          f"mean fraction of note-ons in the window's best-fitting major/natural-minor scale {st['scale_fit']:.3f}")
    per_set = {}
    for s in tensors["train_song"].tolist():
        per_set[songs[s][0]] = per_set.get(songs[s][0], 0) + 1
    print("train windows per set: " + json.dumps(per_set))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default=DEFAULT_SETS, help=f"comma-separated from {','.join(ALL_SETS)} "
                   f"(default {DEFAULT_SETS}: VGMIDI's licence is unclear)")
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    p.add_argument("--out", default=os.path.join(ROOT, "build", "melody-data", "mel16.safetensors"))
    p.add_argument("--max-bars", type=int, default=100, help="truncate melodies to this many bars "
                   "(magenta's max_bars=100; 0 = no truncation)")
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--transpose-augment", type=int, default=0, metavar="K",
                   help="also add train windows transposed by -K..K semitones (default 0, as magenta)")
    p.add_argument("--check", nargs="?", const="", default=None, metavar="FILE",
                   help="re-read FILE (default --out) and check it instead of building")
    args = p.parse_args()
    if args.check is not None:
        check(args.check or args.out)
        return
    build(args)
    check(args.out)


if __name__ == "__main__":
    main()
