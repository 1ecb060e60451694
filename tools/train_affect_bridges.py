#!/usr/bin/python3
"""Trains photong's arousal and valence bridges on BASS (Kawai, Lukacs & Ansorge 2021; CC-BY 4.0) and exports them.

  nice -n 19 /usr/bin/python3 tools/train_affect_bridges.py [--data build/bridge-data] [--images ../shared/data]
        [--out build/bridge-data] [--report build/bridge-data/affect_report.json] [--no-colour]

The files it writes are the mixed10-only bridges shipped until issue 21; photong now ships tools/affect_heads.py's
heads, which add the picture's colour features (weights/BRIDGES.md compares them).

Inputs (photong-embed outputs, see tools/make_bridge_lists.py):
  DATA/bass_features.safetensors     `features` [583,8,8,2048] NHWC mixed10 maps, `valence`, `arousal` (US means, 1..9)
  DATA/twitter_features.safetensors  `features` [52,8,8,2048], `sentiment` (1 positive / 0 negative)
Outputs: OUT/bridge_arousal.safetensors, OUT/bridge_valence.safetensors (include/photong/models/bridges.hpp format,
F32, Keras layout), and a JSON report with every number printed.

Method (../shared/seeds/photong.md, "Bridging models"; the paper gives the kind of model, not its size):
- labels normalised to [0, 1] by (x - 1) / 8 (BASS uses a 1..9 scale);
- arousal: six equal-width classes over [0, 1]; a binary classifier on the lowest vs the highest populated class
  (the paper's "two most extreme classes"); valence: binary, positive iff > 0.5 (the paper's split);
- class imbalance: per-sample weights N / (2 N_class) in the binary cross-entropy (no resampling);
- network: Conv2D 1x1 2048->32 relu, GlobalAveragePooling2D, Dropout 0.3, Dense 1 sigmoid. The inputs are
  centred per channel with the training set's mean and divided by one overall std (per-channel stds saturated
  photographs: see fit), and that affine map is folded into the exported convolution kernel and bias, so the
  file takes raw mixed10 maps;
- AdamW (weight decay), mini-batches, early stopping on the validation loss of a stratified inner split;
- 5-fold stratified cross-validation over all 583 images (arousal stratified by its six classes, valence by its
  binary label). The arousal model trains on the extreme classes of the training folds and is scored on the extreme
  images of the test fold (accuracy, ROC AUC) and, by Spearman correlation, on every test-fold image against the
  continuous arousal. Baselines on the same folds: the majority class of the training part, and the
  Valdez-Mehrabian colour scores (include/photong/image/colour_affect.hpp: pleasure for valence, arousal for
  arousal, on z-scored mean HSV V and S; the z-scores use the BASS set's statistics, an unsupervised step);
- final models: all BASS images (arousal: all extreme-class images) for the median best epoch of the CV.
"""
import argparse
import datetime
import json
import math
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "weights"))
import safetensors_io  # noqa: E402

SEED = 20261122
FOLDS = 5
CONFIG = dict(filters=32, dropout=0.3, lr=1e-3, weight_decay=0.05, batch_size=32, max_epochs=150, patience=25, standardise="global",
              inner_val_fraction=0.2, optimizer="AdamW", loss="class-weighted binary cross-entropy (N / (2 N_class))",
              input_standardisation="per-channel mean, one overall std (standardise=global) of the training images, folded into the conv kernel/bias")
INPUT_SHAPE = [8, 8, 2048]


def architecture(cfg):
    return [
        dict(type="conv2d", name="conv2d", activation="relu", kernel_size=[1, 1], strides=[1, 1], padding="valid",
             filters=cfg["filters"]),
        dict(type="global_average_pooling2d", name="global_average_pooling2d"),
        dict(type="dropout", name="dropout", rate=cfg["dropout"]),
        dict(type="dense", name="dense", activation="sigmoid", units=1),
    ]


# ---- metrics ---------------------------------------------------------------------------------------------------

