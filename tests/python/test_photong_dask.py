"""tools/photong_dask.py on a local Dask cluster of 2 worker processes, against the `photong` command.

  PYTHONPATH=build/python /usr/bin/python3 -m unittest discover -s tests/python -p 'test_photong_dask.py'

20 pictures (14 of python3-skimage's photos, 6 deterministic synthetic ones, PNG and JPEG) and one broken file go
through the tool in one batch: every MIDI file must be the bytes `photong PICTURE --seed 1` writes, with the command's
tempo, key and note count in the summary; the broken picture is reported (summary, stderr, exit status 1) without
stopping the others; a re-run skips every done picture and starts no cluster; changed options are not skipped. The
throughput of the Dask run and of one process generating the same pictures with the module is printed, not asserted.
Needs the photong command (PHOTONG_CLI, default build/examples/photong) and the weights (PHOTONG_WEIGHTS_DIR).
"""
import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np
from PIL import Image

import photong

REPO = pathlib.Path(__file__).resolve().parents[2]
TOOL = str(REPO / "tools" / "photong_dask.py")
WEIGHTS = os.environ.get("PHOTONG_WEIGHTS_DIR", str(REPO / "weights"))
CLI = os.environ.get("PHOTONG_CLI", str(REPO / "build" / "examples" / "photong"))
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ["chelsea.png", "astronaut.png", "coffee.png", "rocket.jpg", "camera.png", "coins.png", "moon.png", "hubble_deep_field.jpg",
          "motorcycle_left.png", "ihc.png", "brick.png", "grass.png", "gravel.png", "logo.png"]


