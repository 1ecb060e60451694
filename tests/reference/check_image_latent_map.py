"""ctest image_latent_map: photong's image -> latent map (image_latent_map.hpp, picture_attributes.hpp) against the
Python definitions (tools/eval_image_dependence.py picture_attributes, tools/fit_image_latent_map.py latent).

  check_image_latent_map.py PHOTONG PHOTONG_EMBED WEIGHTS_DIR WORK_DIR

For skimage photos and synthetic pictures: the picture attributes photong reports (--json "picture") equal the
Python definition (brightness to 1e-6; edge density within 3 pixels of the 297 x 297 interior, since a Sobel
magnitude within float rounding of the threshold may fall either way), and photong's z equals the Python map applied
to photong-embed's pooled features and photong's attributes (to 1e-4 relative); --brightness / --contrast change z
by Vis2Mus's formulas and 0 changes nothing. Then bad map files: a wrong shape
and a map fitted for another melody model must each exit 1 naming the problem, and --bridge photong still works.
Skipped (exit 0) when WEIGHTS_DIR has no image_latent_map.safetensors or InceptionV3.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "weights"))
import eval_image_dependence as eid  # noqa: E402
import fit_image_latent_map as fit  # noqa: E402
import safetensors_io  # noqa: E402

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
FAILURES = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def photong(binary, wdir, image, work, *extra):
    r = subprocess.run([binary, image, "--seed", "1", "-o", os.path.join(work, "out.mid"), "--json", "--weights-dir", wdir, *extra],
                       capture_output=True, text=True)
    return r.returncode, (json.loads(r.stdout) if r.returncode == 0 else None), r.stderr


def main(argv):
    if len(argv) != 5:
        print(__doc__)
        return 2
    binary, embed, wdir, work = argv[1:]
    map_path = os.path.join(wdir, "image_latent_map.safetensors")
    if not os.path.exists(map_path) or not os.path.exists(os.path.join(wdir, "inception_v3.safetensors")):
        print("skipped: no image_latent_map.safetensors or inception_v3.safetensors in", wdir)
        return 0
    shutil.rmtree(work, ignore_errors=True)
    pics = os.path.join(work, "pictures")
    os.makedirs(pics)
    for name in ("chelsea.png", "coffee.png", "camera.png", "rocket.jpg"):
        eid.save_normalised(Image.open(os.path.join(SKIMAGE, name)), os.path.join(pics, name.split(".")[0] + ".png"))
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (131, 217, 3), dtype=np.uint8)).save(os.path.join(pics, "noise.png"))
    Image.new("RGB", (64, 48), (200, 40, 10)).save(os.path.join(pics, "red.png"))
    subprocess.run([embed, pics, "--pooled", "-o", os.path.join(work, "pooled.safetensors")], check=True, capture_output=True)
    feats, paths = fit.load_pooled(os.path.join(work, "pooled.safetensors"), pics)
    tensors, _ = safetensors_io.load(map_path)
    m = {k: v.astype(np.float64) for k, v in tensors.items()}
    interior = 297 * 297
    for f, path in zip(feats, paths):
        rc, j, err = photong(binary, wdir, path, work)
        if rc != 0:
            check(False, f"{os.path.basename(path)}: photong exit {rc}: {err[-300:]}")
            continue
        want = eid.picture_attributes(path)
        got = j["picture"]
        check(abs(got["brightness"] - want["brightness"]) < 1e-6,
              f"{os.path.basename(path)}: brightness {got['brightness']:.8f} vs Python {want['brightness']:.8f}")
        check(abs(got["edge_density"] - want["edge_density"]) * interior <= 3,
              f"{os.path.basename(path)}: edge density {got['edge_density']:.6f} vs Python {want['edge_density']:.6f}")
        z_ref = fit.latent(m, f[None], [got])[0]
        z = np.array(j["latent"])
        rel = np.abs(z - z_ref).max() / np.abs(z_ref).max()
        check(j["latent_source"] == "map" and rel < 1e-4, f"{os.path.basename(path)}: z vs the Python map, max rel diff {rel:.1e} "
              f"(|z| {np.linalg.norm(z):.2f})")
    # Vis2Mus sliders on z (latent_sliders.hpp): 0 changes nothing, other values follow the formulas.
    image = paths[0]
    _, plain, _ = photong(binary, wdir, image, work)
    _, zero, _ = photong(binary, wdir, image, work, "--brightness", "0", "--contrast", "0")
    check(zero["events"] == plain["events"] and zero["latent"] == plain["latent"], "--brightness 0 --contrast 0 is the plain decode")
    z0 = np.array(plain["latent"], dtype=np.float64)
    _, b, _ = photong(binary, wdir, image, work, "--brightness", "0.5")
    want = z0 + 0.5 * z0.max() / 2
    check(np.abs(np.array(b["latent"]) - want).max() < 1e-5 * np.abs(want).max(), "--brightness 0.5: z + 0.5 max(z) / 2")
    _, c, _ = photong(binary, wdir, image, work, "--contrast", "-0.4")
    want = z0.mean() + (z0 - z0.mean()) * 0.6
    check(np.abs(np.array(c["latent"]) - want).max() < 1e-5 * np.abs(want).max(), "--contrast -0.4: mean + (z - mean) 0.6")
    rc, _, err = photong(binary, wdir, image, work, "--brightness", "1.5")
    check(rc == 2 and "-1..1" in err, f"--brightness 1.5 refused: exit {rc}")
    # Bad map files, in a copy of the weights directory.
    bad = os.path.join(work, "weights")
    os.makedirs(bad)
    for name in os.listdir(wdir):
        if name.endswith(".safetensors") and name != "image_latent_map.safetensors":
            os.symlink(os.path.abspath(os.path.join(wdir, name)), os.path.join(bad, name))
    tensors, meta = safetensors_io.load(map_path)
    broken = dict(tensors, whiten=tensors["whiten"][:, :100])
    safetensors_io.save(os.path.join(bad, "image_latent_map.safetensors"), broken, meta)
    rc, _, err = photong(binary, bad, image, work)
    check(rc == 1 and "whiten" in err and "[d, 2048]" in err, f"a [d, 100] whiten: exit {rc}, {err.strip()[-160:]!r}")
    safetensors_io.save(os.path.join(bad, "image_latent_map.safetensors"), tensors, dict(meta, melody_steps_trained="1"))
    rc, _, err = photong(binary, bad, image, work)
    check(rc == 1 and "another melody model" in err, f"a map for another melody model: exit {rc}, {err.strip()[-160:]!r}")
    rc, j, err = photong(binary, bad, image, work, "--bridge", "photong")
    check(rc == 0 and j["latent_source"] == "photong", f"--bridge photong beside a bad map: exit {rc}")
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
