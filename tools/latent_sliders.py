"""Where do Vis2Mus's brightness and contrast act monotonically on our melody model? (issue 21, part 2)

Vis2Mus (../shared/seeds/vis2mus.md §2.2) transforms each channel x of a latent feature map:
    brightness  x -> x + a * max(x) / 2
    contrast    x -> mean(x) + (x - mean(x)) * (1 + a)
Our model has two candidate maps:
    z          the 512-number code, taken as one channel (max and mean over its 512 values);
    conductor  the conductor's 16 bar embeddings [16, 256]: 256 channels of 16 values, one per bar (max and mean
               over the bars), the closest thing to Vis2Mus's 2-D texture map.
For each (map, slider), `--codes` prior codes are decoded at a in ALPHAS with the model's default sampling and form and
the same uniforms for every a; the tool prints the median over codes of |Spearman rho| between a and the decoded
note count and mean pitch (the issue's target: median |rho| >= 0.8), and the median rho's sign, and checks that a = 0
reproduces the unmodified decode exactly.

  /usr/bin/python3 tools/latent_sliders.py [--weights weights/hierdec_mel16_photong.safetensors] [--codes 50]
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import hierdec_decode  # noqa: E402
import latent_attributes as la  # noqa: E402
import safetensors_io  # noqa: E402
from train_hierdec import BARS, STEPS_PER_BAR, model_from_tensors  # noqa: E402

ALPHAS = (-0.7, -0.35, 0.0, 0.35, 0.7)


def brightness(x, a, axis):
    return x + a * x.amax(dim=axis, keepdim=True) / 2


def contrast(x, a, axis):
    m = x.mean(dim=axis, keepdim=True)
    return m + (x - m) * (1 + a)


def decode(model, z, sampling, form, uniforms, map_name, slider, a):
    with torch.no_grad():
        if map_name == "z":
            ev, _, _ = hierdec_decode.decode(model, slider(z, a, 1), sampling, form, uniforms=uniforms)
        else:
            ev, _, _ = hierdec_decode.decode(model, z, sampling, form, uniforms=uniforms,
                                             embedding_transform=lambda e: slider(e, a, 1))
    return ev.numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default=os.path.join(os.path.dirname(HERE), "weights", "hierdec_mel16_photong.safetensors"))
    ap.add_argument("--codes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    tensors, meta = safetensors_io.load(args.weights)
    model = model_from_tensors(tensors, args.weights)
    model.eval()
    sampling, form = hierdec_decode.recommended(meta)
    g = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.codes, model.sizes["z_size"], generator=g)
    uniforms = torch.rand(BARS, STEPS_PER_BAR, args.codes, generator=g, dtype=torch.float64).numpy()
    with torch.no_grad():
        plain, _, _ = hierdec_decode.decode(model, z, sampling, form, uniforms=uniforms)
    print(f"{args.weights}: {args.codes} prior codes, sampling {sampling}, form {form}, a in {ALPHAS}")
    print("map        slider      |rho| notes  (median rho)   |rho| mean pitch  (median rho)   a=0 exact")
    for map_name in ("z", "conductor"):
        for name, slider in (("brightness", brightness), ("contrast", contrast)):
            attrs = np.stack([la.attributes(decode(model, z, sampling, form, uniforms, map_name, slider, a)) for a in ALPHAS])
            same = np.array_equal(decode(model, z, sampling, form, uniforms, map_name, slider, 0.0), plain.numpy())
            cells = []
            for col in (0, 1):  # note-ons per bar (= note count / 16), mean pitch
                rho = la.rho_per_code(ALPHAS, attrs[:, :, col])
                cells.append(f"{np.nanmedian(np.abs(rho)):10.2f}  ({np.nanmedian(rho):+.2f})")
            print(f"{map_name:10s} {name:10s} {cells[0]:>22s}   {cells[1]:>22s}      {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
