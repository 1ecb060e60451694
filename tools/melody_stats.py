"""Melody statistics shared by tools/melody_dataset.py (--check) and tools/eval_hierdec.py, so that training
data and model samples are measured by the same code.

Windows are int arrays [N, 256] of classes 0 = hold (no event), 1 = note off, 2..89 = note on at MIDI pitch
21..108, 16 steps per bar. Only numpy is needed.
"""
import numpy as np

MIN_PITCH = 21
STEPS_PER_BAR = 16
PC_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
MAJOR = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR = (0, 2, 3, 5, 7, 8, 10)


def _scale_masks():
    """[24, 12] 0/1 masks: rows 0..11 major on C..B, rows 12..23 natural minor on C..B. (Each minor key has the
    pitch-class set of its relative major, so there are only 12 distinct sets; all 24 keys are tried anyway.)"""
    masks = np.zeros((24, 12))
    for tonic in range(12):
        masks[tonic, [(tonic + d) % 12 for d in MAJOR]] = 1.0
        masks[12 + tonic, [(tonic + d) % 12 for d in NATURAL_MINOR]] = 1.0
    return masks


SCALE_MASKS = _scale_masks()
KEY_NAMES = [n + " major" for n in PC_NAMES] + [n + " minor" for n in PC_NAMES]


def note_on_pitches(ev):
    """MIDI pitches of all note-ons in `ev` (any shape), flattened in reading order."""
    ev = np.asarray(ev)
    return ev[ev >= 2].astype(np.int64) - 2 + MIN_PITCH


def pitch_class_counts(ev):
    """[N, 12] note-on counts per pitch class for each window of ev [N, T]."""
    ev = np.asarray(ev)
    rows, cols = np.nonzero(ev >= 2)
    pcs = (ev[rows, cols].astype(np.int64) - 2 + MIN_PITCH) % 12
    return np.bincount(rows * 12 + pcs, minlength=ev.shape[0] * 12).reshape(ev.shape[0], 12)


def pitch_class_histogram(ev):
    """Pooled note-on pitch-class counts over all windows, [12]."""
    return np.bincount(note_on_pitches(ev) % 12, minlength=12)


def normalised(hist):
    hist = np.asarray(hist, dtype=np.float64)
    return hist / hist.sum() if hist.sum() > 0 else np.full(hist.shape, np.nan)


def l1(p, q):
    return float(np.abs(normalised(p) - normalised(q)).sum())


def pitch_ranges(ev):
    """max - min note-on pitch of each window that has a note-on, [M] (windows without note-ons are skipped)."""
    ev = np.asarray(ev)
    has = (ev >= 2).any(axis=1)
    p = np.where(ev >= 2, ev.astype(np.int64), -1)
    hi = p.max(axis=1)
    lo = np.where(ev >= 2, ev.astype(np.int64), 10 ** 6).min(axis=1)
    return (hi - lo)[has]


def scale_fit(ev):
    """Per window with note-ons: the largest fraction of its note-ons inside one of the 24 major / natural-minor
    scales, and that key's index into KEY_NAMES (first best). Returns (fractions [M], keys [M])."""
    counts = pitch_class_counts(ev).astype(np.float64)
    total = counts.sum(axis=1)
    has = total > 0
    inside = counts[has] @ SCALE_MASKS.T  # [M, 24]
    best = inside.argmax(axis=1)
    return inside.max(axis=1) / total[has], best


def summary(ev):
    """The figures melody_dataset.py --check prints and eval_hierdec.py compares, for windows ev [N, T]."""
    ev = np.asarray(ev)
    n = ev.shape[0]
    ons = note_on_pitches(ev)
    bars = n * ev.shape[1] / STEPS_PER_BAR
    hist = pitch_class_histogram(ev)
    ranges = pitch_ranges(ev)
    fits, _ = scale_fit(ev)
    return {
        "windows": int(n),
        "windows_without_note_on": int(n - len(ranges)),
        "note_ons": int(len(ons)),
        "pitch_class_counts": hist.tolist(),
        "pitch_class_hist": normalised(hist).tolist(),
        "note_ons_per_bar": float(len(ons) / bars) if bars else float("nan"),
        "note_offs_per_bar": float((ev == 1).sum() / bars) if bars else float("nan"),
        "hold_fraction": float((ev == 0).mean()) if ev.size else float("nan"),
        "pitch_mean": float(ons.mean()) if len(ons) else float("nan"),
        "pitch_min": int(ons.min()) if len(ons) else None,
        "pitch_max": int(ons.max()) if len(ons) else None,
        "mean_pitch_range": float(ranges.mean()) if len(ranges) else float("nan"),
        "scale_fit": float(fits.mean()) if len(fits) else float("nan"),
    }
