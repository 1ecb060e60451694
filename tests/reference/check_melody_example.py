#!/usr/bin/python3
"""Checks the photong-melody example end to end, reading its files with mido (Debian's python3-mido).

  check_melody_example.py PHOTONG_MELODY MEL_2BAR_SMALL.safetensors HIERDEC.safetensors WORK_DIR

- on Magenta's real mel_2bar_small decoder, seeds 1 and 2 (temperature 0.5) and seed 1 greedy:
  the file reads, is SMF type 1 with a tempo event (120 qpm) and a 4/4 time signature, has at least
  one note, every pitch within 21..108 on channel 0, and lasts 2 bars at 120 qpm (4 s) or less;
- the same seed twice gives byte-identical files, different seeds give different files;
- a negative or NaN temperature and a missing weights file exit nonzero and write nothing (no
  output, no temporary left in the directory);
- on a hierarchical-shaped file (random weights at hierdec-mel_16bar's sizes) it runs and writes
  16 bars, 32 s at 120 qpm or less.
Exit 0 when all hold.
"""
import os
import shutil
import sys

import mido

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import check, failures, run  # noqa: E402,F401


def check_file(path, max_seconds, label):
    try:
        mid = mido.MidiFile(path)
    except Exception as e:  # noqa: BLE001 - any read failure is the finding
        check(False, "%s: mido cannot read %s: %s" % (label, path, e))
        return
    check(mid.type == 1, "%s: SMF type %d, expected 1" % (label, mid.type))
    msgs = [m for t in mid.tracks for m in t]
    tempos = [m.tempo for m in msgs if m.type == "set_tempo"]
    check(tempos == [500000], "%s: expected one tempo event of 500000 us/quarter (120 qpm), got %s" % (label, tempos))
    sigs = [(m.numerator, m.denominator) for m in msgs if m.type == "time_signature"]
    check(sigs == [(4, 4)], "%s: expected one 4/4 time signature, got %s" % (label, sigs))
    ons = [m for m in msgs if m.type == "note_on" and m.velocity > 0]
    check(len(ons) >= 1, "%s: no notes" % label)
    check(all(21 <= m.note <= 108 for m in ons), "%s: pitch outside 21..108: %s" % (label, sorted({m.note for m in ons})))
    check(all(m.channel == 0 for m in msgs if not m.is_meta), "%s: channel messages off channel 0" % label)
    progs = [m.program for m in msgs if m.type == "program_change"]
    check(progs == [0], "%s: expected one program change to 0, got %s" % (label, progs))
    length = mid.length
    check(0 < length <= max_seconds + 1e-9, "%s: length %.6f s, expected (0, %g]" % (label, length, max_seconds))
    print("%s: %d notes, pitches %d..%d, %.3f s" % (label, len(ons), min(m.note for m in ons) if ons else -1,
                                                   max(m.note for m in ons) if ons else -1, length))


def main(argv):
    if len(argv) != 5:
        print(__doc__)
        return 2
    prog, mel, hier, work = argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = lambda name: os.path.join(work, name)  # noqa: E731

    runs = {"seed1": ["--seed", "1"], "seed1_again": ["--seed", "1"], "seed2": ["--seed", "2"],
            "greedy": ["--seed", "1", "--temperature", "0"]}
    for name, args in runs.items():
        r = run(prog, "--weights", mel, *args, "-o", out(name + ".mid"))
        print(r.stdout.strip())
        check(r.returncode == 0, "%s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
        check(r.stdout.startswith("flat decoder") and "32 steps" in r.stdout, "%s: unexpected summary %r" % (name, r.stdout))
        if r.returncode == 0:
            check_file(out(name + ".mid"), 4.0, name)
    read = lambda name: open(out(name + ".mid"), "rb").read() if os.path.exists(out(name + ".mid")) else None  # noqa: E731
    check(read("seed1") is not None and read("seed1") == read("seed1_again"), "seed 1 twice: files differ")
    check(read("seed1") != read("seed2"), "seeds 1 and 2 gave identical files")
    check(read("seed1") != read("greedy"), "temperature 0.5 and greedy gave identical files for seed 1")

    bad_dir = out("bad")
    os.makedirs(bad_dir)
    bad = [("negative temperature", ["--weights", mel, "--seed", "1", "--temperature", "-0.5"]),
           ("NaN temperature", ["--weights", mel, "--seed", "1", "--temperature", "nan"]),
           ("missing weights", ["--weights", os.path.join(work, "no_such_weights.safetensors"), "--seed", "1"]),
           ("non-numeric seed", ["--weights", mel, "--seed", "one"]),
           ("unknown flag", ["--weights", mel, "--seed", "1", "--bogus", "1"]),
           ("top-p 0", ["--weights", mel, "--seed", "1", "--top-p", "0"]),
           ("top-p 1.5", ["--weights", mel, "--seed", "1", "--top-p", "1.5"]),
           ("negative top-k", ["--weights", mel, "--seed", "1", "--top-k", "-3"]),
           ("lowercase form", ["--weights", hier, "--seed", "1", "--form", "aaba"]),
           ("form on a flat decoder", ["--weights", mel, "--seed", "1", "--form", "AABA"]),
           ("form whose phrases do not divide the bars", ["--weights", hier, "--seed", "1", "--form", "ABC"])]
    for label, args in bad:
        r = run(prog, *args, "-o", os.path.join(bad_dir, "out.mid"))
        check(r.returncode != 0, "%s: exit 0" % label)
        check(r.stderr.strip() != "", "%s: no message on stderr" % label)
        check(os.listdir(bad_dir) == [], "%s: left %s behind" % (label, os.listdir(bad_dir)))
        print("%s: exit %d, %s" % (label, r.returncode, r.stderr.strip().splitlines()[0] if r.stderr.strip() else ""))

    r = run(prog, "--weights", hier, "--seed", "1", "-o", out("hier.mid"))
    print(r.stdout.strip())
    check(r.returncode == 0, "hierarchical: exit %d: %s" % (r.returncode, r.stderr.strip()))
    check(r.stdout.startswith("hierarchical decoder") and "256 steps" in r.stdout, "hierarchical: unexpected summary %r" % r.stdout)
    if r.returncode == 0:
        check_file(out("hier.mid"), 32.0, "hierarchical")

    # Top-k / top-p / song form: deterministic, and each changes the melody.
    variants = {"nucleus": ["--top-p", "0.9"], "nucleus_again": ["--top-p", "0.9"], "topk": ["--top-k", "5"],
                "form": ["--form", "AABA"], "form_exact": ["--form", "AABA!"]}
    for name, args in variants.items():
        r = run(prog, "--weights", hier, "--seed", "1", "--temperature", "1", *args, "-o", out(name + ".mid"))
        print(r.stdout.strip())
        check(r.returncode == 0, "%s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
    r = run(prog, "--weights", hier, "--seed", "1", "--temperature", "1", "-o", out("hier_t1.mid"))
    check(r.returncode == 0 and "top-k 0, top-p 1, form none" in r.stdout, "plain T=1: %r" % r.stdout)
    check(read("nucleus") == read("nucleus_again"), "--top-p 0.9 twice: files differ")
    for name in ("nucleus", "topk", "form", "form_exact"):
        check(read(name) is not None and read(name) != read("hier_t1"), "%s: the same file as without it" % name)
    check(read("form") != read("form_exact"), "--form AABA and AABA! gave identical files")

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
