#!/usr/bin/python3
"""ctest crosscheck_trained_model: photong's C++ MusicVAE against train_hierdec.py's PyTorch model.

  check_crosscheck_trained_model.py PHOTONG_RECONSTRUCT WORK_DIR [DATA.safetensors]

- when the shipped weights weights/hierdec_mel16_photong.safetensors exist (or the file named by the
  environment variable PHOTONG_CROSSCHECK_WEIGHTS): tools/crosscheck_cpp.py --weights on them, with 50
  melodies of DATA's val_events when DATA exists, else of a synthetic data file made in WORK_DIR;
  in both modes also four sampled decodes (top-k, top-p, song forms; SAMPLED below) draw for draw;
- otherwise: a synthetic data file and a tiny model trained on it for 3 steps (train_hierdec.py --preset
  tiny), all in WORK_DIR, then tools/crosscheck_cpp.py --run-dir on its checkpoint, as trained (its greedy
  decode is all holds) and with its weights perturbed (--perturb 0.3: varied events); seconds, no real data.
Exit status: crosscheck_cpp.py's (0 when it passes).
"""
import os
import subprocess
import sys

# Sampled decodes checked draw for draw (temperature, top-k, top-p, song form, seed): the plain sampler, nucleus with
# a varied-ending form, top-k with exact repeats, and both filters together.
SAMPLED = ("--sampled", "1.0,0,1,none,7", "--sampled", "1.0,0,0.9,AABA,3", "--sampled", "0.8,12,1,ABAB!,11",
           "--sampled", "1.3,20,0.95,AABB,5")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")


def run(*cmd):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd)
    if r.returncode != 0:
        print(f"check_crosscheck_trained_model: {cmd[1] if len(cmd) > 1 else cmd[0]} exited {r.returncode}", flush=True)
        sys.exit(r.returncode or 1)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    cpp, work = sys.argv[1], sys.argv[2]
    data = sys.argv[3] if len(sys.argv) == 4 else ""
    os.makedirs(work, exist_ok=True)
    py = sys.executable
    weights = os.environ.get("PHOTONG_CROSSCHECK_WEIGHTS") or os.path.join(ROOT, "weights", "hierdec_mel16_photong.safetensors")
    synth = os.path.join(work, "synthetic_melodies.safetensors")
    if os.path.exists(weights):
        if not (data and os.path.exists(data)):
            run(py, os.path.join(TOOLS, "crosscheck_cpp.py"), "--make-synthetic", synth)
            data = synth
        print(f"mode: shipped weights {weights}, melodies from {data}", flush=True)
        run(py, os.path.join(TOOLS, "crosscheck_cpp.py"), "--weights", weights, "--data", data, "--cpp", cpp, "--count", "50", *SAMPLED)
    else:
        print(f"mode: no {weights}; a tiny model trained 3 steps on synthetic melodies", flush=True)
        run_dir = os.path.join(work, "tiny_run")
        if os.path.exists(os.path.join(run_dir, "checkpoint.pt")):
            os.remove(os.path.join(run_dir, "checkpoint.pt"))  # train afresh, never --resume a stale run
        if os.path.exists(os.path.join(run_dir, "log.csv")):
            os.remove(os.path.join(run_dir, "log.csv"))
        run(py, os.path.join(TOOLS, "crosscheck_cpp.py"), "--make-synthetic", synth)
        run(py, os.path.join(TOOLS, "train_hierdec.py"), "--data", synth, "--out-dir", run_dir, "--preset", "tiny", "--max-steps", "3",
            "--batch-size", "16", "--threads", "1", "--log-every", "1", "--eval-every", "1000", "--checkpoint-every", "1000",
            "--val-batches", "1")
        run(py, os.path.join(TOOLS, "crosscheck_cpp.py"), "--run-dir", run_dir, "--data", synth, "--cpp", cpp, "--count", "50")
        # A model trained 3 steps decodes only holds; perturbed weights exercise every event input too.
        run(py, os.path.join(TOOLS, "crosscheck_cpp.py"), "--run-dir", run_dir, "--data", synth, "--cpp", cpp, "--count", "50",
            "--perturb", "0.3", *SAMPLED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
