#!/usr/bin/python3
"""photong over many pictures on a Dask cluster: one task per picture, a MIDI file each, and a summary.

  photong_dask.py IMAGES... --scheduler ADDRESS|local:N -o OUTDIR [--weights-dir D] [--module-dir M]
                  [--seed S] [--temperature T] [--top-k K] [--top-p P] [--form F] [--variations K] [--rank R]
                  [--bridge map|photong] [--brightness A] [--contrast A] [--colour-affect] [--valence V]
                  [--arousal A] [--generator melody|piano] [--seconds S] [--no-verify-weights]

--scheduler is a running scheduler's address (tcp://host:8786), or local:N for a cluster of N worker processes
started here, one thread each (and PHOTONG_NUM_THREADS=1 in them). Every worker loads the photong Pipeline once
(a worker plugin) and keeps it; the Python module photong (built with -DPHOTONG_PYTHON=ON) is imported from
--module-dir (default: this repository's build/python) or PYTHONPATH, on the workers. Pictures and weights are
read by the workers, so on a real cluster they, the module and the weights must be at the same paths on every
worker (a shared file system); the MIDI files and the summary are written here, by this client.

Outputs, all written atomically (a temporary file, then a rename):
  OUTDIR/NAME.mid              for picture NAME.EXT: the bytes `photong NAME.EXT --seed S ...` writes
  OUTDIR/summary.json, .csv    picture, status (done/failed), bpm, key, notes (melody notes), output, error
Re-runs are idempotent: a picture whose summary entry says done with the same options and weights directory, and
whose output file exists, is skipped (and counted). A picture that fails (unreadable, not a picture) is reported on
stderr and in the summary; the others go on. Exit status: 0 when every picture is done, 1 when any failed, 2 for a
usage error. At the end the throughput (pictures per second) is printed.
"""
import argparse
import contextlib
import csv
import io
import json
import math
import os
import re
import secrets
import sys
import time
from pathlib import Path

from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

REPO = Path(__file__).resolve().parent.parent
SUMMARY_FIELDS = ["picture", "status", "bpm", "key", "notes", "output", "error"]


