#!/usr/bin/python3
"""Independent reference for photong/image/colour_affect.hpp on two of scikit-image's sample photos.

Brightness and saturation are the means of skimage.color.rgb2hsv's V and S channels; colourfulness is
Hasler & Suesstrunk's M = sqrt(std_rg^2 + std_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2) with
rg = R - G, yb = 0.5 (R + G) - B on 0..255 values, numpy's population std; pleasure and arousal are
Valdez & Mehrabian's 0.69 zB + 0.22 zS and -0.31 zB + 0.60 zS, mapped to [0, 1] by the logistic.
They are computed twice: with the default statistics (mean 0.5, std 1/sqrt(12)) and with the
statistics of the two photos themselves (population std).

Writes tests/fixtures/colour_affect_reference.txt (or the path given as the first argument):
one "key value" per line, read by tests/test_colour_affect.cpp.
Run: nice -n 19 /usr/bin/python3 tests/reference/colour_affect_reference.py
"""
import math
import os
import sys

import numpy as np
import skimage
from skimage import io
from skimage.color import rgb2hsv

DATA = os.path.join(os.path.dirname(skimage.__file__), "data")
PHOTOS = ["chelsea", "coffee"]


def features(rgb):
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8, rgb.shape
    hsv = rgb2hsv(rgb)  # float64; uint8 input is divided by 255 first
    x = rgb.astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    m = math.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * math.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return float(hsv[..., 2].mean()), float(hsv[..., 1].mean()), m


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def valdez_mehrabian(b, s, mb, sb, ms, ss):
    zb, zs = (b - mb) / sb, (s - ms) / ss
    p, a = 0.69 * zb + 0.22 * zs, -0.31 * zb + 0.60 * zs
    return p, a, logistic(p), logistic(a)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "colour_affect_reference.txt")
    lines = ["# written by tests/reference/colour_affect_reference.py (scikit-image %s, numpy %s)" % (skimage.__version__, np.__version__)]
    feats = {}
    for name in PHOTOS:
        path = os.path.join(DATA, name + ".png")
        rgb = io.imread(path)
        feats[name] = features(rgb)
        lines.append("%s.path %s" % (name, path))
        lines.append("%s.width %d" % (name, rgb.shape[1]))
        lines.append("%s.height %d" % (name, rgb.shape[0]))
        for key, v in zip(("brightness", "saturation", "colourfulness"), feats[name]):
            lines.append("%s.%s %.17g" % (name, key, v))
    bs = np.array([feats[n][0] for n in PHOTOS])
    ss = np.array([feats[n][1] for n in PHOTOS])
    set_stats = (bs.mean(), bs.std(), ss.mean(), ss.std())
    for key, v in zip(("mean_brightness", "std_brightness", "mean_saturation", "std_saturation"), set_stats):
        lines.append("set.%s %.17g" % (key, v))
    default_stats = (0.5, 1 / math.sqrt(12), 0.5, 1 / math.sqrt(12))
    for name in PHOTOS:
        b, s, _ = feats[name]
        for tag, st in (("default", default_stats), ("set", set_stats)):
            p, a, v01, a01 = valdez_mehrabian(b, s, st[0], st[1], st[2], st[3])
            for key, v in zip(("pleasure", "arousal_raw", "valence", "arousal"), (p, a, v01, a01)):
                lines.append("%s.%s.%s %.17g" % (name, tag, key, v))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
