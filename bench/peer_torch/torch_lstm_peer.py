#!/usr/bin/env python3
"""PyTorch speed peer for bench/bench_lstm.cpp: the same LSTM work, written the way a PyTorch user
would write it, timed on CPU in float32 with random weights (an LSTM's speed does not depend on its
weights' values).

  lstm_stack_step       one step of a 2 x 1024 LSTM stack (layer-0 input 1024) with carried state:
                        `nn.LSTM(1024, 1024, num_layers=2)` on a length-1 sequence   <-> BM_LstmStackStep
  lstm_stack_step_cells the same step as two `nn.LSTMCell`s
  hierdec_16x16         MusicVAE hierdec-mel_16bar decode, 16 bars x 16 steps: conductor initial state
                        tanh(Linear 512->4096), conductor nn.LSTM(1, 1024, 2) on a zero input, one step
                        per bar; per bar tanh(Linear 1024->4096) initial state, core nn.LSTM(90 + 1024,
                        1024, 2) stepped on [previous event one-hot, bar embedding], Linear 1024->90,
                        torch.multinomial(softmax(logits / 0.5)) with a seeded generator, the sampled
                        event fed back; a bar starts from the last event of the previous one
                                                                              <-> BM_HierarchicalDecode16Bars
  hierdec_16x16_cells   the same decode with nn.LSTMCell stacks (--decode-cells)

Threads: torch.set_num_threads($PHOTONG_NUM_THREADS, else os.cpu_count()). Prints one JSON line of
run facts (torch version, threads, the BLAS library loaded), then one JSON line per figure:
{"name", "batch", "median_ms", "min_ms", "reps"}.

usage: torch_lstm_peer.py [--batches 1,8] [--step-reps 30] [--decode-reps 5] [--decode-cells]
                          [--only step|decode]
       torch_lstm_peer.py --serve step|decode [--batch B] [--reps R] [--cells]
--serve: one workload kept warm; prints "ready", then for every "run" line on stdin runs it R times (default 20
steps or 1 decode) and prints the mean milliseconds of one, until "quit" (bench/peer_torch/interleave.py alternates
it with photong's time_lstm).
"""
import argparse
import json
import os
import statistics
import time

import torch
from torch import nn

UNITS, Z, CLASSES, TEMPERATURE = 1024, 512, 90, 0.5


class Stack:
    """A 2-layer LSTM stack stepped one time step at a time, as nn.LSTM or as nn.LSTMCells.
    State: (h, c), each (layers, batch, units)."""

    def __init__(self, input_size, cells):
        self.cells = cells
        if cells:
            self.layers = [nn.LSTMCell(input_size, UNITS), nn.LSTMCell(UNITS, UNITS)]
        else:
            self.lstm = nn.LSTM(input_size, UNITS, num_layers=2)

    def step(self, x, state):
        """x: (batch, input). Returns (top layer's h (batch, units), new state)."""
        if not self.cells:
            out, state = self.lstm(x.unsqueeze(0), state)
            return out[0], state
        h, c = state
        hs, cs = [], []
        for k, cell in enumerate(self.layers):
            hk, ck = cell(x, (h[k], c[k]))
            hs.append(hk)
            cs.append(ck)
            x = hk
        return x, (hs, cs)


def initial_state(dense, x):
    """magenta's initial state: tanh(dense(x)) split, in order, into c0, h0, c1, h1."""
    c0, h0, c1, h1 = torch.tanh(dense(x)).split(UNITS, dim=1)
    return torch.stack([h0, h1]), torch.stack([c0, c1])


