"""How much does photong's melody depend on the picture, rather than only on the seed?

Drives the built CLI (`build/examples/photong IMAGE --seed N -o OUT.mid --json`) over a fixed set of pictures
and perturbed copies of them, then reports:
  1. onset agreement between different pictures at one seed (Jaccard of (start_step, pitch) sets, and of steps)
  2. distinct first bars (events[0:16]) among the pictures
  3. latent spread of the pictures' z codes beside as many N(0, I) draws
  4. identity: is a perturbed picture's latent nearest its own original's?
  5. seed effect on one picture (20 seeds) for comparison with 1 and 2
  6. Spearman rho between picture attributes and melody attributes
  7. --brightness / --contrast sliders, when this photong has them
Pictures are the photo-like PNG/JPEG files in skimage's data folder plus synthetic ones, all normalised to
PNG (L or RGB) in WORK_DIR/pictures; each gets JPEG q85, 90 % resize, 95 % centre crop and x1.2 variants.
Nothing is cached between invocations: pictures are rebuilt and every photong run is redone.

Usage (from the repository root):
  /usr/bin/python3 tools/eval_image_dependence.py [--jobs 2] [--seed 1] [--json OUT.json] [--work-dir D]
      [--images DIR_OR_FILE ...] [--images-only] [--picture chelsea] [--attr-seeds 3] [--slider-codes 50]
  /usr/bin/python3 tools/eval_image_dependence.py --before-after OLD.json NEW.json
  /usr/bin/python3 tools/eval_image_dependence.py --self-test
Needs numpy, scipy, skimage and PIL (Debian python3 packages). Exits 2 if the photong binary is missing.
"""
import argparse
import glob
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image
from scipy import stats

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
STEPS_PER_BAR = 16
SLIDER_ALPHAS = (-0.7, -0.35, 0.0, 0.35, 0.7)
VARIANTS = ("jpeg85", "resize90", "crop95", "bright120")
PIC_ATTRS = ("brightness", "contrast", "saturation", "colourfulness", "warmth", "edge_density")
MUSIC_ATTRS = ("mean_pitch", "notes_per_bar", "pitch_range", "stepwise_share", "bpm")
EDGE_THRESHOLD = 0.1  # Sobel magnitude on luminance in [0, 1] (picture_attributes.hpp kEdgeThreshold)
ATTR_SIZE = (299, 299)  # attributes are measured at InceptionV3's input size, so resolution doesn't bias edges


# ---------------------------------------------------------------- pure functions (covered by --self-test)
def onsets(melody, steps_only=False):
    """Set of (start_step, pitch) of a melody's notes, or of start_steps only."""
    return {n["start_step"] if steps_only else (n["start_step"], n["pitch"]) for n in melody}


def jaccard(a, b):
    """|a & b| / |a | b|; two empty sets agree fully."""
    union = a | b
    return 1.0 if not union else len(a & b) / len(union)


def pairwise_agreement(melodies, steps_only=False):
    """Jaccard onset agreement of every pair of melodies -> (mean, median)."""
    sets = [onsets(m, steps_only) for m in melodies]
    vals = [jaccard(a, b) for a, b in itertools.combinations(sets, 2)]
    return float(np.mean(vals)), float(np.median(vals))


def colourfulness(rgb):
    """Hasler & Suesstrunk (2003) M on 0..255 RGB: sqrt(s_rg^2 + s_yb^2) + 0.3 sqrt(m_rg^2 + m_yb^2)."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, (r + g) / 2 - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def picture_view(path):
    """The picture as photong measures it (include/photong/image/picture_attributes.hpp): RGB / 255 in float32,
    resized to ATTR_SIZE with bilinear align-corners interpolation (photong's resize with the default weights)."""
    import torch
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / np.float32(255)
    t = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)
    view = torch.nn.functional.interpolate(t, size=ATTR_SIZE, mode="bilinear", align_corners=True)
    return view[0].permute(1, 2, 0).numpy().astype(np.float64)


