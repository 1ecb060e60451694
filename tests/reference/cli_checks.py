"""Shared by the example-program checks (check_*_example.py, check_photong_shipped.py): a failure list that
collects every failed check instead of stopping at the first, and a runner for the program under test."""
import os
import shutil
import subprocess

failures = []


def check(cond, what):
    """Records `what` as a failure (and prints it) unless `cond` holds."""
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(prog, *args, threads="1", timeout=300):
    """Runs `prog args...` capturing text output; PHOTONG_NUM_THREADS defaults to `threads`."""
    env = dict(os.environ)
    env.setdefault("PHOTONG_NUM_THREADS", threads)
    return subprocess.run([prog, *args], capture_output=True, text=True, timeout=timeout, env=env)


def random_weights_dir(make_weights, inception, work):
    """Empties `work` and makes work/weights: seeded random bridges and decoder from MAKE_RANDOM_PIPELINE_WEIGHTS
    (tests/random_pipeline_weights.hpp) beside a link to the real InceptionV3. Returns the folder."""
    shutil.rmtree(work, ignore_errors=True)
    wdir = os.path.join(work, "weights")
    os.makedirs(wdir)
    r = subprocess.run([make_weights, wdir], capture_output=True, text=True)
    check(r.returncode == 0, "make_random_pipeline_weights failed: " + r.stderr)
    os.symlink(os.path.abspath(inception), os.path.join(wdir, "inception_v3.safetensors"))
    return wdir


def finish(name):
    """Prints the summary and returns the exit status: 0 when every check held."""
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all %s checks passed" % name)
    return 0