def ranged(kind, low, high, low_open=False):
    """An argparse type: a finite number of `kind` in [low, high] ((low, high] with low_open)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a valid %s: %r" % (kind.__name__, text))
        if not math.isfinite(value) or not (low < value if low_open else low <= value) or value > high:
            raise argparse.ArgumentTypeError("%s is not a finite number in %s%s, %s]" % (text, "(" if low_open else "[", low, high))
        return value
    return parse


def song_form(text):
    """The photong command's --form: none, or 1, 2, 4, 8 or 16 phrase letters A-Z, ! for exact repeats."""
    m = re.fullmatch(r"([A-Z]+)!?", text)
    if text != "none" and not (m and len(m.group(1)) in (1, 2, 4, 8, 16)):
        raise argparse.ArgumentTypeError("must be none or 1, 2, 4, 8 or 16 phrase letters A-Z (e.g. AABA, ABAB!), got %r" % text)
    return text


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="+", metavar="IMAGE")
    ap.add_argument("--scheduler", required=True, help="a scheduler address (tcp://host:8786) or local:N")
    ap.add_argument("-o", "--out", required=True, metavar="OUTDIR")
    ap.add_argument("--weights-dir", default=str(REPO / "weights"), help="on the workers (default: %(default)s)")
    ap.add_argument("--module-dir", default=str(REPO / "build" / "python"), help="on the workers (default: %(default)s)")
    ap.add_argument("--no-verify-weights", action="store_true", help="skip checking the weights against NAME.sha256")
    g = ap.add_argument_group("generate options (the photong command's)")
    g.add_argument("--seed", type=ranged(int, 0, 2**64 - 1), default=0)
    g.add_argument("--temperature", type=ranged(float, 0, math.inf))
    g.add_argument("--top-k", type=ranged(int, 0, 2**31 - 1))
    g.add_argument("--top-p", type=ranged(float, 0, 1, low_open=True))
    g.add_argument("--form", type=song_form)
    g.add_argument("--variations", type=ranged(int, 1, 256), default=1)
    g.add_argument("--rank", choices=["first", "entropy", "pitch_class_entropy", "groove"], default="first")
    g.add_argument("--bridge", choices=["map", "photong"], help="what places the latent code (default: map when present)")
    g.add_argument("--brightness", type=ranged(float, -1, 1), default=0.0)
    g.add_argument("--contrast", type=ranged(float, -1, 1), default=0.0)
    g.add_argument("--colour-affect", "--color-affect", action="store_true")
    g.add_argument("--valence", type=ranged(float, 0, 1))
    g.add_argument("--arousal", type=ranged(float, 0, 1))
    g.add_argument("--generator", choices=["melody", "piano"], default="melody")
    g.add_argument("--seconds", type=ranged(float, 1, 600), default=20.0)
    args = ap.parse_args(argv)
    args.local_workers = None
    if args.scheduler.startswith("local:"):
        n = args.scheduler[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            ap.error("--scheduler local:N needs a whole number N >= 1, got %r" % args.scheduler)
        args.local_workers = int(n)
    return args


def generate_options(args):
    """Pipeline.generate's keyword arguments for these command-line options."""
    return {"seed": args.seed, "temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p, "form": args.form,
            "variations": args.variations, "rank": args.rank, "latent_source": args.bridge, "brightness": args.brightness,
            "contrast": args.contrast, "colour_affect": args.colour_affect, "valence": args.valence, "arousal": args.arousal,
            "generator": args.generator, "seconds": args.seconds}


def output_names(pictures):
    """{picture: NAME} for OUTDIR/NAME.mid; exits with a usage error when two pictures would share a name."""
    names, owner = {}, {}
    for p in pictures:
        stem = os.path.splitext(os.path.basename(p))[0] or os.path.basename(p)
        if stem in owner:
            print("photong_dask: %s and %s would both write %s.mid: rename one" % (owner[stem], p, stem), file=sys.stderr)
            sys.exit(2)
        names[p], owner[stem] = stem, p
    return names


def write_atomically(path, data):
    """Writes `data` (bytes) to `path` through a temporary file beside it and a rename: never a partial file. The
    file gets the usual permissions (0666 less the umask), as the photong command's outputs do."""
    tmp = os.path.join(os.path.dirname(path), ".%s.%s.tmp" % (os.path.basename(path), secrets.token_hex(6)))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_summary(outdir):
    try:
        with open(os.path.join(outdir, "summary.json")) as f:
            return {e["picture"]: e for e in json.load(f)}
    except FileNotFoundError:
        return {}


def write_summary(outdir, entries):
    rows = [entries[p] for p in sorted(entries)]
    write_atomically(os.path.join(outdir, "summary.json"), (json.dumps(rows, indent=1) + "\n").encode())
    text = io.StringIO()
    w = csv.DictWriter(text, SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_atomically(os.path.join(outdir, "summary.csv"), text.getvalue().encode())


class PhotongPipeline(WorkerPlugin):
    """Loads the Pipeline once per worker (and again on a worker that joins or restarts later)."""
    name = "photong-pipeline"

    def __init__(self, module_dir, weights_dir, verify_checksums):
        self.module_dir, self.weights_dir, self.verify_checksums = module_dir, weights_dir, verify_checksums

    def setup(self, worker):
        if os.path.isdir(self.module_dir) and self.module_dir not in sys.path:
            sys.path.insert(0, self.module_dir)
        import photong
        self.pipeline = photong.Pipeline(self.weights_dir, verify_checksums=self.verify_checksums)


def generate_one(picture, options):
    """The task: one picture on a worker's Pipeline. Returns the outcome, never raises for a bad picture: the
    client need not import photong to read a photong.Error, and one picture's failure is only that picture's."""
    pipeline = get_worker().plugins[PhotongPipeline.name].pipeline
    try:
        r = pipeline.generate(picture, **options)
    except Exception as e:  # photong.Error (unreadable picture, ...), ValueError: reported in the summary
        return {"status": "failed", "error": str(e)}
    return {"status": "done", "midi": r.midi, "bpm": r.bpm, "key": r.key, "notes": len(r.melody)}


class Progress:
    """A progress bar on stderr when it is a terminal; failures are printed on their own lines either way."""

    def __init__(self, total):
        self.total, self.done, self.failed = total, 0, 0
        self.tty = sys.stderr.isatty()

    def update(self, picture, outcome):
        self.done += 1
        if outcome["status"] != "done":
            self.failed += 1
            self._line("photong_dask: failed: %s: %s" % (picture, outcome["error"]))
        if self.tty:
            filled = 30 * self.done // self.total
            sys.stderr.write("\r[%s%s] %d/%d pictures, %d failed" % ("#" * filled, "." * (30 - filled), self.done, self.total, self.failed))
            sys.stderr.flush()

    def _line(self, text):
        sys.stderr.write(("\r\033[K" if self.tty else "") + text + "\n")

    def close(self):
        if self.tty:
            sys.stderr.write("\n")


def run_batch(args, todo, names, options, entries):
    """Generates `todo` on the cluster, writing each MIDI file and entry as it arrives. Returns (seconds, workers)."""
    started = time.perf_counter()
    local = args.local_workers
    with (LocalCluster(n_workers=local, threads_per_worker=1, processes=True, dashboard_address=None, env={"PHOTONG_NUM_THREADS": "1"})
          if local else contextlib.nullcontext()) as cluster, Client(cluster if local else args.scheduler) as client:
        try:
            client.register_worker_plugin(PhotongPipeline(args.module_dir, args.weights_dir, not args.no_verify_weights))
        except Exception as e:  # raised on a worker: no photong module there, missing or damaged weights
            sys.exit("photong_dask: the workers could not load the photong pipeline: %s: %s" % (type(e).__name__, e))
        workers = len(client.scheduler_info()["workers"])
        print("photong_dask: %d worker%s ready (%.1f s)%s: %d pictures to generate" %
              (workers, "" if workers == 1 else "s", time.perf_counter() - started, "" if workers else ", waiting for workers", len(todo)),
              file=sys.stderr)
        t0 = time.perf_counter()
        futures = {client.submit(generate_one, p, options, pure=False): p for p in todo}
        progress = Progress(len(todo))
        for future in as_completed(futures):
            picture = futures[future]
            try:
                outcome = future.result()
            except Exception as e:  # the task itself was lost: a worker died (KilledWorker), the cluster went away
                outcome = {"status": "failed", "error": "%s: %s" % (type(e).__name__, e)}
            entry = {"picture": picture, "status": outcome["status"], "bpm": outcome.get("bpm"), "key": outcome.get("key"),
                     "notes": outcome.get("notes"), "output": "", "error": outcome.get("error", ""), "options": options,
                     "weights_dir": args.weights_dir}
            if outcome["status"] == "done":
                entry["output"] = os.path.join(args.out, names[picture] + ".mid")
                write_atomically(entry["output"], outcome["midi"])
            entries[picture] = entry
            progress.update(picture, outcome)
        progress.close()
        return time.perf_counter() - t0, workers


def main(argv=None):
    args = parse_args(argv)
    args.weights_dir = os.path.abspath(args.weights_dir)
    args.module_dir = os.path.abspath(args.module_dir)
    pictures = list(dict.fromkeys(os.path.abspath(p) for p in args.images))  # the workers' paths; duplicates once
    names = output_names(pictures)
    os.makedirs(args.out, exist_ok=True)
    options = generate_options(args)
    entries = load_summary(args.out)
    todo = []
    for p in pictures:
        e = entries.get(p)
        # Skipped: done with the same generate options and weights, its output still there.
        if not (e and e["status"] == "done" and e.get("options") == options and e.get("weights_dir") == args.weights_dir
                and os.path.isfile(os.path.join(args.out, names[p] + ".mid"))):
            todo.append(p)
    skipped = len(pictures) - len(todo)
    if skipped:
        print("photong_dask: skipped %d of %d pictures, already done with these options" % (skipped, len(pictures)), file=sys.stderr)
    if todo:
        try:
            seconds, workers = run_batch(args, todo, names, options, entries)
        except OSError as e:  # no scheduler at that address, OUTDIR not writable
            sys.exit("photong_dask: %s" % e)
        finally:  # an interrupted batch still records what finished
            write_summary(args.out, entries)
        print("photong_dask: %d pictures in %.2f s on %d worker%s: %.2f pictures/s" %
              (len(todo), seconds, workers, "" if workers == 1 else "s", len(todo) / seconds))
    failed = sum(entries[p]["status"] != "done" for p in pictures)
    print("photong_dask: %d done (%d skipped), %d failed; summary in %s" %
          (len(pictures) - failed, skipped, failed, os.path.join(args.out, "summary.json")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
