#!/usr/bin/python3
"""The hierarchical decode of photong's C++ HierarchicalLstmDecoder in PyTorch/numpy, with its sampling rule
(include/photong/models/sampling.hpp) and song forms (include/photong/models/song_form.hpp), written from
those headers' documented rules so that the two can be compared draw for draw (tools/crosscheck_cpp.py
--sampled) and so that tools/eval_hierdec.py measures what photong's users get.

- decode(model, z, sampling, form, uniforms): the conductor runs its 16 steps once (zero inputs, state
  tanh(dense(z))); bar b is decoded by the core decoder from the embedding of bar source[b] (itself unless the
  form repeats it), state tanh(dense(embedding)), first "previous event" the last decoded event of bar b - 1
  (none for bar 0), then one event per step on [previous event one-hot, embedding].
- the draws: uniforms[bar, step, row] in [0, 1); bar b uses the uniforms of bar source[b]. photong's C++ decoder
  takes them from Rng(seed).uniform_double() in that order (bar, step, row): uniform_stream(seed, ...) gives the
  same numbers from tests/reference/rng_reference.py (an independent xoshiro256**).
- pick(): EventSampler::pick for a batch of rows, in float64 with the same sums in the same order
  (np.add.accumulate and np.subtract.accumulate are sequential), returning each choice's margin: how far the
  uniform was from the nearest class boundary, relative to the kept total (a choice with a margin near 1e-15
  may go either way between two libm exp implementations).
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train_hierdec import BARS, CLASSES, STEPS_PER_BAR  # noqa: E402


class Sampling:
    """SamplingOptions: temperature (0 = greedy), top_k (0 = all), top_p (1 = all). Stored as the C++ floats are."""

    def __init__(self, temperature=0.0, top_k=0, top_p=1.0):
        if not (np.isfinite(temperature) and temperature >= 0):
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {top_k}")
        if not (0 < top_p <= 1):
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        self.temperature = float(np.float32(temperature))  # C++ keeps a float: 0.9 is float(0.9) there
        self.top_k = int(top_k)
        self.top_p = float(np.float32(top_p))

    @property
    def greedy(self):
        return self.temperature == 0.0

    def __repr__(self):
        return f"T={np.float32(self.temperature):g} k={self.top_k} p={np.float32(self.top_p):g}"


def recommended(meta):
    """(Sampling, form text) a melody file's metadata names, as photong's recommended_sampling and recommended_form
    read them: sampling_temperature (else Photong's 0.5), sampling_top_k (else 0), sampling_top_p (else 1),
    song_form (else none)."""
    return (Sampling(float(meta.get("sampling_temperature", 0.5)), int(meta.get("sampling_top_k", 0)),
                     float(meta.get("sampling_top_p", 1.0))), meta.get("song_form", "none"))


def parse_form(text):
    """SongForm::parse: 'none' or '' -> (None, True); letters A-Z with an optional '!' (exact repeats)."""
    if not text or text == "none":
        return None, True
    vary = not text.endswith("!")
    p = text[:-1] if not vary else text
    if not p or len(p) > 64 or any(not ("A" <= c <= "Z") for c in p):
        raise ValueError(f"a song form is letters A-Z with an optional '!', got {text!r}")
    return p, vary


def form_sources(form, bars=BARS):
    """SongForm::sources: for each bar the bar whose embedding and draws it uses."""
    pattern, vary = parse_form(form) if isinstance(form, str) or form is None else form
    src = list(range(bars))
    if not pattern:
        return src
    if bars % len(pattern):
        raise ValueError(f"form {form!r}: {len(pattern)} phrases do not divide {bars} bars")
    n = bars // len(pattern)
    for i, c in enumerate(pattern):
        first = pattern.index(c)
        if first == i:
            continue
        for k in range(n):
            if vary and n > 1 and k == n - 1:
                continue
            src[i * n + k] = first * n + k
    return src


def pick(logits, u, s):
    """EventSampler::pick for each row of logits [B, C] (float32 values, as C++ sees them) and uniforms u [B].
    Returns (events [B] int64, margins [B] float64)."""
    l = np.asarray(logits, dtype=np.float64)
    B, C = l.shape
    rows = np.arange(B)
    if s.greedy:
        ev = l.argmax(axis=1)  # first of equal maxima, as std::max_element
        top2 = np.partition(l, C - 2, axis=1)[:, -2:] if C > 1 else np.zeros((B, 2))
        return ev, top2.max(axis=1) - top2.min(axis=1)
    p = np.exp((l - l.max(axis=1, keepdims=True)) / s.temperature)
    keep = np.ones((B, C), dtype=bool)
    kept = s.top_k if 0 < s.top_k < C else C
    if kept < C or s.top_p < 1.0:
        order = np.argsort(-p, axis=1, kind="stable")  # descending, ties by class index
        n = np.full(B, kept)
        if s.top_p < 1.0:
            cs = np.add.accumulate(np.take_along_axis(p, order[:, :kept], axis=1), axis=1)
            target = s.top_p * cs[:, -1]
            n = (cs >= target[:, None]).argmax(axis=1) + 1
        keep = np.zeros((B, C), dtype=bool)
        ranks = np.arange(C)[None, :] < n[:, None]
        keep[rows[:, None], order] = ranks
    pk = np.where(keep, p, 0.0)  # adding or subtracting 0.0 is exact: the sums are C++'s over kept classes
    total = np.add.accumulate(pk, axis=1)[:, -1]
    v = np.subtract.accumulate(np.concatenate([(np.asarray(u, np.float64) * total)[:, None], pk], axis=1), axis=1)[:, 1:]
    below = v < 0
    found = below.any(axis=1)
    ev = below.argmax(axis=1)
    last_kept = C - 1 - np.argmax(keep[:, ::-1], axis=1)
    fallback = C - 1 if kept == C and s.top_p >= 1.0 else last_kept
    ev = np.where(found, ev, fallback)
    before = np.where(ev > 0, v[rows, np.maximum(ev - 1, 0)], u * total)
    margin = np.minimum(np.abs(v[rows, ev]), np.abs(before)) / total
    return ev.astype(np.int64), margin


def uniform_stream(seed, count):
    """photong::Rng(seed).uniform_double() x count, from the independent Python xoshiro256** reference."""
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
    import rng_reference  # noqa: E402
    return np.array([(x >> 11) * (1.0 / 9007199254740992.0) for x in rng_reference.xoshiro(seed, count)])


@torch.no_grad()
def decode(model, z, sampling=None, form=None, uniforms=None, generator=None, bars=BARS, embedding_transform=None):
    """Hierarchical decode of z [B, z_size] -> (events [B, bars*16] int64, logits [B, bars*16, 90], margins
    [B, bars*16]). `uniforms` [bars, 16, B] (the C++ stream's layout), else drawn from `generator` in that
    layout when sampling; `form` a SongForm text ('AABA', 'ABAB!', 'none'); `embedding_transform`, when given,
    maps the conductor's bar embeddings [B, bars, cond_units] before the core decoder reads them (the latent
    sliders, tools/latent_sliders.py)."""
    s = sampling or Sampling()
    sizes = model.sizes
    B = z.shape[0]
    src = form_sources(form, bars)
    if not s.greedy and uniforms is None:
        uniforms = torch.rand(bars, STEPS_PER_BAR, B, generator=generator, dtype=torch.float64).numpy()
    cond_state = model._initial_state(model.cond_init(z), sizes["cond_layers"], sizes["cond_units"])
    emb, _ = model.conductor(z.new_zeros(B, bars, 1), cond_state)  # [B, bars, cond_units], conductor run once
    if embedding_transform is not None:
        emb = embedding_transform(emb)
    steps = bars * STEPS_PER_BAR
    events = torch.zeros(B, steps, dtype=torch.long)
    logits_all = z.new_zeros(B, steps, CLASSES)
    margins = np.zeros((B, steps))
    prev = z.new_zeros(B, CLASSES)  # the first bar starts from no event
    rows = torch.arange(B)
    for bar in range(bars):
        e = emb[:, src[bar]]
        state = model._initial_state(model.core_init(e), sizes["core_layers"], sizes["core_units"])
        for t in range(STEPS_PER_BAR):
            out, state = model.core(torch.cat([prev, e], dim=1).unsqueeze(1), state)
            logits = model.proj(out[:, 0])
            u = None if s.greedy else uniforms[src[bar], t]
            ev, margin = pick(logits.float().numpy(), u, s)
            step = bar * STEPS_PER_BAR + t
            events[:, step] = torch.from_numpy(ev)
            logits_all[:, step] = logits
            margins[:, step] = margin
            prev = z.new_zeros(B, CLASSES)
            prev[rows, events[:, step]] = 1.0  # carried into the next bar: its first input is this bar's last event
    return events, logits_all, margins


def self_test():
    """pick() against a direct per-row transcription of EventSampler::pick's loops, on random logits with ties."""
    rng = np.random.default_rng(5)
    ok = True

    def slow(l, u, s):
        C = len(l)
        m = max(float(x) for x in l)
        p = [float(np.exp((float(x) - m) / s.temperature)) for x in l]
        filtered = (0 < s.top_k < C) or s.top_p < 1.0
        keep = [True] * C
        if filtered:
            order = sorted(range(C), key=lambda a: (-p[a], a))
            kept = s.top_k if 0 < s.top_k < C else C
            if s.top_p < 1.0:
                total = 0.0
                for i in range(kept):
                    total += p[order[i]]
                run, n = 0.0, 0
                while n < kept:
                    run += p[order[n]]
                    n += 1
                    if run >= s.top_p * total:
                        break
                kept = n
            keep = [False] * C
            for i in range(kept):
                keep[order[i]] = True
        total = 0.0
        for k in range(C):
            if keep[k]:
                total += p[k]
        v = u * total
        last = None
        for k in range(C):
            if not keep[k]:
                continue
            last = k
            v -= p[k]
            if v < 0:
                return k
        return C - 1 if not filtered else last

    cases = 0
    for s in (Sampling(1.0), Sampling(0.7, 5), Sampling(1.0, 0, 0.9), Sampling(0.9, 10, 0.5), Sampling(1.3, 90, 1.0), Sampling(1.0, 1)):
        l = rng.normal(0, 2, (200, CLASSES)).astype(np.float32)
        l[:50, :10] = 3.0  # ties
        u = rng.random(200)
        got, _ = pick(l, u, s)
        want = np.array([slow(l[i], u[i], s) for i in range(200)])
        cases += 200
        good = bool((got == want).all())
        ok &= good
        print(f"self-test pick {s}: {int((got == want).sum())}/200 equal to the loop transcription {'ok' if good else 'FAIL'}")
    src = form_sources("AABA")
    good = src == [0, 1, 2, 3, 0, 1, 2, 7, 8, 9, 10, 11, 0, 1, 2, 15] and form_sources("ABAB!")[8:12] == [0, 1, 2, 3]
    ok &= good
    print(f"self-test form_sources AABA, ABAB!: {'ok' if good else 'FAIL'}")
    print("self-test:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    print(__doc__)
    sys.exit(2)
