#!/usr/bin/python3
"""Compares four arousal / valence heads on BASS and on photographs, and exports the chosen ones.

  nice -n 19 /usr/bin/python3 tools/affect_heads.py [--data build/bridge-data] [--images ../shared/data]
        [--pictures build/affect-pictures] [--export] [--out weights] [--report build/bridge-data/heads_report.json]

Inputs: DATA/bass_features.safetensors and DATA/twitter_features.safetensors (as for tools/train_affect_bridges.py) and
DATA/pictures_features.safetensors (`photong-embed PICTURES -o ...`: the evaluation pictures, unlabelled).

The heads (the issue-21 comparison; all trained on BASS only, the only set with valence and arousal ratings):
- bridge:    the shipped bridges' network (tools/train_affect_bridges.py): mixed10 -> 1x1 conv 32 relu -> mean -> dense.
- vm:        Valdez & Mehrabian's colour formulas, not trained: valence logit 0.69 zV + 0.22 zS, arousal -0.31 zV + 0.60 zS.
- colour:    a colour-only logistic model on Melody Muse's features plus saturation (zV, zS, zM: mean HSV value,
             mean HSV saturation, Hasler & Suesstrunk colourfulness), fitted on BASS.
- combined:  Melody Muse's architecture on our features: the bridge's pooled 32 features concatenated with (zV, zS, zM),
             then the dense layer (include/photong/models/bridges.hpp's concat_colour_features layer).

Why the colour weights are partly fixed. BASS silhouettes are grey: saturation and colourfulness are 0 on every one of
the 583 images, so no BASS fit can say what colour does. Their weights therefore come from the literature and are not
trained: Valdez & Mehrabian's saturation coefficient (valence 0.22, arousal 0.60), split equally between saturation and
colourfulness (two measures of the same chroma; their sum keeps V&M's weight where they agree). The brightness weight
starts at V&M's (valence 0.69, arousal -0.31) and BASS trains an offset to it (weight decay pulls the offset to 0,
i.e. towards the literature). z-scores use the colour statistics of the 52 Twitter photos (labels unused): "relative to
ordinary photographs"; BASS's own statistics are degenerate (S and M have std 0).

Measures: 5-fold stratified CV on BASS, the same folds for every head (accuracy, ROC AUC, Spearman with the continuous
rating over every test image); valence ROC AUC on the 52 Twitter photos (40 positive / 12 negative) with a 95 %
bootstrap interval; on the unlabelled evaluation pictures and Twitter photos, the arousal heads' Spearman correlation
with V&M arousal and where the solid black picture ranks (the issue: it was the most arousing of 41).

Choice (fixed before the runs): valence ships the head with the highest Twitter AUC unless its BASS CV AUC is more than
one fold-std below the bridge's; arousal, which has no labelled photographs, ships `combined` unless its BASS CV AUC is
more than one fold-std below the bridge's (then `bridge`): it keeps the bridge's BASS skill and adds the colour
effects the literature reports, which BASS cannot teach.
"""
import argparse
import datetime
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "weights"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import safetensors_io  # noqa: E402
import train_affect_bridges as tab  # noqa: E402

HEADS = ("bridge", "vm", "colour", "combined")
COLOUR_NAMES = ("brightness", "saturation", "colourfulness")  # C++ ColourFeatures fields, in this order
VM = {"valence": (0.69, 0.22), "arousal": (-0.31, 0.60)}  # (brightness, saturation) on z-scores


def colour_prior(task):
    b, s = VM[task]
    return np.array([b, s / 2, s / 2], dtype=np.float32)  # saturation's weight shared with colourfulness


def colour_features(paths, image_dir):
    """(n, 3) mean HSV V, mean HSV S (skimage.color.rgb2hsv) and Hasler-Suesstrunk M of each 8-bit image, the way
    include/photong/image/colour_affect.hpp measures them on the decoded picture (grey replicated, alpha dropped)."""
    from skimage import io
    from skimage.color import rgb2hsv
    out = []
    for p in paths:
        rgb = io.imread(os.path.join(image_dir, p))
        if rgb.ndim == 2:
            rgb = np.stack([rgb] * 3, axis=-1)
        rgb = rgb[..., :3]
        if rgb.dtype != np.uint8:
            raise SystemExit("%s: not 8-bit" % p)
        hsv = rgb2hsv(rgb)
        r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
        rg, yb = r - g, 0.5 * (r + g) - b
        m = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())
        out.append((hsv[..., 2].mean(), hsv[..., 1].mean(), m))
    return np.array(out, dtype=np.float64)


