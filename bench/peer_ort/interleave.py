#!/usr/bin/python3
"""photong vs ONNX Runtime on InceptionV3 features, single inferences alternated between two warm processes.

Usage: bench/peer_ort/interleave.py [--pairs N] [--configs 1x1,1x2,8x1,8x2] [--weights W] [--gap-ms G] [--json OUT]

Each configuration BxT (batch B, T threads for both) starts photong's build/bench/time_inception and ONNX
Runtime's time_ort.js --serve, each loaded and warmed up once, then asks them for one inference at a time,
alternately (photong first in even pairs, ORT first in odd ones), with a pause of G ms between requests so
that neither process's idle threads are still spinning when the other runs. Every pair gives a ratio
photong/ORT; slow spells of the machine hit both members of a pair alike, so the median of the pair ratios
is stable where separate runs of the two programs are not. Printed per configuration: each side's median
milliseconds, the median ratio and its spread (the middle half of the pair ratios, and the extremes).
Lower is better; the issue's goal is <= 0.8.

Needs build/bench/time_inception (scripts/build.sh --target time_inception) and ORT prepared by
bench/peer_ort/run_peer.sh (which this runs first: it installs onnxruntime-node, exports the same weights to
ONNX and checks ORT's output against PyTorch's).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def machine():
    """CPU model, vector ISA and core count: what every absolute figure must name."""
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("unknown CPU", "", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else platform.machine()
    return f"{model}, {isa}, {os.cpu_count()} cores"


class Peer:
    """A warm process that prints 'ready', then one time in ms per 'run' line."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                     env=env, cwd=ROOT)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise SystemExit(f"{name} did not start (printed {line!r}); command: {' '.join(argv)}")

    def time_one(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name} ended unexpectedly")
        return float(line)

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=30)


def quantile(xs, q):
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--configs", default="1x1,1x2,8x1,8x2", help="comma-separated BATCHxTHREADS")
    ap.add_argument("--weights", default=os.path.join(ROOT, "weights", "inception_v3.safetensors"))
    ap.add_argument("--gap-ms", type=float, default=30.0)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    ours = os.path.join(ROOT, "build", "bench", "time_inception")
    if not os.access(ours, os.X_OK):
        raise SystemExit(f"missing {ours}: scripts/build.sh --target time_inception")
    subprocess.run([os.path.join(ROOT, "bench", "peer_ort", "run_peer.sh"), args.weights, "--", "--runs", "2"], check=True,
                   stdout=subprocess.DEVNULL)
    onnx = os.path.join(ROOT, "build", "peer_ort", "inception_v3.onnx")
    node_env = dict(os.environ, NODE_PATH=os.path.join(ROOT, "build", "peer_ort", "node_modules"))
    ort_version = json.loads(subprocess.run(["node", os.path.join(ROOT, "bench", "peer_ort", "time_ort.js"), onnx, "--runs", "1",
                                             "--warmup", "0", "--threads", "1"], env=node_env, check=True, capture_output=True,
                                            text=True).stdout.strip().splitlines()[-1])["ort_version"]

    print(f"machine: {machine()}; ONNX Runtime {ort_version} (onnxruntime-node); weights {args.weights}")
    print(f"{args.pairs} alternated pairs per configuration, {args.gap_ms:g} ms apart")
    results = []
    for config in args.configs.split(","):
        batch, threads = (int(v) for v in config.lower().split("x"))
        photong = Peer("photong", [ours, args.weights, "--batch", str(batch), "--threads", str(threads)])
        ort = Peer("ORT", ["node", os.path.join(ROOT, "bench", "peer_ort", "time_ort.js"), onnx, "--serve", "--batch", str(batch),
                           "--threads", str(threads)], env=node_env)
        mine, theirs = [], []
        for i in range(args.pairs):
            order = (photong, ort) if i % 2 == 0 else (ort, photong)
            for peer in order:
                time.sleep(args.gap_ms / 1000)
                (mine if peer is photong else theirs).append(peer.time_one())
        photong.close()
        ort.close()
        ratios = [a / b for a, b in zip(mine, theirs)]
        row = {"batch": batch, "threads": threads, "pairs": args.pairs,
               "photong_median_ms": statistics.median(mine), "ort_median_ms": statistics.median(theirs),
               "ratio_median": statistics.median(ratios), "ratio_q25": quantile(ratios, 0.25), "ratio_q75": quantile(ratios, 0.75),
               "ratio_min": min(ratios), "ratio_max": max(ratios)}
        results.append(row)
        print(f"batch {batch}, {threads} thread{'s' if threads > 1 else ''}: photong {row['photong_median_ms']:.1f} ms, "
              f"ORT {row['ort_median_ms']:.1f} ms, photong/ORT {row['ratio_median']:.3f} "
              f"(middle half {row['ratio_q25']:.3f}-{row['ratio_q75']:.3f}, all {row['ratio_min']:.3f}-{row['ratio_max']:.3f})",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "ort_version": ort_version, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
