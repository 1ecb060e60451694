#!/usr/bin/python3
"""Trains photong's embedding bridge (image features -> melody latent z) by the Photong paper's method and exports it.

  train_embedding_bridge.py --melody weights/hierdec_mel16_photong.safetensors
        [--images build/bridge-data/bass_features.safetensors] [--data build/melody-data/mel16.safetensors]
        [--pop909 ../shared/data/pop909] [--per-song 4] [--clusters 10] [--epochs 30]
        [--out weights/bridge_embedding.safetensors] [--report build/bridge-data/embedding_report.json]

Method (../shared/seeds/photong.md, "Bridging models", "Embedding dataset", Algorithm 1; sizes are ours):
- image side: InceptionV3 mixed10 maps (photong-embed) of the labelled images, valence and arousal mapped to
  [0, 1] by (x - 1) / 8 (BASS's 1..9 scale; any photong-embed --list file with `valence`, `arousal` columns works,
  so CGnA10766 / EMOTIC users pass theirs);
- music side: melody latents mu from our trained MusicVAE encoder (the --melody file, read back into
  train_hierdec's PyTorch model) for up to --per-song evenly spaced 16-bar windows of every POP909 song in the
  melody data file (Nottingham has no tempo, so no arousal: left out). Labels per song:
  arousal = T^-1(duration-weighted mean tempo), the inverse of the pipeline's T(a) = 160/(1+e^(-5(a-0.5))) + 40,
  clipped to [0, 1], so that a song at 120 BPM is a = 0.5; valence = the duration-weighted share of major
  sections in POP909's own key annotation (key_audio.txt), a documented proxy (POP909 has no valence ratings);
- clusters: k-means (k-means++ init, seeded) with --clusters centres on the (valence, arousal) points of both
  domains together, each domain's labels first replaced by their ranks in [0, 1] (ties in random order) (the domains' raw scales
  differ too much for joint clusters: see main) (the paper runs "K-nearest neighbour" on the two dimensions; k-means is the clustering reading);
- triples: per cluster, the domain with fewer training samples is up-sampled at random to the other's count;
  clusters missing a domain are dropped (reported);
- Algorithm 1: every epoch, inside each cluster the melody latents are shuffled against the images, so the pairs
  change; MSE between the predicted and the paired latent; Adam;
- network: Conv2D 1x1 2048 -> 32 relu, Flatten (h, w, c), Dense 256 relu, Dropout, Dense z linear; the inputs'
  per-channel standardisation is folded into the conv kernel and bias (the file takes raw mixed10 maps);
- held out: 20 % of the images (stratified by cluster) and the melody file's validation songs. Reported on the
  held-out pairs of the same cluster: MSE of the bridge, of the training set's global mean latent, of the zero
  code (the prior's mean), and of the oracle that knows the image's cluster and predicts that cluster's training
  mean latent (the best any predictor of a shuffled in-cluster pair can do in expectation), plus how often the
  bridge's output is nearest to its own cluster's mean. The number of epochs (1..--epochs) is chosen first on an
  inner 20 % split of the training images and songs.
"""
import argparse
import datetime
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "weights"))
import safetensors_io  # noqa: E402
import train_hierdec as th  # noqa: E402
from train_affect_bridges import folded_conv, numpy_forward  # noqa: E402

SEED = 20261202
INPUT_SHAPE = [8, 8, 2048]
CONFIG = dict(filters=32, hidden=256, dropout=0.3, lr=1e-3, weight_decay=1e-4, batch_size=64, epochs=30)  # epochs: the most tried


def architecture(cfg, z):
    return [
        dict(type="conv2d", name="conv2d", activation="relu", kernel_size=[1, 1], strides=[1, 1], padding="valid",
             filters=cfg["filters"]),
        dict(type="flatten", name="flatten"),
        dict(type="dense", name="dense", activation="relu", units=cfg["hidden"]),
        dict(type="dropout", name="dropout", rate=cfg["dropout"]),
        dict(type="dense", name="dense_1", activation="linear", units=z),
    ]


# ---- music side ------------------------------------------------------------------------------------------------

def arousal_from_tempo(bpm):
    """The inverse of T(a) = 160 / (1 + e^(-5 (a - 0.5))) + 40, clipped to [0, 1]."""
    t = min(max(bpm, 40.5), 199.5)
    return float(min(max(0.5 + math.log((t - 40.0) / (200.0 - t)) / 5.0, 0.0), 1.0))


