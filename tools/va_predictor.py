#!/usr/bin/env python3
"""Valence-arousal predictor for MIDI (issue 24, Kundu's evaluation), trained on EIMG's 3,000 rated piano clips
(ratings 1-9, the means of 6 annotators, labels.xlsx), split by clip as tools/piano_dataset.py splits them.

Two predictors, both reported on the held-out test clips with Pearson r against the rating means:
  kundu     their MLP (tf_VA_predictor.py / EIMG Metrics/emotionmatch): MusPy's note representation of the clip
            (time, pitch, duration, velocity per note, in ticks), padded with 1 to 500 notes (clips longer are cut:
            their code raised an error there), flattened to 2,000 -> 1024 -> 512 -> 2, ReLU, no biases, MSE, Adam 1e-4
  features  the one photong uses: 40 summary features of the notes (notes per second, pitch mean/spread/range,
            velocity mean/spread, durations, inter-onset intervals, polyphony, pitch-class histogram and major/minor
            profile correlations), standardised, -> 64 -> 2 MLP with weight decay; "or better" in the issue's words
Writes weights/va_predictor.safetensors (the features model, with the standardisation) and prints both r.

usage: va_predictor.py train [--epochs N]        va_predictor.py predict FILE.mid ...   (valence arousal on 1-9)
"""
import argparse
import io
import json
import os
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import performance_events as pe  # noqa: E402
import piano_dataset  # noqa: E402
import safetensors_io  # noqa: E402

WEIGHTS = os.path.join(HERE, "..", "weights", "va_predictor.safetensors")
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])  # Krumhansl-Kessler profiles
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def features(notes):
    """notes [(pitch, velocity, start_s, end_s)] -> 40 floats."""
    if not notes:
        return np.zeros(40, np.float32)
    p = np.array([n[0] for n in notes], float)
    v = np.array([n[1] for n in notes], float)
    s = np.array([n[2] for n in notes], float)
    d = np.array([max(n[3] - n[2], 1e-3) for n in notes], float)
    span = max(s.max() + d[np.argmax(s)] - s.min(), 0.5)
    onsets = np.unique(np.round(s, 2))
    ioi = np.diff(onsets) if len(onsets) > 1 else np.array([span])
    grid = np.arange(0, span, 0.05)
    sounding = np.array([np.sum((s <= t) & (s + d > t)) for t in grid[:400]]) if len(grid) else np.zeros(1)
    pc = np.bincount(p.astype(int) % 12, minlength=12).astype(float)
    pc /= pc.sum()
    major = max(np.corrcoef(np.roll(MAJOR, k), pc)[0, 1] if pc.std() > 0 else 0 for k in range(12))
    minor = max(np.corrcoef(np.roll(MINOR, k), pc)[0, 1] if pc.std() > 0 else 0 for k in range(12))
    f = [len(notes) / span, len(onsets) / span, p.mean(), p.std(), p.max() - p.min(), np.percentile(p, 10), np.percentile(p, 90),
         v.mean(), v.std(), v.min(), v.max(), np.log(d).mean(), np.log(d).std(), np.log(ioi + 1e-3).mean(), np.log(ioi + 1e-3).std(),
         sounding.mean(), (sounding >= 3).mean(), (sounding == 0).mean(), major, minor, major - minor, span,
         np.abs(np.diff(p)).mean() if len(p) > 1 else 0, (np.diff(p) > 0).mean() if len(p) > 1 else 0, np.log(len(notes))]
    f += list(pc) + [0.0] * (40 - 25 - 12)
    return np.asarray(f[:40], np.float32)


def kundu_input(notes, resolution=480):
    """MusPy's note representation (time, pitch, duration, velocity in ticks at 120 bpm), padded with 1 to 500 rows."""
    rows = sorted((int(round(n[2] * resolution * 2)), n[0], max(1, int(round((n[3] - n[2]) * resolution * 2))), n[1]) for n in notes)[:500]
    a = np.ones((500, 4), np.float32)
    if rows:
        a[:len(rows)] = np.asarray(rows, np.float32)
    return a.reshape(-1)


