#!/usr/bin/python3
"""Give a trained hierdec-mel_16bar model a smaller encoder without losing what its decoder learned.

usage: distill_encoder.py --teacher RUN/checkpoint.pt|EXPORT.safetensors --enc-units 128 [--enc-layers 2]
                          --out STUDENT.safetensors [--steps 600] [--batch-size 64] [--data build/melody-data/mel16.safetensors]
                          [--seed 0] [--threads 1]

Why: the bidirectional encoder costs about half of a training step on the CPU (tools/train_throughput.py: the
`cpu` preset at 256 units per direction 4.19 s per batch-64 step, at 128 units 2.00 s) and, trained from scratch,
the 128-unit encoder learned as fast per step (weights/MELODY.md, learning curves). Starting a smaller encoder from
scratch under a trained decoder would throw away the latent code the decoder reads, so the student encoder is first
taught to give the teacher's posterior: for each (transposed, as in training) window, minimise
KL(N(mu_t, sigma_t) || N(mu_s, sigma_s)) summed over z, the teacher's encoder frozen. Only the student's encoder,
mu and sigma layers train; the decoder is the teacher's, copied exactly.

Printed at the end, on the validation windows: the KL between the two posteriors, and the decoder's teacher-forced
accuracy and reconstruction loss with z = mu from the teacher and from the student (the student "keeps the
reconstruction" when these agree). The student is exported with Magenta's names (train_hierdec.export, float32),
its steps_trained and training_seconds the teacher's (plus the distillation's seconds), so
`train_hierdec.py --init-from STUDENT` continues the schedule where the teacher was.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import safetensors_io  # noqa: E402
import train_hierdec as th  # noqa: E402


def load_teacher(path):
    """(model, steps_trained, training_seconds, metadata) from a training checkpoint or an export."""
    if path.endswith(".safetensors"):
        tensors, meta = safetensors_io.load(path)
        return (th.model_from_tensors(tensors, path), int(meta.get("steps_trained", "0")),
                float(meta.get("training_seconds", "0")), meta)
    ckpt = torch.load(path, map_location="cpu")
    model = th.HierdecVAE(**ckpt["sizes"])
    model.load_state_dict(ckpt["model"])
    meta = {"preset": str(ckpt.get("preset", "custom")), "seed": str(ckpt["seed"]), "batch_size": str(ckpt["batch_size"])}
    meta.update({"data_" + k: v for k, v in ckpt.get("data_meta", {}).items()})
    return model, ckpt["state"]["step"], ckpt["state"]["train_seconds"], meta


def posterior_kl(mu_t, sigma_t, mu_s, sigma_s):
    """KL(N(mu_t, sigma_t^2) || N(mu_s, sigma_s^2)) summed over z, per window [B]."""
    return (torch.log(sigma_s / sigma_t) + (sigma_t ** 2 + (mu_t - mu_s) ** 2) / (2 * sigma_s ** 2) - 0.5).sum(dim=1)


@torch.no_grad()
def compare(teacher, student, val, batch):
    sums = {"kl": 0.0, "acc_t": 0.0, "acc_s": 0.0, "recon_t": 0.0, "recon_s": 0.0}
    for i in range(0, len(val), batch):
        ev = val[i:i + batch]
        mu_t, sigma_t = teacher.encode_fused(ev)
        mu_s, sigma_s = student.encode_fused(ev)
        sums["kl"] += posterior_kl(mu_t, sigma_t, mu_s, sigma_s).sum().item()
        for tag, mu in (("t", mu_t), ("s", mu_s)):
            logits = teacher.decode_teacher_forced_fused(mu, ev)  # the decoders are equal: the teacher's
            ce = torch.nn.functional.cross_entropy(logits.reshape(-1, th.CLASSES), ev.reshape(-1), reduction="none")
            sums["recon_" + tag] += ce.view(ev.shape).sum().item()
            sums["acc_" + tag] += (logits.argmax(dim=2) == ev).float().mean(dim=1).sum().item()
    return {k: v / len(val) for k, v in sums.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--enc-units", type=int, required=True)
    ap.add_argument("--enc-layers", type=int, default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--data", default=os.path.join(HERE, "..", "build", "melody-data", "mel16.safetensors"))
    ap.add_argument("--val", type=int, default=512, help="validation windows for the comparison (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    th.reexec_with_fast_allocator(args.threads)
    torch.set_num_threads(args.threads)
    teacher, steps, seconds, meta = load_teacher(args.teacher)
    teacher.fused = True
    teacher.eval()
    sizes = dict(teacher.sizes, enc_units=args.enc_units, enc_layers=args.enc_layers or teacher.sizes["enc_layers"])
    torch.manual_seed(args.seed)
    student = th.HierdecVAE(**sizes)
    student.fused = True
    th.load_magenta_tensors(student, th.magenta_tensors(teacher), args.teacher, decoder_only=True)
    for p in teacher.parameters():
        p.requires_grad_(False)
    params = list(student.encoder.parameters()) + list(student.mu.parameters()) + list(student.sigma.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    train, val, _ = th.load_data(args.data)
    val = val[:args.val] if args.val else val
    print(f"teacher {args.teacher} (step {steps}, sizes {teacher.sizes}) -> student encoder {sizes['enc_layers']} x "
          f"{sizes['enc_units']}; {len(train)} train windows in 12 keys, {len(val)} val windows", flush=True)
    t0 = time.time()
    for step in range(args.steps):
        idx, _ = th.batch_indices(step, len(train), args.batch_size, args.seed)
        ev = th.transpose_batch(train[idx], step, args.seed, 12)
        with torch.no_grad():
            mu_t, sigma_t = teacher.encode_fused(ev)
        mu_s, sigma_s = student.encode_fused(ev)
        loss = posterior_kl(mu_t, sigma_t, mu_s, sigma_s).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (step + 1) % 50 == 0:
            print(f"step {step + 1}: KL(teacher || student) {loss.item():.2f} nats per window, {time.time() - t0:.0f} s", flush=True)
    elapsed = time.time() - t0
    student.eval()
    m = compare(teacher, student, val, args.batch_size)
    print(f"validation ({len(val)} windows): KL(teacher || student) {m['kl']:.2f} nats; decoder teacher-forced with z = mu: "
          f"accuracy {m['acc_t']:.4f} (teacher's mu) vs {m['acc_s']:.4f} (student's), reconstruction loss "
          f"{m['recon_t']:.2f} vs {m['recon_s']:.2f} nats per window; {elapsed:.0f} s", flush=True)
    out_meta = {k: v for k, v in meta.items() if k.startswith("data_") or k in ("preset", "seed", "batch_size")}
    out_meta.update({"model": "music_vae", "format_version": "1", "architecture": "hierdec-mel_16bar",
                     "source": f"tools/distill_encoder.py: the decoder of {os.path.basename(args.teacher)}, an encoder of "
                               f"{sizes['enc_layers']} x {sizes['enc_units']} distilled {args.steps} steps from its own",
                     "steps_trained": str(steps), "training_seconds": "%.1f" % (seconds + elapsed),
                     "distilled_encoder": f"{args.steps} steps, batch {args.batch_size}; val KL {m['kl']:.2f} nats, "
                                          f"teacher-forced accuracy {m['acc_t']:.4f} -> {m['acc_s']:.4f}",
                     "preset": str(meta.get("preset", "custom")).split("+")[0] + "+overrides"})
    out_meta.update({k: str(v) for k, v in sizes.items()})
    th.export(student, args.out, False, out_meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
