#!/usr/bin/python3
"""Checks weights/magenta_tfjs_to_safetensors.py against magenta_manifest_to_safetensors.py on Magenta's real
mel_2bar_small decoder (../shared/weights/mel_2bar_small_decoder).

From the raw float32 files this builds, in a temporary directory, two magenta.js checkpoints
(weights_manifest.json + config.json + shards):
- float32 in two shards split in the middle of a tensor, plus one int32 weight: every tensor must equal the
  manifest converter's output exactly, names and shapes included, and the int32 weight must stay I32;
- uint8-quantized per tensor the way tfjs-converter's quantization.py does it (scale = (max - min) / 255, min
  nudged so that 0 is a grid point, values clipped to the nudged range and rounded): every value must lie within
  scale / 2 (plus float32 rounding) of the original.
The metadata keys both converters share (model, converter arguments, which parts are present) must agree.
Broken copies: a shard shorter than the manifest says (error names the weight), an unknown dtype and an
unknown quantization dtype are refused, leaving no output file.
Exit 0 when all hold.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SRC = os.path.abspath(os.path.join(REPO, "..", "shared", "weights", "mel_2bar_small_decoder"))
CONVERT = os.path.join(REPO, "weights", "magenta_tfjs_to_safetensors.py")
MANIFEST_CONVERT = os.path.join(REPO, "weights", "magenta_manifest_to_safetensors.py")
sys.path.insert(0, os.path.join(REPO, "weights"))
import safetensors_io  # noqa: E402

INT_NAME = "extra/int_counter"
INT_VALUE = np.array([7, -3, 2 ** 30], dtype="<i4")


def run(script, *args):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


def quantize_uint8(x):
    """tfjs-converter's affine uint8 quantization of one tensor -> (bytes, scale, min)."""
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return np.zeros(x.size, np.uint8).tobytes(), 1.0, lo
    scale = (hi - lo) / 255
    if lo <= 0 <= hi:
        zero = np.round((0 - lo) / scale)
        lo = -zero * scale
        hi = 255 * scale + lo
    q = np.round((np.clip(x.astype(np.float64), lo, hi) - lo) / scale).astype(np.uint8)
    return q.tobytes(), scale, lo


def write_checkpoint(d, weights, blob, cuts, config):
    """weights: manifest weight specs; blob: their bytes back to back; cuts: shard boundaries."""
    os.makedirs(d)
    bounds = [0] + list(cuts) + [len(blob)]
    paths = []
    for i in range(len(bounds) - 1):
        p = "group1-shard%dof%d" % (i + 1, len(bounds) - 1)
        with open(os.path.join(d, p), "wb") as f:
            f.write(blob[bounds[i]:bounds[i + 1]])
        paths.append(p)
    with open(os.path.join(d, "weights_manifest.json"), "w") as f:
        json.dump([{"paths": paths, "weights": weights}], f)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f)
    return paths


def refused(r, out, *words):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert not os.path.exists(out), out


