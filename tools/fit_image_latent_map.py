"""Fit photong's image -> latent map (issue 21), and check it by decoding in PyTorch.

The map makes the melody a function of the picture first:

    z = S W (f - m)  +  sum_k  g_k * zscore_k(picture) * v_k / |v_k|

- f: the picture's pooled InceptionV3 features (2048; `photong-embed --pooled`), m their mean over a reference set of
  photographs, W the PCA whitening of the reference set's top `d` components (each ~ unit variance over photographs);
- S [512, d]: a fixed seeded Gaussian spread / sqrt(d), made orthogonal to the attribute directions, so that each of
  z's 512 coordinates has about unit variance over photographs, like a prior sample, and content does not move the
  attributes' own directions: similar pictures -> near codes, different pictures -> codes as far apart as prior draws;
- v_k: MusicVAE attribute vectors of our encoder (tools/latent_attributes.py), g_k a gain, and zscore_k the picture's
  own attribute standardised over the reference set, by a mapping table from cross-modal correspondences:
      brightness (mean luminance)      -> register (mean pitch)   lighter is higher (Marks 1974; Spence 2011)
      edge density (texture, detail)   -> density (note-ons/bar)  busier picture, busier line
Writes the map to a safetensors file (`--out`); `--check PICTURE_DIR` decodes the pictures at one seed with the
melody model's defaults and prints the issue's figures (onset agreement, distinct first bars, rho).

  /usr/bin/python3 tools/fit_image_latent_map.py --reference-features R.safetensors --reference-dir DIR
      [--components 16] [--gain-register 2] [--gain-density 2] --out weights/image_latent_map.safetensors
      [--check-features P.safetensors --check-dir PICTURES]
"""
import argparse
import itertools
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import eval_image_dependence as eid  # noqa: E402  (picture attributes: one definition for the tools)
import hierdec_decode  # noqa: E402
import latent_attributes as la  # noqa: E402
import safetensors_io  # noqa: E402
from train_hierdec import model_from_tensors  # noqa: E402

MAPPING = (("brightness", "register"), ("edge_density", "density"))


def load_pooled(path, image_dir):
    t, meta = safetensors_io.load(path)
    paths = [os.path.join(image_dir, p) for p in json.loads(meta["paths"])]
    return t["pooled"].astype(np.float64), paths


def fit(features, attrs, vectors, names, components, gains, seed):
    mean = features.mean(axis=0)
    u, s, vt = np.linalg.svd(features - mean, full_matrices=False)
    std = s[:components] / np.sqrt(len(features))
    whiten = vt[:components] / std[:, None]  # [d, 2048]: unit variance over the reference photographs
    dirs = np.stack([vectors[names.index(m)] / np.linalg.norm(vectors[names.index(m)]) for _, m in MAPPING])
    q, _ = np.linalg.qr(dirs.T)  # orthonormal basis of the attribute directions
    spread = np.random.default_rng(seed).normal(size=(vectors.shape[1], components)) / np.sqrt(components)
    spread -= q @ (q.T @ spread)
    a_mean = np.array([np.mean([a[p] for a in attrs]) for p, _ in MAPPING])
    a_std = np.array([np.std([a[p] for a in attrs]) for p, _ in MAPPING])
    return {"feature_mean": mean, "whiten": whiten, "spread": spread, "attribute_directions": dirs,
            "attribute_mean": a_mean, "attribute_std": a_std, "gains": np.asarray(gains, dtype=np.float64)}


def latent(m, features, attrs):
    content = (features - m["feature_mean"]) @ m["whiten"].T @ m["spread"].T
    zs = np.array([[(a[p] - m["attribute_mean"][k]) / m["attribute_std"][k] for k, (p, _) in enumerate(MAPPING)] for a in attrs])
    return content + (zs * m["gains"]) @ m["attribute_directions"]


def check(m, model, meta, features, paths, seed):
    attrs = [eid.picture_attributes(p) for p in paths]
    z = latent(m, features, attrs)
    sampling, form = hierdec_decode.recommended(meta)
    u = hierdec_decode.uniform_stream(seed, 256).reshape(16, 16, 1).repeat(len(z), axis=2)
    with torch.no_grad():
        ev, _, _ = hierdec_decode.decode(model, torch.from_numpy(z).to(model.mu.weight.dtype), sampling,
                                         form, uniforms=u)
    ev = ev.numpy()
    music = la.attributes(ev)
    onsets = [{(int(t), int(e)) for t, e in enumerate(w) if e >= 2} for w in ev]
    agree = [eid.jaccard(a, b) for a, b in itertools.combinations(onsets, 2)]
    first = len({tuple(w[:16]) for w in ev})
    zc = z / np.linalg.norm(z, axis=1, keepdims=True)
    iu = np.triu_indices(len(z), 1)
    out = {"pictures": len(z), "onset_agreement": float(np.mean(agree)), "distinct_first_bars": first,
           "mean_cosine": float((zc @ zc.T)[iu].mean()), "mean_norm": float(np.linalg.norm(z, axis=1).mean()),
           "silent": int((music[:, 0] == 0).sum())}
    for p, mus in MAPPING:
        x = [a[p] for a in attrs]
        out[f"rho_{p}_{mus}"] = eid.spearman(x, music[:, la.NAMES.index(mus)])[0]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(HERE)
    ap.add_argument("--reference-features", required=True)
    ap.add_argument("--reference-dir", required=True)
    ap.add_argument("--attributes", default=os.path.join(root, "weights", "latent_attributes.safetensors"))
    ap.add_argument("--weights", default=os.path.join(root, "weights", "hierdec_mel16_photong.safetensors"))
    ap.add_argument("--components", type=int, default=16)
    ap.add_argument("--gain-register", type=float, default=2.0)
    ap.add_argument("--gain-density", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--out")
    ap.add_argument("--check-features")
    ap.add_argument("--check-dir")
    ap.add_argument("--check-seed", type=int, default=1)
    args = ap.parse_args(argv)
    feats, paths = load_pooled(args.reference_features, args.reference_dir)
    attrs = [eid.picture_attributes(p) for p in paths]
    vt, vmeta = safetensors_io.load(args.attributes)
    names = vmeta["attributes"].split(",")
    m = fit(feats, attrs, vt["attribute_vectors"].astype(np.float64), names, args.components,
            (args.gain_register, args.gain_density), args.seed)
    z = latent(m, feats, attrs)
    print(f"reference: {len(feats)} pictures; d {args.components}; reference codes: |z| {np.linalg.norm(z, axis=1).mean():.1f}, "
          f"coordinate std {z.std(axis=0).mean():.2f}")
    if args.out:
        safetensors_io.save(args.out, {k: v.astype(np.float16) for k, v in m.items()},  # F16, as every shipped weight
                            {"mapping": json.dumps(MAPPING), "components": str(args.components), "seed": str(args.seed),
                             "melody_model_sha256": vmeta.get("model_sha256", ""),
                             "melody_steps_trained": vmeta.get("model_steps_trained", ""),
                             "reference": os.path.abspath(args.reference_features), "reference_pictures": str(len(feats)),
                             "gains": json.dumps([args.gain_register, args.gain_density])})
        print("wrote", args.out)
    if args.check_features:
        wt, wmeta = safetensors_io.load(args.weights)
        model = model_from_tensors(wt, args.weights)
        model.eval()
        cf, cp = load_pooled(args.check_features, args.check_dir)
        print(json.dumps(check(m, model, wmeta, cf, cp, args.check_seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
