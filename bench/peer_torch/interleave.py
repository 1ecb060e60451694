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
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/
from interleave_common import ROOT, arguments, compare, describe, machine, photong_program, write_json  # noqa: E402


def main():
    args = arguments(__doc__, 20, "step:1x2,step:8x2,decode:1x2,decode:8x2", "comma-separated WORK:BATCHxTHREADS").parse_args()
    ours = photong_program("time_lstm")
    blas_dir = os.environ.get("PEER_TORCH_BLAS_DIR") or "/usr/lib/{}/openblas-openmp".format(
        subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip())
    if not os.path.exists(os.path.join(blas_dir, "libblas.so.3")):
        raise SystemExit(f"no libblas.so.3 in {blas_dir}: apt-get install libopenblas0-openmp (bench/peer_torch/compare.sh does)")
    env = dict(os.environ, LD_LIBRARY_PATH=blas_dir + (":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else ""))
    import torch  # only for its version in the header line
    print(f"machine: {machine()}; PyTorch {torch.__version__} on {blas_dir}/libblas.so.3; {args.pairs} alternated pairs, "
          f"{args.gap_ms:g} ms apart")
    results = []
    for config in args.configs.split(","):
        work, shape = config.split(":")
        batch, threads = (int(v) for v in shape.lower().split("x"))
        row = dict(work=work, batch=batch, threads=threads, **compare(
            [ours, work, "--batch", str(batch), "--threads", str(threads)], "PyTorch",
            ["/usr/bin/python3", os.path.join(ROOT, "bench", "peer_torch", "torch_lstm_peer.py"), "--serve", work, "--batch", str(batch)],
            dict(env, PHOTONG_NUM_THREADS=str(threads)), args.pairs, args.gap_ms))
        results.append(row)
        print(f"{work}, batch {batch}, {threads} thread{'s' if threads > 1 else ''}: {describe(row, 'PyTorch')}", flush=True)
    write_json(args.json, results, torch=torch.__version__, blas_dir=blas_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
