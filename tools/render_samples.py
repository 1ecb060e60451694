#!/usr/bin/python3
"""Listenable samples of a hierdec-mel_16bar export, made by photong's C++ tools: MIDI, and WAV when
FluidSynth and a General MIDI soundfont are installed.

usage:
  render_samples.py --weights EXPORT.safetensors --out-dir DIR
      [--data build/melody-data/mel16.safetensors] [--count 8] [--temperature T] [--top-k K] [--top-p P] [--form F] [--qpm 120]
      [--bin build/examples] [--sf2 /usr/share/sounds/sf2/FluidR3_GM.sf2] [--gain G] [--no-wav]

Writes to DIR:
- prior_seedS.mid, S = 1..count: `photong-melody --weights W --seed S [sampling flags]` (samples of the prior, at the model's
  recommended sampling and form unless flags are given);
- orig_K.mid and recon_K.mid, K = 0..count-1: the first `count` melodies of the data file's val_events and
  their reconstructions by `photong-reconstruct` (encode -> mu, greedy hierarchical decode of mu); these
  MIDI files follow photong-melody's rules (melody_to_notes: class 0 holds, 1 is a note off, k >= 2 starts
  pitch converter_minPitch + k - 2 and ends the sounding note; velocity 80; 16th-note steps at --qpm;
  SMF format 1, 480 ticks per quarter, track 0 tempo and 4/4, track 1 the melody on program 0, channel 0);
- reconstruct.safetensors (photong-reconstruct's output), index.txt (what each file is, notes, accuracy);
- NAME.wav for each NAME.mid: `fluidsynth -ni [-g G] -F NAME.wav -r 44100 SF2 NAME.mid`, when `fluidsynth` is on
  PATH and the soundfont exists; otherwise only MIDI, and the Debian packages to install are named
  (apt-get install fluidsynth fluid-soundfont-gm).
"""
import argparse
import os
import shutil
import subprocess
import sys
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "weights"))
import safetensors_io  # noqa: E402

TICKS_PER_QUARTER, STEPS_PER_QUARTER, VELOCITY = 480, 4, 80
DEFAULT_SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def classes_to_notes(classes, min_pitch=21):
    """(pitch, start_step, end_step) as photong::melody_to_notes / note_seq's Melody.to_sequence."""
    notes, cur = [], None
    for step, c in enumerate(int(x) for x in classes):
        if c >= 2 or c == 1:
            if cur is not None:
                notes.append((cur[0], cur[1], step))
                cur = None
            if c >= 2:
                cur = (min_pitch + c - 2, step)
        elif c != 0:
            raise ValueError(f"class {c} at step {step}")
    if cur is not None:
        notes.append((cur[0], cur[1], len(classes)))
    return notes


def write_midi(path, classes, qpm, min_pitch, name):
    import mido
    tps = TICKS_PER_QUARTER // STEPS_PER_QUARTER
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    t0 = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0),
                         mido.MetaMessage("set_tempo", tempo=int(round(60e6 / qpm)), time=0),
                         mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                         mido.MetaMessage("end_of_track", time=0)])
    events = []  # (tick, order, message): a note's off before the next note's on at the same tick
    for k, (p, s, e) in enumerate(classes_to_notes(classes, min_pitch)):
        events.append((s * tps, 2 * k + 1, mido.Message("note_on", channel=0, note=p, velocity=VELOCITY)))
        events.append((e * tps, 2 * k, mido.Message("note_off", channel=0, note=p, velocity=0)))
    events.sort(key=lambda x: (x[0], x[1]))
    msgs, last = [mido.MetaMessage("track_name", name="melody", time=0), mido.Message("program_change", channel=0, program=0, time=0)], 0
    for tick, _, m in events:
        msgs.append(m.copy(time=tick - last))
        last = tick
    msgs.append(mido.MetaMessage("end_of_track", time=len(classes) * tps - last))
    mid.tracks = [t0, mido.MidiTrack(msgs)]
    tmp = path + ".tmp"
    mid.save(tmp)
    os.replace(tmp, path)
    return len(classes_to_notes(classes, min_pitch))


