#!/usr/bin/env python3
"""Reference decode of the piano generator (tools/train_piano.py's PerformanceRNN) in PyTorch, one event at a time,
choosing events by photong's EventSampler rule (tools/hierdec_decode.py's `pick`, the numpy twin of
include/photong/models/sampling.hpp) from given uniforms: what include/photong/models/performance_rnn.hpp must
reproduce event for event (tests/reference/gen_piano_fixture.py).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hierdec_decode  # noqa: E402
import performance_events as pe  # noqa: E402


def control_vector(valence=None, arousal=None, density=None, histogram=None, none=False):
    """PerformanceRnn::control_vector: (27 floats, flag)."""
    v = np.zeros(27, np.float32)
    if none:
        return v, 1.0
    if density is not None:
        v[density] = 1
    if histogram is not None:
        h = np.asarray(histogram, np.float64)
        v[12:24] = (h / h.sum()).astype(np.float32)
    if valence is not None:
        v[24], v[25], v[26] = valence, arousal, 1
    return v, 0.0


@torch.no_grad()
def decode(model, image, control, flag, steps, sampling, uniforms=None):
    """image (B, 2048) -> events (B, steps) int64, logits (B, steps, 240) float32, margins (B, steps)."""
    image = torch.as_tensor(np.asarray(image, np.float32))
    B = image.shape[0]
    hs = model.initial_state(image)
    prev = torch.full((B,), pe.START_EVENT, dtype=torch.long)
    side = torch.cat([torch.full((B, 1), float(flag)), torch.as_tensor(control).expand(B, -1)], dim=1)
    events, logits_all, margins = np.zeros((B, steps), np.int64), np.zeros((B, steps, pe.N_EVENTS), np.float32), np.zeros((B, steps))
    for t in range(steps):
        x = F.leaky_relu(model.input(torch.cat([model.embedding(prev), side], dim=1)), 0.1)[:, None]
        outs = []
        for k, gru in enumerate(model.grus):
            x, hs[k] = gru(x, hs[k])
            outs.append(x[:, 0])
        logits = model.output(torch.cat(outs, dim=1)).numpy()
        u = uniforms[t * B:(t + 1) * B] if uniforms is not None else np.zeros(B)
        ev, margin = hierdec_decode.pick(logits, u, sampling)
        events[:, t], logits_all[:, t], margins[:, t] = ev, logits, margin
        prev = torch.as_tensor(ev)
    return events, logits_all, margins
