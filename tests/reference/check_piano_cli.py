#!/usr/bin/python3
"""ctest piano_cli: `photong --generator piano` on real photos with the shipped weights, its MIDI read back with mido
(an outside reader): notes within --seconds, 120 bpm, more than one velocity, the same bytes for the same seed and
other bytes for another seed or picture; --json's performance equals the file's notes; and without the piano
weights file a clear error (exit 1) naming it. Skipped (exit 77) before a trained piano model is shipped.

usage: check_piano_cli.py PHOTONG WEIGHTS_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

import mido

photong, weights, work = sys.argv[1:4]
if not os.path.exists(os.path.join(weights, "piano_performance_rnn.safetensors")):
    print("skipped: no weights/piano_performance_rnn.safetensors yet")
    sys.exit(77)
os.makedirs(work, exist_ok=True)
photos = ["/usr/lib/python3/dist-packages/skimage/data/chelsea.png", "/usr/lib/python3/dist-packages/skimage/data/coffee.png"]


def run(photo, out, seed, *extra):
    r = subprocess.run([photong, photo, "-o", out, "--generator", "piano", "--seconds", "12", "--seed", str(seed), "--weights-dir", weights, "--json", *extra],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


a = os.path.join(work, "a.mid")
j = run(photos[0], a, 1)
assert j["generator"] == "piano", j["generator"]
mid = mido.MidiFile(a)
tempos = [m.tempo for t in mid.tracks for m in t if m.type == "set_tempo"]
assert tempos == [500000], tempos
notes, now, vel = [], 0.0, set()
for msg in mid:  # seconds, tempo applied
    now += msg.time
    if msg.type == "note_on" and msg.velocity > 0:
        notes.append((msg.note, now))
        vel.add(msg.velocity)
assert notes, "no notes"
assert all(t < 12.0 + 1e-3 for _, t in notes), max(t for _, t in notes)
assert len(vel) > 1, vel
assert len(notes) == len(j["performance"]), (len(notes), len(j["performance"]))
for (p, t), q in zip(sorted(notes), sorted((n["pitch"], n["start_s"]) for n in j["performance"])):
    assert p == q[0] and abs(t - q[1]) < 2e-3, ((p, t), q)
b = os.path.join(work, "b.mid")
run(photos[0], b, 1)
assert open(a, "rb").read() == open(b, "rb").read(), "same seed, different bytes"
run(photos[0], b, 2)
assert open(a, "rb").read() != open(b, "rb").read(), "another seed, same bytes"
run(photos[1], b, 1)
assert open(a, "rb").read() != open(b, "rb").read(), "another picture, same bytes"
# Without the piano file: exit 1 and the file named.
bare = os.path.join(work, "weights_without_piano")
shutil.rmtree(bare, ignore_errors=True)
os.makedirs(bare)
for f in os.listdir(weights):
    if f.endswith((".safetensors", ".sha256")) and not f.startswith("piano_"):
        os.symlink(os.path.join(os.path.abspath(weights), f), os.path.join(bare, f))
r = subprocess.run([photong, photos[0], "-o", os.path.join(work, "c.mid"), "--generator", "piano", "--weights-dir", bare], capture_output=True, text=True)
assert r.returncode == 1 and "piano_performance_rnn.safetensors" in r.stderr, (r.returncode, r.stderr)
r = subprocess.run([photong, photos[0], "--generator", "organ"], capture_output=True, text=True)
assert r.returncode == 2 and "--generator must be melody or piano" in r.stderr, r.stderr
print(f"piano cli: {len(notes)} notes in 12 s, {len(vel)} velocities, same seed same bytes; missing weights and bad flags refused")