class HierDecoder:
    def __init__(self, cells):
        self.conductor_init = nn.Linear(Z, 4 * UNITS)
        self.conductor = Stack(1, cells)
        self.core_init = nn.Linear(UNITS, 4 * UNITS)
        self.core = Stack(CLASSES + UNITS, cells)
        self.projection = nn.Linear(UNITS, CLASSES)

    def decode(self, z, bars, steps, generator):
        batch = z.shape[0]
        events = torch.empty(batch, bars * steps, dtype=torch.long)
        logits_out = torch.empty(batch, bars * steps, CLASSES)
        conductor_state = initial_state(self.conductor_init, z)
        zeros = torch.zeros(batch, 1)
        previous = torch.zeros(batch, CLASSES)  # no event before the first bar
        for bar in range(bars):
            embedding, conductor_state = self.conductor.step(zeros, conductor_state)
            state = initial_state(self.core_init, embedding)
            for step in range(steps):
                out, state = self.core.step(torch.cat([previous, embedding], dim=1), state)
                logits = self.projection(out)
                probs = torch.softmax(logits / TEMPERATURE, dim=1)
                event = torch.multinomial(probs, 1, generator=generator).squeeze(1)
                previous = nn.functional.one_hot(event, CLASSES).to(torch.float32)
                events[:, bar * steps + step] = event
                logits_out[:, bar * steps + step] = logits
        return events, logits_out


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def emit(name, batch, median_ms, min_ms, reps):
    print(json.dumps({"name": name, "batch": batch, "median_ms": round(median_ms, 4), "min_ms": round(min_ms, 4), "reps": reps}), flush=True)


def loaded_blas():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ("blas" in line or "mkl" in line) and "/" in line}
        return sorted(os.path.realpath(p) for p in libs)
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--step-reps", type=int, default=30)
    ap.add_argument("--step-warmup", type=int, default=5)
    ap.add_argument("--decode-reps", type=int, default=5)
    ap.add_argument("--decode-warmup", type=int, default=1)
    ap.add_argument("--decode-cells", action="store_true", help="also time the decode with nn.LSTMCell stacks")
    ap.add_argument("--only", choices=["step", "decode"])
    ap.add_argument("--serve", choices=["step", "decode"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--reps", type=int, default=0, help="--serve: runs per request (default 20 steps, 1 decode)")
    ap.add_argument("--cells", action="store_true", help="--serve: nn.LSTMCell stacks instead of nn.LSTM")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    env = os.environ.get("PHOTONG_NUM_THREADS", "")
    threads = int(env) if env.strip().isdigit() and int(env) > 0 else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    if args.serve:
        return serve(args)

    with torch.inference_mode():
        torch.ones(8, 8) @ torch.ones(8, 8)  # loads the BLAS, so the facts line can name it
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": loaded_blas()}), flush=True)

        if args.only in (None, "step"):
            for cells in (False, True):
                stack = Stack(UNITS, cells)
                for batch in batches:
                    x = torch.randn(batch, UNITS)
                    state = [(torch.zeros(2, batch, UNITS), torch.zeros(2, batch, UNITS))]

                    def step():
                        _, state[0] = stack.step(x, state[0])

                    med, best = timed(step, args.step_reps, args.step_warmup)
                    emit("lstm_stack_step_cells" if cells else "lstm_stack_step", batch, med, best, args.step_reps)

        if args.only in (None, "decode"):
            for cells in (False, True) if args.decode_cells else (False,):
                decoder = HierDecoder(cells)
                for batch in batches:
                    z = torch.randn(batch, Z)

                    def decode():
                        generator = torch.Generator().manual_seed(42)
                        decoder.decode(z, 16, 16, generator)

                    med, best = timed(decode, args.decode_reps, args.decode_warmup)
                    emit("hierdec_16x16_cells" if cells else "hierdec_16x16", batch, med, best, args.decode_reps)


def serve(args):
    """The --serve loop: one workload, timed per request."""
    import sys
    reps = args.reps or (20 if args.serve == "step" else 1)
    with torch.inference_mode():
        if args.serve == "step":
            stack = Stack(UNITS, args.cells)
            x = torch.randn(args.batch, UNITS)
            state = [(torch.zeros(2, args.batch, UNITS), torch.zeros(2, args.batch, UNITS))]

            def once():
                _, state[0] = stack.step(x, state[0])
        else:
            decoder = HierDecoder(args.cells)
            z = torch.randn(args.batch, Z)

            def once():
                decoder.decode(z, 16, 16, torch.Generator().manual_seed(42))
        once()
        print("ready", flush=True)
        for line in sys.stdin:
            line = line.strip()
            if line == "quit":
                break
            if line != "run":
                continue
            t0 = time.perf_counter()
            for _ in range(reps):
                once()
            print(f"{(time.perf_counter() - t0) * 1e3 / reps:.4f}", flush=True)


if __name__ == "__main__":
    main()
