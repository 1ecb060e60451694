#!/usr/bin/env bash
# Regenerates tests/fixtures/hierdec_magenta_js_reference.safetensors with magenta.js itself (@magenta/music@1.23.1
# on tfjs 2.x, pure-JS CPU backend): its ConductorDecoder decodes the seeded random hierdec-mel_16bar weights of
# build/fixtures/hierdec_random.safetensors (tests/reference/gen_hierdec_fixture.py; generated if missing).
#
#   tests/reference/magenta_js/make_hier_reference.sh
#
# Steps: npm install (once, shared with make_reference.sh, into build/magenta-js-ref/, git-ignored) -> magenta.js
# checkpoint directory build/magenta-js-ref/ckpt_hier/ -> localhost-only HTTP server -> hier_reference.js (decode
# NUM_CODES latent codes greedily, 16 bars x 16 steps, record events and logits) -> safetensors fixture.
#
# Environment: WEIGHTS (default build/fixtures/hierdec_random.safetensors), NUM_CODES (8), LOGIT_CODES (2; every
# extra code costs 92 KB), PORT (a free one is picked), OUT.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PY=/usr/bin/python3
WEIGHTS="${WEIGHTS:-$ROOT/build/fixtures/hierdec_random.safetensors}"
WORK="$ROOT/build/magenta-js-ref"
CKPT="$WORK/ckpt_hier"
OUT="${OUT:-$ROOT/tests/fixtures/hierdec_magenta_js_reference.safetensors}"
export NUM_CODES="${NUM_CODES:-8}"
export LOGIT_CODES="${LOGIT_CODES:-2}"

if [ ! -f "$WEIGHTS" ]; then
  echo "== generating $WEIGHTS"
  "$PY" "$ROOT/tests/reference/gen_hierdec_fixture.py" "$(dirname "$WEIGHTS")"
fi
mkdir -p "$WORK"

# 1. magenta.js, pinned by package.json (it brings its own tfjs 2.x).
if ! cmp -s "$HERE/package.json" "$WORK/package.json" || [ ! -d "$WORK/node_modules/@magenta/music" ]; then
  cp "$HERE/package.json" "$WORK/package.json"
  echo "== npm install in $WORK"
  (cd "$WORK" && npm install --ignore-scripts --no-audit --no-fund)
fi

# 2. magenta.js checkpoint: weights_manifest.json (one group, every variable float32, one shard) + config.json
#    (MelodyConverter, numSteps 256, numSegments 16: with numSegments, MusicVAE.initialize builds a
#    ConductorDecoder over core decoders under `core_decoder/decoder/`).
#    Names: magenta's TF checkpoint (and so magenta.js, CONDUCTOR_PREFIX + 'cell_%d/lstm_cell/') keeps the
#    conductor's LSTM cells at `decoder/hierarchical_level_0/cell_K/lstm_cell/` (lstm_models.py calls the
#    MultiRNNCell with the level's scope, so there is no `multi_rnn_cell/` level); a
#    `decoder/hierarchical_level_0/multi_rnn_cell/cell_K/...` name in the input is served under that name.
#    Encoder: with numSegments magenta.js insists on a 2-level hierarchical encoder
#    (`encoder/hierarchical_level_{0,1}/cell_0/bidirectional_rnn/{fw,bw}/multi_rnn_cell/cell_0/lstm_cell/
#    {kernel,bias}`) and `encoder/mu/{kernel,bias}`, which decode() never reads. Missing ones are zero-filled at
#    the smallest consistent shapes: 1 unit per direction and level (level 0 kernel [90 + 1, 4], level 1 kernel
#    [2 + 1, 4], biases [4]) and mu [2, 512] + [512] (z size from the conductor's initial_state).
rm -rf "$CKPT"
mkdir -p "$CKPT"
"$PY" - "$WEIGHTS" "$CKPT" "$ROOT/weights" <<'EOF'
import hashlib, json, os, re, sys
import numpy as np
src, dst, wdir = sys.argv[1:4]
sys.path.insert(0, wdir)
import safetensors_io
tensors, _ = safetensors_io.load(src)
served, renamed = {}, []
for name, arr in tensors.items():
    new = re.sub(r"^decoder/hierarchical_level_0/multi_rnn_cell/cell_(\d+)/", r"decoder/hierarchical_level_0/cell_\1/", name)
    if new != name:
        renamed.append(f"{name} -> {new}")
    if arr.dtype != np.float32:
        sys.exit(f"{name}: {arr.dtype}, expected float32")
    served[new] = arr
z_size = served["decoder/hierarchical_level_0/initial_state/kernel"].shape[0]
classes = served["core_decoder/decoder/output_projection/bias"].shape[0]
added = []
def need(name, shape):
    if name not in served:
        served[name] = np.zeros(shape, np.float32)
        added.append(f"{name} {list(shape)}")
cell = "encoder/hierarchical_level_%d/cell_0/bidirectional_rnn/%s/multi_rnn_cell/cell_0/lstm_cell/"
for d in ("fw", "bw"):
    need(cell % (0, d) + "kernel", (classes + 1, 4))
    need(cell % (0, d) + "bias", (4,))
    need(cell % (1, d) + "kernel", (2 + 1, 4))
    need(cell % (1, d) + "bias", (4,))
need("encoder/mu/kernel", (2, z_size))
need("encoder/mu/bias", (z_size,))
entries, blobs = [], []
for name in sorted(served):
    arr = served[name]
    entries.append({"name": name, "shape": [int(d) for d in arr.shape], "dtype": "float32"})
    blobs.append(arr.astype("<f4").tobytes())
