#!/usr/bin/python3
"""Checks the photong-embed example end to end on three skimage photos (cat, coffee, astronaut).

  check_embed_example.py PHOTONG_EMBED WEIGHTS.safetensors WORK_DIR

- DIR mode: `features` F32 [3,8,8,2048], metadata `paths` the sorted file names, the weights' sha256
  (computed here) and source carried; --batch 1 gives the same bytes as the default batch of 8;
- --list mode: a CSV (header `path,valence,arousal,note`, paths relative to its folder, a quoted note
  with a comma) of 5 rows, two of them repeats, run as one batch of 5 (batches of 4 or more are where
  an 8x8 layer could switch to Winograd): each row's features equal DIR mode's for that image bit
  for bit, `valence` and `arousal` come through as F32 [5], the text column is left out;
- --dtype f16 equals the F32 features rounded by numpy; --pooled is their 8x8 mean [N,2048];
- a folder with an unreadable image exits 1 naming it and writes nothing (no temporary either);
  --skip-bad runs, stores the 3 good images and lists the bad one in metadata `skipped` and stderr;
- a missing -o is a usage error (exit 2).
Exit 0 when all hold.
"""
import csv
import hashlib
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights"))
import safetensors_io  # noqa: E402

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ["chelsea.png", "coffee.png", "astronaut.png"]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import check, failures, run  # noqa: E402,F401