def picture_attributes(path):
    """Picture attributes on picture_view(path). brightness = mean Rec. 709 luminance (skimage.color.rgb2gray's
    weights) in [0, 1]; contrast = its std; saturation = mean HSV S; warmth = mean of S * cos(hue - 30 deg), +1 for
    saturated orange, -1 for saturated sky blue, 0 for greys; edge density = share of interior pixels whose Sobel
    magnitude sqrt((gx^2 + gy^2) / 2), kernels / 4 (skimage.filters.sobel's scale), exceeds EDGE_THRESHOLD.
    brightness and edge density are photong's own (picture_attributes.hpp)."""
    from skimage import color
    view = picture_view(path)
    lum = view @ np.array([0.2125, 0.7154, 0.0721])
    hsv = color.rgb2hsv(view)
    warmth = np.mean(hsv[..., 1] * np.cos(2 * np.pi * (hsv[..., 0] - 30 / 360)))
    gx = (lum[:-2, 2:] + 2 * lum[1:-1, 2:] + lum[2:, 2:] - lum[:-2, :-2] - 2 * lum[1:-1, :-2] - lum[2:, :-2]) / 4
    gy = (lum[2:, :-2] + 2 * lum[2:, 1:-1] + lum[2:, 2:] - lum[:-2, :-2] - 2 * lum[:-2, 1:-1] - lum[:-2, 2:]) / 4
    return {"brightness": float(lum.mean()), "contrast": float(lum.std()), "saturation": float(hsv[..., 1].mean()),
            "colourfulness": colourfulness(view * 255), "warmth": float(warmth),
            "edge_density": float(np.mean(np.sqrt((gx * gx + gy * gy) / 2) > EDGE_THRESHOLD))}


