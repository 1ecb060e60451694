#!/usr/bin/python3
"""Evaluate a hierdec-mel_16bar MusicVAE checkpoint written by tools/train_hierdec.py on held-out songs.

usage:
  eval_hierdec.py --run-dir RUN | --checkpoint CKPT.pt|EXPORT.safetensors [--data build/melody-data/mel16.safetensors] [--max-val N]
                  [--samples 100] [--temperature T] [--top-k K] [--top-p P] [--form F] [--skip-windows]
                  [--sweep-temperatures 0.8,1.0 [--sweep-top-k 0,20] [--sweep-top-p 0.9,1] [--sweep-forms none,AABA]]
                  [--batch-size 64] [--seed 0] [--threads 1] [--json OUT.json]
  eval_hierdec.py --self-test        (tiny random model: the step-by-step decoder against a numpy TF reference)

Reads RUN/checkpoint.pt (the model class HierdecVAE is imported from train_hierdec.py) or an exported .safetensors
(the shipped weights, read as the C++ library reads them), and the validation windows `val_events` of the data file
(songs never seen in training; --max-val N takes a seeded random subset of N of them, 0 = all), and prints:

1. teacher-forced next-event accuracy and reconstruction loss (sum of cross-entropy per sequence, nats) with
   z = mu (no sampling noise), and with z = mu + sigma * eps (eps ~ N(0, I), seeded) as in training;
2. reconstruction accuracy: encode -> z = mu -> greedy autoregressive decode -> fraction of the 256 events
   equal to the input, averaged over windows (and the fraction of windows reproduced exactly);
3. KL(N(mu, sigma) || N(0, I)) per sequence, mean over the windows, in nats and bits;
   (1-3 are skipped with --skip-windows)
4. --samples prior samples (z ~ N(0, I), seeded) decoded at the sampling settings and song form (defaults: the
   file's sampling_temperature, sampling_top_k, sampling_top_p, song_form metadata), beside the data (all
   validation windows, and POP909's and Nottingham's separately) and the greedy reconstructions: tools/melody_stats.py
   figures (pitch classes, range, density, holds, scale fit; repetition: bars repeating an earlier bar exactly or
   transposed, windows with a repeated 2-bar block, longest repeated passage, bar-to-bar motif overlap; intervals:
   stepwise share, leaps over an octave, repeated notes; silent samples);
5. issue 20's targets, met or missed (tools/melody_targets.py);
6. with --sweep-temperatures: the same prior samples (same z and uniforms) over a grid of settings, and the
   setting nearest the data (melody_targets.sampling_distance, then form_distance at that sampling).

Decoding is photong's C++ rule (tools/hierdec_decode.py: HierarchicalLstmDecoder, EventSampler's top-k/top-p
draw, SongForm's repeats); its uniforms here come from a torch generator ([bar, step, row] per batch), not
photong::Rng, so figures are the same in distribution as the C++ tools', not draw for draw (crosscheck_cpp.py
--sampled checks that). Temperature 0 is argmax.

Everything is a function of --seed (val subset, eps, prior z, sampling uniforms); with the same thread count
the figures repeat exactly.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import hierdec_decode  # noqa: E402
import melody_stats  # noqa: E402
import melody_targets  # noqa: E402
import safetensors_io  # noqa: E402
from train_hierdec import BARS, CLASSES, PRESETS, SEQ_LEN, STEPS_PER_BAR, HierdecVAE, model_from_tensors  # noqa: E402


# ---------------------------------------------------------------- decoding

def decode(model, z, temperature=0.0, generator=None, top_k=0, top_p=1.0, form=None):
    """Hierarchical autoregressive decode of z [B, z_size] -> (events [B, 256] int64, logits [B, 256, 90]), by
    photong's rule (tools/hierdec_decode.py: sampling.hpp's top-k/top-p draw, song_form.hpp's forms)."""
    ev, logits, _ = hierdec_decode.decode(model, z, hierdec_decode.Sampling(temperature, top_k, top_p), form, generator=generator)
    return ev, logits


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate_windows(model, events, batch, seed):
    """Teacher-forced accuracy / loss (z = mu and sampled z), KL, greedy reconstructions of events [N, 256]."""
    z_size = model.sizes["z_size"]
    g = torch.Generator().manual_seed(seed * 7919 + 11)
    sums = {"tf_acc_mu": 0.0, "tf_recon_mu": 0.0, "tf_acc_sampled": 0.0, "tf_recon_sampled": 0.0,
            "kl_nats": 0.0, "recon_acc": 0.0, "recon_exact": 0.0}
    recon = []
    n = len(events)
    for i in range(0, n, batch):
        ev = events[i:i + batch]
        onehot = F.one_hot(ev, CLASSES).to(model.mu.weight.dtype)
        mu, sigma = model.encode(onehot)
        eps = torch.randn(len(ev), z_size, generator=g)
        for tag, z in (("mu", mu), ("sampled", mu + sigma * eps)):
            logits = model.decode_teacher_forced(z, onehot)
            ce = F.cross_entropy(logits.reshape(-1, CLASSES), ev.reshape(-1), reduction="none").view(ev.shape)
            sums["tf_acc_" + tag] += (logits.argmax(dim=2) == ev).float().mean(dim=1).sum().item()
            sums["tf_recon_" + tag] += ce.sum(dim=1).sum().item()
        kl = (0.5 * (mu * mu + sigma * sigma - 1.0) - torch.log(sigma)).sum(dim=1)
        sums["kl_nats"] += kl.sum().item()
        greedy, _ = decode(model, mu)
        same = (greedy == ev)
        sums["recon_acc"] += same.float().mean(dim=1).sum().item()
        sums["recon_exact"] += same.all(dim=1).float().sum().item()
        recon.append(greedy)
    out = {k: v / n for k, v in sums.items()}
    out["kl_bits"] = out["kl_nats"] / math.log(2.0)
    return out, torch.cat(recon).numpy()