class Head(torch.nn.Module):
    """logit = [dense(dropout(mean(relu(conv(x)))))] + zc . (prior + [offset, 0, 0]) + [bias when colour-only]."""

    def __init__(self, kind, cin, cfg, prior):
        super().__init__()
        self.kind = kind
        if kind in ("bridge", "combined"):
            self.conv = torch.nn.Linear(cin, cfg["filters"])
            self.drop = torch.nn.Dropout(cfg["dropout"])
            self.dense = torch.nn.Linear(cfg["filters"], 1)
        else:
            self.bias = torch.nn.Parameter(torch.zeros(1))
        if kind in ("colour", "combined"):
            self.register_buffer("prior", torch.from_numpy(prior))
            self.offset = torch.nn.Parameter(torch.zeros(1))  # trained brightness offset; S and M stay at the prior

    def colour_weights(self):
        return self.prior + torch.cat([self.offset, torch.zeros(2)])

    def forward(self, x, zc):
        if self.kind in ("bridge", "combined"):
            logit = self.dense(self.drop(torch.relu(self.conv(x)).mean(dim=1))).squeeze(1)
        else:
            logit = self.bias.expand(len(zc))
        if self.kind in ("colour", "combined"):
            logit = logit + zc @ self.colour_weights()
        return logit


def fit(kind, X, Zc, y, train_idx, val_idx, cfg, seed, prior, epochs=None):
    """tab.fit's loop (same standardisation, optimiser, batches, early stopping) for any head kind."""
    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    flat = X[train_idx].reshape(-1, X.shape[-1])
    mu = flat.mean(axis=0)
    sd = np.full(X.shape[-1], flat.std(), dtype=np.float32)
    norm = (mu, sd)

    def inputs(idx):
        return ((torch.from_numpy(X[idx]) - torch.from_numpy(mu)) / torch.from_numpy(sd),
                torch.from_numpy(Zc[idx].astype(np.float32)))

    Xt, Zt = inputs(train_idx)
    yt, wt = torch.from_numpy(y[train_idx].astype(np.float32)), torch.from_numpy(tab.class_weights(y[train_idx]))
    if val_idx is not None:
        Xv, Zv = inputs(val_idx)
        yv, wv = torch.from_numpy(y[val_idx].astype(np.float32)), torch.from_numpy(tab.class_weights(y[val_idx]))
    model = Head(kind, X.shape[-1], cfg, prior)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    best, best_epoch, best_state = float("inf"), 0, None
    for epoch in range(1, (epochs if val_idx is None else cfg["max_epochs"]) + 1):
        model.train()
        perm = gen.permutation(len(train_idx))
        for s in range(0, len(perm), cfg["batch_size"]):
            b = torch.from_numpy(perm[s:s + cfg["batch_size"]])
            opt.zero_grad()
            tab.weighted_bce(model(Xt[b], Zt[b]), yt[b], wt[b]).backward()
            opt.step()
        if val_idx is not None:
            model.eval()
            with torch.no_grad():
                vl = float(tab.weighted_bce(model(Xv, Zv), yv, wv))
            if vl < best - 1e-5:
                best, best_epoch = vl, epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= cfg["patience"]:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, (best_epoch if val_idx is not None else epochs), norm


def predict(model, norm, X, Zc):
    mu, sd = norm
    with torch.no_grad():
        x = (torch.from_numpy(X) - torch.from_numpy(mu)) / torch.from_numpy(sd)
        return torch.sigmoid(model(x, torch.from_numpy(Zc.astype(np.float32)))).numpy().astype(np.float64)


def vm_probability(task, Zc):
    b, s = VM[task]
    return 1 / (1 + np.exp(-(b * Zc[:, 0] + s * Zc[:, 1])))


