#!/usr/bin/env python3
"""PyTorch + cuDNN peer for bench/gpu/bench_gpu.cpp, on the same shapes, timed with CUDA events (median).

  features/N        torchvision inception_v3 (random weights: speed does not depend on their values) run
                    from Conv2d_1a_3x3 to Mixed_7c on a (N, 3, 299, 299) input, fp32, eval mode,
                    torch.backends.cudnn.benchmark = True; TF32 off (the precision photong's kernels keep:
                    plain fp32 FMA) and, for information, TF32 on (PyTorch's default for convolutions)
                    <-> gpu_features/N
  decode/N          the shipped melody model's shape (weights/hierdec_mel16_photong.safetensors: z 512,
                    conductor nn.LSTM(1, 256, 2), core nn.LSTM(90 + 256, 256, 2), Linear 256 -> 90), 16 bars
                    x 16 steps, eager: conductor initial state tanh(Linear z), one conductor step per bar on a
                    zero input, per bar tanh(Linear emb) initial state, each step [previous one-hot, emb] ->
                    LSTM -> Linear -> softmax(logits / 1.1), top-k 12, top-p 0.9, torch.multinomial, the event
                    fed back; z uploaded first, the events downloaded last   <-> gpu_decode/N

Prints one JSON line of run facts, then one per figure: {"name", "batch", "median_ms", "min_ms", "reps"}.
usage: peer.py [--batches 1,8,64] [--reps 30] [--decode-reps 10] [--device cuda|cpu]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision


def timed(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    if not torch.cuda.is_available():  # --device cpu: a smoke test of this script, host clock
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times), min(times)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


def inception_features(model, x):
    m = model
    for layer in (m.Conv2d_1a_3x3, m.Conv2d_2a_3x3, m.Conv2d_2b_3x3, m.maxpool1, m.Conv2d_3b_1x1, m.Conv2d_4a_3x3, m.maxpool2,
                  m.Mixed_5b, m.Mixed_5c, m.Mixed_5d, m.Mixed_6a, m.Mixed_6b, m.Mixed_6c, m.Mixed_6d, m.Mixed_6e,
                  m.Mixed_7a, m.Mixed_7b, m.Mixed_7c):
        x = layer(x)
    return x


class Decoder(torch.nn.Module):
    def __init__(self, z=512, units=256, classes=90):
        super().__init__()
        self.classes, self.units = classes, units
        self.cond_init = torch.nn.Linear(z, 4 * units)
        self.conductor = torch.nn.LSTM(1, units, 2, batch_first=True)
        self.core_init = torch.nn.Linear(units, 4 * units)
        self.core = torch.nn.LSTM(classes + units, units, 2, batch_first=True)
        self.projection = torch.nn.Linear(units, classes)

    @staticmethod
    def split(state, units):  # magenta's c0, h0, c1, h1 -> ((h0, h1), (c0, c1))
        c0, h0, c1, h1 = state.split(units, dim=1)
        return torch.stack([h0, h1]).contiguous(), torch.stack([c0, c1]).contiguous()

    def decode(self, z, temperature=1.1, top_k=12, top_p=0.9, generator=None):
        B = z.shape[0]
        h, c = self.split(torch.tanh(self.cond_init(z)), self.units)
        zero = torch.zeros(B, 1, 1, device=z.device)
        events = torch.empty(B, 256, dtype=torch.long, device=z.device)
        previous = torch.zeros(B, self.classes, device=z.device)
        for bar in range(16):
            out, (h, c) = self.conductor(zero, (h, c))
            emb = out[:, 0]
            hc = self.split(torch.tanh(self.core_init(emb)), self.units)
            for t in range(16):
                x = torch.cat([previous, emb], dim=1)[:, None]
                out, hc = self.core(x, hc)
                logits = self.projection(out[:, 0]) / temperature
                kth = torch.topk(logits, top_k, dim=1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
                p_sorted, order = torch.sort(F.softmax(logits, dim=1), dim=1, descending=True)
                cut = torch.cumsum(p_sorted, dim=1) - p_sorted >= top_p
                p_sorted = p_sorted.masked_fill(cut, 0.0)
                pick = torch.multinomial(p_sorted, 1, generator=generator)
                event = order.gather(1, pick)[:, 0]
                events[:, bar * 16 + t] = event
                previous = F.one_hot(event, self.classes).float()
        return events


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--decode-reps", type=int, default=10)
    ap.add_argument("--device", default="cuda", help="cpu: a quick check of this script on a machine without a GPU")
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = True
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "cudnn": torch.backends.cudnn.version(),
                      "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"}), flush=True)
    batches = [int(b) for b in a.batches.split(",")]
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False).to(dev).eval()
    with torch.no_grad():
        for tf32 in (False, True):
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            for n in batches:
                x = torch.randn(n, 3, 299, 299, device=dev)
                med, lo = timed(lambda: inception_features(model, x), a.reps)
                print(json.dumps({"name": "features" + ("_tf32" if tf32 else ""), "batch": n, "median_ms": med, "min_ms": lo, "reps": a.reps}), flush=True)
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        decoder = Decoder().to(dev).eval()
        generator = torch.Generator(device=dev).manual_seed(1)
        for n in batches:
            z_host = torch.randn(n, 512)

            def run():
                events = decoder.decode(z_host.to(dev, non_blocking=False), generator=generator)
                return events.cpu()

            med, lo = timed(run, a.decode_reps, warmup=2)
            print(json.dumps({"name": "decode", "batch": n, "median_ms": med, "min_ms": lo, "reps": a.decode_reps}), flush=True)


if __name__ == "__main__":
    main()