@torch.no_grad()
def prior_samples(model, count, temperature, batch, seed, top_k=0, top_p=1.0, form=None):
    """`count` decodes of z ~ N(0, I); z and the draws depend on the seed only, not on the sampling or form, so
    settings are compared on the same codes and the same uniforms."""
    gz = torch.Generator().manual_seed(seed * 7919 + 23)
    gs = torch.Generator().manual_seed(seed * 7919 + 37)
    z = torch.randn(count, model.sizes["z_size"], generator=gz)
    out = []
    for i in range(0, count, batch):
        ev, _ = decode(model, z[i:i + batch], temperature, gs, top_k, top_p, form)
        out.append(ev)
    return torch.cat(out).numpy()


def load_checkpoint(path):
    """A training checkpoint (.pt), or an exported Magenta-named .safetensors file (the shipped weights): the
    latter is read back by train_hierdec.model_from_tensors and described by its metadata."""
    if path.endswith(".safetensors"):
        tensors, meta = safetensors_io.load(path)
        model = model_from_tensors(tensors, path)
        model.eval()
        state = {"step": int(meta.get("steps_trained", "0")), "train_seconds": float(meta.get("training_seconds", "0"))}
        return model, {"state": state, "sizes": model.sizes, "preset": meta.get("preset"), "seed": meta.get("seed"),
                       "data": None, "exported_dtype": meta.get("exported_dtype"), "metadata": meta}
    ckpt = torch.load(path, map_location="cpu")
    model = HierdecVAE(**ckpt["sizes"])
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, ckpt


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def finite(x):
    """NaN (a statistic of no note-ons) -> None, so the JSON file is standard JSON."""
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


STAT_ROWS = [
    ("mean pitch range / window", "mean_pitch_range"), ("note-ons per bar", "note_ons_per_bar"),
    ("note-offs per bar", "note_offs_per_bar"), ("fraction of steps held", "hold_fraction"),
    ("best-scale fit (24 keys)", "scale_fit"), ("mean note-on pitch", "pitch_mean"),
    ("windows without note-on", "windows_without_note_on"),
    ("bars repeating an earlier bar", "bars_repeating_exact"), ("... or transposed", "bars_repeating_transposed"),
    ("windows with a repeated 2-bar block", "windows_with_repeated_2bar_block"),
    ("longest repeated passage (bars)", "longest_repeated_passage_bars"),
    ("motif overlap, pitch sets", "motif_overlap_pitchset"), ("motif overlap, onset steps", "motif_overlap_rhythm"),
    ("motif overlap, (step, pitch)", "motif_overlap"),
    ("stepwise share", "stepwise_share"), ("leaps over an octave", "leap_over_octave_share"),
    ("repeated notes", "repeated_note_share"),
]