def mean_tempo(path):
    """Duration-weighted mean tempo (BPM) of a MIDI file over its notes' span, from its set_tempo events."""
    import mido
    mid = mido.MidiFile(path)
    changes, end = [], 0
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                changes.append((tick, msg.tempo))
            elif msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0):
                end = max(end, tick)
    changes.sort()
    if not changes or changes[0][0] > 0:
        changes.insert(0, (0, 500000))  # the SMF default, 120 BPM
    total = weighted = 0.0
    for i, (tick, tempo) in enumerate(changes):
        stop = changes[i + 1][0] if i + 1 < len(changes) else end
        span = max(min(stop, end) - tick, 0)
        total += span
        weighted += span * 60e6 / tempo
    return weighted / total if total > 0 else 60e6 / changes[0][1]


def major_share(path):
    """Duration-weighted share of major sections in a POP909 key_audio.txt (lines `start end Key:maj|min`)."""
    maj = total = 0.0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3 or ":" not in parts[2]:
                continue
            d = float(parts[1]) - float(parts[0])
            total += d
            maj += d if parts[2].split(":")[1].startswith("maj") else 0.0
    if total <= 0:
        raise ValueError(f"{path}: no key sections")
    return maj / total


def melody_side(data_path, pop909_dir, per_song, melody_weights, threads):
    """POP909 windows -> (mu [N, z], valence [N], arousal [N], song [N], split [N] 'train'/'val'), song labels,
    and the melody file's metadata."""
    t, meta = safetensors_io.load(data_path)
    songs = json.loads(meta["songs"])
    picked, labels = [], {}
    for split in ("train", "val"):
        ev, song = t[split + "_events"], t[split + "_song"]
        for s in np.unique(song):
            kind, name = songs[s]
            if kind != "pop909":
                continue
            rows = np.flatnonzero(song == s)
            take = rows[np.unique(np.linspace(0, len(rows) - 1, min(per_song, len(rows))).round().astype(int))]
            if name not in labels:
                d = os.path.join(pop909_dir, name)
                bpm = mean_tempo(os.path.join(d, name + ".mid"))
                labels[name] = dict(bpm=bpm, arousal=arousal_from_tempo(bpm), valence=major_share(os.path.join(d, "key_audio.txt")))
            picked += [(split, int(r), name) for r in take]
    weights, melody_meta = safetensors_io.load(melody_weights)
    torch.set_num_threads(threads)
    model = th.model_from_tensors(weights, melody_weights)
    model.eval()
    mus = []
    with torch.no_grad():
        for i in range(0, len(picked), 64):
            chunk = picked[i:i + 64]
            ev = torch.from_numpy(np.stack([t[s + "_events"][r] for s, r, _ in chunk]).astype(np.int64))
            mu, _ = model.encode(torch.nn.functional.one_hot(ev, th.CLASSES).float())
            mus.append(mu.numpy())
    mu = np.concatenate(mus).astype(np.float32)
    names = [n for _, _, n in picked]
    return (mu, np.array([labels[n]["valence"] for n in names]), np.array([labels[n]["arousal"] for n in names]),
            np.array(names), np.array([s for s, _, _ in picked]), labels, melody_meta)


# ---- clusters and the paper's training -------------------------------------------------------------------------

def uniform_rank(x, rng):
    """Ranks of x scaled to [0, 1], ties broken in a seeded random order: each domain's labels become uniform
    on [0, 1]. (Mid-ranks would pile POP909's all-major songs on one value and leave the most positive images
    with no melody in their cluster.)"""
    order = np.lexsort((rng.random(len(x)), x))
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    return ranks / max(len(x) - 1, 1)