def wav_info(path):
    """(seconds, peak level 0..1) of a 16-bit WAV; peak 0 is silence."""
    with wave.open(path) as w:
        secs = w.getnframes() / w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") if w.getsampwidth() == 2 else None
    return secs, (float(np.abs(data.astype(np.int32)).max()) / 32768 if data is not None and data.size else float("nan"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "melody-data", "mel16.safetensors"))
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--temperature", type=float, default=None, help="default: the model's sampling_temperature (else 0.5)")
    ap.add_argument("--top-k", type=int, default=None, help="default: the model's sampling_top_k (else 0)")
    ap.add_argument("--top-p", type=float, default=None, help="default: the model's sampling_top_p (else 1)")
    ap.add_argument("--form", default=None, help="song form, e.g. AABA or none (default: the model's song_form, else none)")
    ap.add_argument("--qpm", type=float, default=120.0)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "examples"), help="directory of photong-melody and photong-reconstruct")
    ap.add_argument("--sf2", default=DEFAULT_SF2)
    ap.add_argument("--gain", type=float, default=None, help="fluidsynth -g GAIN (its default 0.2 renders quietly, peaks ~0.05)")
    ap.add_argument("--no-wav", action="store_true")
    args = ap.parse_args(argv)

    melody, recon = os.path.join(args.bin, "photong-melody"), os.path.join(args.bin, "photong-reconstruct")
    for prog in (melody, recon):
        if not os.path.exists(prog):
            print(f"render_samples: no {prog} (cmake --build build --target photong-melody photong-reconstruct)", file=sys.stderr)
            return 2
    os.makedirs(args.out_dir, exist_ok=True)
    _, wmeta = safetensors_io.load(args.weights)
    min_pitch = int(wmeta.get("converter_minPitch", 21))
    index, mids = [], []

    def run(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"render_samples: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r.stdout.strip()

    # Prior samples.
    for seed in range(1, args.count + 1):
        path = os.path.join(args.out_dir, f"prior_seed{seed}.mid")
        sampling = [x for flag, v in (("--temperature", args.temperature), ("--top-k", args.top_k), ("--top-p", args.top_p),
                                      ("--form", args.form)) if v is not None for x in (flag, str(v))]
        out = run([melody, "--weights", args.weights, "--seed", str(seed), *sampling, "--qpm", repr(args.qpm), "-o", path])
        print(out)
        index.append(f"{os.path.basename(path)}: prior sample, {out.split(': ', 1)[-1].split(' -> ')[0]}")
        mids.append(path)

    # Reconstructions of validation melodies.
    data, _ = safetensors_io.load(args.data)
    key = "val_events" if "val_events" in data else "events"
    events = data[key][:args.count].astype(np.int32)
    inp, out_path = os.path.join(args.out_dir, "reconstruct_input.safetensors"), os.path.join(args.out_dir, "reconstruct.safetensors")
    safetensors_io.save(inp, {"events": events}, {"source": f"{args.data} {key}[:{len(events)}]"})
    print(run([recon, "--weights", args.weights, "--input", inp, "-o", out_path]))
    decoded = safetensors_io.load(out_path)[0]["events"]
    for k in range(len(events)):
        acc = float((decoded[k] == events[k]).mean())
        counts = []
        for kind, cls in (("orig", events[k]), ("recon", decoded[k])):
            path = os.path.join(args.out_dir, f"{kind}_{k}.mid")
            n = write_midi(path, cls, args.qpm, min_pitch, "render_samples " + kind)
            counts.append(n)
            what = f"{key}[{k}] of {os.path.basename(args.data)}" if kind == "orig" else \
                f"greedy reconstruction of orig_{k} (per-step accuracy {acc:.3f})"
            index.append(f"{os.path.basename(path)}: {what}, {n} notes")
            mids.append(path)
        print(f"melody {k}: {counts[0]} notes, reconstruction {counts[1]} notes, per-step accuracy {acc:.3f}"
              + (" (the reconstruction is silent: all holds)" if counts[1] == 0 else ""))

    # Audio.
    fluidsynth = shutil.which("fluidsynth")
    if args.no_wav:
        print("--no-wav: MIDI only")
    elif not fluidsynth or not os.path.exists(args.sf2):
        missing = ([] if fluidsynth else ["fluidsynth (package fluidsynth)"]) + \
                  ([] if os.path.exists(args.sf2) else [f"{args.sf2} (package fluid-soundfont-gm)"])
        print("render_samples: no WAV: missing " + " and ".join(missing) +
              "; on Debian: apt-get install fluidsynth fluid-soundfont-gm. Wrote MIDI only.")
    else:
        for mid in mids:
            wav = mid[:-4] + ".wav"
            gain = [] if args.gain is None else ["-g", repr(args.gain)]
            r = subprocess.run([fluidsynth, "-ni", *gain, "-F", wav, "-r", "44100", args.sf2, mid], capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(wav):
                raise SystemExit(f"render_samples: fluidsynth failed on {mid} ({r.returncode}):\n{r.stdout}{r.stderr}")
            secs, peak = wav_info(wav)
            index.append(f"{os.path.basename(wav)}: {secs:.2f} s, peak {peak:.3f}" + (" (silent)" if peak < 1e-3 else ""))
            print(index[-1])
    with open(os.path.join(args.out_dir, "index.txt"), "w") as f:
        f.write(f"weights: {args.weights} (steps_trained {wmeta.get('steps_trained', '?')})\n")
        f.write("\n".join(index) + "\n")
    print(f"wrote {len(mids)} MIDI files to {args.out_dir} (index.txt lists them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
