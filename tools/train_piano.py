#!/usr/bin/env python3
"""Trains photong's expressive piano generator (issue 24): Tan & Antony's performance RNN with its hidden state
initialised from the picture, conditioned per event on the paper's controls plus valence and arousal.

Model (sizes in the exported file; include/photong/models/performance_rnn.hpp runs it):
  h0 (layers, units)  = tanh(Linear(2048 -> layers * units)(pooled InceptionV3 features))   [init/*]
  x_t                 = LeakyReLU_0.1(Linear([Embedding(240, 240)(e_{t-1}), flag, control_t]))   [embedding/*, input/*]
  h_t^k               = GRU layer k (PyTorch gates r, z, n)                                    [gru_k/*]
  logits_t            = Linear(concat_k h_t^k -> 240)                                          [output/*]
  control_t (27)      = note-density one-hot (12) | pitch-class histogram (12) | valence, arousal in [0, 1] | 1 if given
  flag                = 1 when no control at all is given (then control_t = 0), as their model
Differences from their code (seed-facts, tools/performance_events.py): InceptionV3's 2048 pooled features instead
of ResNet-18's 512; the initial state reshaped per row (theirs, view(3, B, 512), mixes rows for B > 1); valence and
arousal added to the control; the time-shift encoding without drift.

Data (tools/piano_dataset.py -> build/piano-data/piano.npz): EIMG 3,000 rated clips, VGMIDI 204 rated phrases,
POP909 909 unrated songs. Pictures: BASS (583 silhouettes with valence/arousal; build/bridge-data/bass_features
.safetensors from photong-embed); a rated window is paired with a random picture of its emotion quadrant, drawn
again for every batch (Photong's Algorithm 1, Tan & Antony's pairing); an unrated one with any picture.
Batches of 64 windows of 200 events (EIMG 50 %, VGMIDI 10 %, POP909 40 %); valence/arousal hidden in 25 % of rated
windows and every control in 10 %, so the model also works without them (and the NLL with and without them can be
compared on the same held-out windows). Adam 1e-3, gradient norm clipped to 1.0, cross-entropy per event.

usage: train_piano.py --out-dir DIR [--resume | --init-from FILE] [--units 256] [--layers 2] [--threads 1] [--max-steps N]
       train_piano.py --out-dir DIR --export FILE.safetensors   (F16, with a metadata model card)
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights"))
import performance_events as pe  # noqa: E402
import safetensors_io  # noqa: E402

N_CONTROL = 27
WINDOW = 200


class PerformanceRNN(nn.Module):
    def __init__(self, units=256, layers=2, image_size=2048, dropout=0.3):
        super().__init__()
        self.units, self.layers = units, layers
        self.embedding = nn.Embedding(pe.N_EVENTS, pe.N_EVENTS)
        self.input = nn.Linear(pe.N_EVENTS + 1 + N_CONTROL, units)
        self.init = nn.Linear(image_size, layers * units)
        self.grus = nn.ModuleList([nn.GRU(units, units, 1, batch_first=True) for _ in range(layers)])
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(layers * units, pe.N_EVENTS)
        for w in (self.embedding.weight, self.input.weight, self.init.weight, self.output.weight):
            nn.init.xavier_normal_(w)
        nn.init.zeros_(self.init.bias)
        nn.init.zeros_(self.output.bias)

    def initial_state(self, image):  # (B, 2048) -> [layers] of (1, B, units)
        h = torch.tanh(self.init(image)).view(-1, self.layers, self.units)
        return [h[:, k].unsqueeze(0).contiguous() for k in range(self.layers)]

    def forward(self, prev_events, flag, control, image):
        """prev_events (B, T) long, flag (B, T, 1), control (B, T, 27), image (B, 2048) -> logits (B, T, 240)."""
        x = F.leaky_relu(self.input(torch.cat([self.embedding(prev_events), flag, control], dim=2)), 0.1)
        outs = []
        for k, (gru, h0) in enumerate(zip(self.grus, self.initial_state(image))):
            x, _ = gru(self.dropout(x) if k > 0 else x, h0)
            outs.append(x)
        return self.output(torch.cat(outs, dim=2))


def export_names(model):
    """The exported file's tensor names -> the model's parameters (the names performance_rnn.hpp reads)."""
    names = {"embedding/weight": model.embedding.weight, "input/weight": model.input.weight, "input/bias": model.input.bias,
             "init/weight": model.init.weight, "init/bias": model.init.bias, "output/weight": model.output.weight, "output/bias": model.output.bias}
    for k, g in enumerate(model.grus):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            names[f"gru_{k}/{name}"] = getattr(g, name + "_l0")
    return names


def tensors_for_export(model):
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in export_names(model).items()}


def load_exported(path):
    """A model built and filled from an exported file (F16 values widened to float32); returns (model, metadata)."""
    t, meta = safetensors_io.load(path)
    model = PerformanceRNN(units=int(meta["units"]), layers=int(meta["layers"]))
    with torch.no_grad():
        for name, p in export_names(model).items():
            p.copy_(torch.as_tensor(np.asarray(t[name], np.float32)))
    return model, meta


class Data:
    def __init__(self, npz, bass):
        d = np.load(npz)
        self.events = d["events"].astype(np.int64)
        self.offsets, self.valence, self.arousal = d["offsets"], d["valence"], d["arousal"]
        self.source, self.split, self.density, self.hist = d["source"], d["split"], d["density"], d["hist"].astype(np.float32)
        t, _ = safetensors_io.load(bass)
        self.images = t["features"].reshape(len(t["valence"]), -1, 2048).mean(axis=1).astype(np.float32)
        self.image_quadrant = ((t["valence"] - 1) / 8 >= 0.5).astype(int) * 2 + ((t["arousal"] - 1) / 8 >= 0.5).astype(int)
        self.by_quadrant = [np.flatnonzero(self.image_quadrant == q) for q in range(4)]

    def pieces(self, split, source):
        return np.flatnonzero((self.split == split) & (self.source == source))

    def window(self, piece, rng):
        """(prev events, targets, density, hist) of a random window of WINDOW targets; the start event before the piece."""
        a, b = int(self.offsets[piece]), int(self.offsets[piece + 1])
        seq = np.concatenate([[pe.START_EVENT], self.events[a:b]])
        dens, hist = self.density[a:b], self.hist[a:b]
        n = len(seq) - 1
        s = int(rng.integers(0, max(1, n - WINDOW + 1)))
        e = min(n, s + WINDOW)
        return seq[s:e], seq[s + 1:e + 1], dens[s:e], hist[s:e]

    def batch(self, pieces_by_source, shares, size, rng, va_dropout=0.25, control_dropout=0.1, deterministic_mask=None):
        prev = np.full((size, WINDOW), pe.START_EVENT, np.int64)
        target = np.full((size, WINDOW), -100, np.int64)  # -100: ignored by cross_entropy
        control = np.zeros((size, WINDOW, N_CONTROL), np.float32)
        flag = np.zeros((size, WINDOW, 1), np.float32)
        image = np.zeros((size, 2048), np.float32)
        counts = np.round(np.asarray(shares) * size).astype(int)
        counts[-1] = size - counts[:-1].sum()
        row = 0
        for src, c in enumerate(counts):
            for _ in range(c):
                piece = int(rng.choice(pieces_by_source[src]))
                p, t, dens, hist = self.window(piece, rng)
                n = len(t)
                prev[row, :n], target[row, :n] = p, t
                control[row, :n, :12] = np.eye(12, dtype=np.float32)[dens]
                control[row, :n, 12:24] = hist
                v, a = self.valence[piece], self.arousal[piece]
                rated = not math.isnan(v)
                mask = deterministic_mask[row] if deterministic_mask is not None else rng.random()
                if rated and mask >= va_dropout:
                    control[row, :n, 24], control[row, :n, 25], control[row, :n, 26] = v, a, 1.0
                if deterministic_mask is None and rng.random() < control_dropout:
                    control[row] = 0
                    flag[row] = 1
                q = int(v >= 0.5) * 2 + int(a >= 0.5) if rated else int(rng.integers(0, 4))
                image[row] = self.images[int(rng.choice(self.by_quadrant[q]))]
                row += 1
        return [torch.from_numpy(x) for x in (prev, target, flag, control, image)]


def nll(model, batch):
    prev, target, flag, control, image = batch
    logits = model(prev, flag, control, image)
    return F.cross_entropy(logits.reshape(-1, pe.N_EVENTS), target.reshape(-1), ignore_index=-100, reduction="sum"), int((target >= 0).sum())


def evaluate(model, data, batches=6, seed=1234):
    """Held-out NLL per event (nats) on fixed val windows: rated (EIMG + VGMIDI) with and without valence/arousal,
    and POP909."""
    model.eval()
    out = {}
    with torch.no_grad():
        for name, shares, mask in (("rated_with_va", [0.85, 0.15, 0.0], 1.0), ("rated_without_va", [0.85, 0.15, 0.0], 0.0),
                                   ("pop909", [0.0, 0.0, 1.0], 1.0)):
            rng = np.random.default_rng(seed)
            total, count = 0.0, 0
            pieces = [data.pieces(1, s) for s in range(3)]
            for _ in range(batches):
                b = data.batch(pieces, shares, 32, rng, va_dropout=0.5, deterministic_mask=np.full(32, mask))
                s, c = nll(model, b)
                total, count = total + float(s), count + c
            out[name] = total / max(count, 1)
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/piano-data/piano.npz")
    ap.add_argument("--bass", default="build/bridge-data/bass_features.safetensors")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--units", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--export", help="write the F16 weights with their model card metadata here and stop")
    ap.add_argument("--init-from", help="start from an exported file (e.g. weights/piano_performance_rnn.safetensors): its weights, its step "
                                        "count and CPU hours; a fresh optimiser (build/ and its checkpoints do not survive a session)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    ckpt_path = os.path.join(a.out_dir, "checkpoint.pt")
    model = PerformanceRNN(a.units, a.layers)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    state = {"step": 0, "train_seconds": 0.0, "evals": []}
    if a.init_from and not (a.resume or a.export):
        loaded, m = load_exported(a.init_from)
        model.load_state_dict(loaded.state_dict())
        state["step"] = int(m.get("steps_trained", "0"))
        state["train_seconds"] = float(m.get("cpu_hours", "0")) * 3600
        print(f"initialised from {a.init_from} (step {state['step']})", flush=True)
    if a.resume or a.export:
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
    if a.export:
        last = state["evals"][-1] if state["evals"] else {}
        meta = {"model": "performance_rnn", "encoding": "tan_antony_240", "units": str(a.units), "layers": str(a.layers),
                "image_features": "inception_v3_pooled_2048", "control": "density12,pitch_hist12,valence,arousal,va_given",
                "steps_trained": str(state["step"]), "cpu_hours": f"{state['train_seconds'] / 3600:.2f}",
                "val_nll_per_event": json.dumps(last), "data": "EIMG (3,000 rated clips), VGMIDI (204 rated phrases), POP909 (909 songs); "
                "pictures BASS (583, CC-BY 4.0)", "trainer": "tools/train_piano.py"}
        tensors = {k: v.astype(np.float16) for k, v in tensors_for_export(model).items()}
        safetensors_io.save(a.export, tensors, meta)
        safetensors_io.write_checksum(a.export)
        print(f"exported step {state['step']} -> {a.export}")
        return
    data = Data(a.data, a.bass)
    train_pieces = [data.pieces(0, s) for s in range(3)]
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()), "train_pieces": [len(p) for p in train_pieces],
                      "val_pieces": [len(data.pieces(1, s)) for s in range(3)], "threads": a.threads, "resume_step": state["step"]}), flush=True)
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
        print(f"signal {signum}: checkpointing after this step", flush=True)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "args": vars(a)}, tmp)
        os.replace(tmp, ckpt_path)

    rng = np.random.default_rng(a.seed * 1000003 + state["step"])
    while state["step"] < a.max_steps and not stop["now"]:
        t0 = time.time()
        batch = data.batch(train_pieces, [0.5, 0.1, 0.4], a.batch_size, rng)
        loss_sum, count = nll(model, batch)
        loss = loss_sum / count
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["train_seconds"] += time.time() - t0
        if state["step"] % 10 == 0:
            print(f"step {state['step']} loss {float(loss):.4f} ({time.time() - t0:.2f} s/step, {state['train_seconds'] / 3600:.2f} h)", flush=True)
        if state["step"] % a.eval_every == 0:
            ev = evaluate(model, data)
            ev["step"] = state["step"]
            state["evals"].append(ev)
            print("val " + json.dumps(ev), flush=True)
        if state["step"] % a.checkpoint_every == 0:
            save()
    save()
    print(f"checkpoint {ckpt_path} at step {state['step']}", flush=True)


if __name__ == "__main__":
    main()
