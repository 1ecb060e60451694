#!/usr/bin/env python3
"""Fixture for tests/test_piano.cpp: a seeded random piano generator (tools/train_piano.py's PerformanceRNN, 2 x 64
GRU) exported as the C++ model reads it, and 20 seeded decodes of it by tools/piano_decode.py (PyTorch, one event at a
time, EventSampler's rule) under varied conditions and sampling, with their logits and decision margins. With
weights/piano_performance_rnn.safetensors present, 20 decodes of the trained model too.
usage: gen_piano_fixture.py OUT_DIR"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "weights"))
import hierdec_decode  # noqa: E402
import piano_decode  # noqa: E402
import safetensors_io  # noqa: E402
import train_piano  # noqa: E402

CASES = [  # (batch, conditions, temperature, top_k, top_p)
    (1, {}, 0.0, 0, 1.0), (2, {"valence": 0.8, "arousal": 0.9}, 1.0, 0, 1.0), (3, {"valence": 0.1, "arousal": 0.2, "density": 3}, 1.0, 12, 0.9),
    (1, {"none": True}, 0.7, 0, 1.0), (2, {"density": 7, "histogram": [1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]}, 1.2, 30, 1.0),
]


def decodes(model, rng_seed_base, steps):
    out = []
    for i in range(20):
        batch, cond, t, k, p = CASES[i % len(CASES)]
        g = np.random.default_rng(rng_seed_base + i)
        image = (g.random((batch, 2048)) * 1.5).astype(np.float32)
        control, flag = piano_decode.control_vector(**cond)
        sampling = hierdec_decode.Sampling(t, k, p)
        seed = 1000 + i
        uniforms = hierdec_decode.uniform_stream(seed, steps * batch) if not sampling.greedy else None
        ev, logits, margins = piano_decode.decode(model, image, control, flag, steps, sampling, uniforms)
        out.append({"image": image, "conditions": cond, "temperature": t, "top_k": k, "top_p": p, "seed": seed, "events": ev, "logits": logits,
                    "min_margin": float(margins.min())})
    return out


def save(path, weights, runs, meta):
    tensors = dict(weights)
    cases = []
    for i, r in enumerate(runs):
        tensors[f"run{i}/image"], tensors[f"run{i}/events"], tensors[f"run{i}/logits"] = r["image"], r["events"].astype(np.int32), r["logits"]
        cases.append({k: r[k] for k in ("conditions", "temperature", "top_k", "top_p", "seed", "min_margin")})
    meta = dict(meta, runs=json.dumps(cases))
    safetensors_io.save(path, tensors, meta)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    model = train_piano.PerformanceRNN(units=64, layers=2).eval()
    with torch.no_grad():  # larger random output weights: decisions that depend on every part of the network
        model.output.weight.mul_(3.0)
    weights = train_piano.tensors_for_export(model)
    meta = {"model": "performance_rnn", "encoding": "tan_antony_240", "units": "64", "layers": "2", "source": "seeded random, tests/reference/gen_piano_fixture.py"}
    runs = decodes(model, 50, 60)
    save(os.path.join(out, "piano_random.safetensors"), weights, runs, meta)
    print("piano fixture: 20 runs, smallest decision margin", min(r["min_margin"] for r in runs))
    shipped = os.path.join(HERE, "..", "..", "weights", "piano_performance_rnn.safetensors")
    if os.path.exists(shipped):  # the trained model: 20 decodes of 200 events (the weights stay in weights/)
        trained = train_piano.load_exported(shipped)[0].eval()
        runs = decodes(trained, 80, 200)
        save(os.path.join(out, "piano_trained_runs.safetensors"), {}, runs, {"model": "runs of weights/piano_performance_rnn.safetensors"})
        print("piano fixture (trained model): 20 runs, smallest decision margin", min(r["min_margin"] for r in runs))


if __name__ == "__main__":
    main()
