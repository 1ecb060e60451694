#!/usr/bin/python3
"""photong vs PyTorch on MusicVAE's LSTM work, timings alternated between two warm processes.

Usage: bench/peer_torch/interleave.py [--pairs N] [--configs step:1x2,step:8x2,decode:1x2,decode:8x2] [--gap-ms G] [--json OUT]

Each configuration WORK:BxT (WORK step or decode, batch B, T threads for both) starts photong's
build/bench/time_lstm and torch_lstm_peer.py --serve (nn.LSTM; the same work as bench_lstm's BM_LstmStackStep and
BM_HierarchicalDecode16Bars), each warmed up once, then asks them in turn for one timing (20 steps or one decode,
averaged), G ms apart, photong first in even pairs (bench/interleave_common.py). Printed per configuration: each
side's median, the median ratio photong/PyTorch and its spread. PyTorch runs on OpenBLAS's OpenMP build, as
bench/peer_torch/compare.sh sets up (PEER_TORCH_BLAS_DIR: another libblas.so.3 directory).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from interleave_common import Peer, alternate, describe, machine, summary  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--configs", default="step:1x2,step:8x2,decode:1x2,decode:8x2")
    ap.add_argument("--gap-ms", type=float, default=30.0)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    ours = os.path.join(ROOT, "build", "bench", "time_lstm")
    if not os.access(ours, os.X_OK):
        raise SystemExit(f"missing {ours}: scripts/build.sh --target time_lstm")
    blas_dir = os.environ.get("PEER_TORCH_BLAS_DIR") or "/usr/lib/{}/openblas-openmp".format(
        subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip())
    if not os.path.exists(os.path.join(blas_dir, "libblas.so.3")):
        raise SystemExit(f"no libblas.so.3 in {blas_dir}: apt-get install libopenblas0-openmp (bench/peer_torch/compare.sh does)")
    env = dict(os.environ, LD_LIBRARY_PATH=blas_dir + (":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else ""))
    import torch  # only for its version in the header line
    print(f"machine: {machine()}; PyTorch {torch.__version__} on {blas_dir}/libblas.so.3; {args.pairs} alternated pairs, "
          f"{args.gap_ms:g} ms apart")
    rows = []
    for config in args.configs.split(","):
        work, shape = config.split(":")
        batch, threads = (int(v) for v in shape.lower().split("x"))
        photong = Peer("photong", [ours, work, "--batch", str(batch), "--threads", str(threads)], cwd=ROOT)
        torch_env = dict(env, PHOTONG_NUM_THREADS=str(threads))
        peer = Peer("PyTorch", ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_torch", "torch_lstm_peer.py"), "--serve", work,
                                "--batch", str(batch)], env=torch_env, cwd=ROOT)
        mine, theirs = alternate(photong, peer, args.pairs, args.gap_ms)
        photong.close()
        peer.close()
        row = dict(work=work, batch=batch, threads=threads, **summary(mine, theirs))
        print(f"{work}, batch {batch}, {threads} thread{'s' if threads > 1 else ''}: {describe(row, 'PyTorch')}", flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "torch": torch.__version__, "blas_dir": blas_dir, "results": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