def data_sets(tensors, meta, val_all):
    """[(set name, summary of its validation windows)] from the data file's val_song indices and song list."""
    if "val_song" not in tensors or "songs" not in meta:
        return []
    sets = np.array([s[0] for s in json.loads(meta["songs"])])[tensors["val_song"]]
    return [(name, melody_stats.summary(val_all[sets == name])) for name in sorted(set(sets.tolist()), key=lambda x: x != "pop909")]


def run_sweep(args, model, data_st):
    """Prior samples over the grid of --sweep-*; prints one row per setting and the settings nearest the data."""
    grid = [(float(t), int(k), float(p), f) for t in args.sweep_temperatures.split(",") for k in args.sweep_top_k.split(",")
            for p in args.sweep_top_p.split(",") for f in args.sweep_forms.split(",")]
    print(f"6. sweep of {len(grid)} settings, {args.samples} prior samples each (same z and uniforms; seed {args.seed}):")
    keys = ["note_ons_per_bar", "mean_pitch_range", "stepwise_share", "leap_over_octave_share", "windows_without_note_on",
            "bars_repeating_exact", "windows_with_repeated_2bar_block", "longest_repeated_passage_bars", melody_targets.MOTIF]
    heads = ["ons/bar", "range", "step", "leap>8ve", "silent", "rep.bars", "2bar blk", "longest", "motif", "D_sampl", "D_form"]
    print("   " + f"{'setting':<26}" + "".join(f"{h:>9}" for h in heads))
    print("   " + f"{'data (val)':<26}" + "".join(f"{fmt(float(data_st[k])):>9}" for k in keys))
    out = []
    for t, k, p, f in grid:
        st = melody_stats.summary(prior_samples(model, args.samples, t, args.batch_size, args.seed, k, p, f))
        ds, df = melody_targets.sampling_distance(st, data_st), melody_targets.form_distance(st, data_st)
        out.append({"temperature": t, "top_k": k, "top_p": p, "form": f, "sampling_distance": ds, "form_distance": df,
                    "stats": {key: st[key] for key in keys}})
        print("   " + f"{f'T={t:g} k={k} p={p:g} {f}':<26}" + "".join(f"{fmt(float(st[key])):>9}" for key in keys)
              + f"{fmt(ds):>9}{fmt(df):>9}", flush=True)
    formless = [r for r in out if r["form"] == "none"] or out
    best = min(formless, key=lambda r: r["sampling_distance"])
    same = [r for r in out if (r["temperature"], r["top_k"], r["top_p"]) == (best["temperature"], best["top_k"], best["top_p"])]
    best_form = min(same, key=lambda r: r["form_distance"])
    print(f"   nearest the data: sampling T={best['temperature']:g} top-k {best['top_k']} top-p {best['top_p']:g} "
          f"(distance {best['sampling_distance']:.3f}, form none); at it, form {best_form['form']} "
          f"(form distance {best_form['form_distance']:.3f})")
    return {"grid": out, "best_sampling": best, "best_form": best_form}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", help="training output directory holding checkpoint.pt")
    ap.add_argument("--checkpoint", help="checkpoint file (default RUN_DIR/checkpoint.pt), or an exported .safetensors "
                    "(e.g. weights/hierdec_mel16_photong.safetensors: its float16 values, as the C++ library reads them)")
    ap.add_argument("--data", default=None, help="data file (default: the one the checkpoint was trained on)")
    ap.add_argument("--max-val", type=int, default=0, help="evaluate a seeded random subset of N validation windows (0 = all)")
    ap.add_argument("--samples", type=int, default=100, help="prior samples to draw")
    ap.add_argument("--temperature", type=float, default=None,
                    help="sampling temperature of the prior samples (default: the file's sampling_temperature, else 0.5)")
    ap.add_argument("--top-k", type=int, default=None, help="top-k of the prior samples (default: the file's sampling_top_k, else 0)")
    ap.add_argument("--top-p", type=float, default=None, help="top-p of the prior samples (default: the file's sampling_top_p, else 1)")
    ap.add_argument("--form", default=None, help="song form of the prior samples (default: the file's song_form, else none)")
    ap.add_argument("--skip-windows", action="store_true", help="skip the held-out window figures (1-3): prior samples only")
    ap.add_argument("--sweep-temperatures", default=None, help="comma list: also compare prior samples over this grid ...")
    ap.add_argument("--sweep-top-k", default="0", help="... of top-k values ...")
    ap.add_argument("--sweep-top-p", default="1", help="... of top-p values ...")
    ap.add_argument("--sweep-forms", default="none", help="... and song forms; prints the settings nearest the data "
                    "(tools/melody_targets.py)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None, help="write all figures here")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.self_test:
        return self_test()
    if not (args.run_dir or args.checkpoint):
        ap.error("--run-dir or --checkpoint is required")
    t0 = time.time()
    command = " ".join([os.path.relpath(os.path.abspath(sys.argv[0]))] + (sys.argv[1:] if argv is None else argv))
    print("command:", command)
    ckpt_path = args.checkpoint or os.path.join(args.run_dir, "checkpoint.pt")
    model, ckpt = load_checkpoint(ckpt_path)
    step = ckpt["state"]["step"]
    data_path = args.data or ckpt.get("data") or "build/melody-data/mel16.safetensors"
    if not os.path.exists(data_path):
        data_path = "build/melody-data/mel16.safetensors"
    print(f"checkpoint {ckpt_path}: step {step}, {ckpt['state'].get('train_seconds', 0.0):.0f} s trained, "
          f"preset {ckpt.get('preset')}, sizes {ckpt['sizes']}, seed {ckpt.get('seed')}")
    for split in ("train", "val"):
        last = ckpt["state"].get("final_" + split)
        if last:
            print(f"  trainer's last {split} log (sampled z, its own windows): "
                  + ", ".join(f"{k} {fmt(v, 4) if isinstance(v, float) else v}" for k, v in last.items()))
    tensors, meta_data = safetensors_io.load(data_path)
    val_all = tensors["val_events"].astype(np.int64)
    nval = len(val_all)
    if args.max_val and args.max_val < nval:
        idx = np.sort(np.random.default_rng([args.seed, 1]).choice(nval, args.max_val, replace=False))
        subset = f"seeded random subset of {len(idx)} of the {nval} validation windows (--seed {args.seed})"
    else:
        idx = np.arange(nval)
        subset = f"all {nval} validation windows"
    val = torch.from_numpy(val_all[idx])
    print(f"data {data_path}: evaluating on {subset}; batch {args.batch_size}; threads {torch.get_num_threads()}")

    meta = ckpt.get("metadata", {})
    temperature = args.temperature if args.temperature is not None else float(meta.get("sampling_temperature", 0.5))
    top_k = args.top_k if args.top_k is not None else int(meta.get("sampling_top_k", 0))
    top_p = args.top_p if args.top_p is not None else float(meta.get("sampling_top_p", 1.0))
    form = args.form if args.form is not None else meta.get("song_form", "none")
    setting = f"T={temperature:g}, top-k {top_k}, top-p {top_p:g}, form {form}"
    m, recon = None, None
    if not args.skip_windows:
        m, recon = evaluate_windows(model, val, args.batch_size, args.seed)
        print(f"1. teacher-forced next-event accuracy, z = mu (no sampling noise): {m['tf_acc_mu']:.4f}  "
              f"(recon loss {m['tf_recon_mu']:.2f} nats/sequence)")
        print(f"   teacher-forced next-event accuracy, z = mu + sigma*eps (sampled, as in training): {m['tf_acc_sampled']:.4f}  "
              f"(recon loss {m['tf_recon_sampled']:.2f} nats/sequence)")
        print(f"2. greedy reconstruction accuracy (encode -> mu -> greedy hierarchical decode): {m['recon_acc']:.4f} of events; "
              f"{m['recon_exact']:.4f} of windows exact")
        print(f"3. KL per sequence: {m['kl_nats']:.2f} nats = {m['kl_bits']:.2f} bits (mean over {len(val)} windows)")
    t1 = time.time()

    samples = prior_samples(model, args.samples, temperature, args.batch_size, args.seed, top_k, top_p, form)
    t2 = time.time()
    data_st = melody_stats.summary(val_all)
    per_set = data_sets(tensors, meta_data, val_all)
    samp_st = melody_stats.summary(samples)
    rec_st = melody_stats.summary(recon) if recon is not None else None
    data_hist = data_st["pitch_class_counts"]
    l1_samples = melody_stats.l1(samp_st["pitch_class_counts"], data_hist)
    l1_recon = melody_stats.l1(rec_st["pitch_class_counts"], data_hist) if rec_st else None
    l1_uniform = melody_stats.l1(np.ones(12), data_hist)
    base_idx = np.random.default_rng([args.seed, 2]).choice(nval, min(args.samples, nval), replace=False)
    l1_subset = melody_stats.l1(melody_stats.pitch_class_histogram(val_all[base_idx]), data_hist)

    columns = [(f"samples ({args.samples})", samp_st, l1_samples), (f"data (val {nval})", data_st, None)]
    columns += [(f"{name} ({st['windows']})", st, melody_stats.l1(st["pitch_class_counts"], data_hist)) for name, st in per_set]
    if rec_st:
        columns.append((f"recon ({len(val)})", rec_st, l1_recon))
    print(f"4. prior samples (z ~ N(0, I), seed {args.seed}) at {setting} vs the held-out data (all {nval} validation "
          f"windows of {os.path.basename(data_path)}, and per set) and the greedy reconstructions:")
    w0 = max(len(r[0]) for r in STAT_ROWS)
    widths = [max(len(c[0]), 8) for c in columns]
    print("   " + f"{'metric':<{w0}} | " + " | ".join(f"{c[0]:>{w}}" for c, w in zip(columns, widths)))
    print("   " + "-" * w0 + "-+-" + "-+-".join("-" * w for w in widths))
    print("   " + f"{'pitch-class hist L1 to data':<{w0}} | " + " | ".join(f"{fmt(c[2]) if c[2] is not None else '(ref)':>{w}}"
                                                                         for c, w in zip(columns, widths)))
    for name, key in STAT_ROWS:
        print("   " + f"{name:<{w0}} | " + " | ".join(f"{fmt(c[1][key]):>{w}}" for c, w in zip(columns, widths)))
    print(f"   baselines for the L1: uniform histogram {l1_uniform:.3f}; a random {len(base_idx)}-window subset of the "
          f"validation data {l1_subset:.3f}")
    print("   (ranges, scale fit and pitch mean are over windows with at least one note-on; scale fit: 12 major + 12 "
          "natural-minor keys; repetition and interval figures: tools/melody_stats.py form_summary)")
    print(f"5. issue 20's targets ({setting}; tools/melody_targets.py):")
    rows = melody_targets.targets(samp_st, data_st, m, args.samples)
    for name, v, goal, met in rows:
        print(f"   {'met ' if met else 'MISS'} {name:<38} {fmt(float(v), 4):>8}   {goal}")
    print(f"   met {sum(r[3] for r in rows)} of {len(rows)}; sampling distance to the data "
          f"{melody_targets.sampling_distance(samp_st, data_st):.3f}, form distance {melody_targets.form_distance(samp_st, data_st):.3f}")
    sweep = run_sweep(args, model, data_st) if args.sweep_temperatures else None
    print(f"time: windows {t1 - t0:.1f} s, samples {t2 - t1:.1f} s, total {time.time() - t0:.1f} s")

    if args.json:
        report = {"command": command, "checkpoint": os.path.abspath(ckpt_path), "step": step,
                  "train_seconds": ckpt["state"].get("train_seconds"), "preset": ckpt.get("preset"), "sizes": ckpt["sizes"],
                  "data": os.path.abspath(data_path), "val_windows_total": nval, "val_windows_evaluated": int(len(val)),
                  "val_subset": subset, "seed": args.seed, "threads": torch.get_num_threads(),
                  "samples": args.samples, "temperature": temperature, "top_k": top_k, "top_p": top_p, "form": form,
                  "windows": m,
                  "pitch_class_l1": {"samples": l1_samples, "recon": l1_recon, "uniform": l1_uniform,
                                     "data_subset_%d" % len(base_idx): l1_subset},
                  "stats": {"samples": samp_st, "data_val": data_st, "recon": rec_st, **{"data_val_" + n: st for n, st in per_set}},
                  "targets": [{"target": r[0], "value": float(r[1]), "goal": r[2], "met": bool(r[3])} for r in rows],
                  "sweep": sweep, "seconds": time.time() - t0}
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(finite(report), f, indent=1)
        print("wrote", args.json)
    return 0


# ---------------------------------------------------------------- self-test

def self_test():
    """Tiny perturbed model in float64: the step-by-step decode's logits must equal an independent numpy TF-maths
    decoder run teacher-forced on the decoded events from the exported Magenta-named tensors (this checks the
    bar-start rule and the state layout), and HierdecVAE.decode_teacher_forced on them;
    its events must be the argmax of its logits, and sampling must repeat under the same seed."""
    import train_hierdec
    torch.manual_seed(4321)
    model = HierdecVAE(*PRESETS["tiny"]).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.empty_like(p).uniform_(-0.3, 0.3))
    model.eval()
    ok = True
    z = torch.randn(5, model.sizes["z_size"], generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    w = train_hierdec.magenta_tensors(model)
    for temp in (0.0, 0.7):
        ev, logits = decode(model, z, temp, torch.Generator().manual_seed(9))
        ref_logits = train_hierdec.numpy_decoder_logits(w, z.numpy(), ev.numpy())
        err = float(np.abs(ref_logits - logits.numpy()).max())
        good = err < 1e-8
        if temp == 0.0:
            good &= bool((logits.argmax(dim=2) == ev).all())
        ok &= good
        print(f"self-test T={temp}: max |stepwise - numpy TF reference (teacher-forced on the decoded events)| = "
              f"{err:.2e} {'ok' if good else 'FAIL'}")
        tf = model.decode_teacher_forced(z, F.one_hot(ev, CLASSES).double())
        err2 = float((tf - logits).abs().max())
        ok &= err2 < 1e-8
        print(f"self-test T={temp}: max |stepwise - HierdecVAE.decode_teacher_forced| = {err2:.2e} {'ok' if err2 < 1e-8 else 'FAIL'}")
    a, _ = decode(model, z, 0.7, torch.Generator().manual_seed(9))
    b, _ = decode(model, z, 0.7, torch.Generator().manual_seed(9))
    c, _ = decode(model, z, 0.7, torch.Generator().manual_seed(10))
    good = bool((a == b).all()) and not bool((a == c).all())
    ok &= good
    print(f"self-test: sampling repeats under one seed, differs under another: {'ok' if good else 'FAIL'}")
    ev = np.array([[2, 0, 0, 1, 14, 0, 16, 1] * 32, [0] * 255 + [50]])
    st = melody_stats.summary(ev)
    fits, keys = melody_stats.scale_fit(ev)
    good = (st["note_ons_per_bar"] == (3 * 32 + 1) / 32 and st["pitch_min"] == 21 and st["pitch_max"] == 69
            and abs(fits[0] - 1.0) < 1e-12 and st["mean_pitch_range"] == (35 - 21 + 0) / 2
            and melody_stats.pitch_ranges(ev).tolist() == [14, 0])
    ok &= good
    print(f"self-test: melody_stats on a hand-made window: {'ok' if good else 'FAIL'} "
          f"(best key {melody_stats.KEY_NAMES[keys[0]]})")
    print("self-test:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