def music_attributes(result):
    """Melody attributes of one photong --json result (NaN where a melody has too few notes)."""
    pitches = [n["pitch"] for n in sorted(result["melody"], key=lambda n: n["start_step"])]
    steps = [abs(b - a) for a, b in zip(pitches, pitches[1:])]
    return {"mean_pitch": float(np.mean(pitches)) if pitches else np.nan,
            "notes_per_bar": len(pitches) / result.get("bars", len(result["events"]) // STEPS_PER_BAR),
            "pitch_range": float(max(pitches) - min(pitches)) if pitches else np.nan,
            "stepwise_share": float(np.mean([s in (1, 2) for s in steps])) if steps else np.nan,
            "bpm": float(result["bpm"])}


def identity_share(originals, variants):
    """Share of rows i of `variants` whose Euclidean-nearest row of `originals` is row i."""
    d = np.linalg.norm(variants[:, None, :] - originals[None, :, :], axis=2)
    return float(np.mean(np.argmin(d, axis=1) == np.arange(len(originals))))


def latent_spread(z):
    """Mean pairwise cosine, mean distance to the mean, mean pairwise Euclidean distance of rows of z."""
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    iu = np.triu_indices(len(z), 1)
    dist = np.linalg.norm(z[:, None] - z[None], axis=2)
    return {"mean_cosine": float((unit @ unit.T)[iu].mean()),
            "mean_dist_to_mean": float(np.linalg.norm(z - z.mean(0), axis=1).mean()),
            "mean_pairwise_dist": float(dist[iu].mean())}


def spearman(x, y):
    """(rho, p) over entries where both are finite; NaN when either side is constant."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return np.nan, np.nan
    rho, p = stats.spearmanr(x[ok], y[ok])
    return float(rho), float(p)


# ---------------------------------------------------------------- pictures
def save_normalised(img, path):
    """Save as PNG in L (greyscale) or RGB; alpha is composited over white, as a viewer would show it."""
    if img.mode in ("LA", "RGBA", "PA", "P"):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    elif img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    img.save(path)


def collect_pictures(extra, only, out_dir):
    """Normalised originals in out_dir -> {name: path}. skimage pictures: PNG/JPEG that PIL opens, at least
    64 px a side (drops the 10x10 palette test tiles), skipping truncated.jpg."""
    sources = [] if only else [p for p in sorted(glob.glob(os.path.join(SKIMAGE_DATA, "*")))
                               if p.lower().endswith((".png", ".jpg", ".jpeg"))
                               and os.path.basename(p) != "truncated.jpg"]
    for e in extra or []:
        sources += sorted(glob.glob(os.path.join(e, "*"))) if os.path.isdir(e) else [e]
    pictures = {}
    for src in sources:
        try:
            img = Image.open(src)
            img.load()
        except Exception as exc:  # unreadable or not an image: skip, as the brief asks
            print(f"skipping {src}: {exc}", file=sys.stderr)
            continue
        if min(img.size) < 64:
            continue
        name = os.path.splitext(os.path.basename(src))[0]
        pictures[name] = os.path.join(out_dir, name + ".png")
        save_normalised(img, pictures[name])
    if not only:
        for name, arr in synthetic_pictures().items():
            pictures["syn_" + name] = os.path.join(out_dir, f"syn_{name}.png")
            Image.fromarray(arr).save(pictures["syn_" + name])
    return pictures


def synthetic_pictures(w=320, h=240):
    """Deterministic synthetic pictures as uint8 arrays: solids, gradients, patterns, noise, a dark photo,
    a washed-out bright photo."""
    solid = lambda c: np.broadcast_to(np.array(c, np.uint8), (h, w, 3)).copy()
    x, y = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
    rng = np.random.default_rng(1234)
    from skimage import data
    pics = {"black": solid((0, 0, 0)), "white": solid((255, 255, 255)), "grey": solid((128, 128, 128)),
            "red": solid((255, 0, 0)), "green": solid((0, 255, 0)), "blue": solid((0, 0, 255)),
            "yellow": solid((255, 255, 0)), "cyan": solid((0, 255, 255)), "magenta": solid((255, 0, 255))}
    pics["hgradient"] = np.repeat((x * 255).astype(np.uint8)[..., None], 3, axis=2)
    pics["vcolour_gradient"] = (np.stack([1 - y, y * (1 - y) * 4, y], axis=2) * 255).astype(np.uint8)
    pics["checkerboard"] = np.repeat((((x * 8).astype(int) + (y * 6).astype(int)) % 2 * 255)
                                     .astype(np.uint8)[..., None], 3, axis=2)
    pics["stripes"] = np.repeat(((np.sin(x * 40 * np.pi) > 0) * 255).astype(np.uint8)[..., None], 3, axis=2)
    pics["grey_noise"] = np.repeat(rng.integers(0, 256, (h, w), dtype=np.uint8)[..., None], 3, axis=2)
    pics["colour_noise"] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    pics["dark_coffee"] = (data.coffee() * 0.3).astype(np.uint8)
    pics["bright_astronaut"] = (255 - (255 - data.astronaut().astype(float)) * 0.3).astype(np.uint8)
    return pics


def make_variants(name, path, out_dir):
    """The four perturbed copies of one picture -> {kind: path}."""
    img = Image.open(path)
    w, h = img.size
    out = {k: os.path.join(out_dir, f"{name}.{k}" + (".jpg" if k == "jpeg85" else ".png")) for k in VARIANTS}
    img.save(out["jpeg85"], quality=85)
    img.resize((round(w * 0.9), round(h * 0.9)), Image.BILINEAR).save(out["resize90"])
    dx, dy = round(w * 0.025), round(h * 0.025)
    img.crop((dx, dy, w - dx, h - dy)).save(out["crop95"])
    Image.fromarray(np.clip(np.asarray(img, float) * 1.2, 0, 255).astype(np.uint8)).save(out["bright120"])
    return out


# ---------------------------------------------------------------- running photong
class Runner:
    def __init__(self, binary, work_dir, jobs, extra_flags=()):
        self.binary, self.mid_dir, self.jobs = binary, os.path.join(work_dir, "midi"), jobs
        self.extra_flags = list(extra_flags)  # passed to every run (e.g. --bridge photong for a "before" table)
        os.makedirs(self.mid_dir, exist_ok=True)
        self.results = {}
        self.counter = itertools.count()  # unique MIDI names; next() is atomic under the GIL

    def _run(self, key):
        image, seed, flags = key
        out = os.path.join(self.mid_dir, f"run{next(self.counter)}.mid")
        cmd = [self.binary, image, "--seed", str(seed), "-o", out, "--json", *self.extra_flags, *flags]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"photong failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-500:]}", file=sys.stderr)
            return None
        return json.loads(proc.stdout)

    def run(self, keys):
        """Run every (image, seed, flags) not yet run in this invocation, `jobs` at a time."""
        todo = list(dict.fromkeys(k for k in keys if k not in self.results))
        t0 = time.time()
        with ThreadPoolExecutor(self.jobs) as pool:  # threads only wait on photong child processes
            for i, (k, res) in enumerate(zip(todo, pool.map(self._run, todo)), 1):
                self.results[k] = res
                if i % 25 == 0 or i == len(todo):
                    print(f"  {i}/{len(todo)} runs, {time.time() - t0:.0f} s", file=sys.stderr)
        return [self.results[k] for k in keys]


# ---------------------------------------------------------------- evaluation
def evaluate(args, binary, help_text):
    pic_dir, var_dir = (os.path.join(args.work_dir, d) for d in ("pictures", "variants"))
    for d in (pic_dir, var_dir, os.path.join(args.work_dir, "midi")):
        shutil.rmtree(d, ignore_errors=True)  # cache nothing between invocations
        os.makedirs(d)
    pictures = collect_pictures(args.images, args.images_only, pic_dir)
    names = sorted(pictures)
    runner = Runner(binary, args.work_dir, args.jobs, args.photong_flags.split())
    summary, details = {"pictures": len(names)}, {"pictures": names}

    attr_seeds = [args.seed + i for i in range(args.attr_seeds)]
    runner.run([(pictures[n], s, ()) for s in attr_seeds for n in names])
    base = {n: runner.results[(pictures[n], args.seed, ())] for n in names}
    failed = [n for n in names if base[n] is None]
    names = [n for n in names if base[n] is not None]
    details["failed"] = failed

    # 1, 2: different pictures, one seed
    melodies = [base[n]["melody"] for n in names]
    summary["onset_agreement_mean"], summary["onset_agreement_median"] = pairwise_agreement(melodies)
    summary["onset_step_agreement_mean"], summary["onset_step_agreement_median"] = pairwise_agreement(melodies, True)
    first_bars = {tuple(base[n]["events"][:STEPS_PER_BAR]) for n in names}
    summary["distinct_first_bars"] = len(first_bars)
    summary["distinct_first_bars_share"] = len(first_bars) / len(names)

    # 3: latent spread against the prior
    z = np.array([base[n]["latent"] for n in names])
    prior = np.random.default_rng(0).standard_normal(z.shape)
    for k, v in latent_spread(z).items():
        summary["latent_" + k] = v
    for k, v in latent_spread(prior).items():
        summary["prior_" + k] = v

    # 4: identity under perturbations (the latent does not depend on the seed, so one seed suffices)
    variants = {n: make_variants(n, pictures[n], var_dir) for n in names}
    for kind in VARIANTS:
        res = runner.run([(variants[n][kind], args.seed, ()) for n in names])
        ok = [i for i, r in enumerate(res) if r is not None]  # a failed variant drops its original too
        summary["identity_" + kind] = identity_share(z[ok], np.array([res[i]["latent"] for i in ok]))

    # 5: seed effect on one picture
    pic = pictures.get(args.picture, pictures[names[0]])
    seeds = [r for r in runner.run([(pic, s, ()) for s in range(1, 21)]) if r is not None]
    summary["seed_distinct_first_bars"] = len({tuple(r["events"][:STEPS_PER_BAR]) for r in seeds})
    summary["seed_onset_agreement_mean"] = pairwise_agreement([r["melody"] for r in seeds])[0]

    # 6: picture attributes vs music attributes (music averaged over attr_seeds to damp sampling noise)
    pic_attrs = {n: picture_attributes(pictures[n]) for n in names}
    mus_attrs = {}
    for n in names:
        per_seed = [music_attributes(r) for r in (runner.results[(pictures[n], s, ())] for s in attr_seeds) if r]
        mus_attrs[n] = {a: float(np.nanmean([m[a] for m in per_seed])) for a in MUSIC_ATTRS}
    rho = {p: {m: spearman([pic_attrs[n][p] for n in names], [mus_attrs[n][m] for n in names])
               for m in MUSIC_ATTRS} for p in PIC_ATTRS}
    summary["rho_brightness_mean_pitch"] = rho["brightness"]["mean_pitch"][0]
    summary["rho_edge_density_notes_per_bar"] = rho["edge_density"]["notes_per_bar"][0]
    details.update(picture_attributes=pic_attrs, music_attributes=mus_attrs, rho=rho)

    # 7: sliders
    if "--brightness" in help_text and "--contrast" in help_text:
        codes = [(pictures[names[i % len(names)]], args.seed + i // len(names)) for i in range(args.slider_codes)]
        for slider in ("brightness", "contrast"):
            rho_n, rho_p = [], []
            runner.run([(im, sd, (f"--{slider}", str(a))) for im, sd in codes for a in SLIDER_ALPHAS])
            for image, seed in codes:
                res = runner.run([(image, seed, (f"--{slider}", str(a))) for a in SLIDER_ALPHAS])
                if any(r is None for r in res):
                    continue
                rho_n.append(spearman(SLIDER_ALPHAS, [len(r["melody"]) for r in res])[0])
                rho_p.append(spearman(SLIDER_ALPHAS, [music_attributes(r)["mean_pitch"] for r in res])[0])
            summary[f"slider_{slider}_median_abs_rho_notes"] = float(np.nanmedian(np.abs(rho_n)))
            summary[f"slider_{slider}_median_abs_rho_pitch"] = float(np.nanmedian(np.abs(rho_p)))
            plain = runner.run([(image, seed, ()) for image, seed in codes])
            zero = runner.run([(image, seed, (f"--{slider}", "0.0")) for image, seed in codes])
            summary[f"slider_{slider}_zero_same_share"] = float(np.mean(
                [bool(a and b and a["events"] == b["events"]) for a, b in zip(plain, zero)]))
    else:
        summary["sliders_available"] = False
    return summary, details


def fmt(v):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else \
        (f"{v:.3f}" if isinstance(v, float) else str(v))


def print_report(s, d):
    n = s["pictures"]
    print(f"\npictures: {n} (failed: {', '.join(d['failed']) or 'none'})")
    print(f"1. onset agreement across pictures: mean {fmt(s['onset_agreement_mean'])}, median "
          f"{fmt(s['onset_agreement_median'])}; steps only: mean {fmt(s['onset_step_agreement_mean'])}, "
          f"median {fmt(s['onset_step_agreement_median'])}")
    print(f"2. distinct first bars: {s['distinct_first_bars']} of {n} (share {fmt(s['distinct_first_bars_share'])})")
    print(f"3. latent spread        {'pictures':>10} {'N(0,I)':>10}")
    for k in ("mean_cosine", "mean_dist_to_mean", "mean_pairwise_dist"):
        print(f"   {k:<20} {fmt(s['latent_' + k]):>10} {fmt(s['prior_' + k]):>10}")
    print("4. identity (variant nearest its own original): " +
          ", ".join(f"{k} {fmt(s['identity_' + k])}" for k in VARIANTS))
    print(f"5. seed effect (one picture, seeds 1..20): distinct first bars {s['seed_distinct_first_bars']}, "
          f"onset agreement {fmt(s['seed_onset_agreement_mean'])}")
    print("6. Spearman rho, picture (rows; brightness = mean Rec.709 luminance) vs music (columns); * = p < 0.05")
    print("   " + " " * 14 + "".join(f"{m:>15}" for m in MUSIC_ATTRS))
    for p in PIC_ATTRS:
        cells = [(fmt(r) + ("*" if p_ < 0.05 else " ")) if np.isfinite(r) else "n/a " for r, p_ in
                 (d["rho"][p][m] for m in MUSIC_ATTRS)]
        print(f"   {p:<14}" + "".join(f"{c:>15}" for c in cells))
    for label, (p, m) in (("brightness -> mean pitch", ("brightness", "mean_pitch")),
                          ("edge density -> note density", ("edge_density", "notes_per_bar"))):
        r, pv = d["rho"][p][m]
        print(f"   >> {label}: rho {fmt(r)} (p {fmt(pv)})")
    if s.get("sliders_available") is False:
        print("7. sliders: not available in this photong")
    else:
        for sl in ("brightness", "contrast"):
            print(f"7. slider {sl}: median |rho| alpha~notes {fmt(s[f'slider_{sl}_median_abs_rho_notes'])}, "
                  f"alpha~mean pitch {fmt(s[f'slider_{sl}_median_abs_rho_pitch'])}; alpha 0 == no flag in "
                  f"{fmt(s[f'slider_{sl}_zero_same_share'])} of codes")


def without_nan(o):
    """Copy of a JSON-able structure with NaN as null, so the file is strict JSON."""
    if isinstance(o, dict):
        return {k: without_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [without_nan(v) for v in o]
    return None if isinstance(o, float) and np.isnan(o) else o


def before_after(old_path, new_path):
    old, new = (json.load(open(p))["summary"] for p in (old_path, new_path))
    print(f"{'metric':<42}{'before':>12}{'after':>12}")
    for k in list(old) + [k for k in new if k not in old]:
        print(f"{k:<42}{fmt(old.get(k)):>12}{fmt(new.get(k)):>12}")


def self_test():
    a = [{"start_step": 0, "pitch": 60}, {"start_step": 4, "pitch": 62}]
    b = [{"start_step": 0, "pitch": 60}, {"start_step": 4, "pitch": 64}, {"start_step": 8, "pitch": 65}]
    checks = {
        "onset jaccard": abs(jaccard(onsets(a), onsets(b)) - 1 / 4) < 1e-12,
        "step jaccard": abs(jaccard(onsets(a, True), onsets(b, True)) - 2 / 3) < 1e-12,
        "empty melodies agree": jaccard(set(), set()) == 1.0,
        "pairwise mean": abs(pairwise_agreement([a, a, b])[0] - (1 + 0.25 + 0.25) / 3) < 1e-12,
        # pixels red and blue: rg = (255, 0), yb = (127.5, -255), so sigmas 127.5, 191.25; means 127.5, -63.75
        "colourfulness": abs(colourfulness(np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8))
                             - (52832.8125 ** 0.5 + 0.3 * 20320.3125 ** 0.5)) < 1e-9,
        "colourfulness grey": colourfulness(np.full((2, 2, 3), 77, np.uint8)) == 0.0,
        "identity all": identity_share(np.eye(3), np.eye(3) * 0.9) == 1.0,
        "identity swapped": abs(identity_share(np.eye(3), np.eye(3)[[1, 0, 2]]) - 1 / 3) < 1e-12,
        "spearman +": spearman([1, 2, 3, 4], [10, 20, 25, 90])[0] > 0.99,
        "spearman -": spearman([1, 2, 3, 4], [9, 7, 3, 1])[0] < -0.99,
        "spearman constant": np.isnan(spearman([1, 2, 3], [5, 5, 5])[0]),
        "music attrs": music_attributes({"melody": b, "bars": 2, "events": [], "bpm": 90})
        == {"mean_pitch": 63.0, "notes_per_bar": 1.5, "pitch_range": 5.0, "stepwise_share": 0.5, "bpm": 90.0},
    }
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photong", default=os.path.join(REPO, "build", "examples", "photong"))
    ap.add_argument("--work-dir", default=os.path.join(REPO, "build", "image-dependence"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--photong-flags", default="", help="extra flags for every photong run, e.g. '--bridge photong'")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--picture", default="chelsea", help="picture name for the seed-effect figures")
    ap.add_argument("--attr-seeds", type=int, default=3, help="seeds averaged for the music attributes (6.)")
    ap.add_argument("--slider-codes", type=int, default=50)
    ap.add_argument("--images", nargs="+", help="extra picture files or folders")
    ap.add_argument("--images-only", action="store_true", help="use only --images, not skimage/synthetic ones")
    ap.add_argument("--json", help="write all numbers here")
    ap.add_argument("--before-after", nargs=2, metavar=("OLD", "NEW"))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.before_after:
        before_after(*args.before_after)
        return 0
    if not (os.path.isfile(args.photong) and os.access(args.photong, os.X_OK)):
        print(f"error: photong binary not found at {args.photong} (build it first, or pass --photong)",
              file=sys.stderr)
        return 2
    help_text = subprocess.run([args.photong, "--help"], capture_output=True, text=True)
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-NaN columns is reported as n/a
        summary, details = evaluate(args, args.photong, help_text.stdout + help_text.stderr)
        summary["seconds"] = round(time.time() - t0, 1)
        print_report(summary, details)
    print(f"\ntook {summary['seconds']} s")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(without_nan({"summary": summary, "details": details}), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