def bootstrap_auc(y, p, rng, n=2000):
    """95 % percentile interval of the ROC AUC over resamples of the photos (stratified: positives and negatives
    resampled separately, so every resample has both)."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    vals = [tab.roc_auc(y[np.r_[a, b]], p[np.r_[a, b]])
            for a, b in ((rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(n))]
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def export(model, norm, stats, task, cfg, epochs, extra_meta):
    """The combined head as include/photong/models/bridges.hpp tensors and architecture. The colour z-scores are
    folded into the dense layer, so the file takes raw ColourFeatures: w.(c - m)/s = (w/s).c - (w/s).m."""
    tensors = tab.folded_conv(model.conv, norm)
    wd = model.dense.weight.detach().numpy().astype(np.float64).T  # [filters, 1]
    bd = model.dense.bias.detach().numpy().astype(np.float64)
    m, s = stats
    wc = model.colour_weights().detach().numpy().astype(np.float64) / s
    tensors["dense/kernel"] = np.concatenate([wd, wc[:, None]]).astype(np.float32)
    tensors["dense/bias"] = (bd - wc @ m).astype(np.float32)
    spec = tab.architecture(cfg)
    spec.insert(3, dict(type="concat_colour_features", name="colour_features", features=list(COLOUR_NAMES)))
    meta = {"model": "bridge", "bridge": task, "input_shape": json.dumps(tab.INPUT_SHAPE), "architecture": json.dumps(spec),
            "format": "include/photong/models/bridges.hpp (Keras layout; concat_colour_features appends the picture's "
                      "raw colour_affect.hpp ColourFeatures); F16 (the project's rule for trained weights)",
            "colour_weights": json.dumps(dict(zip(COLOUR_NAMES, model.colour_weights().tolist()))),
            "colour_standardisation": json.dumps(dict(mean=m.tolist(), std=s.tolist(), set="52 Twitter photos, labels unused")),
            "training": json.dumps(dict(cfg, epochs=epochs, seed=tab.SEED, head="combined", script="tools/affect_heads.py")),
            **extra_meta}
    return {k: v.astype(np.float16) for k, v in tensors.items()}, spec, meta


def numpy_forward(tensors, spec, feats, colour):
    """tab.numpy_forward plus the concat_colour_features layer (raw colour features appended to the vector)."""
    i = next(k for k, l in enumerate(spec) if l["type"] == "concat_colour_features")
    h = tab.numpy_forward(tensors, spec[:i], feats)
    h = np.concatenate([h, colour], axis=1)
    d = spec[i + 1]
    return 1 / (1 + np.exp(-(h @ tensors[d["name"] + "/kernel"].astype(np.float64) + tensors[d["name"] + "/bias"])))[:, 0]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "bridge-data"))
    ap.add_argument("--images", default=os.path.join(os.path.dirname(ROOT), "shared", "data"))
    ap.add_argument("--pictures", default=os.path.join(ROOT, "build", "affect-pictures"))
    ap.add_argument("--out", default=os.path.join(ROOT, "weights"))
    ap.add_argument("--report", default=None)
    ap.add_argument("--export", action="store_true", help="write the chosen heads to OUT/bridge_{arousal,valence}.safetensors")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = dict(tab.CONFIG)

    def load(name):
        t, meta = safetensors_io.load(os.path.join(args.data, name))
        paths = json.loads(meta["paths"])
        return t, meta, paths, t["features"].astype(np.float32).reshape(len(paths), -1, tab.INPUT_SHAPE[2])

    bt, bmeta, bpaths, X = load("bass_features.safetensors")
    tt, _, tpaths, Xtw = load("twitter_features.safetensors")
    _, _, ppaths, Xpic = load("pictures_features.safetensors")
    ytw = tt["sentiment"].astype(np.float64)
    C = colour_features(bpaths, os.path.join(args.images, "bass", "images"))
    Ctw = colour_features(tpaths, os.path.join(args.images, "twitter-sentiment"))
    Cpic = colour_features(ppaths, args.pictures)
    stats = (Ctw.mean(axis=0), Ctw.std(axis=0))
    Z, Ztw, Zpic = ((c - stats[0]) / stats[1] for c in (C, Ctw, Cpic))
    print("colour over BASS: std of V, S, M = %s (S and M constant)" % np.round(C.std(axis=0), 4))
    print("colour stats (Twitter photos): mean %s std %s" % (np.round(stats[0], 4), np.round(stats[1], 4)), flush=True)

    val01, aro01 = ((bt[k].astype(np.float64) - 1) / 8 for k in ("valence", "arousal"))
    aro_class = np.minimum(np.floor(aro01 * 6).astype(int), 5)
    populated = np.flatnonzero(np.bincount(aro_class, minlength=6))
    tasks = {"arousal": ((aro_class == populated[-1]).astype(np.float64), np.isin(aro_class, populated[[0, -1]]), aro_class, aro01),
             "valence": ((val01 > 0.5).astype(np.float64), np.ones(len(val01), bool), (val01 > 0.5).astype(int), val01)}
    report = dict(date=datetime.date.today().isoformat(), config=cfg, colour_stats=[s.tolist() for s in stats], tasks={})
    black = ppaths.index("syn_black.png") if "syn_black.png" in ppaths else None
    for task, (y, in_task, strata, cont) in tasks.items():
        prior = colour_prior(task)
        rng = np.random.default_rng(tab.SEED + (task == "arousal"))
        folds = tab.stratified_folds(strata, tab.FOLDS, rng)
        cv = {h: [] for h in HEADS}
        epochs = {h: [] for h in HEADS}
        for f, test in enumerate(folds):
            train = np.setdiff1d(np.arange(len(y)), test)
            tr_task, te_task = train[in_task[train]], test[in_task[test]]
            inner_tr, inner_va = tab.stratified_split(tr_task, y, cfg["inner_val_fraction"], rng)
            for h in HEADS:
                if h == "vm":
                    p_all = vm_probability(task, Z[test])
                else:
                    model, ep, norm = fit(h, X, Z, y, inner_tr, inner_va, cfg, tab.SEED + 100 * f + (task == "arousal"), prior)
                    p_all = predict(model, norm, X[test], Z[test])
                    epochs[h].append(ep)
                p = p_all[in_task[test]]
                cv[h].append(dict(acc=tab.accuracy(y[te_task], p), auc=tab.roc_auc(y[te_task], p),
                                  spearman_all=tab.spearman(p_all, cont[test])))
            print("  %s fold %d: %s" % (task, f, "  ".join("%s auc %.3f" % (h, cv[h][-1]["auc"]) for h in HEADS)), flush=True)
        res = {}
        idx = np.flatnonzero(in_task)
        finals = {}
        for h in HEADS:
            r = {k: dict(mean=float(np.mean([c[k] for c in cv[h]])), std=float(np.std([c[k] for c in cv[h]], ddof=1)),
                         folds=[float(c[k]) for c in cv[h]]) for k in ("acc", "auc", "spearman_all")}
            if h == "vm":
                ptw, ppic = vm_probability(task, Ztw), vm_probability(task, Zpic)
            else:
                r["final_epochs"] = int(np.median(epochs[h]))
                model, _, norm = fit(h, X, Z, y, idx, None, cfg, tab.SEED + 7 + (task == "arousal"), prior, epochs=r["final_epochs"])
                finals[h] = (model, norm)
                ptw, ppic = predict(model, norm, Xtw, Ztw), predict(model, norm, Xpic, Zpic)
                if h != "bridge":
                    r["colour_weights"] = model.colour_weights().tolist()
            if task == "valence":
                r["twitter_auc"] = tab.roc_auc(ytw, ptw)
                r["twitter_auc_ci95"] = bootstrap_auc(ytw, ptw, np.random.default_rng(1))
                r["twitter_acc"] = tab.accuracy(ytw, ptw)
            else:
                vm_photos = np.r_[vm_probability(task, Ztw), vm_probability(task, Zpic)]
                r["rho_vm_arousal_photos"] = tab.spearman(np.r_[ptw, ppic], vm_photos)
                r["rho_saturation_pictures"] = tab.spearman(ppic, Cpic[:, 1])
                if black is not None:
                    r["black_rank_of_pictures"] = int((ppic > ppic[black]).sum()) + 1
            r["pictures"] = dict(zip(ppaths, ppic.round(4).tolist()))
            res[h] = r
        # the choice rule of the docstring
        floor = res["bridge"]["auc"]["mean"] - res["bridge"]["auc"]["std"]
        if task == "valence":
            ok = [h for h in HEADS if res[h]["auc"]["mean"] >= floor]
            chosen = max(ok, key=lambda h: res[h]["twitter_auc"])
        else:
            chosen = "combined" if res["combined"]["auc"]["mean"] >= floor else "bridge"
        report["tasks"][task] = dict(heads=res, chosen=chosen)
        print("\n%s (5-fold CV on BASS, mean +- std over folds) -> ship %s" % (task, chosen))
        extra = ("twitter AUC [95% CI]", "acc") if task == "valence" else ("rho(vm) photos", "rho(S) pics", "black rank")
        print("  %-9s %-15s %-15s %-16s %s" % ("head", "accuracy", "ROC AUC", "Spearman(all)", "  ".join(extra)))
        for h in HEADS:
            r = res[h]
            tail = ("%.3f [%.2f, %.2f]  %.3f" % (r["twitter_auc"], *r["twitter_auc_ci95"], r["twitter_acc"]) if task == "valence"
                    else "%+.3f          %+.3f        %s/%d" % (r["rho_vm_arousal_photos"], r["rho_saturation_pictures"],
                                                                r.get("black_rank_of_pictures", "-"), len(ppaths)))
            print("  %-9s %.3f +- %.3f  %.3f +- %.3f  %+.3f +- %.3f  %s" % (h, r["acc"]["mean"], r["acc"]["std"], r["auc"]["mean"],
                                                                         r["auc"]["std"], r["spearman_all"]["mean"], r["spearman_all"]["std"], tail))
        if args.export and chosen in ("combined", "bridge"):
            model, norm = finals[chosen]
            if chosen == "bridge":
                raise SystemExit("%s: the bridge was chosen; tools/train_affect_bridges.py writes that file" % task)
            extra_meta = {"data": "BASS (Kawai, Lukacs & Ansorge 2021; github.com/gasparl/BASS @ 3fa93e29), CC-BY 4.0; "
                                  "US raters' mean %s; features: InceptionV3 mixed10 by photong-embed (weights sha256 %s); "
                                  "colour weights for saturation/colourfulness from Valdez & Mehrabian (1994)"
                                  % (task, bmeta.get("weights_sha256", "?")),
                          "cv_metrics": json.dumps({k: res[chosen][k] for k in ("acc", "auc", "spearman_all")}),
                          "comparison": json.dumps({h: {k: res[h].get(k) for k in ("auc", "twitter_auc", "rho_vm_arousal_photos",
                                                                                    "black_rank_of_pictures")} for h in HEADS}),
                          "date": report["date"]}
            tensors, spec, meta = export(model, norm, stats, task, cfg, res[chosen]["final_epochs"], extra_meta)
            p_np = numpy_forward(tensors, spec, Xpic.reshape(-1, *tab.INPUT_SHAPE), Cpic)
            # F16 storage rounds each weight by up to 2^-11 relative; on these pictures that moves p by ~1e-4
            diff = float(np.abs(p_np - predict(model, norm, Xpic, Zpic)).max())
            assert diff < 2e-3, diff
            out = os.path.join(args.out, "bridge_%s.safetensors" % task)
            safetensors_io.save(out, tensors, meta)
            safetensors_io.write_checksum(out)
            back, bmeta = safetensors_io.load(out)
            assert np.array_equal(numpy_forward(back, json.loads(bmeta["architecture"]), Xpic.reshape(-1, *tab.INPUT_SHAPE), Cpic), p_np)
            print("  -> %s (F16 file vs the float32 torch model on the pictures: max |diff| in p %.2e)" % (out, diff), flush=True)
    report_path = args.report or os.path.join(args.data, "heads_report.json")
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)
    print("report:", report_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