with open(os.path.join(dst, "group1-shard1of1"), "wb") as f:
    for b in blobs:
        f.write(b)
json.dump([{"paths": ["group1-shard1of1"], "weights": entries}],
          open(os.path.join(dst, "weights_manifest.json"), "w"), indent=1)
json.dump({"type": "MusicVAE", "dataConverter": {"type": "MelodyConverter",
           "args": {"numSteps": 256, "numSegments": 16, "minPitch": 21, "maxPitch": 108}}},
          open(os.path.join(dst, "config.json"), "w"))
h = hashlib.sha256()
with open(src, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
json.dump({"sha256": h.hexdigest(), "size": os.path.getsize(src), "renamed": renamed, "zero_filled": added},
          open(os.path.join(dst, "source.json"), "w"), indent=1)
print(f"== checkpoint: {len(entries)} variables, {sum(map(len, blobs))} bytes in {dst}")
print("   renamed: " + ("; ".join(renamed) or "none"))
print("   zero-filled (loaded, never read by decode): " + "; ".join(added))
EOF

# 3. Serve it on 127.0.0.1 only.
PORT="${PORT:-$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
"$PY" -m http.server --bind 127.0.0.1 --directory "$WORK" "$PORT" >"$WORK/http_hier.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/ckpt_hier/config.json')" 2>/dev/null && break
  sleep 0.1
done

# 4. Decode with magenta.js.
echo "== hier_reference.js (NUM_CODES=$NUM_CODES, LOGIT_CODES=$LOGIT_CODES)"
START=$(date +%s.%N)
NODE_PATH="$WORK/node_modules" node "$HERE/hier_reference.js" "http://127.0.0.1:$PORT/ckpt_hier" "$WORK/hier_reference.json"
END=$(date +%s.%N)
kill "$SERVER" 2>/dev/null || true

# 5. Fixture.
"$PY" - "$WORK/hier_reference.json" "$CKPT/source.json" "$OUT" "$START" "$END" "$ROOT/weights" <<'EOF'
import datetime, json, os, sys
import numpy as np
ref_path, src_path, out, start, end, wdir = sys.argv[1:7]
sys.path.insert(0, wdir)
import safetensors_io
ref = json.load(open(ref_path))
src = json.load(open(src_path))
n, steps, depth = ref["num_codes"], ref["num_steps"], ref["depth"]
z = np.array(ref["z"], dtype=np.float32).reshape(n, 512)
events = np.array(ref["events"], dtype=np.int32).reshape(n, steps)
events_ns = np.array(ref["events_ns"], dtype=np.int32).reshape(n, steps)
logits = np.array(ref["logits"], dtype=np.float32).reshape(ref["logit_codes"], steps, depth)
margin = np.array(ref["min_margin"], dtype=np.float32).reshape(n)
# Self-checks, as make_reference.sh: greedy = argmax of the captured logits; the NoteSequence re-encoding equals
# the raw events with note-offs that end no note turned into 0.
assert (logits.argmax(-1) == events[: logits.shape[0]]).all()
canon = events.copy()
for row in canon:
    sounding = False
    for t, e in enumerate(row):
        if e >= 2: sounding = True
        elif e == 1:
            if not sounding: row[t] = 0
            sounding = False
assert (canon == events_ns).all(), "NoteSequence round trip differs from the canonicalised raw events"
meta = {
    "kind": "magenta.js reference: MusicVAE hierarchical decoder (ConductorDecoder, hierdec-mel_16bar layout) on "
            "seeded random weights, greedy decode",
    "magenta_js_version": ref["magenta_version"],
    "tfjs_version": ref["tfjs_version"],
    "tfjs_backend": ref["backend"],
    "node_version": ref["node_version"],
    "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "wall_time_s": "%.1f" % (float(end) - float(start)),
    "decode_time_s": "%.1f" % ref["decode_seconds"],
    "z": ref["z_generator"],
    "events": "[N,256] I32 raw greedy decoder output, 16 bars x 16 steps: argmax of the core decoder's 90-way output "
              "projection at each step (what MelodyConverter.toNoteSequence reads). Classes: 0 = no event, "
              "1 = note off, 2..89 = note on of MIDI pitch 21..108",
    "events_ns": "not stored; the decoded NoteSequence re-encoded with Melody.fromNoteSequence(ns, 21, 108, true, 256) "
                 "was checked equal, for every code, to `events` with each note off that ends no note replaced by 0",
    "logits": "[K,256,90] F32 core decoder output projection for the first K codes, captured by wrapping "
              "model.decoder.splitDecoder.coreDecoders[0].sample; argmax(logits) == events checked",
    "min_margin": "[N] F32 smallest top-1 minus top-2 logit gap over the 256 steps of each code",
    "weights_file": "build/fixtures/hierdec_random.safetensors (tests/reference/gen_hierdec_fixture.py)",
    "weights_sha256": src["sha256"],
    "weights_size": str(src["size"]),
    "served_renamed": "; ".join(src["renamed"]),
    "served_zero_filled": "; ".join(src["zero_filled"]),
    "regenerate": "tests/reference/magenta_js/make_hier_reference.sh",
}
safetensors_io.save(out, {"z": z, "events": events, "logits": logits, "min_margin": margin}, meta)
print(f"== wrote {out} ({os.path.getsize(out)} bytes); events from NoteSequences verified, logits argmax verified")
print(f"   weights sha256 {src['sha256']}; smallest margins {margin.tolist()}")
EOF
