"""Melody statistics shared by tools/melody_dataset.py (--check) and tools/eval_hierdec.py, so that training
data and model samples are measured by the same code.

Windows are int arrays [N, 256] of classes 0 = hold (no event), 1 = note off, 2..89 = note on at MIDI pitch
21..108, 16 steps per bar. Only numpy is needed.

Command line: `melody_stats.py --data FILE` prints summary() of a data file's validation windows per set
(pop909, nottingham) and all together; `melody_stats.py --self-test` checks form_summary() on hand-made windows.
"""
import argparse
import json
import os
import sys

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
    out = {
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
    out.update(form_summary(ev))
    return out


# ---------------------------------------------------------------- form: repetition, motif overlap, intervals

def _mean(x):
    """Mean of a 1-D array, NaN (without a warning) when it is empty."""
    return float(x.mean()) if x.size else float("nan")


def _row_ids(rows):
    """Integer id per row of rows [M, K]: equal ids <=> identical rows (exact, no hash collisions)."""
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    if rows.min() < 0 or rows.max() > 255:
        return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1)
    # Fast path: np.unique(axis=0) sorts structured rows element by element (seconds for 30000 windows);
    # packing each row's bytes into uint64 words and lexsorting those is ~20x faster.
    packed = np.zeros((rows.shape[0], -(-rows.shape[1] // 8) * 8), dtype=np.uint8)
    packed[:, :rows.shape[1]] = rows
    keys = packed.view(np.uint64)
    order = np.lexsort(keys.T[::-1])
    srt = keys[order]
    ids = np.empty(rows.shape[0], dtype=np.int64)
    ids[order] = np.cumsum(np.r_[True, (srt[1:] != srt[:-1]).any(axis=1)]) - 1
    return ids


def form_summary(ev):
    """Repetition, motif and interval statistics of windows ev [N, T]; bars are the T // 16 consecutive 16-step
    slices of a window (a ragged tail is ignored); a bar "has notes" when it holds a note-on (class >= 2). Ratios
    are pooled over all windows (not means of per-window ratios) unless said otherwise; NaN when the denominator
    is 0. Equality of bars/passages is over all their events (holds, offs and note-ons alike).

    bars_repeating_exact: among bars with notes, the fraction identical to some earlier bar of the same window.
    bars_repeating_transposed: among bars with notes, the fraction identical to some earlier bar of the same
        window either exactly or after shifting all its note-ons by one common number of semitones (same
        hold/off/note-on positions, constant pitch difference); >= bars_repeating_exact.
    windows_with_repeated_2bar_block: fraction of windows with bars (i, i+1), at least one of them with notes,
        identical to bars (j, j+1) for some j >= i + 2 (no overlap). Equals the fraction of windows with
        longest_repeated_passage_bars >= 2.
    longest_repeated_passage_bars: mean over all windows (silent ones count as 0) of the largest L such that bars
        [i, i+L) equal bars [j, j+L) with j >= i + L (no overlap) and those bars hold a note-on; 0 when none.
        longest_repeated_passage_bars_median: the median of the same per-window values.
    motif_overlap: over all pairs of consecutive bars (b, b+1) of a window that both have notes, the mean Jaccard
        index |A & B| / |A | B| of their sets of (onset step in the bar 0..15, MIDI pitch) of note-ons.
    motif_overlap_pitchset: the same with the sets of note-on pitches of the two bars (positions ignored).
    motif_overlap_rhythm: the same with the sets of note-on steps within the bar (pitches ignored).
    stepwise_share / leap_over_octave_share / repeated_note_share: over the intervals between consecutive
        note-ons of each window in time order (across bar lines, never across windows), the fraction with
        |interval| in {1, 2}, > 12, and == 0 semitones; the denominator is all intervals, unisons included.
    """
    ev = np.asarray(ev).astype(np.int64)
    n = ev.shape[0]
    nb = ev.shape[1] // STEPS_PER_BAR
    bars = ev[:, :nb * STEPS_PER_BAR].reshape(n, nb, STEPS_PER_BAR)
    on = bars >= 2
    has = on.any(axis=2)  # [N, B]
    bi = np.arange(nb)
    earlier = bi[None, :] < bi[:, None]  # earlier[b, a]: bar a comes before bar b

    # Bars -> ids, so that comparing bars is comparing integers ([N, B, B] instead of [N, B, B, 16]).
    ids = _row_ids(bars.reshape(n * nb, STEPS_PER_BAR)).reshape(n, nb)
    same = ids[:, :, None] == ids[:, None, :]  # [N, B, B]
    exact = (same & earlier).any(axis=2)
    # Transposition-free form: note-ons relative to the bar's first note-on, offset by the largest class so
    # that they stay >= 2, apart from hold/off (0/1); two bars are transposed copies exactly when these forms
    # are equal. (For classes up to 89 the values stay below 256, so _row_ids takes its fast path.)
    first = np.take_along_axis(bars, on.argmax(axis=2)[:, :, None], axis=2)
    rel = np.where(on, bars - first + int(ev.max(initial=0)), bars)
    rel_ids = _row_ids(rel.reshape(n * nb, STEPS_PER_BAR)).reshape(n, nb)
    transposed = ((rel_ids[:, :, None] == rel_ids[:, None, :]) & earlier).any(axis=2)

    # 2-bar blocks as ids of (bar i, bar i+1) pairs; j >= i + 2 keeps the two blocks apart.
    pid = ids[:, :-1] * (int(ids.max(initial=0)) + 1) + ids[:, 1:]
    pair_has = has[:, :-1] | has[:, 1:]
    pj = np.arange(max(nb - 1, 0))
    apart = pj[None, :] >= pj[:, None] + 2  # apart[i, j]
    block2 = ((pid[:, :, None] == pid[:, None, :]) & apart & pair_has[:, :, None]).any(axis=(1, 2))

    # run[i, j]: number of consecutive equal bars starting at (i, j), filled from the last bar backwards.
    run = np.zeros((n, nb + 1, nb + 1), dtype=np.int64)
    for i in range(nb - 1, -1, -1):
        run[:, i, :nb] = same[:, i, :] * (1 + run[:, i + 1, 1:])
    gap = bi[None, :] - bi[:, None]  # j - i
    # The longest usable copy of bars from i at j is min(run, j - i) (no overlap); shorter ones only lose notes,
    # so it suffices that it reaches the first bar with notes at or after i (nxt; nb when there is none).
    lmax = np.where(gap > 0, np.minimum(run[:, :nb, :nb], gap), 0)
    nxt = np.minimum.accumulate(np.where(has, bi, nb)[:, ::-1], axis=1)[:, ::-1]
    longest = np.where(bi[None, :, None] + lmax > nxt[:, :, None], lmax, 0).max(axis=(1, 2), initial=0)

    # Motif overlap of consecutive bars that both have notes. One event per step, so the (step, pitch) sets
    # intersect where both bars have the same note-on class at the same step.
    both = has[:, :-1] & has[:, 1:]
    a_on, b_on = on[:, :-1], on[:, 1:]
    inter = (a_on & (bars[:, :-1] == bars[:, 1:])).sum(axis=2)
    union = a_on.sum(axis=2) + b_on.sum(axis=2) - inter
    inter_r = (a_on & b_on).sum(axis=2)
    union_r = (a_on | b_on).sum(axis=2)
    pres = np.zeros((n, nb, max(int(ev.max(initial=0)) - 1, 1)), dtype=bool)  # pitch-class presence per bar
    wn, wb, ws = np.nonzero(on)
    pres[wn, wb, bars[wn, wb, ws] - 2] = True
    inter_p = (pres[:, :-1] & pres[:, 1:]).sum(axis=2)
    union_p = (pres[:, :-1] | pres[:, 1:]).sum(axis=2)

    # Intervals: note-ons in reading order; drop the differences that straddle two windows.
    rows, cols = np.nonzero(ev >= 2)
    iv = np.abs(np.diff(ev[rows, cols]))[rows[1:] == rows[:-1]]

    return {
        "bars_repeating_exact": _mean(exact[has]),
        "bars_repeating_transposed": _mean((exact | transposed)[has]),
        "windows_with_repeated_2bar_block": _mean(block2),
        "longest_repeated_passage_bars": _mean(longest),
        "longest_repeated_passage_bars_median": float(np.median(longest)) if n else float("nan"),
        "motif_overlap": _mean(inter[both] / union[both]),
        "motif_overlap_pitchset": _mean(inter_p[both] / union_p[both]),
        "motif_overlap_rhythm": _mean(inter_r[both] / union_r[both]),
        "stepwise_share": _mean((iv >= 1) & (iv <= 2)),
        "leap_over_octave_share": _mean(iv > 12),
        "repeated_note_share": _mean(iv == 0),
    }


# ---------------------------------------------------------------- self-test and command line

def _bar(notes=(), offs=()):
    """One 16-step bar: note-ons at (step, MIDI pitch) and note-offs at the given steps, holds elsewhere."""
    bar = np.zeros(STEPS_PER_BAR, dtype=np.int64)
    for step, pitch in notes:
        bar[step] = pitch - MIN_PITCH + 2
    bar[list(offs)] = 1
    return bar


def _window(*bars):
    assert len(bars) == 16
    return np.concatenate(bars)[None, :]


def self_test():
    """form_summary on hand-made windows whose figures are worked out by hand. Returns True when all agree."""
    import warnings
    E = _bar()  # silent bar
    # d(k): note-ons at steps 0 and k (k = 1..15, pitches 60, 64), a note-off at the end; distinct rhythms, so
    # no d(k) is an exact or transposed copy of another.
    d = [None] + [_bar([(0, 60), (k, 64)], offs=[15] if k < 15 else []) for k in range(1, 16)]
    up3 = lambda bar: np.where(bar >= 2, bar + 3, bar)  # noqa: E731
    win = {
        "bars 1-4 repeat as bars 9-12": _window(*d[1:9], *d[1:5], *d[9:13]),
        "transposed 2-bar repeat": _window(*d[1:5], up3(d[1]), up3(d[2]), *d[5:15]),
        "no repeats, two silent bars": _window(*d[1:8], E, E, *d[8:15]),
        "4 equal bars (overlap)": _window(d[15], d[15], d[15], d[15], *d[1:13]),
        "only silent bars repeat": _window(d[1], *[E] * 15),
        "passage with a silent bar": _window(d[1], E, d[2], d[3], d[1], E, d[2], *d[4:13]),
        "motif overlap": _window(_bar([(0, 60), (4, 62), (8, 64)]), _bar([(0, 60), (4, 64), (12, 64)]), *[E] * 14),
        "intervals": _window(*[_bar([(0, p)]) for p in (60, 62, 62, 75, 74, 60, 72)], *[E] * 9),
        "silent window": np.zeros((1, 256), dtype=np.int64),
    }
    nan = float("nan")
    cases = [
        ("bars 1-4 repeat as bars 9-12", win["bars 1-4 repeat as bars 9-12"],
         dict(bars_repeating_exact=4 / 16, bars_repeating_transposed=4 / 16, windows_with_repeated_2bar_block=1,
              longest_repeated_passage_bars=4, motif_overlap=1 / 3, motif_overlap_pitchset=1,
              motif_overlap_rhythm=1 / 3, stepwise_share=0, leap_over_octave_share=0, repeated_note_share=0)),
        ("transposed 2-bar repeat", win["transposed 2-bar repeat"],
         dict(bars_repeating_exact=0, bars_repeating_transposed=2 / 16, windows_with_repeated_2bar_block=0,
              longest_repeated_passage_bars=0)),
        ("no repeats, two silent bars", win["no repeats, two silent bars"],
         dict(bars_repeating_exact=0, bars_repeating_transposed=0, windows_with_repeated_2bar_block=0,
              longest_repeated_passage_bars=0)),
        ("4 equal bars (overlap)", win["4 equal bars (overlap)"],
         dict(bars_repeating_exact=3 / 16, windows_with_repeated_2bar_block=1, longest_repeated_passage_bars=2)),
        ("only silent bars repeat", win["only silent bars repeat"],
         dict(bars_repeating_exact=0, windows_with_repeated_2bar_block=0, longest_repeated_passage_bars=0,
              motif_overlap=nan)),
        ("passage with a silent bar", win["passage with a silent bar"],
         dict(bars_repeating_exact=2 / 14, bars_repeating_transposed=2 / 14, windows_with_repeated_2bar_block=1,
              longest_repeated_passage_bars=3)),
        # (0,60),(4,62),(8,64) vs (0,60),(4,64),(12,64): pairs 1/5, pitches {60,62,64} vs {60,64} 2/3,
        # steps {0,4,8} vs {0,4,12} 2/4; intervals 2, 2, 4, 4, 0.
        ("motif overlap", win["motif overlap"],
         dict(motif_overlap=1 / 5, motif_overlap_pitchset=2 / 3, motif_overlap_rhythm=1 / 2,
              stepwise_share=2 / 5, leap_over_octave_share=0, repeated_note_share=1 / 5)),
        # one note per bar at step 0: every bar is a transposed copy of bar 0; bar 2 (62) repeats bar 1 exactly,
        # bar 5 (60) bar 0; intervals 2, 0, 13, 1, 14, 12 (12 is not over an octave).
        ("intervals", win["intervals"],
         dict(bars_repeating_exact=2 / 7, bars_repeating_transposed=6 / 7, windows_with_repeated_2bar_block=0,
              longest_repeated_passage_bars=1, motif_overlap=1 / 6, motif_overlap_pitchset=1 / 6,
              motif_overlap_rhythm=1, stepwise_share=2 / 6, leap_over_octave_share=2 / 6,
              repeated_note_share=1 / 6)),
        ("silent window", win["silent window"],
         dict(bars_repeating_exact=nan, bars_repeating_transposed=nan, windows_with_repeated_2bar_block=0,
              longest_repeated_passage_bars=0, longest_repeated_passage_bars_median=0, motif_overlap=nan,
              motif_overlap_rhythm=nan, motif_overlap_pitchset=nan, stepwise_share=nan)),
        ("no interval across windows", np.concatenate([_window(_bar([(0, 60)]), *[E] * 15),
                                                       _window(_bar([(0, 61)]), *[E] * 15)]),
         dict(stepwise_share=nan, repeated_note_share=nan, bars_repeating_exact=0)),
        ("pooled over 3 windows", np.concatenate([win["bars 1-4 repeat as bars 9-12"], win["silent window"],
                                                  win["4 equal bars (overlap)"]]),
         dict(bars_repeating_exact=7 / 32, windows_with_repeated_2bar_block=2 / 3,
              longest_repeated_passage_bars=2, longest_repeated_passage_bars_median=2)),
    ]
    ok_all = True
    for name, ev, want in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a NaN/zero-division warning is a failure
            try:
                got = form_summary(ev)
                bad = [f"{k}={got[k]!r} (want {v!r})" for k, v in want.items()
                       if not (np.isclose(got[k], v) or (np.isnan(v) and np.isnan(got[k])))]
            except Exception as e:  # noqa: BLE001
                bad = [repr(e)]
        ok_all &= not bad
        print(f"{'ok  ' if not bad else 'FAIL'} {name}" + ("" if not bad else ": " + "; ".join(bad)))
    print("PASSED" if ok_all else "FAILED")
    return ok_all


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return f"{v:.4f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="safetensors data file (melody_dataset.py output); its validation windows are used")
    ap.add_argument("--self-test", action="store_true", help="check form_summary on hand-made windows")
    args = ap.parse_args()
    if args.self_test:
        return 0 if self_test() else 1
    if not args.data:
        ap.error("give --data FILE or --self-test")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights"))
    import safetensors_io
    tensors, meta = safetensors_io.load(args.data)
    ev = tensors["val_events"]
    sets = np.array([s for s, _ in json.loads(meta["songs"])])[tensors["val_song"]]
    groups = [(name, ev[sets == name]) for name in ("pop909", "nottingham")] + [("all", ev)]
    stats = [summary(g) for _, g in groups]
    keys = [k for k, v in stats[-1].items() if not isinstance(v, list)]  # skip the per-pitch-class lists
    w0 = max(map(len, keys))
    print(f"validation windows of {args.data}")
    print(f"{'statistic':<{w0}} " + " ".join(f"{name:>10}" for name, _ in groups))
    for k in keys:
        print(f"{k:<{w0}} " + " ".join(f"{_fmt(st[k]):>10}" for st in stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
