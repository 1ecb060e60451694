#!/usr/bin/env bash
# photong vs PyTorch (CPU, float32) on MusicVAE's LSTM work, same run: bench_lstm's BM_LstmStackStep and
# BM_HierarchicalDecode16Bars (batch 1 and 8) against bench/peer_torch/torch_lstm_peer.py doing the same
# work idiomatically (nn.LSTM stepped on length-1 sequences, nn.LSTMCell x2, nn.Linear, torch.multinomial).
# Alternates photong and PyTorch for ROUNDS rounds (default 2) so that drift in machine load hits both
# alike, then prints each figure as the best of its rounds' medians and the ratio photong/PyTorch
# (< 1: photong is faster). Both run on PHOTONG_NUM_THREADS threads (default: nproc).
# PyTorch runs on OpenBLAS's OpenMP build (Debian's libopenblas0-openmp, installed here when missing, put first on
# LD_LIBRARY_PATH for the peer only): Debian's python3-torch otherwise loads the system libblas.so.3, whose
# pthread OpenBLAS threads fight PyTorch's own OpenMP threads (2.3x slower at batch 8 on a 2-core AVX2 machine).
# PEER_TORCH_BLAS_DIR=DIR puts another libblas.so.3 first instead (the output names the BLAS loaded).
# usage: bench/peer_torch/compare.sh [ROUNDS] [-- torch_lstm_peer.py options, e.g. --decode-cells]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3
ROUNDS=2
if [[ $# -gt 0 && "$1" != "--" ]]; then ROUNDS="$1"; shift; fi
if [[ $# -gt 0 && "$1" == "--" ]]; then shift; fi
cd "$ROOT"
export PHOTONG_NUM_THREADS="${PHOTONG_NUM_THREADS:-$(nproc)}"

BENCH=build/bench/bench_lstm
if [[ ! -x "$BENCH" ]]; then
  if ! grep -qs 'PHOTONG_BUILD_BENCH:BOOL=ON' build/CMakeCache.txt; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPHOTONG_BUILD_BENCH=ON >/dev/null
  fi
  cmake --build build --target bench_lstm -j2 >/dev/null
elif [[ -n "$(find include bench/bench_lstm.cpp bench/random_music_vae.hpp bench/machine_peak.hpp -newer "$BENCH" -print -quit)" ]]; then
  echo "warning: $BENCH is older than its sources; rebuild: cmake --build build --target bench_lstm" >&2
fi

if [[ -z "${PEER_TORCH_BLAS_DIR:-}" ]]; then
  PEER_TORCH_BLAS_DIR="/usr/lib/$(gcc -print-multiarch)/openblas-openmp"
  if [[ ! -e "$PEER_TORCH_BLAS_DIR/libblas.so.3" ]]; then
    SUDO=(); [[ "$(id -u)" -ne 0 ]] && SUDO=(sudo)
    "${SUDO[@]}" apt-get install -y --no-install-recommends libopenblas0-openmp >&2
  fi
fi
TORCH_ENV=(env "LD_LIBRARY_PATH=$PEER_TORCH_BLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")

photong_round() {
  "$BENCH" --benchmark_filter="BM_LstmStackStep|BM_HierarchicalDecode16Bars" --benchmark_format=json --benchmark_repetitions=5 --benchmark_report_aggregates_only=true 2>/dev/null |
    "$PY" -c '
import json, re, sys
scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
for b in json.load(sys.stdin)["benchmarks"]:
    if b.get("aggregate_name") == "median":
        print(json.dumps({"name": b["run_name"].split("/")[0], "batch": int(re.search(r"batch:(\d+)", b["run_name"]).group(1)),
                          "median_ms": b["real_time"] * scale[b["time_unit"]]}))'
}
torch_round() {
  "${TORCH_ENV[@]}" "$PY" bench/peer_torch/torch_lstm_peer.py "$@"
}

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
for ((r = 1; r <= ROUNDS; ++r)); do
  photong_round > "$OUT/photong.$r"
  torch_round "$@" > "$OUT/torch.$r"
done

"$PY" - "$OUT" "$ROUNDS" <<'PY'
import json, os, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
ours, theirs, facts = {}, {}, None
for r in range(1, rounds + 1):
    for row in load(os.path.join(out, f"photong.{r}")):
        ours.setdefault((row["name"], row["batch"]), []).append(row["median_ms"])
    for row in load(os.path.join(out, f"torch.{r}")):
        if "name" not in row:
            facts = row
            continue
        theirs.setdefault((row["name"], row["batch"]), []).append(row["median_ms"])
blas = ", ".join(os.path.join(os.path.basename(os.path.dirname(p)), os.path.basename(p)) for p in facts["blas"]) or "?"
print(f"PyTorch {facts['torch']}, {facts['threads']} threads, BLAS {blas}; photong PHOTONG_NUM_THREADS={os.environ['PHOTONG_NUM_THREADS']}; "
      f"{rounds} rounds alternated, each figure the best of its rounds' medians")
if any("/blas/libblas.so" in p for p in facts["blas"]):
    print("note: PyTorch is on the reference (netlib) BLAS; set PEER_TORCH_BLAS_DIR to an OpenBLAS libblas.so.3 directory for a stronger peer")
pairs = [("BM_LstmStackStep", "lstm_stack_step", "nn.LSTM(1024, 1024, 2), 1 step"),
         ("BM_LstmStackStep", "lstm_stack_step_cells", "2 x nn.LSTMCell(1024, 1024), 1 step"),
         ("BM_HierarchicalDecode16Bars", "hierdec_16x16", "16x16 decode, nn.LSTM stacks"),
         ("BM_HierarchicalDecode16Bars", "hierdec_16x16_cells", "16x16 decode, nn.LSTMCell stacks")]
print(f"{'benchmark':<30}{'batch':>6}{'photong ms':>12}{'PyTorch ms':>12}{'photong/PyTorch':>17}{'round ratios':>16}   PyTorch code   (rounds' medians: photong | PyTorch)")
for ours_name, torch_name, what in pairs:
    for batch in sorted({b for (n, b) in ours if n == ours_name} | {b for (n, b) in theirs if n == torch_name}):
        a, t = ours.get((ours_name, batch)), theirs.get((torch_name, batch))
        if not a or not t:
            continue
        fmt = lambda xs: " ".join(f"{x:.4g}" for x in xs)
        # The spread: each round's photong median over the same round's PyTorch median (rounds alternate the two).
        ratios = [x / y for x, y in zip(a, t)]
        spread = f"{min(ratios):.3f}-{max(ratios):.3f}"
        print(f"{ours_name:<30}{batch:>6}{min(a):>12.3f}{min(t):>12.3f}{min(a) / min(t):>17.3f}{spread:>16}   {what}   ({fmt(a)} | {fmt(t)})")
PY
