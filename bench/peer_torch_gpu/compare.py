#!/usr/bin/env python3
"""Prints photong's GPU times (bench_gpu's JSON) beside PyTorch's (peer.py's JSON lines) for the same shapes,
with the ratio ours / theirs, and the issue's targets on an H100/H200 at batch 1: features <= PyTorch + cuDNN
(fp32, TF32 off), a 16-bar decode <= 10 ms, image -> MIDI <= 20 ms.
usage: compare.py BENCH_GPU_JSON PEER_JSONL
"""
import json
import re
import sys


def main():
    bench = json.load(open(sys.argv[1]))
    ours = {}
    for b in bench["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        ours[name] = b["real_time"] * unit
    peer = {}
    facts = None
    for line in open(sys.argv[2]):
        r = json.loads(line)
        if "name" not in r:
            facts = r
            continue
        peer[(r["name"], r["batch"])] = r["median_ms"]
    print("device:", bench["context"].get("host_name", "?"), "| PyTorch:", facts)
    print(f"{'figure':<26}{'photong ms':>12}{'PyTorch ms':>12}{'ours/theirs':>13}{'theirs TF32':>13}  target")
    for n in (1, 8, 64):
        mine, theirs, tf32 = ours.get(f"gpu_features/{n}/manual_time"), peer.get(("features", n)), peer.get(("features_tf32", n))
        if mine and theirs:
            target = "<= 1.0" if n == 1 else ""
            print(f"{'features batch ' + str(n):<26}{mine:>12.3f}{theirs:>12.3f}{mine / theirs:>13.2f}{tf32 or float('nan'):>13.3f}  {target}")
    for n in (1, 8, 64):
        mine, theirs = ours.get(f"gpu_decode/{n}/manual_time"), peer.get(("decode", n))
        if mine and theirs:
            target = "<= 10 ms" if n == 1 else ""
            print(f"{'16-bar decode batch ' + str(n):<26}{mine:>12.3f}{theirs:>12.3f}{mine / theirs:>13.2f}{'':>13}  {target}")
    i2m = ours.get("gpu_image_to_midi/real_time")
    if i2m:
        print(f"{'image -> MIDI batch 1':<26}{i2m:>12.3f}{'':>12}{'':>13}{'':>13}  <= 20 ms")
    convs = [(k, v) for k, v in ours.items() if k.startswith("gpu_conv/")]
    if convs:
        total = sum(v for _, v in convs)
        print(f"sum of the {len(convs)} conv cases at batch 1: {total:.3f} ms")


if __name__ == "__main__":
    main()