def synthetic_pictures(directory):
    """Six deterministic pictures: gradients, noise (also as JPEG), a checkerboard, hue stripes, one flat colour."""
    y, x = np.mgrid[0:240, 0:320]
    rng = np.random.default_rng(25)
    pictures = {
        "gradient.png": np.dstack([x * 255 // 319, y * 255 // 239, (x + y) * 255 // 558]).astype(np.uint8),
        "noise.png": rng.integers(0, 256, (256, 256, 3), dtype=np.uint8),
        "noise_jpeg.jpg": rng.integers(0, 256, (200, 300, 3), dtype=np.uint8),
        "checker.png": (((x // 40 + y // 40) % 2) * 255).astype(np.uint8),
        "stripes.png": np.dstack([(x * 7) % 256, (x * 3 + 80) % 256, 255 - (x * 5) % 256]).astype(np.uint8),
        "teal.png": np.broadcast_to(np.array([0, 128, 128], np.uint8), (180, 180, 3)).copy(),
    }
    paths = []
    for name, pixels in pictures.items():
        paths.append(os.path.join(directory, name))
        Image.fromarray(pixels).save(paths[-1], quality=90)
    return paths


def run_tool(pictures, out, *options):
    started = time.perf_counter()
    r = subprocess.run([sys.executable, TOOL, *pictures, "-o", out, "--weights-dir", WEIGHTS,
                        "--module-dir", os.path.dirname(photong.__file__), *options], capture_output=True, text=True)
    return r, time.perf_counter() - started


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


class PhotongDaskTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(CLI, os.X_OK) or not os.path.exists(os.path.join(WEIGHTS, "inception_v3.safetensors")):
            raise unittest.SkipTest("needs the photong command (%s) and the weights (%s)" % (CLI, WEIGHTS))
        if not all(os.path.exists(os.path.join(SKIMAGE, p)) for p in PHOTOS):
            raise unittest.SkipTest("needs python3-skimage's photos")
        cls.tmp = tempfile.mkdtemp(prefix="photong_dask_")
        pictures_dir = os.path.join(cls.tmp, "pictures")
        os.makedirs(pictures_dir)
        cls.good = [shutil.copy(os.path.join(SKIMAGE, p), pictures_dir) for p in PHOTOS] + synthetic_pictures(pictures_dir)
        assert len(cls.good) == 20
        cls.broken = os.path.join(pictures_dir, "broken.png")
        with open(cls.broken, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a PNG signature and nothing a decoder can use
        cls.out = os.path.join(cls.tmp, "out")
        cls.batch, cls.batch_seconds = run_tool(cls.good[:10] + [cls.broken] + cls.good[10:], cls.out, "--scheduler", "local:2", "--seed", "1")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def summary(self, out=None):
        with open(os.path.join(out or self.out, "summary.json")) as f:
            return {e["picture"]: e for e in json.load(f)}

    def test_outputs_equal_the_photong_command(self):
        cli_dir = os.path.join(self.tmp, "cli")
        os.makedirs(cli_dir)
        summary = self.summary()
        for picture in self.good:
            out = os.path.join(cli_dir, stem(picture) + ".mid")
            r = subprocess.run([CLI, picture, "--weights-dir", WEIGHTS, "--seed", "1", "-o", out, "--json", "--no-verify-weights"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(r.stdout)
            with open(out, "rb") as a, open(os.path.join(self.out, stem(picture) + ".mid"), "rb") as b:
                self.assertEqual(b.read(), a.read(), picture)
            e = summary[picture]
            self.assertEqual((e["status"], e["bpm"], e["key"], e["notes"]), ("done", j["bpm"], j["key"]["name"], len(j["melody"])), picture)
        # Nothing else in OUTDIR: no temporary file left behind, no output for the broken picture.
        self.assertEqual(sorted(os.listdir(self.out)), sorted([stem(p) + ".mid" for p in self.good] + ["summary.csv", "summary.json"]))

    def test_broken_picture_is_reported_and_the_batch_goes_on(self):
        self.assertEqual(self.batch.returncode, 1, self.batch.stderr)
        self.assertIn("failed: %s" % self.broken, self.batch.stderr)
        summary = self.summary()
        self.assertEqual(set(summary), set(self.good) | {self.broken})
        self.assertEqual(summary[self.broken]["status"], "failed")
        self.assertIn("not a readable image", summary[self.broken]["error"])
        self.assertEqual(summary[self.broken]["output"], "")
        self.assertEqual(sum(e["status"] == "done" for e in summary.values()), 20)
        with open(os.path.join(self.out, "summary.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(list(rows[0]), ["picture", "status", "bpm", "key", "notes", "output", "error"])
        self.assertEqual({r["picture"]: (r["status"], r["key"], r["output"]) for r in rows},
                         {p: (e["status"], e["key"] or "", e["output"]) for p, e in summary.items()})

    def test_rerun_skips_every_done_picture(self):
        before = {p: os.stat(os.path.join(self.out, stem(p) + ".mid")) for p in self.good}
        r, _ = run_tool(self.good, self.out, "--scheduler", "local:2", "--seed", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("skipped 20 of 20 pictures", r.stderr)
        self.assertNotIn("worker", r.stderr)  # nothing to do: no cluster started
        for p, st in before.items():
            now = os.stat(os.path.join(self.out, stem(p) + ".mid"))
            self.assertEqual((now.st_ino, now.st_mtime_ns), (st.st_ino, st.st_mtime_ns), p)
        self.assertEqual(self.summary()[self.broken]["status"], "failed")  # earlier entries are kept

    def test_changed_options_are_generated_again(self):
        out = os.path.join(self.tmp, "out_seed2")
        shutil.copytree(self.out, out)
        pictures = self.good[:2]
        r, _ = run_tool(pictures, out, "--scheduler", "local:1", "--seed", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("skipped", r.stderr)
        pipeline = photong.Pipeline(WEIGHTS)
        for p in pictures:
            with open(os.path.join(out, stem(p) + ".mid"), "rb") as f:
                self.assertEqual(f.read(), pipeline.generate(p, seed=2).midi, p)
            self.assertEqual(self.summary(out)[p]["options"]["seed"], 2)

    def test_throughput_against_one_process(self):
        m = re.search(r"(\d+) pictures in ([\d.]+) s on (\d+) workers: ([\d.]+) pictures/s", self.batch.stdout)
        self.assertTrue(m, self.batch.stdout)
        print("\nthroughput: Dask, %s local workers x 1 thread: %s pictures/s over %s pictures (%.1f s with cluster start and weights)"
              % (m.group(3), m.group(4), m.group(1), self.batch_seconds))
        # One process with the module: photong's shared pool (PHOTONG_NUM_THREADS or all cores), then one thread.
        for threads in (0, 1):
            started = time.perf_counter()
            pipeline = photong.Pipeline(WEIGHTS, threads=threads)
            loaded = time.perf_counter()
            for p in self.good:
                with open(os.path.join(self.out, stem(p) + ".mid"), "rb") as f:
                    self.assertEqual(pipeline.generate(p, seed=1).midi, f.read(), p)
            done = time.perf_counter()
            print("throughput: one process, the module, sequential, threads=%d: %.2f pictures/s over %d pictures (%.1f s with weights)"
                  % (threads, len(self.good) / (done - loaded), len(self.good), done - started))

if __name__ == "__main__":
    unittest.main()
