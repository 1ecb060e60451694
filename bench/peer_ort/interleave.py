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
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/
from interleave_common import ROOT, arguments, compare, describe, machine, photong_program, write_json  # noqa: E402


def main():
    ap = arguments(__doc__, 30, "1x1,1x2,8x1,8x2", "comma-separated BATCHxTHREADS")
    ap.add_argument("--weights", default=os.path.join(ROOT, "weights", "inception_v3.safetensors"))
    args = ap.parse_args()
    ours = photong_program("time_inception")
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
        row = dict(batch=batch, threads=threads, **compare(
            [ours, args.weights, "--batch", str(batch), "--threads", str(threads)], "ORT",
            ["node", os.path.join(ROOT, "bench", "peer_ort", "time_ort.js"), onnx, "--serve", "--batch", str(batch), "--threads", str(threads)],
            node_env, args.pairs, args.gap_ms))
        results.append(row)
        print(f"batch {batch}, {threads} thread{'s' if threads > 1 else ''}: {describe(row, 'ORT')}", flush=True)
    write_json(args.json, results, ort_version=ort_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
