"""Issue 20's targets for the shipped melody model, and the distances that choose its default sampling and form.

Statistics come from tools/melody_stats.summary (the same code for model samples and data). "data" is the held-out
validation windows (POP909 + Nottingham songs never trained on). Each target is a row (name, value, goal, met).

Choosing defaults (tools/eval_hierdec.py --sweep-*):
- sampling_distance: how far prior samples are from the data on the statistics the targets bound, each term scaled
  so that it is 1.0 exactly at the target's edge: |ons/ons_d - 1| / 0.25 + |range/range_d - 1| / 0.30 +
  |step/step_d - 1| / 0.25 + max(leaps/leaps_d - 1, 0) / 2 (3x the data's leap rate -> 1); +inf when a sample is
  silent (the target allows none). The default sampling is the form-less setting with the smallest sum.
- form_distance: at that sampling, sum over the repetition statistics of |sample - data| / data (bars repeating an
  earlier bar exactly, windows with a repeated 2-bar block, mean longest repeated passage, bar-to-bar motif overlap),
  +inf when a sample is silent; the default form is the one nearest the data.
"""
import math

# The motif-overlap definition the targets use (melody_stats.form_summary computes three; see weights/MELODY.md).
MOTIF = "motif_overlap_pitchset"
FORM_KEYS = ("bars_repeating_exact", "windows_with_repeated_2bar_block", "longest_repeated_passage_bars", MOTIF)


def _ratio(a, b):
    return a / b if b else float("nan")


def sampling_distance(s, d):
    if s["windows_without_note_on"] > 0:
        return math.inf
    terms = (abs(_ratio(s["note_ons_per_bar"], d["note_ons_per_bar"]) - 1) / 0.25,
             abs(_ratio(s["mean_pitch_range"], d["mean_pitch_range"]) - 1) / 0.30,
             abs(_ratio(s["stepwise_share"], d["stepwise_share"]) - 1) / 0.25,
             max(_ratio(s["leap_over_octave_share"], d["leap_over_octave_share"]) - 1, 0.0) / 2.0)
    return float(sum(terms))


def form_distance(s, d):
    if s["windows_without_note_on"] > 0:
        return math.inf  # a form that leaves a sample silent misses the silence target, however well it repeats
    return float(sum(abs(s[k] - d[k]) / d[k] for k in FORM_KEYS))


def targets(s, d, windows=None, samples=100):
    """Rows (target, value, goal, met) for sample statistics s against data statistics d; `windows` adds the
    held-out accuracy targets (eval_hierdec.evaluate_windows' figures)."""
    rows = []

    def band(name, key, rel):
        v, ref = s[key], d[key]
        rows.append((name, v, f"{ref * (1 - rel):.3f}..{ref * (1 + rel):.3f} (data {ref:.3f} ±{rel:.0%})", abs(v / ref - 1) <= rel))

    rows.append(("silent samples", s["windows_without_note_on"], f"0 of {samples}", s["windows_without_note_on"] == 0))
    band("note-ons per bar", "note_ons_per_bar", 0.25)
    band("pitch range (semitones)", "mean_pitch_range", 0.30)
    leaps, leaps_d = s["leap_over_octave_share"], d["leap_over_octave_share"]
    rows.append(("leaps over an octave", leaps, f"<= {3 * leaps_d:.4f} (3x data {leaps_d:.4f})", leaps <= 3 * leaps_d))
    band("stepwise share", "stepwise_share", 0.25)
    rows.append(("bar-to-bar motif overlap", s[MOTIF], f">= 0.30 (data {d[MOTIF]:.3f})", s[MOTIF] >= 0.30))
    rows.append(("samples with a repeated 2-bar block", s["windows_with_repeated_2bar_block"],
                 f">= 0.10 (data {d['windows_with_repeated_2bar_block']:.3f})", s["windows_with_repeated_2bar_block"] >= 0.10))
    if windows:
        rows.append(("teacher-forced accuracy, z = mu", windows["tf_acc_mu"], ">= 0.80", windows["tf_acc_mu"] >= 0.80))
        rows.append(("greedy reconstruction, z = mu", windows["recon_acc"], ">= 0.60", windows["recon_acc"] >= 0.60))
    return rows
