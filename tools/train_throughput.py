#!/usr/bin/python3
"""Training throughput of tools/train_hierdec.py's model on the CPU: sequences per second for each lever, same run.

usage: train_throughput.py [--preset cpu] [--sizes enc_units=128,...] [--batch-size 64] [--steps 4] [--data build/melody-data/mel16.safetensors]
                           [--configs nn:glibc:1,nn:tcmalloc:1,fused:glibc:1,fused:tcmalloc:1,fused:tcmalloc:2]

Each config is LSTM:ALLOCATOR:PROCESSES, run in fresh processes (the allocator is preloaded, so it cannot be
switched inside one): LSTM nn = torch.nn.LSTM, fused = tools/lstm_fused.py; ALLOCATOR glibc or tcmalloc
(Debian libtcmalloc-minimal4); PROCESSES 1, or 2 data-parallel processes (torch.distributed, gloo, each with half
of the batch and one thread, gradients summed by all_reduce: the same update as one process on the whole batch).
Every process runs one torch thread and OpenBLAS with one thread. A training step is forward, backward, the
global-norm clip and Adam, on real windows of the data file (or random classes without one); the first step is
not timed, the best of --steps is reported. Nothing else should run meanwhile: the figures are per core.
"""
import argparse
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def worker(args):
    import numpy as np
    import torch
    sys.path.insert(0, HERE)
    import train_hierdec as th
    torch.set_num_threads(1)
    rank, world = int(os.environ.get("TP_RANK", "0")), int(os.environ.get("TP_WORLD", "1"))
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['TP_PORT']}", rank=rank, world_size=world)
    torch.manual_seed(0)
    sizes = dict(zip(th.SIZE_KEYS, th.PRESETS[args.preset]))
    for kv in filter(None, args.sizes.split(",")):
        k, v = kv.split("=")
        sizes[k] = int(v)
    model = th.HierdecVAE(**sizes)
    model.fused = args.lstm == "fused"
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    hp = th.default_hparams()
    if os.path.exists(args.data):
        train, _, _ = th.load_data(args.data)
        events = train[:args.batch_size]
    else:
        events = torch.randint(0, th.CLASSES, (args.batch_size, th.SEQ_LEN))
    events = events[rank::world]
    eps = torch.randn(len(events), model.sizes["z_size"])
    times = []
    for _ in range(args.steps + 1):
        t = time.perf_counter()
        opt.zero_grad()
        loss, _ = th.losses(model, events, eps, 100, hp)
        (loss / world).backward()  # the mean over the whole batch once the ranks' gradients are summed
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        if world > 1:
            flat = torch.cat([g.reshape(-1) for g in grads])
            dist.all_reduce(flat)
            off = 0
            for g in grads:
                g.copy_(flat[off:off + g.numel()].view_as(g))
                off += g.numel()
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
        if norm > 1.0:
            for g in grads:
                g.mul_(1.0 / norm)
        opt.step()
        times.append(time.perf_counter() - t)
    if rank == 0:
        print(f"{min(times[1:]):.4f}", flush=True)
    if world > 1:
        dist.destroy_process_group()
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_config(args, lstm, allocator, procs):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PHOTONG_TRAIN_NO_REEXEC="1",
               TP_WORLD=str(procs), TP_PORT=str(free_port()))
    env.pop("LD_PRELOAD", None)
    if allocator == "tcmalloc":
        if not os.path.exists(TCMALLOC):
            return None, f"no {TCMALLOC} (apt-get install libtcmalloc-minimal4)"
        env["LD_PRELOAD"] = TCMALLOC
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--lstm", lstm, "--preset", args.preset,
           "--batch-size", str(args.batch_size), "--steps", str(args.steps), "--data", args.data, "--sizes", args.sizes]
    ps = [subprocess.Popen(cmd, env=dict(env, TP_RANK=str(r)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for r in range(procs)]
    outs = [p.communicate() for p in ps]
    if any(p.returncode for p in ps):
        return None, "; ".join(e.strip().splitlines()[-1] for _, e in outs if e.strip())
    return float(outs[0][0].strip().splitlines()[-1]), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--sizes", default="", help="preset overrides, e.g. enc_units=128,core_units=512")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--data", default=os.path.join(HERE, "..", "build", "melody-data", "mel16.safetensors"))
    ap.add_argument("--configs", default="nn:glibc:1,nn:tcmalloc:1,fused:glibc:1,fused:tcmalloc:1,fused:tcmalloc:2")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--lstm", default="fused", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    print(f"preset {args.preset}{' + ' + args.sizes if args.sizes else ''}, batch {args.batch_size}, best of {args.steps} steps after one untimed; "
          f"CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}, "
          f"{os.cpu_count()} cores")
    print(f"{'LSTM':<6} {'allocator':<9} {'processes':>9} {'s/step':>8} {'seq/s':>7} {'vs first':>8}")
    base = None
    for cfg in args.configs.split(","):
        lstm, allocator, procs = cfg.split(":")
        t, why = run_config(args, lstm, allocator, int(procs))
        if t is None:
            print(f"{lstm:<6} {allocator:<9} {procs:>9}   failed: {why}")
            continue
        base = base or t
        print(f"{lstm:<6} {allocator:<9} {procs:>9} {t:>8.3f} {args.batch_size / t:>7.1f} {base / t:>7.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
