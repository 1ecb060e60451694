"""MusicVAE attribute vectors for photong's 16-bar melody model (issue 21).

Roberts et al. 2018 (MusicVAE, §5.3 "latent space manipulation"): an attribute vector is the mean latent code of
melodies high in an attribute minus the mean code of melodies low in it; adding a multiple of it to any code moves the
decoded melody along that attribute. Here "high" and "low" are the top and bottom quartiles of the training windows,
the code is the encoder's mu, and the attributes are the six the issue names:

  density     note-ons per bar
  register    mean note-on pitch (MIDI)
  range       highest minus lowest note-on pitch
  stepwise    share of intervals between consecutive note-ons of 1 or 2 semitones
  syncopation share of note-ons off the beat (16th-step position not a multiple of 4)
  repetition  share of bars with notes that repeat an earlier bar of the window exactly

Then it checks each vector on prior codes: z + a * v for a in ALPHAS, decoded at the model's default sampling and form
with the same uniforms for every a, and reports the median Spearman rho between a and the decoded attribute (and every
vector's effect on every attribute, so entangled vectors show). Writes the vectors, their statistics and the model they
belong to (steps_trained, sha256) to a safetensors file that photong's image -> latent mapping reads.

  /usr/bin/python3 tools/latent_attributes.py [--weights weights/hierdec_mel16_photong.safetensors]
      [--data build/melody-data/mel16.safetensors] [--windows 6000] [--codes 50] [--out weights/latent_attributes.safetensors]
  /usr/bin/python3 tools/latent_attributes.py --self-test
Rerun it whenever the melody model changes (the file names the model's sha256; photong refuses a mismatch).
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hierdec_decode  # noqa: E402
import safetensors_io  # noqa: E402
from train_hierdec import BARS, CLASSES, STEPS_PER_BAR, load_data, model_from_tensors  # noqa: E402

MIN_PITCH = 21
NAMES = ("density", "register", "range", "stepwise", "syncopation", "repetition")
ALPHAS = (-2.0, -1.0, 0.0, 1.0, 2.0)


def attributes(events):
    """[N, len(NAMES)] attributes of windows events [N, 256] (NaN where a window has too few notes to say)."""
    ev = np.asarray(events)
    out = np.full((len(ev), len(NAMES)), np.nan)
    for i, w in enumerate(ev):
        steps = np.nonzero(w >= 2)[0]
        pitches = w[steps].astype(np.int64) - 2 + MIN_PITCH
        out[i, 0] = len(steps) / BARS
        if len(steps):
            out[i, 1] = pitches.mean()
            out[i, 2] = pitches.max() - pitches.min()
            out[i, 4] = np.mean(steps % 4 != 0)
        if len(steps) >= 2:
            out[i, 3] = np.mean(np.isin(np.abs(np.diff(pitches)), (1, 2)))
        bars = w.reshape(BARS, STEPS_PER_BAR)
        seen, with_notes, repeats = set(), 0, 0
        for b in bars:
            if (b >= 2).any():
                with_notes += 1
                repeats += tuple(b) in seen
            seen.add(tuple(b))
        if with_notes:
            out[i, 5] = repeats / with_notes
    return out


@torch.no_grad()
def encode_mu(model, events, batch=256):
    mus = []
    for i in range(0, len(events), batch):
        onehot = F.one_hot(events[i:i + batch], CLASSES).to(model.mu.weight.dtype)
        mus.append(model.encode(onehot)[0])
    return torch.cat(mus).numpy().astype(np.float64)


def attribute_vectors(mu, attrs):
    """(vectors [A, Z], low and high quartile thresholds [A, 2]): mean mu of the top quartile minus the bottom one."""
    vecs, cuts = [], []
    for a in range(attrs.shape[1]):
        x = attrs[:, a]
        ok = ~np.isnan(x)
        lo, hi = np.quantile(x[ok], (0.25, 0.75))
        low, high = ok & (x <= lo), ok & (x >= hi)
        if lo == hi:  # a mass at one value (e.g. no repeated bars): split at it instead
            low, high = ok & (x <= lo), ok & (x > lo)
        vecs.append(mu[high].mean(axis=0) - mu[low].mean(axis=0))
        cuts.append((lo, hi))
    return np.array(vecs), np.array(cuts)


@torch.no_grad()
def slider_effects(model, vectors, codes, sampling, form, seed):
    """rho[v, a, code]: Spearman rho between the multiple of vector v added and decoded attribute a, per prior code."""
    g = torch.Generator().manual_seed(seed)
    z0 = torch.randn(codes, model.sizes["z_size"], generator=g, dtype=torch.float64)
    uniforms = torch.rand(BARS, STEPS_PER_BAR, codes, generator=g, dtype=torch.float64).numpy()
    rho = np.full((len(vectors), len(NAMES), codes), np.nan)
    for v, vec in enumerate(vectors):
        decoded = []
        for alpha in ALPHAS:
            z = (z0 + alpha * torch.from_numpy(vec)).to(model.mu.weight.dtype)
            ev, _, _ = hierdec_decode.decode(model, z, sampling, form, uniforms=uniforms)
            decoded.append(attributes(ev.numpy()))
        decoded = np.stack(decoded)  # [alpha, code, attr]
        for a in range(len(NAMES)):
            rho[v, a] = rho_per_code(ALPHAS, decoded[:, :, a])
    return rho


def rho_per_code(alphas, values):
    """Spearman rho between `alphas` and each column of values [len(alphas), codes]: 0 where the value did not move,
    NaN where a decode had no value (e.g. no notes for a mean pitch)."""
    out = np.full(values.shape[1], np.nan)
    for c in range(values.shape[1]):
        y = values[:, c]
        if np.all(np.isfinite(y)):
            out[c] = stats.spearmanr(alphas, y)[0] if np.ptp(y) > 0 else 0.0
    return out


def self_test():
    w = np.ones((2, BARS * STEPS_PER_BAR), dtype=np.int64)  # all holds
    # window 0: bar 0 = C4 at step 0, D4 at step 2 (off-beat), E4 at step 4; every other bar repeats bar 0
    bar = np.ones(STEPS_PER_BAR, dtype=np.int64)
    bar[[0, 2, 4]] = np.array([60, 62, 64]) - MIN_PITCH + 2
    w[0] = np.tile(bar, BARS)
    a = attributes(w)
    want = [3.0, 62.0, 4.0, (2 * 15 + 15 * 0) / 47, 1 / 3, 15 / 16]
    # intervals: within a bar +2, +2; between bars E4 -> C4 = -4 (not stepwise): 32 stepwise of 47
    want[3] = 32 / 47
    ok = np.allclose(a[0], want) and a[1, 0] == 0 and np.isnan(a[1, 1]) and np.isnan(a[1, 5])
    print("attributes:", np.round(a[0], 4).tolist(), "want", np.round(want, 4).tolist(), "ok" if ok else "FAIL")
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(400, 8))
    attrs = np.stack([mu[:, 3] * 2 + rng.normal(scale=0.1, size=400)] * len(NAMES), axis=1)
    vecs, _ = attribute_vectors(mu, attrs)
    direction_ok = np.argmax(np.abs(vecs[0])) == 3 and vecs[0, 3] > 0
    print("attribute vector finds the attribute's direction:", "ok" if direction_ok else "FAIL")
    return 0 if ok and direction_ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--weights", default=os.path.join(root, "weights", "hierdec_mel16_photong.safetensors"))
    ap.add_argument("--data", default=os.path.join(root, "build", "melody-data", "mel16.safetensors"))
    ap.add_argument("--windows", type=int, default=6000, help="training windows to encode (a seeded subset)")
    ap.add_argument("--codes", type=int, default=50, help="prior codes for the slider check")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(root, "weights", "latent_attributes.safetensors"))
    ap.add_argument("--json", help="also write every figure here")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    tensors, meta = safetensors_io.load(args.weights)
    model = model_from_tensors(tensors, args.weights).double()
    model.eval()
    with open(args.weights, "rb") as f:
        model_sha = hashlib.sha256(f.read()).hexdigest()
    sampling, form = hierdec_decode.recommended(meta)
    train, _, _ = load_data(args.data)
    pick = np.sort(np.random.default_rng(args.seed).choice(len(train), min(args.windows, len(train)), replace=False))
    events = train[torch.from_numpy(pick)]
    mu = encode_mu(model, events)
    attrs = attributes(events.numpy())
    vecs, cuts = attribute_vectors(mu, attrs)
    print(f"model {args.weights} (steps_trained {meta.get('steps_trained')}, sha256 {model_sha[:12]}); "
          f"{len(pick)} training windows encoded; sampling T {sampling.temperature} top-k {sampling.top_k} "
          f"top-p {sampling.top_p}, form {form}")
    print(f"|mu| mean {np.linalg.norm(mu, axis=1).mean():.2f} (a prior code: about {np.sqrt(mu.shape[1]):.1f})")
    print("attribute      q25      q75   |vector|   cosines with the other vectors")
    norms = np.linalg.norm(vecs, axis=1)
    cos = vecs @ vecs.T / np.outer(norms, norms)
    for a, name in enumerate(NAMES):
        print(f"{name:12s} {cuts[a, 0]:7.3f} {cuts[a, 1]:8.3f} {norms[a]:9.3f}   "
              + " ".join(f"{cos[a, b]:+.2f}" for b in range(len(NAMES))))
    rho = slider_effects(model, vecs, args.codes, sampling, form, args.seed + 1)
    med = np.nanmedian(rho, axis=2)
    print(f"median Spearman rho over {args.codes} prior codes between a in {ALPHAS} (z + a*vector) and the decoded "
          "attribute (rows: vector added; columns: attribute measured):")
    print("vector        " + " ".join(f"{n:>11s}" for n in NAMES))
    for v, name in enumerate(NAMES):
        print(f"{name:12s}  " + " ".join(f"{med[v, a]:+11.2f}" for a in range(len(NAMES))))
    diag = np.array([med[a, a] for a in range(len(NAMES))])
    safetensors_io.save(args.out, {"attribute_vectors": vecs.astype(np.float32), "latent_mean": mu.mean(axis=0).astype(np.float32)},
                        {"attributes": ",".join(NAMES), "method": "mean mu of the top quartile minus the bottom quartile",
                         "windows": str(len(pick)), "data_sha256": hashlib.sha256(open(args.data, "rb").read()).hexdigest(),
                         "model_sha256": model_sha, "model_steps_trained": meta.get("steps_trained", ""),
                         "quartiles": json.dumps(cuts.round(4).tolist()), "slider_median_rho": json.dumps(diag.round(3).tolist())})
    print(f"wrote {args.out} ({time.time() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"names": NAMES, "quartiles": cuts.tolist(), "norms": norms.tolist(), "cosines": cos.tolist(),
                       "median_rho": med.tolist(), "model_sha256": model_sha}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