def embed(prog, label, *args):
    r = run(prog, *args)
    print(label + ":", r.stdout.strip().replace("\n", " | "))
    check(r.returncode == 0, "%s: exit %d: %s" % (label, r.returncode, r.stderr.strip()))
    return r


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    prog, weights, work = argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    photos = os.path.join(work, "photos")
    os.makedirs(os.path.join(work, "listed", "sub"))
    os.makedirs(photos)
    for p in PHOTOS:
        shutil.copy(os.path.join(SKIMAGE, p), os.path.join(photos, p))
        shutil.copy(os.path.join(SKIMAGE, p), os.path.join(work, "listed", "sub", p))
    out = lambda name: os.path.join(work, name)  # noqa: E731
    sha = hashlib.sha256(open(weights, "rb").read()).hexdigest()
    _, wmeta = safetensors_io.load(weights)

    # DIR mode, default batch, and batch 1.
    embed(prog, "dir", "--weights", weights, photos, "-o", out("dir.safetensors"))
    embed(prog, "dir batch 1", "--weights", weights, "--batch", "1", photos, "-o", out("dir_b1.safetensors"))
    t, meta = safetensors_io.load(out("dir.safetensors"))
    feats = t.get("features")
    check(feats is not None and feats.dtype == np.float32 and feats.shape == (3, 8, 8, 2048),
          "dir: features %r" % ((None if feats is None else (feats.dtype, feats.shape)),))
    names = json.loads(meta.get("paths", "[]"))
    check(names == sorted(PHOTOS), "dir: paths %s" % names)
    check(meta.get("weights_sha256") == sha, "dir: weights_sha256 %s, file's %s" % (meta.get("weights_sha256"), sha))
    check(meta.get("weights_source") == wmeta.get("source"), "dir: weights_source %r" % meta.get("weights_source"))
    check(json.loads(meta.get("skipped", "null")) == [], "dir: skipped %r" % meta.get("skipped"))
    check(set(t) == {"features"}, "dir: tensors %s" % sorted(t))
    if feats is not None:
        check(np.isfinite(feats).all() and (feats >= 0).all() and feats.std() > 0, "dir: features not finite, non-negative, varied")
        check(not np.array_equal(feats[0], feats[1]), "dir: two different photos gave the same features")
    check(open(out("dir.safetensors"), "rb").read() == open(out("dir_b1.safetensors"), "rb").read(),
          "batch 8 and batch 1 files differ")
    by_name = {n: feats[i] for i, n in enumerate(names)} if feats is not None else {}

    # --list mode with labels, repeats, a text column; one batch of 5.
    rows = [("sub/chelsea.png", 6.5, 3.25), ("sub/coffee.png", 7.0, 4.5), ("sub/astronaut.png", 5.5, 6.0),
            ("sub/chelsea.png", 1.0, 2.0), ("sub/coffee.png", 9.0, -1.5)]
    csv_path = os.path.join(work, "listed", "labels.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "valence", "arousal", "note"])
        for i, (p, v, a) in enumerate(rows):
            w.writerow([p, v, a, "photo %d, from skimage" % i])
    r = embed(prog, "list", "--weights", weights, "--batch", "5", "--list", csv_path, "-o", out("list.safetensors"))
    check("note" in r.stderr, "list: the text column is not reported as left out: %r" % r.stderr)
    t, meta = safetensors_io.load(out("list.safetensors"))
    check(set(t) == {"features", "valence", "arousal"}, "list: tensors %s" % sorted(t))
    check(json.loads(meta.get("paths", "[]")) == [p for p, _, _ in rows], "list: paths %s" % meta.get("paths"))
    check(json.loads(meta.get("label_columns", "[]")) == ["valence", "arousal"], "list: label_columns %s" % meta.get("label_columns"))
    for key, col in (("valence", 1), ("arousal", 2)):
        v = t.get(key)
        check(v is not None and v.dtype == np.float32 and v.shape == (5,) and
              np.array_equal(v, np.array([r[col] for r in rows], np.float32)), "list: %s %s" % (key, v))
    lf = t.get("features")
    check(lf is not None and lf.shape == (5, 8, 8, 2048), "list: features shape")
    if lf is not None and by_name:
        for i, (p, _, _) in enumerate(rows):
            check(np.array_equal(lf[i], by_name[os.path.basename(p)]), "list row %d (%s, batch of 5) differs from batch 1" % (i, p))

    # f16 and pooled.
    embed(prog, "f16", "--weights", weights, "--dtype", "f16", photos, "-o", out("f16.safetensors"))
    t, _ = safetensors_io.load(out("f16.safetensors"))
    h = t.get("features")
    check(h is not None and h.dtype == np.float16 and h.shape == (3, 8, 8, 2048), "f16: features %r" % ((None if h is None else h.dtype),))
    if h is not None and feats is not None:
        check(np.array_equal(h, feats.astype(np.float16)), "f16: not the F32 features rounded to nearest even")
    embed(prog, "pooled", "--weights", weights, "--pooled", photos, "-o", out("pooled.safetensors"))
    t, _ = safetensors_io.load(out("pooled.safetensors"))
    pooled = t.get("pooled")
    check(pooled is not None and pooled.dtype == np.float32 and pooled.shape == (3, 2048) and set(t) == {"pooled"}, "pooled: tensors %s" % sorted(t))
    if pooled is not None and feats is not None:
        check(np.allclose(pooled, feats.astype(np.float64).mean(axis=(1, 2)), rtol=1e-6, atol=1e-7), "pooled: not the 8x8 mean of the features")

    # An unreadable image: stop with exit 1 and write nothing; --skip-bad skips and lists it.
    with open(os.path.join(photos, "broken.jpg"), "wb") as f:
        f.write(b"this is not a JPEG file\n")
    r = run(prog, "--weights", weights, photos, "-o", out("bad.safetensors"))
    check(r.returncode == 1, "bad image: exit %d, expected 1" % r.returncode)
    check("broken.jpg" in r.stderr, "bad image: error does not name the file: %r" % r.stderr)
    check(not os.path.exists(out("bad.safetensors")), "bad image: an output file was written")
    check(not [n for n in os.listdir(work) if "tmp" in n], "bad image: temporary left: %s" % os.listdir(work))
    r = embed(prog, "skip-bad", "--weights", weights, "--skip-bad", photos, "-o", out("skip.safetensors"))
    check("broken.jpg" in r.stderr, "skip-bad: stderr does not list the file: %r" % r.stderr)
    if os.path.exists(out("skip.safetensors")):
        t, meta = safetensors_io.load(out("skip.safetensors"))
        check(t["features"].shape[0] == 3 and json.loads(meta["paths"]) == sorted(PHOTOS), "skip-bad: stored %s" % meta.get("paths"))
        check([s.get("path") for s in json.loads(meta.get("skipped", "[]"))] == ["broken.jpg"], "skip-bad: skipped %r" % meta.get("skipped"))
        check(feats is None or np.array_equal(t["features"], feats), "skip-bad: features differ from the clean run")
    r = run(prog, "--weights", weights, photos)
    check(r.returncode == 2, "no -o: exit %d, expected 2" % r.returncode)

    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