def rankdata(x):
    """Average ranks (1-based), ties shared."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = 0.5 * (i + j) + 1
        i = j + 1
    return ranks


def roc_auc(y, s):
    """Mann-Whitney AUC, ties counted one half."""
    y = np.asarray(y).astype(bool)
    npos, nneg = y.sum(), (~y).sum()
    if npos == 0 or nneg == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def accuracy(y, p, threshold=0.5):
    return float(np.mean((np.asarray(p) >= threshold) == np.asarray(y).astype(bool)))


def stratified_folds(strata, k, rng):
    """Index arrays of k folds, each stratum dealt round-robin after a shuffle."""
    folds = [[] for _ in range(k)]
    offset = 0
    for c in np.unique(strata):
        idx = np.flatnonzero(strata == c)
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(i)
        offset += len(idx)  # keep fold sizes even across strata
    return [np.sort(np.array(f, dtype=np.int64)) for f in folds]


def stratified_split(idx, y, fraction, rng):
    """(train, val) of `idx`, val holding `fraction` of each class of y[idx]."""
    tr, va = [], []
    for c in np.unique(y[idx]):
        sub = idx[y[idx] == c].copy()
        rng.shuffle(sub)
        n = max(1, int(round(fraction * len(sub))))
        va.extend(sub[:n])
        tr.extend(sub[n:])
    return np.sort(np.array(tr)), np.sort(np.array(va))


# ---- model -----------------------------------------------------------------------------------------------------

class Bridge(torch.nn.Module):
    def __init__(self, cin, cfg):
        super().__init__()
        self.conv = torch.nn.Linear(cin, cfg["filters"])  # 1x1 convolution on the NHWC map = Linear on the channels
        self.drop = torch.nn.Dropout(cfg["dropout"])
        self.dense = torch.nn.Linear(cfg["filters"], 1)

    def forward(self, x):  # x (n, 64, c), standardised
        h = torch.relu(self.conv(x)).mean(dim=1)
        return self.dense(self.drop(h)).squeeze(1)  # logit


def class_weights(y):
    n, n1 = len(y), float(np.sum(y))
    w1, w0 = n / (2 * n1), n / (2 * (n - n1))
    return np.where(y > 0.5, w1, w0).astype(np.float32)


def weighted_bce(logits, y, w):
    return (torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none") * w).sum() / w.sum()


def fit(X, y, train_idx, val_idx, cfg, seed, epochs=None):
    """Trains on X[train_idx]; with val_idx early-stops on its weighted loss and returns (model, best_epoch, stats),
    without it runs `epochs` epochs."""
    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    Xtr = X[train_idx]
    flat = Xtr.reshape(-1, X.shape[-1])
    mu = flat.mean(axis=0)
    if cfg["standardise"] == "channel":
        sd = flat.std(axis=0) + 1e-3
    else:
        # One scale for all channels. Per-channel scales blew up on photographs: half of the channels barely
        # vary over BASS's two-colour silhouettes (median std 0.005, many exactly 0), so a photo's ordinary
        # activations became z-scores of several hundred there and every photo came out at p = 0 or 1.
        sd = np.full(X.shape[-1], flat.std(), dtype=np.float32)
    mu_t, sd_t = torch.from_numpy(mu), torch.from_numpy(sd)
    Xt = (torch.from_numpy(Xtr) - mu_t) / sd_t
    yt = torch.from_numpy(y[train_idx].astype(np.float32))
    wt = torch.from_numpy(class_weights(y[train_idx]))
    if val_idx is not None:
        Xv = (torch.from_numpy(X[val_idx]) - mu_t) / sd_t
        yv = torch.from_numpy(y[val_idx].astype(np.float32))
        wv = torch.from_numpy(class_weights(y[val_idx]))
    model = Bridge(X.shape[-1], cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    best, best_epoch, best_state, history = float("inf"), 0, None, []
    n_epochs = epochs if val_idx is None else cfg["max_epochs"]
    for epoch in range(1, n_epochs + 1):
        model.train()
        perm = gen.permutation(len(train_idx))
        for s in range(0, len(perm), cfg["batch_size"]):
            b = torch.from_numpy(perm[s:s + cfg["batch_size"]])
            opt.zero_grad()
            loss = weighted_bce(model(Xt[b]), yt[b], wt[b])
            loss.backward()
            opt.step()
        if val_idx is not None:
            model.eval()
            with torch.no_grad():
                vl = float(weighted_bce(model(Xv), yv, wv))
            history.append(vl)
            if vl < best - 1e-5:
                best, best_epoch = vl, epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= cfg["patience"]:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, (best_epoch if val_idx is not None else n_epochs), (mu, sd), best


def predict(model, norm, X):
    mu, sd = norm
    with torch.no_grad():
        x = (torch.from_numpy(X) - torch.from_numpy(mu)) / torch.from_numpy(sd)
        return torch.sigmoid(model(x)).numpy().astype(np.float64)


def folded_conv(conv, norm):
    """The 1x1 conv `conv` (a torch Linear over channels, trained on z = (x - mu) / sd) as Keras-layout tensors
    that take raw x: z K + b = x (K / sd) + (b - (mu / sd) K)."""
    mu, sd = [a.astype(np.float64) for a in norm]
    K = conv.weight.detach().numpy().astype(np.float64).T  # [cin, filters]
    b = conv.bias.detach().numpy().astype(np.float64)
    Kf = K / sd[:, None]
    return {"conv2d/kernel": Kf.reshape(1, 1, *Kf.shape).astype(np.float32),  # HWIO
            "conv2d/bias": (b - (mu / sd) @ K).astype(np.float32)}


def export_tensors(model, norm):
    """Keras-layout tensors with the standardisation folded into the 1x1 conv (folded_conv)."""
    return {
        **folded_conv(model.conv, norm),
        "dense/kernel": model.dense.weight.detach().numpy().T.astype(np.float32).copy(),  # [in, out]
        "dense/bias": model.dense.bias.detach().numpy().astype(np.float32).copy(),
    }


def numpy_forward(tensors, spec, features):
    """Independent float64 forward of the exported file's architecture on NHWC features (the loader's semantics)."""
    x = features.astype(np.float64)
    for l in spec:
        if l["type"] == "conv2d":
            k = tensors[l["name"] + "/kernel"].astype(np.float64)
            assert k.shape[:2] == (1, 1)
            x = np.einsum("nhwc,cf->nhwf", x, k[0, 0]) + tensors[l["name"] + "/bias"]
            x = np.maximum(x, 0) if l["activation"] == "relu" else x
        elif l["type"] == "global_average_pooling2d":
            x = x.mean(axis=(1, 2))
        elif l["type"] == "dropout":
            pass
        elif l["type"] == "flatten":
            x = x.reshape(len(x), -1)  # NHWC: Keras's (h, w, c) order
        elif l["type"] == "dense":
            x = x @ tensors[l["name"] + "/kernel"].astype(np.float64) + tensors[l["name"] + "/bias"]
            x = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0),
                 "linear": lambda v: v}[l["activation"]](x)
        else:
            raise ValueError(l["type"])
    return x


# ---- colour baseline ---------------------------------------------------------------------------------------------

def colour_bs(paths, image_dir):
    from skimage import io
    from skimage.color import rgb2hsv
    out = []
    for p in paths:
        rgb = io.imread(os.path.join(image_dir, p))
        if rgb.ndim == 2:
            rgb = np.stack([rgb] * 3, axis=-1)  # grey replicated, as photong's decoder does
        rgb = rgb[..., :3]  # alpha dropped, as photong's decoder does
        if rgb.dtype != np.uint8:
            raise SystemExit("%s: not 8-bit" % p)
        hsv = rgb2hsv(rgb)
        out.append((hsv[..., 2].mean(), hsv[..., 1].mean()))
    return np.array(out)


def valdez_mehrabian(bs, stats):
    mb, sb, ms, ss = stats
    # a feature constant over the set (BASS silhouettes are grey: saturation 0 everywhere) has no z-score: 0
    zb = (bs[:, 0] - mb) / sb if sb > 0 else np.zeros(len(bs))
    zs = (bs[:, 1] - ms) / ss if ss > 0 else np.zeros(len(bs))
    return 0.69 * zb + 0.22 * zs, -0.31 * zb + 0.60 * zs  # pleasure, arousal (raw; logistic > 0.5 iff raw > 0)


# ---- main ------------------------------------------------------------------------------------------------------

def summarise(rows, keys):
    out = {}
    for k in keys:
        v = np.array([r[k] for r in rows], dtype=np.float64)
        out[k] = {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v, ddof=1)), "folds": [float(a) for a in v]}
    return out


def cross_validate(name, X, target, in_task, strata, cont, colour_score, cfg, rng):
    """target: binary label (valid where in_task); in_task: images the classifier trains / is scored on;
    cont: continuous label for Spearman over every test image; colour_score: the colour baseline's raw score."""
    folds = stratified_folds(strata, FOLDS, rng)
    rows = []
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(len(X)), test)
        tr_task, te_task = train[in_task[train]], test[in_task[test]]
        inner_tr, inner_va = stratified_split(tr_task, target, cfg["inner_val_fraction"], rng)
        model, best_epoch, norm, val_loss = fit(X, target, inner_tr, inner_va, cfg, SEED + 100 * f + (name == "arousal"))
        p_all = predict(model, norm, X[test])
        p = p_all[in_task[test]]
        y = target[te_task]
        majority = 1.0 if target[tr_task].mean() >= 0.5 else 0.0
        r = dict(fold=f, n_train=int(len(inner_tr)), n_val=int(len(inner_va)), n_test=int(len(te_task)),
                 n_test_pos=int(y.sum()), best_epoch=int(best_epoch), val_loss=float(val_loss),
                 acc=accuracy(y, p), auc=roc_auc(y, p), balanced_acc=float(0.5 * (np.mean(p[y == 1] >= 0.5) + np.mean(p[y == 0] < 0.5))),
                 spearman_all=spearman(p_all, cont[test]), majority_acc=float(np.mean(y == majority)), majority_auc=0.5)
        if colour_score is not None:
            cs = colour_score[te_task]
            r.update(colour_acc=accuracy(y, cs, 0.0), colour_auc=roc_auc(y, cs), colour_spearman_all=spearman(colour_score[test], cont[test]))
        rows.append(r)
        print("  %s fold %d: train %d val %d test %d (%d pos)  best epoch %3d  acc %.3f  auc %.3f  rho(all) %+.3f%s" % (
            name, f, r["n_train"], r["n_val"], r["n_test"], r["n_test_pos"], best_epoch, r["acc"], r["auc"], r["spearman_all"],
            "" if colour_score is None else "   colour auc %.3f" % r["colour_auc"]), flush=True)
    keys = ["acc", "auc", "balanced_acc", "spearman_all", "majority_acc", "majority_auc", "best_epoch"]
    if colour_score is not None:
        keys += ["colour_acc", "colour_auc", "colour_spearman_all"]
    return rows, summarise(rows, keys)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "bridge-data"))
    ap.add_argument("--images", default=os.path.join(os.path.dirname(ROOT), "shared", "data"))
    # not weights/: since issue 21 the shipped files are tools/affect_heads.py's heads with colour features
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bridge-data"))
    ap.add_argument("--report", default=None)
    ap.add_argument("--no-colour", action="store_true", help="skip the colour baseline (needs the images)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a training setting (numbers only: filters, dropout, lr, weight_decay, ...)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    cfg = dict(CONFIG)
    for kv in args.set:
        k, v = kv.split("=", 1)
        if k not in cfg or isinstance(cfg[k], str):
            raise SystemExit("--set: unknown numeric setting %r" % k)
        cfg[k] = type(cfg[k])(float(v)) if isinstance(cfg[k], int) else float(v)
    report_path = args.report or os.path.join(args.data, "affect_report.json")

    t, meta = safetensors_io.load(os.path.join(args.data, "bass_features.safetensors"))
    paths = json.loads(meta["paths"])
    X = t["features"].astype(np.float32).reshape(len(paths), -1, INPUT_SHAPE[2])
    val01 = (t["valence"].astype(np.float64) - 1) / 8
    aro01 = (t["arousal"].astype(np.float64) - 1) / 8
    tw, tmeta = safetensors_io.load(os.path.join(args.data, "twitter_features.safetensors"))
    tw_paths = json.loads(tmeta["paths"])
    Xtw = tw["features"].astype(np.float32).reshape(len(tw_paths), -1, INPUT_SHAPE[2])
    ytw = tw["sentiment"].astype(np.float64)

    # labels
    aro_class = np.minimum(np.floor(aro01 * 6).astype(int), 5)
    counts = np.bincount(aro_class, minlength=6)
    populated = np.flatnonzero(counts)
    lo, hi = int(populated[0]), int(populated[-1])
    aro_task = (aro_class == lo) | (aro_class == hi)
    aro_y = (aro_class == hi).astype(np.float64)
    val_y = (val01 > 0.5).astype(np.float64)
    sextiles = np.quantile(aro01, np.linspace(0, 1, 7))
    labels = dict(n=len(paths), arousal_range01=[float(aro01.min()), float(aro01.max())],
                  arousal_equal_width_class_counts=[int(c) for c in counts], arousal_low_class=lo, arousal_high_class=hi,
                  arousal_low_n=int(counts[lo]), arousal_high_n=int(counts[hi]),
                  arousal_low_range01=[lo / 6, (lo + 1) / 6], arousal_high_range01=[hi / 6, (hi + 1) / 6],
                  arousal_sextile_edges01=[float(e) for e in sextiles],
                  valence_range01=[float(val01.min()), float(val01.max())],
                  valence_positive=int(val_y.sum()), valence_negative=int(len(val_y) - val_y.sum()),
                  twitter_n=len(tw_paths), twitter_positive=int(ytw.sum()))
    print("labels:", json.dumps(labels), flush=True)

    colour = None
    if not args.no_colour:
        bs = colour_bs(paths, os.path.join(args.images, "bass", "images"))
        stats = (bs[:, 0].mean(), bs[:, 0].std(), bs[:, 1].mean(), bs[:, 1].std())
        pleasure, arousal_raw = valdez_mehrabian(bs, stats)
        bs_tw = colour_bs(tw_paths, os.path.join(args.images, "twitter-sentiment"))
        # BASS's saturation statistics are degenerate (std 0), so the Twitter photos use the C++ default
        # ColourStats{} (mean 0.5, std 1/sqrt(12) for both), which keeps saturation in the score
        tw_pleasure, _ = valdez_mehrabian(bs_tw, (0.5, 12 ** -0.5, 0.5, 12 ** -0.5))
        colour = dict(stats_bass=[float(s) for s in stats], pleasure=pleasure, arousal=arousal_raw, tw_pleasure=tw_pleasure)
        print("colour stats over BASS (mean V, std V, mean S, std S):", ["%.4f" % s for s in stats], flush=True)

    report = dict(date=datetime.date.today().isoformat(), config=cfg, seed=SEED, folds=FOLDS, labels=labels,
                  architecture=architecture(cfg))
    results = {}
    for name, target, in_task, strata, cont, cscore in (
            ("arousal", aro_y, aro_task, aro_class, aro01, None if colour is None else colour["arousal"]),
            ("valence", val_y, np.ones(len(val_y), bool), val_y.astype(int), val01, None if colour is None else colour["pleasure"])):
        print("%s: 5-fold CV" % name, flush=True)
        rows, summ = cross_validate(name, X, target, in_task, strata, cont, cscore, cfg, rng)
        epochs = int(np.median([r["best_epoch"] for r in rows]))
        idx = np.flatnonzero(in_task)
        model, _, norm, _ = fit(X, target, idx, None, cfg, SEED + 7 + (name == "arousal"), epochs=epochs)
        tensors = export_tensors(model, norm)
        spec = architecture(cfg)
        # the exported file must compute what the torch model computes
        feats = X.reshape(-1, *INPUT_SHAPE)
        p_torch = predict(model, norm, X)
        p_np = numpy_forward(tensors, spec, feats)[:, 0]
        max_diff = float(np.abs(p_torch - p_np).max())
        assert max_diff < 1e-5, max_diff
        p_train = p_np[idx]
        res = dict(cv_folds=rows, cv=summ, final_epochs=epochs, final_n=int(len(idx)), final_n_pos=int(target[idx].sum()),
                   final_train_acc=accuracy(target[idx], p_train), final_train_auc=roc_auc(target[idx], p_train),
                   torch_vs_numpy_max_abs_diff=max_diff,
                   final_prob_range_all_bass=[float(p_np.min()), float(p_np.max())])
        if name == "valence":
            p_tw = numpy_forward(tensors, spec, Xtw.reshape(-1, *INPUT_SHAPE))[:, 0]
            res["twitter"] = dict(n=len(ytw), positive=int(ytw.sum()), acc=accuracy(ytw, p_tw), auc=roc_auc(ytw, p_tw),
                                  majority_acc=float(max(ytw.mean(), 1 - ytw.mean())),
                                  predicted_positive=int((p_tw >= 0.5).sum()))
            if colour is not None:
                res["twitter"].update(colour_acc=accuracy(ytw, colour["tw_pleasure"], 0.0), colour_auc=roc_auc(ytw, colour["tw_pleasure"]))
        results[name] = res
        out = os.path.join(args.out, "bridge_%s.safetensors" % name)
        cvm = {k: summ[k] for k in summ}
        metadata = {
            "model": "bridge", "bridge": name, "input_shape": json.dumps(INPUT_SHAPE), "architecture": json.dumps(spec),
            "format": "include/photong/models/bridges.hpp (Keras layout: conv kernel HWIO, dense [in,out]); F32",
            "output": ("p(high arousal): BASS equal-width arousal class %d ([%.3f,%.3f)) vs class %d ([%.3f,%.3f]) of six on (x-1)/8"
                       % (lo, lo / 6, (lo + 1) / 6, hi, hi / 6, (hi + 1) / 6)) if name == "arousal" else
                      "p(positive valence): BASS US mean valence (x-1)/8 > 0.5",
            "data": ("BASS: 583 two-colour 300x300 silhouettes with valence/arousal ratings (Kawai, Lukacs & Ansorge "
                     "2021; github.com/gasparl/BASS @ 3fa93e29db420679a0c33c5416b4d93eb09128f1), CC-BY 4.0; "
                     "labels: US raters' mean %s (val_mean_us / aro_mean_us, 1..9); features: InceptionV3 mixed10 by "
                     "photong-embed (weights sha256 %s)"
                     % (name, meta.get("weights_sha256", "?"))),
            "data_counts": json.dumps(dict(labels, final_train_n=int(len(idx)), final_train_pos=int(target[idx].sum()))),
            "cv_metrics": json.dumps(cvm),
            "training": json.dumps(dict(cfg, epochs=epochs, seed=SEED, class_weighting="per-sample N/(2 N_class)",
                                        script="tools/train_affect_bridges.py")),
            "date": report["date"],
        }
        if name == "valence":
            metadata["twitter_eval"] = json.dumps(res["twitter"])
        safetensors_io.save(out, tensors, metadata)
        back, bmeta = safetensors_io.load(out)
        p_back = numpy_forward(back, json.loads(bmeta["architecture"]), feats)[:, 0]
        assert np.abs(p_back - p_np).max() < 1e-12
        print("%s: final %d epochs on %d images -> %s (torch vs numpy max |diff| %.2e)" % (name, epochs, len(idx), out, max_diff), flush=True)
    report["results"] = results
    if colour is not None:
        report["colour_stats_bass"] = colour["stats_bass"]
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)
    # tables
    for name in ("arousal", "valence"):
        s = results[name]["cv"]
        print("\n%s (5-fold CV, mean +- std over folds)" % name)
        print("  %-24s %-16s %-16s %-16s" % ("", "accuracy", "ROC AUC", "Spearman(all)"))
        print("  %-24s %.3f +- %.3f    %.3f +- %.3f    %+.3f +- %.3f" % ("bridge", s["acc"]["mean"], s["acc"]["std"], s["auc"]["mean"], s["auc"]["std"], s["spearman_all"]["mean"], s["spearman_all"]["std"]))
        print("  %-24s %.3f +- %.3f" % ("balanced acc (bridge)", s["balanced_acc"]["mean"], s["balanced_acc"]["std"]))
        print("  %-24s %.3f +- %.3f    0.500" % ("majority class", s["majority_acc"]["mean"], s["majority_acc"]["std"]))
        if "colour_auc" in s:
            print("  %-24s %.3f +- %.3f    %.3f +- %.3f    %+.3f +- %.3f" % ("colour (Valdez-Mehrabian)", s["colour_acc"]["mean"], s["colour_acc"]["std"], s["colour_auc"]["mean"], s["colour_auc"]["std"], s["colour_spearman_all"]["mean"], s["colour_spearman_all"]["std"]))
        print("  best epochs per fold %s -> final %d" % (s["best_epoch"]["folds"], results[name]["final_epochs"]))
    print("\ntwitter (valence bridge):", json.dumps(results["valence"]["twitter"]))
    print("report:", report_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
