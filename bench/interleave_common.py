"""Shared by the peer comparisons that alternate single timings between two warm processes
(bench/peer_ort/interleave.py, bench/peer_torch/interleave.py).

A peer is a process that prints "ready" once warm, then one time in milliseconds per "run" line on its stdin, and
ends on "quit". alternate() asks photong and the peer in turn (photong first in even pairs, the peer first in odd
ones), with a pause between requests so that neither process's idle threads are still spinning when the other
runs; every pair gives a ratio, and a slow spell of the machine hits both members of a pair alike.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine():
    """CPU model, vector ISA and core count: what every absolute figure must name."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else platform.machine()
    return f"{model or platform.processor() or 'unknown CPU'}, {isa}, {os.cpu_count()} cores"


class Peer:
    """A warm process that prints 'ready', then one time in ms per 'run' line."""

    def __init__(self, name, argv, env=None, cwd=None):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env, cwd=cwd)
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
        self.proc.wait(timeout=60)


def quantile(xs, q):
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def alternate(photong, peer, pairs, gap_ms):
    """(photong's times, the peer's times), one of each per pair, in alternating order."""
    mine, theirs = [], []
    for i in range(pairs):
        for who in ((photong, peer) if i % 2 == 0 else (peer, photong)):
            time.sleep(gap_ms / 1000)
            (mine if who is photong else theirs).append(who.time_one())
    return mine, theirs


def summary(mine, theirs):
    """Each side's median, the median pair ratio photong/peer, its middle half and its extremes."""
    ratios = [a / b for a, b in zip(mine, theirs)]
    return {"pairs": len(ratios), "photong_median_ms": statistics.median(mine), "peer_median_ms": statistics.median(theirs),
            "ratio_median": statistics.median(ratios), "ratio_q25": quantile(ratios, 0.25), "ratio_q75": quantile(ratios, 0.75),
            "ratio_min": min(ratios), "ratio_max": max(ratios)}


def describe(row, peer_name):
    return (f"photong {row['photong_median_ms']:.3f} ms, {peer_name} {row['peer_median_ms']:.3f} ms, photong/{peer_name} "
            f"{row['ratio_median']:.3f} (middle half {row['ratio_q25']:.3f}-{row['ratio_q75']:.3f}, "
            f"all {row['ratio_min']:.3f}-{row['ratio_max']:.3f})")


def arguments(doc, pairs, configs, configs_help):
    """The options every comparison takes: --pairs, --configs, --gap-ms, --json."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=pairs)
    ap.add_argument("--configs", default=configs, help=configs_help)
    ap.add_argument("--gap-ms", type=float, default=30.0)
    ap.add_argument("--json", help="also write the results here")
    return ap


def photong_program(name):
    """build/bench/NAME, or a message saying how to build it."""
    path = os.path.join(ROOT, "build", "bench", name)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"missing {path}: scripts/build.sh --target {name}")
    return path


def compare(photong_argv, peer_name, peer_argv, peer_env, pairs, gap_ms):
    """Starts both warm processes, alternates `pairs` timings between them, stops them; summary() of the pairs."""
    photong = Peer("photong", photong_argv, cwd=ROOT)
    peer = Peer(peer_name, peer_argv, env=peer_env, cwd=ROOT)
    mine, theirs = alternate(photong, peer, pairs, gap_ms)
    photong.close()
    peer.close()
    return summary(mine, theirs)


def write_json(path, results, **facts):
    """The machine, the run's facts and the rows, when --json asked for them."""
    if path:
        with open(path, "w") as f:
            json.dump(dict(machine=machine(), **facts, results=results), f, indent=1)
