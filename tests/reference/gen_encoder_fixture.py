#!/usr/bin/python3
"""An independent reference for photong's BidirectionalLstmEncoder, in numpy float64, from the magenta facts.

usage: gen_encoder_fixture.py OUTDIR   (writes OUTDIR/encoder_random.safetensors and
                                        OUTDIR/encoder_random_io.safetensors)

Seeded random weights at the real `hierdec-mel_16bar` encoder shapes with magenta's variable names:
2 bidirectional layers of 2048 units per direction (`encoder/cell_K/bidirectional_rnn/{fw,bw}/
multi_rnn_cell/cell_0/lstm_cell/{kernel,bias}`), layer 0 reading 90-class one-hot events, layer 1
reading [forward outputs, backward outputs]; `encoder/mu` and `encoder/sigma` (softplus) on
[last layer's forward final h, backward final h]. Two 256-step event sequences. Written from
lstm_models.py (BidirectionalLstmEncoder), lstm_utils.py and base_model.py facts; shares no code
with the C++. The io file holds the events, mu and sigma.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights"))
import safetensors_io  # noqa: E402

CLASSES, UNITS, LAYERS, Z, STEPS, BATCH = 90, 2048, 2, 512, 256, 2


def run_direction(gates_x, kernel_h, reverse):
    """TF LSTMBlockCell over a whole sequence from zero state; gates_x (T, B, 4u) holds x.W_x + bias."""
    T, B, G = gates_x.shape
    u = G // 4
    c, h = np.zeros((B, u)), np.zeros((B, u))
    out = np.zeros((T, B, u))
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        g = gates_x[t] + h @ kernel_h
        i, j, f, o = g[:, :u], g[:, u:2 * u], g[:, 2 * u:3 * u], g[:, 3 * u:]
        c = sig(f + 1.0) * c + sig(i) * np.tanh(j)
        h = sig(o) * np.tanh(c)
        out[t] = h
    return out, h


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261122)
    u = lambda shape, a: rng.uniform(-a, a, size=shape).astype(np.float32)  # noqa: E731
    w = {}
    inp = CLASSES
    for k in range(LAYERS):
        for d in ("fw", "bw"):
            cell = f"encoder/cell_{k}/bidirectional_rnn/{d}/multi_rnn_cell/cell_0/lstm_cell"
            w[cell + "/kernel"] = u((inp + UNITS, 4 * UNITS), 0.03)
            w[cell + "/bias"] = u((4 * UNITS,), 0.1)
        inp = 2 * UNITS
    w["encoder/mu/kernel"] = u((2 * UNITS, Z), 0.05)
    w["encoder/mu/bias"] = u((Z,), 0.1)
    w["encoder/sigma/kernel"] = u((2 * UNITS, Z), 0.05)
    w["encoder/sigma/bias"] = u((Z,), 0.1)
    safetensors_io.save(os.path.join(out, "encoder_random.safetensors"), w,
                        {"model": "music_vae", "format_version": "1", "source": "random (gen_encoder_fixture.py, seed 20261122)"})

    # Melody-like sequences: mostly holds, some note-offs, pitches around the middle of the range.
    events = np.where(rng.random((BATCH, STEPS)) < 0.55, 0, rng.integers(1, CLASSES, size=(BATCH, STEPS))).astype(np.int32)
    x = np.zeros((STEPS, BATCH, CLASSES))
    for b in range(BATCH):
        x[np.arange(STEPS), b, events[b]] = 1.0
    W = {k: v.astype(np.float64) for k, v in w.items()}
    seq, inp = x, CLASSES
    for k in range(LAYERS):
        outs, finals = [], []
        for d, reverse in (("fw", False), ("bw", True)):
            cell = f"encoder/cell_{k}/bidirectional_rnn/{d}/multi_rnn_cell/cell_0/lstm_cell"
            kernel = W[cell + "/kernel"]
            gates_x = seq @ kernel[:inp] + W[cell + "/bias"]
            o, h = run_direction(gates_x, kernel[inp:], reverse)
            outs.append(o)
            finals.append(h)
        seq, inp = np.concatenate(outs, axis=2), 2 * UNITS
    final = np.concatenate(finals, axis=1)
    mu = final @ W["encoder/mu/kernel"] + W["encoder/mu/bias"]
    pre = final @ W["encoder/sigma/kernel"] + W["encoder/sigma/bias"]
    sigma = np.logaddexp(0.0, pre)  # softplus
    safetensors_io.save(os.path.join(out, "encoder_random_io.safetensors"),
                        {"events": events, "mu": mu.astype(np.float32), "sigma": sigma.astype(np.float32)},
                        {"steps": str(STEPS), "units": str(UNITS), "layers": str(LAYERS)})
    print("gen_encoder_fixture: %d sequences of %d steps, |mu| max %.3f, sigma in [%.3f, %.3f]"
          % (BATCH, STEPS, np.abs(mu).max(), sigma.min(), sigma.max()))


if __name__ == "__main__":
    main()