def eimg_clips(shared):
    clips = piano_dataset.eimg(shared)
    split = np.array([piano_dataset.split_of(c[4], (0.8, 0.1), 24) for c in clips])
    y = np.array([[c[2] * 8 + 1, c[3] * 8 + 1] for c in clips], np.float32)  # back to 1-9
    return clips, split, y


def pearson(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def fit(model, x, y, xv, yv, epochs, lr, wd, batch):
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    best, best_state = 1e9, None
    g = torch.Generator().manual_seed(0)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            loss = ((model(xt[idx]) - yt[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = float(((model(torch.as_tensor(xv)) - torch.as_tensor(yv)) ** 2).mean())
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model


def train(a):
    torch.manual_seed(0)
    clips, split, y = eimg_clips(a.shared)
    tr, va, te = (split == 0), (split == 1), (split == 2)
    report = {"clips": [int(tr.sum()), int(va.sum()), int(te.sum())]}
    # Kundu's MLP
    xk = np.stack([kundu_input(c[1]) for c in clips])
    kundu = nn.Sequential(nn.Linear(2000, 1024, bias=False), nn.ReLU(), nn.Linear(1024, 512, bias=False), nn.ReLU(), nn.Linear(512, 2, bias=False))
    fit(kundu, xk[tr], y[tr], xk[va], y[va], a.epochs_kundu, 1e-4, 0.0, 32)
    with torch.no_grad():
        pk = kundu(torch.as_tensor(xk[te])).numpy()
    report["kundu_mlp_r"] = {"valence": pearson(pk[:, 0], y[te, 0]), "arousal": pearson(pk[:, 1], y[te, 1])}
    # Features model
    xf = np.stack([features(c[1]) for c in clips])
    mean, std = xf[tr].mean(0), xf[tr].std(0) + 1e-6
    z = (xf - mean) / std
    feat = nn.Sequential(nn.Linear(40, 64), nn.ReLU(), nn.Linear(64, 2))
    fit(feat, z[tr], y[tr], z[va], y[va], a.epochs, 1e-3, 1e-3, 64)
    with torch.no_grad():
        pf = feat(torch.as_tensor(z[te])).numpy()
    report["features_mlp_r"] = {"valence": pearson(pf[:, 0], y[te, 0]), "arousal": pearson(pf[:, 1], y[te, 1])}
    report["features_mlp_rmse"] = {"valence": float(np.sqrt(((pf[:, 0] - y[te, 0]) ** 2).mean())), "arousal": float(np.sqrt(((pf[:, 1] - y[te, 1]) ** 2).mean()))}
    t = {"mean": mean.astype(np.float32), "std": std.astype(np.float32)}
    for i, layer in ((0, feat[0]), (1, feat[2])):
        t[f"dense_{i}/weight"] = layer.weight.detach().numpy().astype(np.float32)
        t[f"dense_{i}/bias"] = layer.bias.detach().numpy().astype(np.float32)
    safetensors_io.save(WEIGHTS, t, {"model": "va_predictor", "data": "EIMG 3,000 rated piano clips (zBaymax/EIMG, research release)",
                                     "features": "tools/va_predictor.py features()", "report": json.dumps(report)})
    safetensors_io.write_checksum(WEIGHTS)
    print(json.dumps(report, indent=1))


def load():
    t, meta = safetensors_io.load(WEIGHTS)
    return t


def predict_notes(t, notes_list):
    """[[notes]] -> (N, 2) valence, arousal on 1-9."""
    x = (np.stack([features(n) for n in notes_list]) - t["mean"]) / t["std"]
    h = np.maximum(x @ t["dense_0/weight"].T + t["dense_0/bias"], 0)
    return h @ t["dense_1/weight"].T + t["dense_1/bias"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["train", "predict"])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared", "data"))
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--epochs-kundu", type=int, default=60)
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.command == "train":
        train(a)
    else:
        t = load()
        for f, (v, ar) in zip(a.files, predict_notes(t, [pe.midi_notes(f) for f in a.files])):
            print(f"{f}\tvalence {v:.2f}\tarousal {ar:.2f}")


if __name__ == "__main__":
    main()
