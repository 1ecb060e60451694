#!/usr/bin/python3
"""An independent reference for photong's HierarchicalLstmDecoder, in numpy, from the magenta facts.

usage: gen_hierdec_fixture.py OUTDIR   (writes OUTDIR/hierdec_random.safetensors and
                                        OUTDIR/hierdec_random_io.safetensors)

Seeded random weights at the real `hierdec-mel_16bar` shapes with magenta's variable names:
z 512; conductor `decoder/hierarchical_level_0` = initial_state dense 512 -> 4096 (tanh; c0, h0,
c1, h1) and 2 LSTMBlockCells of 1024 fed zeros of width 1; core `core_decoder/decoder` =
z_to_initial_state 1024 -> 4096, 2 LSTMBlockCells of 1024 on [previous one-hot 90, embedding 1024],
output_projection 1024 -> 90. 16 bars of 16 steps, greedy; each bar starts from the previous bar's
last event (zeros before bar 1). Written here from lstm_models.py's facts, sharing no code with
the C++. The io file holds z, the events, the logits and each code's smallest top-2 logit margin.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights"))
import safetensors_io  # noqa: E402

Z, UNITS, CLASSES, BARS, STEPS, BATCH = 512, 1024, 90, 16, 16, 2


def lstm_block_step(x, c, h, kernel, bias):
    """TF LSTMBlockCell: gates i, j, f, o over [x, h]; forget bias 1.0 added at run time."""
    g = np.concatenate([x, h], axis=1) @ kernel + bias
    i, j, f, o = np.split(g, 4, axis=1)
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    c = sig(f + 1.0) * c + sig(i) * np.tanh(j)
    return c, sig(o) * np.tanh(c)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20241121)
    u = lambda shape, a: rng.uniform(-a, a, size=shape).astype(np.float32)  # noqa: E731
    w = {}
    hl = "decoder/hierarchical_level_0"
    w[hl + "/initial_state/kernel"] = u((Z, 4 * UNITS), 0.08)
    w[hl + "/initial_state/bias"] = u((4 * UNITS,), 0.1)
    for k, inp in enumerate((1, UNITS)):
        w[f"{hl}/cell_{k}/lstm_cell/kernel"] = u((inp + UNITS, 4 * UNITS), 0.05)
        w[f"{hl}/cell_{k}/lstm_cell/bias"] = u((4 * UNITS,), 0.1)
    cd = "core_decoder/decoder"
    w[cd + "/z_to_initial_state/kernel"] = u((UNITS, 4 * UNITS), 0.05)
    w[cd + "/z_to_initial_state/bias"] = u((4 * UNITS,), 0.1)
    for k, inp in enumerate((CLASSES + UNITS, UNITS)):
        w[f"{cd}/multi_rnn_cell/cell_{k}/lstm_cell/kernel"] = u((inp + UNITS, 4 * UNITS), 0.05)
        w[f"{cd}/multi_rnn_cell/cell_{k}/lstm_cell/bias"] = u((4 * UNITS,), 0.1)
    w[cd + "/output_projection/kernel"] = u((UNITS, CLASSES), 0.3)
    w[cd + "/output_projection/bias"] = u((CLASSES,), 0.5)
    safetensors_io.save(os.path.join(out, "hierdec_random.safetensors"), w,
                        {"model": "music_vae", "format_version": "1", "source": "random (gen_hierdec_fixture.py, seed 20241121)"})

    z = rng.standard_normal((BATCH, Z)).astype(np.float32).astype(np.float64)
    W = {k: v.astype(np.float64) for k, v in w.items()}

    def split_state(v):
        return [(v[:, 2 * L * UNITS:(2 * L + 1) * UNITS], v[:, (2 * L + 1) * UNITS:(2 * L + 2) * UNITS]) for L in range(2)]

    events = np.zeros((BATCH, BARS * STEPS), np.int32)
    logits_all = np.zeros((BATCH, BARS * STEPS, CLASSES), np.float64)
    cond = split_state(np.tanh(z @ W[hl + "/initial_state/kernel"] + W[hl + "/initial_state/bias"]))
    prev = np.zeros((BATCH, CLASSES))
    for bar in range(BARS):
        x = np.zeros((BATCH, 1))
        for L in range(2):
            c, h = lstm_block_step(x, cond[L][0], cond[L][1], W[f"{hl}/cell_{L}/lstm_cell/kernel"],
                                   W[f"{hl}/cell_{L}/lstm_cell/bias"])
            cond[L] = (c, h)
            x = h
        emb = x
        core = split_state(np.tanh(emb @ W[cd + "/z_to_initial_state/kernel"] + W[cd + "/z_to_initial_state/bias"]))
        for t in range(STEPS):
            x = np.concatenate([prev, emb], axis=1)
            for L in range(2):
                c, h = lstm_block_step(x, core[L][0], core[L][1], W[f"{cd}/multi_rnn_cell/cell_{L}/lstm_cell/kernel"],
                                       W[f"{cd}/multi_rnn_cell/cell_{L}/lstm_cell/bias"])
                core[L] = (c, h)
                x = h
            logits = x @ W[cd + "/output_projection/kernel"] + W[cd + "/output_projection/bias"]
            ev = logits.argmax(axis=1)
            step = bar * STEPS + t
            events[:, step] = ev
            logits_all[:, step] = logits
            prev = np.zeros((BATCH, CLASSES))
            prev[np.arange(BATCH), ev] = 1.0
    top2 = np.sort(logits_all, axis=2)[:, :, -2:]
    margin = (top2[:, :, 1] - top2[:, :, 0]).min(axis=1)
    safetensors_io.save(os.path.join(out, "hierdec_random_io.safetensors"),
                        {"z": z.astype(np.float32), "events": events, "logits": logits_all.astype(np.float32),
                         "min_margin": margin.astype(np.float32)},
                        {"bars": BARS, "steps_per_bar": STEPS, "precision": "float64 reference, z rounded to float32 first"})
    print("hierdec fixture: events", events[0, :32].tolist(), "min margins", margin.tolist())


if __name__ == "__main__":
    main()