def kmeans(points, k, rng, iters=100):
    """Lloyd's k-means with k-means++ seeding; returns (centres [k, d], labels [n])."""
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        centres.append(points[rng.choice(len(points), p=d2 / d2.sum())])
    centres = np.array(centres)
    for _ in range(iters):
        lab = np.argmin(((points[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        new = np.array([points[lab == c].mean(0) if np.any(lab == c) else centres[c] for c in range(k)])
        if np.allclose(new, centres):
            break
        centres = new
    return centres, np.argmin(((points[:, None] - centres[None]) ** 2).sum(-1), axis=1)


def triples(img_idx, img_cluster, mel_idx, mel_cluster, clusters, rng):
    """The paper's embedding dataset: per cluster, both domains at the larger count (the smaller up-sampled)."""
    xs, ys, cs, dropped = [], [], [], []
    for c in clusters:
        a, b = img_idx[img_cluster[img_idx] == c], mel_idx[mel_cluster[mel_idx] == c]
        if len(a) == 0 or len(b) == 0:
            dropped.append(int(c))
            continue
        n = max(len(a), len(b))
        xs.append(np.concatenate([a, rng.choice(a, n - len(a))]) if len(a) < n else a)
        ys.append(np.concatenate([b, rng.choice(b, n - len(b))]) if len(b) < n else b)
        cs.append(np.full(n, c))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(cs), dropped


class EmbeddingBridge(torch.nn.Module):
    def __init__(self, cin, z, cfg):
        super().__init__()
        self.conv = torch.nn.Linear(cin, cfg["filters"])  # a 1x1 convolution on NHWC = Linear on the channels
        self.dense = torch.nn.Linear(64 * cfg["filters"], cfg["hidden"])
        self.drop = torch.nn.Dropout(cfg["dropout"])
        self.out = torch.nn.Linear(cfg["hidden"], z)

    def forward(self, x):  # x (n, 64, c) standardised, positions in (h, w) order: flatten = Keras (h, w, c)
        h = torch.relu(self.conv(x)).reshape(len(x), -1)
        return self.out(self.drop(torch.relu(self.dense(h))))


def export_tensors(model, norm):
    kern = lambda lin: lin.weight.detach().numpy().T.astype(np.float32).copy()  # noqa: E731  [in, out]
    return {**folded_conv(model.conv, norm),
            "dense/kernel": kern(model.dense), "dense/bias": model.dense.bias.detach().numpy().astype(np.float32),
            "dense_1/kernel": kern(model.out), "dense_1/bias": model.out.bias.detach().numpy().astype(np.float32)}


def train(X, Y, x_idx, y_idx, c_idx, cfg, seed, monitor=None):
    """Algorithm 1 over the triples (x_idx, y_idx, c_idx): each epoch re-pairs inside every cluster.
    monitor(predict) -> float is called after every epoch with a function from image indices to predicted
    latents; its values come back as the third result (else the training losses)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_imgs = np.unique(x_idx)
    flat = X[train_imgs].reshape(-1, X.shape[-1])
    norm = (flat.mean(0), flat.std(0) + 1e-3)
    Xt = (torch.from_numpy(X) - torch.from_numpy(norm[0])) / torch.from_numpy(norm[1])
    Yt = torch.from_numpy(Y)
    model = EmbeddingBridge(X.shape[-1], Y.shape[1], cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    history = []
    for epoch in range(cfg["epochs"]):
        y_epoch = y_idx.copy()
        for c in np.unique(c_idx):  # Algorithm 1: shuffle y_c inside each cluster
            pos = np.flatnonzero(c_idx == c)
            y_epoch[pos] = y_epoch[rng.permutation(pos)]
        order = rng.permutation(len(x_idx))
        model.train()
        total = 0.0
        for s in range(0, len(order), cfg["batch_size"]):
            b = order[s:s + cfg["batch_size"]]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(Xt[x_idx[b]]), Yt[y_epoch[b]])
            loss.backward()
            opt.step()
            total += float(loss) * len(b)
        if monitor is None:
            history.append(total / len(order))
        else:
            model.eval()
            with torch.no_grad():
                history.append(monitor(lambda idx: model(Xt[idx]).numpy()))
    model.eval()
    return model, norm, history


def pair_mse(pred, img_cluster, Y, y_cluster):
    """Mean over held-out images of the mean squared error against every held-out latent of the image's cluster
    (per latent dimension, as the training MSE)."""
    errs = []
    for p, c in zip(pred, img_cluster):
        ys = Y[y_cluster == c]
        if len(ys):
            errs.append(float(((ys - p) ** 2).mean()))
    return float(np.mean(errs)), len(errs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--melody", default=os.path.join(ROOT, "weights", "hierdec_mel16_photong.safetensors"))
    ap.add_argument("--images", default=os.path.join(ROOT, "build", "bridge-data", "bass_features.safetensors"))
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "melody-data", "mel16.safetensors"))
    ap.add_argument("--pop909", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "pop909"))
    ap.add_argument("--per-song", type=int, default=4)
    ap.add_argument("--clusters", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=CONFIG["epochs"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "weights", "bridge_embedding.safetensors"))
    ap.add_argument("--report", default=os.path.join(ROOT, "build", "bridge-data", "embedding_report.json"))
    args = ap.parse_args(argv)
    cfg = dict(CONFIG, epochs=args.epochs)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(SEED)

    ti, imeta = safetensors_io.load(args.images)
    n_img = ti["features"].shape[0]
    X = ti["features"].astype(np.float32).reshape(n_img, -1, INPUT_SHAPE[2])
    img_v, img_a = (ti["valence"].astype(np.float64) - 1) / 8, (ti["arousal"].astype(np.float64) - 1) / 8
    Y, mel_v, mel_a, mel_song, mel_split, song_labels, mmeta = melody_side(args.data, args.pop909, args.per_song, args.melody, args.threads)
    print(f"images {n_img}; melody windows {len(Y)} from {len(song_labels)} POP909 songs "
          f"({int((mel_split == 'train').sum())} train, {int((mel_split == 'val').sum())} val)", flush=True)
    bpms = np.array([v["bpm"] for v in song_labels.values()])
    print(f"POP909 tempo {bpms.min():.1f}..{bpms.max():.1f} BPM (median {np.median(bpms):.1f}); arousal {mel_a.min():.3f}..{mel_a.max():.3f}; "
          f"valence (major share) mean {mel_v.mean():.3f}, {np.mean(mel_v == 1.0):.3f} all-major, {np.mean(mel_v == 0.0):.3f} all-minor", flush=True)

    # The two domains' scales differ (POP909's valence proxy is nearly binary, its tempos sit low; BASS's ratings
    # are means that avoid the ends), so joint clusters would hold one domain each. Each domain's labels are
    # mapped to its ranks in [0, 1] first: clusters then pair the calmest images with the slowest songs.
    points = np.concatenate([np.stack([uniform_rank(img_v, rng), uniform_rank(img_a, rng)], 1),
                             np.stack([uniform_rank(mel_v, rng), uniform_rank(mel_a, rng)], 1)])
    centres, lab = kmeans(points, args.clusters, rng)
    img_c, mel_c = lab[:n_img], lab[n_img:]
    # held-out images: 20 % of each cluster; held-out melodies: the data file's validation songs
    test_img = np.sort(np.concatenate([rng.permutation(np.flatnonzero(img_c == c))[:int(round(0.2 * np.sum(img_c == c)))]
                                       for c in range(args.clusters)]))
    train_img = np.setdiff1d(np.arange(n_img), test_img)
    train_mel, test_mel = np.flatnonzero(mel_split == "train"), np.flatnonzero(mel_split == "val")
    x_idx, y_idx, c_idx, dropped = triples(train_img, img_c, train_mel, mel_c, range(args.clusters), rng)
    per_cluster = [dict(cluster=c, centre_valence=round(float(centres[c, 0]), 4), centre_arousal=round(float(centres[c, 1]), 4),
                        images=int(np.sum(img_c == c)), melodies=int(np.sum(mel_c == c)), triples=int(np.sum(c_idx == c)))
                   for c in range(args.clusters)]
    for row in per_cluster:
        print("cluster %(cluster)d  centre (v %(centre_valence).3f, a %(centre_arousal).3f)  images %(images)4d  "
              "melodies %(melodies)5d  training triples %(triples)5d" % row)
    print(f"{len(x_idx)} training triples; clusters dropped (a domain missing): {dropped}", flush=True)

    # Epochs chosen on an inner split of the training images and songs (20 %), by the same-cluster pair MSE;
    # the held-out images and songs are not looked at until the final model is scored.
    inner_img = np.sort(np.concatenate([rng.permutation(train_img[img_c[train_img] == c])[:int(round(0.2 * np.sum(img_c[train_img] == c)))]
                                        for c in range(args.clusters)]))
    train_songs = np.unique(mel_song[train_mel])
    inner_songs = set(rng.permutation(train_songs)[:len(train_songs) // 5])
    inner_mel = train_mel[np.isin(mel_song[train_mel], list(inner_songs))]
    fit_img, fit_mel = np.setdiff1d(train_img, inner_img), np.setdiff1d(train_mel, inner_mel)
    fx, fy, fc, _ = triples(fit_img, img_c, fit_mel, mel_c, range(args.clusters), rng)
    inner_img = inner_img[np.isin(img_c[inner_img], np.unique(fc))]
    monitor = lambda predict: pair_mse(predict(inner_img), img_c[inner_img], Y[inner_mel], mel_c[inner_mel])[0]  # noqa: E731
    _, _, inner_curve = train(X, Y, fx, fy, fc, cfg, SEED + 1, monitor)
    cfg["epochs"] = int(np.argmin(inner_curve)) + 1
    inner_global = pair_mse(np.tile(Y[fit_mel].mean(0), (len(inner_img), 1)), img_c[inner_img], Y[inner_mel], mel_c[inner_mel])[0]
    print("inner split (%d images, %d windows): pair MSE by epoch %s; global-mean baseline %.5f -> %d epochs"
          % (len(inner_img), len(inner_mel), " ".join("%.5f" % v for v in inner_curve), inner_global, cfg["epochs"]), flush=True)
    model, norm, history = train(X, Y, x_idx, y_idx, c_idx, cfg, SEED + 2)
    tensors = export_tensors(model, norm)
    spec = architecture(cfg, Y.shape[1])
    feats = X.reshape(-1, *INPUT_SHAPE)
    pred = numpy_forward(tensors, spec, feats)
    with torch.no_grad():
        p_torch = model((torch.from_numpy(X) - torch.from_numpy(norm[0])) / torch.from_numpy(norm[1])).numpy()
    export_diff = float(np.abs(pred - p_torch).max())
    assert export_diff < 1e-3, export_diff

    used = np.setdiff1d(np.arange(args.clusters), dropped)
    test_img = test_img[np.isin(img_c[test_img], used)]
    train_means = {c: Y[train_mel[mel_c[train_mel] == c]].mean(0) for c in used}
    global_mean = Y[train_mel].mean(0)
    Yte, cte = Y[test_mel], mel_c[test_mel]
    ic = img_c[test_img]
    res = {}
    for name, p in (("bridge", pred[test_img]), ("global_mean", np.tile(global_mean, (len(test_img), 1))),
                    ("zero_code", np.zeros((len(test_img), Y.shape[1]))),
                    ("oracle_cluster_mean", np.stack([train_means[c] for c in ic]))):
        res[name], n_scored = pair_mse(p, ic, Yte, cte)
    means = np.stack([train_means[c] for c in used])
    nearest = used[np.argmin(((pred[test_img][:, None] - means[None]) ** 2).sum(-1), axis=1)]
    res["bridge_nearest_own_cluster_mean"] = float(np.mean(nearest == ic))
    res["chance_nearest_own_cluster_mean"] = float(1.0 / len(used))
    res["scored_images"] = n_scored
    res["bridge_output_norm_mean"] = float(np.linalg.norm(pred[test_img], axis=1).mean())
    res["latent_norm_mean_val_melodies"] = float(np.linalg.norm(Yte, axis=1).mean())
    res["train_mse_first_last_epoch"] = [history[0], history[-1]]
    res["inner_split_pair_mse_by_epoch"] = inner_curve
    res["inner_split_global_mean_mse"] = inner_global
    res["epochs_chosen"] = cfg["epochs"]
    print("held-out MSE per latent dimension over same-cluster pairs (%d images x validation-song melodies):" % n_scored)
    for k in ("bridge", "global_mean", "zero_code", "oracle_cluster_mean"):
        print(f"  {k:<22} {res[k]:.5f}")
    print(f"  bridge output nearest to its own cluster's mean latent: {res['bridge_nearest_own_cluster_mean']:.3f} "
          f"(chance {res['chance_nearest_own_cluster_mean']:.3f}); mean |z| bridge {res['bridge_output_norm_mean']:.2f}, "
          f"validation melodies {res['latent_norm_mean_val_melodies']:.2f}")
    print(f"  training MSE epoch 1 {history[0]:.5f}, epoch {len(history)} {history[-1]:.5f}; export vs torch max |diff| {export_diff:.2e}")

    metadata = {
        "model": "bridge", "bridge": "embedding", "input_shape": json.dumps(INPUT_SHAPE), "architecture": json.dumps(spec),
        "format": "include/photong/models/bridges.hpp (Keras layout: conv kernel HWIO, dense [in,out]); F32",
        "output": "z (%d) for the melody model %s" % (Y.shape[1], os.path.basename(args.melody)),
        "melody_model_steps_trained": mmeta.get("steps_trained", "?"),
        "data": ("images: %s (%d, valence/arousal (x-1)/8); melodies: POP909 (MIT; music-x-lab/POP909-Dataset), up to %d "
                 "windows per song encoded to mu; labels: arousal = inverse T(a) of the duration-weighted mean tempo, "
                 "valence = major share of key_audio.txt" % (imeta.get("label_columns", "?"), n_img, args.per_song)),
        "clusters": json.dumps(per_cluster), "clusters_dropped": json.dumps(dropped),
        "metrics": json.dumps(res), "training": json.dumps(dict(cfg, seed=SEED, script="tools/train_embedding_bridge.py",
                                                                 triples=int(len(x_idx)), method="Algorithm 1 (photong.md)")),
        "date": datetime.date.today().isoformat(),
    }
    safetensors_io.save(args.out, tensors, metadata)
    back, bmeta = safetensors_io.load(args.out)
    assert np.abs(numpy_forward(back, json.loads(bmeta["architecture"]), feats[:4]) - pred[:4]).max() < 1e-9
    os.makedirs(os.path.dirname(args.report), exist_ok=True)
    with open(args.report, "w") as f:
        json.dump(dict(metadata, metrics=res, clusters=per_cluster, history=history), f, indent=1)
    print(f"wrote {args.out} and {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