def main():
    if not os.path.isdir(SRC):
        print("check_magenta_tfjs: %s not found (it comes with ../shared)" % SRC)
        return 1
    manifest = json.load(open(os.path.join(SRC, "manifest.json")))
    converter = json.load(open(os.path.join(SRC, "converter.json")))
    config = {"type": "MusicVAE", "dataConverter": converter}
    raw = {}
    for name, entry in sorted(manifest.items()):
        path = os.path.join(SRC, entry["filename"])
        if os.path.exists(path):  # the encoder's LSTM kernels are absent from this release
            raw[name] = np.fromfile(path, dtype="<f4").reshape(entry["shape"])
    tmp = tempfile.mkdtemp(prefix="photong-mtfjs.")
    try:
        ref_out = os.path.join(tmp, "ref.safetensors")
        r = run(MANIFEST_CONVERT, SRC, ref_out, "--allow-missing")
        assert r.returncode == 0, r.stderr
        ref, ref_meta = safetensors_io.load(ref_out)
        assert set(ref) == set(raw)

        # --- float32, two shards cut inside a tensor, one int32 weight at the end
        specs, parts = [], []
        for name, x in raw.items():
            specs.append({"name": name, "shape": list(x.shape), "dtype": "float32"})
            parts.append(x.astype("<f4").tobytes())
        specs.append({"name": INT_NAME, "shape": [3], "dtype": "int32"})
        parts.append(INT_VALUE.tobytes())
        blob = b"".join(parts)
        starts = np.cumsum([0] + [len(p) for p in parts])
        cut = len(blob) // 8 * 4 + 6
        assert cut not in starts and cut % 4 == 2  # mid-tensor and even mid-value
        before_int = specs[-2]["name"]  # the float weight stored just before the int32 one
        fdir = os.path.join(tmp, "f32")
        paths = write_checkpoint(fdir, specs, blob, [cut], config)
        out = os.path.join(tmp, "f32.safetensors")
        r = run(CONVERT, fdir, out)
        assert r.returncode == 0, r.stderr
        got, meta = safetensors_io.load(out)
        assert set(got) == set(ref) | {INT_NAME}, sorted(got)
        for name, x in ref.items():
            assert got[name].dtype == np.float32 and got[name].shape == x.shape, name
            assert np.array_equal(got[name], x), name
        assert got[INT_NAME].dtype == np.int32 and np.array_equal(got[INT_NAME], INT_VALUE)
        shared = [k for k in ref_meta if k not in ("source", "missing_variables")]
        for k in shared:
            assert meta.get(k) == ref_meta[k], (k, meta.get(k), ref_meta[k])
        assert meta["converter_numSteps"] == "32" and meta["data_converter"] == "MelodyConverter", meta
        assert meta["quantization"] == "float32,int32", meta

        # --- uint8 quantization, one shard
        specs, parts, scales = [], [], {}
        for name, x in raw.items():
            b, scale, lo = quantize_uint8(x)
            specs.append({"name": name, "shape": list(x.shape), "dtype": "float32",
                          "quantization": {"dtype": "uint8", "scale": scale, "min": lo}})
            parts.append(b)
            scales[name] = scale
        qdir = os.path.join(tmp, "u8")
        write_checkpoint(qdir, specs, b"".join(parts), [], config)
        qout = os.path.join(tmp, "u8.safetensors")
        r = run(CONVERT, qdir, qout)
        assert r.returncode == 0, r.stderr
        qgot, qmeta = safetensors_io.load(qout)
        assert set(qgot) == set(ref)
        worst = 0.0
        for name, x in ref.items():
            y = qgot[name]
            assert y.dtype == np.float32 and y.shape == x.shape, name
            err = np.abs(y.astype(np.float64) - x.astype(np.float64))
            bound = scales[name] / 2 + 1e-6 * max(1.0, float(np.abs(x).max()))
            assert float(err.max()) <= bound, (name, float(err.max()), scales[name])
            worst = max(worst, float(err.max()) / scales[name])
            if x.min() <= 0 <= x.max():  # zeros stay exact (the nudged grid holds 0)
                assert np.all(y[x == 0] == 0), name
        assert qmeta["quantization"] == "uint8" and qmeta["has_decoder"] == "true", qmeta

        # --- broken copies
        bad_out = os.path.join(tmp, "bad.safetensors")
        last = os.path.join(fdir, paths[-1])
        good = open(last, "rb").read()
        open(last, "wb").write(good[:-100])  # the int32 weight (12 bytes) and the end of the one before
        refused(run(CONVERT, fdir, bad_out), bad_out, before_int, "shard too short")
        open(last, "wb").write(good[:-8])
        refused(run(CONVERT, fdir, bad_out), bad_out, INT_NAME)
        open(last, "wb").write(good + b"\0\0\0\0")
        refused(run(CONVERT, fdir, bad_out), bad_out, "hold")
        open(last, "wb").write(good)
        mpath = os.path.join(fdir, "weights_manifest.json")
        good_manifest = open(mpath).read()
        m = json.loads(good_manifest)
        m[0]["weights"][1]["dtype"] = "complex64"
        open(mpath, "w").write(json.dumps(m))
        refused(run(CONVERT, fdir, bad_out), bad_out, m[0]["weights"][1]["name"], "complex64")
        m = json.loads(good_manifest)
        m[0]["weights"][0]["quantization"] = {"dtype": "int4", "scale": 1, "min": 0}
        open(mpath, "w").write(json.dumps(m))
        refused(run(CONVERT, fdir, bad_out), bad_out, m[0]["weights"][0]["name"], "int4")
        open(mpath, "w").write("[not json")
        refused(run(CONVERT, fdir, bad_out), bad_out, "weights_manifest.json")
        open(mpath, "w").write(good_manifest)
        r = run(CONVERT, fdir, bad_out)  # restored: converts again
        assert r.returncode == 0, r.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("check_magenta_tfjs: ok (%d variables exact in float32 over 2 shards; uint8 worst error %.3f x scale)"
          % (len(ref), worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
