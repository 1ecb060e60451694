#!/usr/bin/python3
"""Evaluate a hierdec-mel_16bar MusicVAE checkpoint written by tools/train_hierdec.py on held-out songs.

usage:
  eval_hierdec.py --run-dir RUN | --checkpoint CKPT.pt|EXPORT.safetensors [--data build/melody-data/mel16.safetensors] [--max-val N] [--samples 100]
                  [--temperature 0.5] [--batch-size 64] [--seed 0] [--threads 1] [--json OUT.json]
  eval_hierdec.py --self-test        (tiny random model: the step-by-step decoder against a numpy TF reference)

Reads RUN/checkpoint.pt (the model class HierdecVAE is imported from train_hierdec.py) and the validation
windows `val_events` of the data file (songs never seen in training; --max-val N takes a seeded random subset
of N of them, 0 = all), and prints:

1. teacher-forced next-event accuracy and reconstruction loss (sum of cross-entropy per sequence, nats) with
   z = mu (no sampling noise), and with z = mu + sigma * eps (eps ~ N(0, I), seeded) as in training;
2. reconstruction accuracy: encode -> z = mu -> greedy autoregressive decode -> fraction of the 256 events
   equal to the input, averaged over windows (and the fraction of windows reproduced exactly);
3. KL(N(mu, sigma) || N(0, I)) per sequence, mean over the windows, in nats and bits;
4. --samples prior samples (z ~ N(0, I), seeded) decoded at --temperature, compared with the data (all
   validation windows of the file, whatever --max-val) and with the greedy reconstructions: pitch-class
   histogram L1 distance to the data (with the uniform histogram's distance, and a same-size random subset of
   the data, as baselines), mean pitch range per window, note-ons and note-offs per bar, fraction of steps
   held, and the mean fraction of a window's note-ons inside its best-fitting major / natural-minor scale
   (all 24 keys tried). tools/melody_stats.py computes these, the same code as melody_dataset.py --check.

Decoding is the hierarchical decode of photong's C++ HierarchicalLstmDecoder (music_vae_hier.hpp): the
conductor runs once over its 16 steps (zero inputs, state tanh(dense(z))); for each bar the core decoder's
state is tanh(dense(bar embedding)) and its first "previous event" is the previous bar's last decoded event
(zeros for the first bar), then it steps one event at a time on [previous event one-hot, embedding], all
sequences batched. Temperature > 0 samples by inverse CDF from softmax(logits / T) with one seeded uniform
per event (as the C++ decoder draws); temperature 0 is argmax.

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
import melody_stats  # noqa: E402
import safetensors_io  # noqa: E402
from train_hierdec import BARS, CLASSES, PRESETS, SEQ_LEN, STEPS_PER_BAR, HierdecVAE, model_from_tensors  # noqa: E402


# ---------------------------------------------------------------- decoding

@torch.no_grad()
def decode(model, z, temperature=0.0, generator=None):
    """Hierarchical autoregressive decode of z [B, z_size] -> (events [B, 256] int64, logits [B, 256, 90])."""
    s = model.sizes
    B = z.shape[0]
    cond_state = model._initial_state(model.cond_init(z), s["cond_layers"], s["cond_units"])
    emb, _ = model.conductor(z.new_zeros(B, BARS, 1), cond_state)  # [B, BARS, cond_units], conductor run once
    events = torch.zeros(B, SEQ_LEN, dtype=torch.long)
    logits_all = z.new_zeros(B, SEQ_LEN, CLASSES)
    prev = z.new_zeros(B, CLASSES)  # the first bar starts from no event
    rows = torch.arange(B)
    for bar in range(BARS):
        e = emb[:, bar]
        state = model._initial_state(model.core_init(e), s["core_layers"], s["core_units"])
        for t in range(STEPS_PER_BAR):
            out, state = model.core(torch.cat([prev, e], dim=1).unsqueeze(1), state)
            logits = model.proj(out[:, 0])
            if temperature > 0:
                p = torch.softmax(logits.double() / temperature, dim=1)
                cdf = torch.cumsum(p, dim=1)
                u = torch.rand(B, 1, generator=generator, dtype=torch.float64)
                ev = torch.searchsorted(cdf, u * cdf[:, -1:]).squeeze(1).clamp_(max=CLASSES - 1)
            else:
                ev = logits.argmax(dim=1)
            step = bar * STEPS_PER_BAR + t
            events[:, step] = ev
            logits_all[:, step] = logits
            prev = z.new_zeros(B, CLASSES)
            prev[rows, ev] = 1.0  # carried into the next bar: its first input is this bar's last event
    return events, logits_all


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
def prior_samples(model, count, temperature, batch, seed):
    gz = torch.Generator().manual_seed(seed * 7919 + 23)
    gs = torch.Generator().manual_seed(seed * 7919 + 37)
    z = torch.randn(count, model.sizes["z_size"], generator=gz)
    out = []
    for i in range(0, count, batch):
        ev, _ = decode(model, z[i:i + batch], temperature, gs)
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
                       "data": None, "exported_dtype": meta.get("exported_dtype")}
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", help="training output directory holding checkpoint.pt")
    ap.add_argument("--checkpoint", help="checkpoint file (default RUN_DIR/checkpoint.pt), or an exported .safetensors "
                    "(e.g. weights/hierdec_mel16_photong.safetensors: its float16 values, as the C++ library reads them)")
    ap.add_argument("--data", default=None, help="data file (default: the one the checkpoint was trained on)")
    ap.add_argument("--max-val", type=int, default=0, help="evaluate a seeded random subset of N validation windows (0 = all)")
    ap.add_argument("--samples", type=int, default=100, help="prior samples to draw")
    ap.add_argument("--temperature", type=float, default=0.5, help="sampling temperature of the prior samples")
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
    tensors, _ = safetensors_io.load(data_path)
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

    m, recon = evaluate_windows(model, val, args.batch_size, args.seed)
    t1 = time.time()
    print(f"1. teacher-forced next-event accuracy, z = mu (no sampling noise): {m['tf_acc_mu']:.4f}  "
          f"(recon loss {m['tf_recon_mu']:.2f} nats/sequence)")
    print(f"   teacher-forced next-event accuracy, z = mu + sigma*eps (sampled, as in training): {m['tf_acc_sampled']:.4f}  "
          f"(recon loss {m['tf_recon_sampled']:.2f} nats/sequence)")
    print(f"2. greedy reconstruction accuracy (encode -> mu -> greedy hierarchical decode): {m['recon_acc']:.4f} of events; "
          f"{m['recon_exact']:.4f} of windows exact")
    print(f"3. KL per sequence: {m['kl_nats']:.2f} nats = {m['kl_bits']:.2f} bits (mean over {len(val)} windows)")

    samples = prior_samples(model, args.samples, args.temperature, args.batch_size, args.seed)
    t2 = time.time()
    data_st = melody_stats.summary(val_all)
    samp_st = melody_stats.summary(samples)
    rec_st = melody_stats.summary(recon)
    data_hist = data_st["pitch_class_counts"]
    l1_samples = melody_stats.l1(samp_st["pitch_class_counts"], data_hist)
    l1_recon = melody_stats.l1(rec_st["pitch_class_counts"], data_hist)
    l1_uniform = melody_stats.l1(np.ones(12), data_hist)
    base_idx = np.random.default_rng([args.seed, 2]).choice(nval, min(args.samples, nval), replace=False)
    l1_subset = melody_stats.l1(melody_stats.pitch_class_histogram(val_all[base_idx]), data_hist)

    cols = [f"samples ({args.samples}, T={args.temperature:g})", f"data (val, all {nval})", f"recon (greedy, {len(val)})"]
    rows = [
        ("pitch-class hist L1 to data", l1_samples, "(ref)", l1_recon),
        ("mean pitch range / window", samp_st["mean_pitch_range"], data_st["mean_pitch_range"], rec_st["mean_pitch_range"]),
        ("note-ons per bar", samp_st["note_ons_per_bar"], data_st["note_ons_per_bar"], rec_st["note_ons_per_bar"]),
        ("note-offs per bar", samp_st["note_offs_per_bar"], data_st["note_offs_per_bar"], rec_st["note_offs_per_bar"]),
        ("fraction of steps held", samp_st["hold_fraction"], data_st["hold_fraction"], rec_st["hold_fraction"]),
        ("best-scale fit (24 keys)", samp_st["scale_fit"], data_st["scale_fit"], rec_st["scale_fit"]),
        ("mean note-on pitch", samp_st["pitch_mean"], data_st["pitch_mean"], rec_st["pitch_mean"]),
        ("windows without note-on", samp_st["windows_without_note_on"], data_st["windows_without_note_on"],
         rec_st["windows_without_note_on"]),
    ]
    print(f"4. prior samples (z ~ N(0, I), seed {args.seed}) at temperature {args.temperature:g} vs the data "
          f"(all {nval} validation windows of {os.path.basename(data_path)}) and the greedy reconstructions:")
    w0 = max(len(r[0]) for r in rows)
    widths = [max(len(c), 8) for c in cols]
    print("   " + f"{'metric':<{w0}} | " + " | ".join(f"{c:>{w}}" for c, w in zip(cols, widths)))
    print("   " + "-" * w0 + "-+-" + "-+-".join("-" * w for w in widths))
    for name, *vals in rows:
        print("   " + f"{name:<{w0}} | " + " | ".join(f"{fmt(v):>{w}}" for v, w in zip(vals, widths)))
    print(f"   baselines for the L1: uniform histogram {l1_uniform:.3f}; a random {len(base_idx)}-window subset of the "
          f"validation data {l1_subset:.3f}")
    print("   pitch-class shares %:   " + " ".join(f"{p:>5}" for p in melody_stats.PC_NAMES))
    for label, st in (("samples", samp_st), ("data", data_st), ("recon", rec_st)):
        print(f"   {label:<22} " + " ".join(f"{fmt(100 * h, 1):>5}" for h in st["pitch_class_hist"]))
    print("   (ranges, scale fit and pitch mean are over windows with at least one note-on; scale fit: 12 major + 12 "
          "natural-minor keys, which form 12 distinct pitch-class sets)")
    print(f"time: windows {t1 - t0:.1f} s, samples {t2 - t1:.1f} s, total {time.time() - t0:.1f} s")

    if args.json:
        report = {"command": command, "checkpoint": os.path.abspath(ckpt_path), "step": step,
                  "train_seconds": ckpt["state"].get("train_seconds"), "preset": ckpt.get("preset"), "sizes": ckpt["sizes"],
                  "data": os.path.abspath(data_path), "val_windows_total": nval, "val_windows_evaluated": int(len(val)),
                  "val_subset": subset, "seed": args.seed, "threads": torch.get_num_threads(),
                  "samples": args.samples, "temperature": args.temperature,
                  "windows": m,
                  "pitch_class_l1": {"samples": l1_samples, "recon": l1_recon, "uniform": l1_uniform,
                                     "data_subset_%d" % len(base_idx): l1_subset},
                  "stats": {"samples": samp_st, "data_val": data_st, "recon": rec_st},
                  "seconds": time.time() - t0}
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
