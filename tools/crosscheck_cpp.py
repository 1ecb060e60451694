#!/usr/bin/python3
"""Cross-check photong's C++ MusicVAE (photong-reconstruct) against the PyTorch model of train_hierdec.py.

usage:
  crosscheck_cpp.py --run-dir RUN                   (RUN/checkpoint.pt, exported to a temporary fp32 file)
  crosscheck_cpp.py --weights EXPORT.safetensors    (Magenta-named export; fp32 or fp16)
      [--data build/melody-data/mel16.safetensors] [--count 50] [--seed S] [--cpp build/examples/photong-reconstruct]
      [--torch-dtype float64|float32] [--tol 1e-3] [--margin 1e-4] [--perturb SCALE] [--keep DIR]
  crosscheck_cpp.py --make-synthetic OUT.safetensors [--train N] [--val N]   (a tiny random melody data file)
      [--sampled T,K,P,FORM,SEED ...]   (also a sampled decode with top-k/top-p and a song form, draw for draw)

Both sides read the same weights and the same melodies (the first --count rows of the data file's
`val_events`, or `events`; a seeded random choice with --seed):
- PyTorch (train_hierdec.HierdecVAE; from --weights the export is mapped back to nn.LSTM's layout,
  the inverse of train_hierdec.magenta_tensors): encode -> mu, sigma; greedy hierarchical decode of
  mu, 16 steps per bar, each bar's first input the previous bar's last event (none before bar 1);
- C++: photong-reconstruct --weights W --input IN -o OUT (mu, sigma, greedy events, logits).
Reported: max |mu diff|, max |sigma diff|, melodies whose decoded events are identical, the first
divergence (melody, step) with PyTorch's top-2 logit margin there, the max |logits diff| over the
equal prefix (the divergence step included: its inputs are still equal); and a "forced" pass:
PyTorch teacher-forced on the C++ events (the same computation as a greedy decode that made the C++
choices), comparing the logits at all steps and checking every step where PyTorch's argmax differs
from the C++ choice. Such a difference is explained only where PyTorch's logit gap between its
argmax and the C++ choice is below --margin (a near tie that float rounding may decide either way).
--perturb SCALE adds seeded uniform noise in [-SCALE, SCALE] to every weight first (both sides then read
the perturbed fp32 export): an implementation check for young models whose greedy decode is all holds
(it would leave the decoder's other event inputs unexercised).
Exit 1 when max |mu diff| or max |sigma diff| > --tol or a divergence is unexplained; 2 on a usage or
setup error.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "weights"))
import safetensors_io  # noqa: E402

CLASSES, STEPS_PER_BAR = 90, 16


def make_synthetic(path, n_train, n_val, seed=0, steps=256):
    """Random monophonic melodies in the 90-class encoding (0 hold, 1 note off, 2.. pitch 21+): a pitch
    (mostly 55..79) on ~30% of steps, a note off on ~8%, holds otherwise; every sequence starts with a note."""
    rng = np.random.default_rng(seed)

    def block(n):
        r = rng.random((n, steps))
        pitch = np.clip(np.round(rng.normal(67, 6, (n, steps))), 21, 108).astype(np.int64) - 21 + 2
        ev = np.where(r < 0.30, pitch, np.where(r < 0.38, 1, 0))
        ev[:, 0] = pitch[:, 0]
        return ev.astype(np.int32)

    safetensors_io.save(path, {"train_events": block(n_train), "val_events": block(n_val)},
                        {"format": "synthetic test melodies (tools/crosscheck_cpp.py --make-synthetic)", "seed": str(seed)})
    print(f"wrote {path}: {n_train} train, {n_val} val synthetic melodies of {steps} steps")


def greedy_decode(model, z, bars):
    """Greedy hierarchical decode of z [B, z]: returns events [B, T] (int64) and logits [B, T, C]."""
    import torch
    import torch.nn.functional as F
    s = model.sizes
    B = z.shape[0]
    cond_state = model._initial_state(model.cond_init(z), s["cond_layers"], s["cond_units"])
    emb, _ = model.conductor(z.new_zeros(B, bars, 1), cond_state)  # [B, bars, cond_units]
    events = torch.zeros(B, bars * STEPS_PER_BAR, dtype=torch.long)
    logits = z.new_zeros(B, bars * STEPS_PER_BAR, CLASSES)
    prev = z.new_zeros(B, CLASSES)  # nothing before bar 1
    for bar in range(bars):
        e = emb[:, bar]
        state = model._initial_state(model.core_init(e), s["core_layers"], s["core_units"])
        for t in range(STEPS_PER_BAR):
            out, state = model.core(torch.cat([prev, e], dim=1).unsqueeze(1), state)
            step = bar * STEPS_PER_BAR + t
            logits[:, step] = model.proj(out[:, 0])
            events[:, step] = logits[:, step].argmax(dim=1)
            prev = F.one_hot(events[:, step], CLASSES).to(z.dtype)  # a bar's last event starts the next bar
    return events, logits


def teacher_forced(model, z, events):
    """PyTorch logits given the event choices `events` [B, T] (any whole number of bars)."""
    return teacher_forced_form(model, z, events, list(range(events.shape[1] // STEPS_PER_BAR)))


def teacher_forced_form(model, z, events, sources):
    """PyTorch logits given the event choices `events` [B, T] (any whole number of bars), bar b decoded from the
    conductor embedding of bar sources[b] (a song form; range(bars) for none)."""
    import torch
    import torch.nn.functional as F
    s = model.sizes
    B, T = events.shape
    bars = T // STEPS_PER_BAR
    onehot = F.one_hot(events, CLASSES).to(z.dtype)
    cond_state = model._initial_state(model.cond_init(z), s["cond_layers"], s["cond_units"])
    emb, _ = model.conductor(z.new_zeros(B, bars, 1), cond_state)
    emb = emb[:, sources].reshape(B * bars, s["cond_units"])
    core_state = model._initial_state(model.core_init(emb), s["core_layers"], s["core_units"])
    prev = torch.cat([onehot.new_zeros(B, 1, CLASSES), onehot[:, :-1]], dim=1).reshape(B * bars, STEPS_PER_BAR, CLASSES)
    out, _ = model.core(torch.cat([prev, emb.unsqueeze(1).expand(-1, STEPS_PER_BAR, -1)], dim=2), core_state)
    return model.proj(out).reshape(B, T, CLASSES)


def sampled_check(args, spec, model, weights, inp, work, mu):
    """One --sampled spec "T,top_k,top_p,form,seed": photong-reconstruct samples the decode of mu; the reference
    (tools/hierdec_decode.py, uniforms from tests/reference/rng_reference.py) must make the same choice at every step
    from the C++ logits, and PyTorch teacher-forced on the C++ events (with the form's embedding sources) must give
    the same logits, and the same choices except where the uniform lies within --margin of a class boundary."""
    import torch
    import hierdec_decode as hd
    t, k, p, form, seed = spec.split(",")
    sampling = hd.Sampling(float(t), int(k), float(p))
    out = os.path.join(work, "cpp_sampled.safetensors")
    cmd = [args.cpp, "--weights", weights, "--input", inp, "-o", out, "--temperature", t, "--top-k", k, "--top-p", p,
           "--form", form, "--seed", seed]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"sampled {spec}: {args.cpp} failed ({r.returncode}): {r.stderr.strip()}"]
    cpp, _ = safetensors_io.load(out)
    events, logits = cpp["events"].astype(np.int64), cpp["logits"]
    n, T = events.shape
    bars = T // STEPS_PER_BAR
    src = hd.form_sources(form, bars)
    u = hd.uniform_stream(int(seed), bars * STEPS_PER_BAR * n).reshape(bars, STEPS_PER_BAR, n)
    ref_events = np.zeros_like(events)
    ref_margin = np.zeros(events.shape)
    for step in range(T):
        ref_events[:, step], ref_margin[:, step] = hd.pick(logits[:, step], u[src[step // STEPS_PER_BAR], step % STEPS_PER_BAR], sampling)
    bad_pick = np.argwhere((ref_events != events) & (ref_margin >= 1e-12))
    with torch.no_grad():
        forced = teacher_forced_form(model, torch.from_numpy(mu), torch.from_numpy(events), src).double().numpy()
    f_diff = float(np.abs(forced - logits.astype(np.float64)).max())
    torch_events = np.zeros_like(events)
    torch_margin = np.zeros(events.shape)
    for step in range(T):
        torch_events[:, step], torch_margin[:, step] = hd.pick(forced[:, step], u[src[step // STEPS_PER_BAR], step % STEPS_PER_BAR], sampling)
    differ = torch_events != events
    unexplained = np.argwhere(differ & (torch_margin >= args.margin))
    repeats = sum(src[b] != b for b in range(bars))
    print(f"sampled {sampling} form {form} seed {seed} ({repeats} of {bars} bars replayed): C++ {len(np.unique(events))} distinct "
          f"classes; the reference sampler on the C++ logits chose the C++ event at {int((ref_events == events).sum())}/{n * T} "
          f"steps ({len(bad_pick)} differ beyond a 1e-12 tie); PyTorch teacher-forced logits max |diff| {f_diff:.3e}, its own "
          f"choices differ at {int(differ.sum())} steps, {len(unexplained)} of them with the uniform >= {args.margin:g} from a "
          f"boundary")
    fail = []
    if len(bad_pick):
        fail.append(f"sampled {spec}: the reference sampler disagrees at {len(bad_pick)} steps (first {tuple(bad_pick[0])})")
    if len(unexplained):
        fail.append(f"sampled {spec}: {len(unexplained)} unexplained PyTorch/C++ choices (first {tuple(unexplained[0])})")
    if f_diff > args.tol:
        fail.append(f"sampled {spec}: logits differ by {f_diff:.3e}")
    return fail


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run-dir", help="training run directory holding checkpoint.pt")
    src.add_argument("--weights", help="Magenta-named safetensors export (train_hierdec.py --export)")
    src.add_argument("--make-synthetic", metavar="OUT", help="write a synthetic melody data file and exit")
    ap.add_argument("--train", type=int, default=128, help="--make-synthetic: training sequences")
    ap.add_argument("--val", type=int, default=50, help="--make-synthetic: validation sequences")
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "melody-data", "mel16.safetensors"))
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None, help="choose --count melodies at random with this seed (default: the first)")
    ap.add_argument("--cpp", default=os.path.join(ROOT, "build", "examples", "photong-reconstruct"))
    ap.add_argument("--torch-dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--tol", type=float, default=1e-3, help="max |mu diff| and |sigma diff| allowed")
    ap.add_argument("--margin", type=float, default=1e-4, help="a divergence is explained below this PyTorch logit gap")
    ap.add_argument("--perturb", type=float, default=0.0, help="add uniform noise of this scale to every weight (implementation check)")
    ap.add_argument("--keep", default=None, help="keep the exported weights, inputs and C++ output in this directory")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sampled", action="append", default=[], metavar="T,K,P,FORM,SEED",
                    help="also check a sampled decode of mu: temperature, top-k, top-p, song form (none, AABA, ABAB!, ...), seed; "
                         "repeatable")
    args = ap.parse_args(argv)

    if args.make_synthetic:
        make_synthetic(args.make_synthetic, args.train, args.val)
        return 0

    import torch
    torch.set_num_threads(args.threads)
    import train_hierdec as th

    if not os.path.exists(args.cpp):
        print(f"crosscheck: no C++ tool at {args.cpp} (cmake --build build --target photong-reconstruct)", file=sys.stderr)
        return 2
    data, _ = safetensors_io.load(args.data)
    key = "val_events" if "val_events" in data else "events"
    if key not in data:
        print(f"crosscheck: {args.data} holds neither val_events nor events", file=sys.stderr)
        return 2
    pool = data[key]
    n = min(args.count, len(pool))
    idx = np.arange(n) if args.seed is None else np.sort(np.random.default_rng(args.seed).choice(len(pool), n, replace=False))
    events = pool[idx].astype(np.int32)
    T = events.shape[1]
    if T % STEPS_PER_BAR:
        print(f"crosscheck: {T} steps per sequence is not whole bars", file=sys.stderr)
        return 2
    bars = T // STEPS_PER_BAR

    tmp = tempfile.TemporaryDirectory(prefix="crosscheck-")
    work = args.keep or tmp.name
    os.makedirs(work, exist_ok=True)
    if args.run_dir:
        ckpt = torch.load(os.path.join(args.run_dir, "checkpoint.pt"), map_location="cpu")
        model = th.HierdecVAE(**ckpt["sizes"])
        model.load_state_dict(ckpt["model"])
        weights = os.path.join(work, "export_fp32.safetensors")
        meta = {"model": "music_vae", "architecture": "hierdec-mel_16bar", "steps_trained": str(ckpt["state"]["step"]),
                "source": "tools/crosscheck_cpp.py export of " + os.path.abspath(args.run_dir)}
        th.export(model, weights, False, meta)
        label = f"{args.run_dir} (step {ckpt['state']['step']}, sizes {ckpt['sizes']})"
        model = model.double()
    else:
        weights = args.weights
        w, meta = safetensors_io.load(weights)
        model = th.model_from_tensors(w, dtype=torch.float64)
        back = th.magenta_tensors(model)
        rt = max(float(np.abs(back[k] - w[k].astype(np.float64)).max()) for k in w)
        if set(back) != set(w):
            print(f"crosscheck: {weights}: variables the model does not use or lacks: {sorted(set(w) ^ set(back))}", file=sys.stderr)
            return 2
        label = f"{weights} ({w['encoder/mu/kernel'].dtype}, steps_trained {meta.get('steps_trained', '?')}, sizes {model.sizes}; " \
                f"export round trip {rt:.1e})"
    if args.perturb > 0:
        g = torch.Generator().manual_seed(20261122)
        with torch.no_grad():
            for prm in model.parameters():
                prm.add_((torch.rand(prm.shape, generator=g, dtype=torch.float64) * 2 - 1).to(prm.dtype) * args.perturb)
        weights = os.path.join(work, "export_perturbed_fp32.safetensors")
        th.export(model, weights, False, {"model": "music_vae", "source": f"tools/crosscheck_cpp.py --perturb {args.perturb:g}"})
        model = th.model_from_tensors(safetensors_io.load(weights)[0], weights, torch.float64)  # exactly the values the C++ reads
        label += f"; weights perturbed by uniform noise of scale {args.perturb:g}"
    model = model.to(getattr(torch, args.torch_dtype)).eval()

    inp, out = os.path.join(work, "input.safetensors"), os.path.join(work, "cpp_out.safetensors")
    safetensors_io.save(inp, {"events": events})
    r = subprocess.run([args.cpp, "--weights", weights, "--input", inp, "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"crosscheck: {args.cpp} failed ({r.returncode}):\n{r.stdout}{r.stderr}", file=sys.stderr)
        return 1
    print("C++:", r.stdout.strip())
    cpp, _ = safetensors_io.load(out)

    with torch.no_grad():
        ev = torch.from_numpy(events.astype(np.int64))
        onehot = torch.nn.functional.one_hot(ev, CLASSES).to(model.mu.weight.dtype)
        mu, sigma = model.encode(onehot)
        py_events, py_logits = greedy_decode(model, mu, bars)
        forced = teacher_forced(model, mu, torch.from_numpy(cpp["events"].astype(np.int64)))
    mu, sigma = mu.double().numpy(), sigma.double().numpy()
    py_events, py_logits, forced = py_events.numpy(), py_logits.double().numpy(), forced.double().numpy()
    c_events, c_logits = cpp["events"].astype(np.int64), cpp["logits"].astype(np.float64)

    d_mu = float(np.abs(mu - cpp["mu"]).max())
    d_sigma = float(np.abs(sigma - cpp["sigma"]).max())
    same = np.all(py_events == c_events, axis=1)
    print(f"model: {label}")
    print(f"melodies: {n} from {key} of {args.data}" + ("" if args.seed is None else f" (seed {args.seed})") +
          f", {T} steps; PyTorch {args.torch_dtype}, C++ float32")
    print(f"mu    max |diff| {d_mu:.3e}  (|mu| up to {np.abs(mu).max():.3g}; tolerance {args.tol:g})")
    print(f"sigma max |diff| {d_sigma:.3e}  (sigma {sigma.min():.3g}..{sigma.max():.3g})")
    print(f"decoded events identical: {int(same.sum())}/{n} melodies; "
          f"C++ reconstructs the input exactly for {int(np.all(c_events == events, axis=1).sum())}, "
          f"per-step reconstruction accuracy {float((c_events == events).mean()):.4f}; "
          f"{len(np.unique(c_events))} distinct classes decoded" + (" (all holds: the decoder's other event inputs are not "
                                                                      "exercised; see --perturb)" if not c_events.any() else ""))

    unexplained = []
    prefix_diff = 0.0
    first = None
    for b in range(n):
        diff = np.nonzero(py_events[b] != c_events[b])[0]
        end = T if len(diff) == 0 else diff[0] + 1  # the divergence step's inputs are still equal
        prefix_diff = max(prefix_diff, float(np.abs(py_logits[b, :end] - c_logits[b, :end]).max()))
        if len(diff) and first is None:
            first = (b, int(diff[0]))
    print(f"logits max |diff| over the equal prefixes: {prefix_diff:.3e}")
    if first is None:
        print("first divergence: none")
    else:
        b, s = first
        top = np.sort(py_logits[b, s])[::-1]
        print(f"first divergence: melody {b} (row {int(idx[b])}), step {s} (bar {s // STEPS_PER_BAR}, step {s % STEPS_PER_BAR}): "
              f"PyTorch {py_events[b, s]}, C++ {c_events[b, s]}; PyTorch top-2 margin {top[0] - top[1]:.3e}, "
              f"C++ top-2 margin {np.subtract(*np.sort(c_logits[b, s])[::-1][:2]):.3e}")

    # Forced: PyTorch given the C++ choices, every step of every melody.
    f_diff = float(np.abs(forced - c_logits).max())
    f_arg = forced.argmax(axis=2)
    rows, steps = np.nonzero(f_arg != c_events)
    print(f"forced (PyTorch teacher-forced on the C++ events): logits max |diff| {f_diff:.3e} over all {n * T} steps; "
          f"{len(rows)} steps where PyTorch's argmax differs from the C++ choice")
    for b, s in zip(rows, steps):
        l = forced[b, s]
        gap = float(l[f_arg[b, s]] - l[c_events[b, s]])
        ok = gap < args.margin
        top = np.sort(l)[::-1]
        print(f"  melody {b} step {s}: PyTorch {f_arg[b, s]} vs C++ {c_events[b, s]}, PyTorch gap {gap:.3e} "
              f"(top-2 margin {top[0] - top[1]:.3e}): {'a near tie (< %g), explained by rounding' % args.margin if ok else 'UNEXPLAINED'}")
        if not ok:
            unexplained.append((int(b), int(s)))

    fail = []
    for spec in args.sampled:
        fail += sampled_check(args, spec, model, weights, inp, work, mu.astype(np.float64) if args.torch_dtype == "float64" else mu)
    if d_mu > args.tol:
        fail.append(f"mu differs by {d_mu:.3e} > {args.tol:g}")
    if d_sigma > args.tol:
        fail.append(f"sigma differs by {d_sigma:.3e} > {args.tol:g}")
    if unexplained:
        fail.append(f"{len(unexplained)} unexplained divergences (first {unexplained[0]})")
    if args.keep:
        print(f"kept {weights}, {inp}, {out}")
    print("crosscheck:", "FAILED: " + "; ".join(fail) if fail else "PASSED")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
