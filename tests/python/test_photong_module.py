"""The Python module photong (python/photong_module.cpp) against independent references.

  PYTHONPATH=build/python /usr/bin/python3 -m unittest discover -s tests/python -p 'test_photong_module.py'

References: the `photong` command's MIDI file and --json output for the same picture and options (PHOTONG_CLI,
default build/examples/photong); the same picture decoded by PIL and given as a numpy array; the module's own results
for the same seed. Also: the latent is a view of the result, the GIL is released during generate, bad inputs raise the
documented exceptions, and the module works inside a Dask worker process. Weights: PHOTONG_WEIGHTS_DIR (default
weights/); the whole file is skipped when they are missing. Nothing here asserts on time.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np
from PIL import Image

import photong

REPO = pathlib.Path(__file__).resolve().parents[2]
WEIGHTS = os.environ.get("PHOTONG_WEIGHTS_DIR", str(REPO / "weights"))
CLI = os.environ.get("PHOTONG_CLI", str(REPO / "build" / "examples" / "photong"))
CHELSEA = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"  # python3-skimage's photo, as the CLI tests use
WEIGHT_FILES = ["inception_v3", "bridge_embedding", "bridge_arousal", "bridge_valence", "hierdec_mel16_photong"]


def setUpModule():
    missing = [f for f in WEIGHT_FILES if not os.path.exists(os.path.join(WEIGHTS, f + ".safetensors"))]
    if missing or not os.path.exists(CHELSEA):
        raise unittest.SkipTest("missing %s" % (missing or CHELSEA))


def run_cli(image, out, *options):
    """The photong command on `image`; returns (MIDI bytes, its --json object)."""
    r = subprocess.run([CLI, image, "--weights-dir", WEIGHTS, "-o", out, "--json", *options], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("photong %s: exit %d: %s" % (" ".join(options), r.returncode, r.stderr))
    with open(out, "rb") as f:
        return f.read(), json.loads(r.stdout)


class PipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="photong_module_")
        cls.pipeline = photong.Pipeline(WEIGHTS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def require_cli(self):
        if not os.access(CLI, os.X_OK):
            self.skipTest("no photong command at %s (target photong-cli)" % CLI)

    # --- against the photong command -------------------------------------------------------------------------------

    def check_against_cli(self, cli_options, module_options):
        self.require_cli()
        midi, j = run_cli(CHELSEA, self.path("cli.mid"), *cli_options)
        r = self.pipeline.generate(CHELSEA, **module_options)
        self.assertEqual(r.midi, midi, "MIDI bytes differ from `photong %s`" % " ".join(cli_options))
        self.assertEqual(r.bpm, j["bpm"])
        self.assertEqual(r.key, j["key"]["name"])
        self.assertEqual(r.key_tonic, j["key"]["tonic_pitch_class"])
        self.assertEqual(r.key_major, j["key"]["mode"] == "major")
        self.assertEqual((r.valence, r.arousal), (j["valence"], j["arousal"]))
        self.assertEqual((r.generator, r.form, r.top_k), (j["generator"], j["form"], j["top_k"]))
        self.assertEqual((np.float32(r.temperature), np.float32(r.top_p)), (np.float32(j["temperature"]), np.float32(j["top_p"])))
        self.assertEqual((r.picture_brightness, r.edge_density), (j["picture"]["brightness"], j["picture"]["edge_density"]))
        # to_dict is the same JSON object, without the command's own fields.
        self.assertEqual(r.to_dict(), {k: v for k, v in j.items() if k not in ("image", "output")})
        return r, j

    def test_default_options_equal_cli(self):
        r, j = self.check_against_cli(["--seed", "1"], {"seed": 1})
        self.assertEqual(len(r.melody), len(j["melody"]))
        self.assertGreater(len(r.melody), 0)

    def test_sampling_options_equal_cli(self):
        self.check_against_cli(
            ["--seed", "7", "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9", "--form", "AABA", "--variations", "3", "--rank", "entropy",
             "--bridge", "photong", "--brightness", "0.3", "--contrast", "-0.2", "--colour-affect"],
            {"seed": 7, "temperature": 0.8, "top_k": 20, "top_p": 0.9, "form": "AABA", "variations": 3, "rank": "entropy",
             "latent_source": "photong", "brightness": 0.3, "contrast": -0.2, "colour_affect": True})

    def test_given_affect_and_groove_rank_equal_cli(self):
        self.check_against_cli(["--seed", "3", "--valence", "0.2", "--arousal", "0.9", "--variations", "2", "--rank", "groove", "--form", "ABAB!"],
                               {"seed": 3, "valence": 0.2, "arousal": 0.9, "variations": 2, "rank": "groove", "form": "ABAB!"})

    def test_piano_equals_cli(self):
        if not self.pipeline.has_piano:
            self.skipTest("no piano_performance_rnn.safetensors")
        r, _ = self.check_against_cli(["--seed", "2", "--generator", "piano", "--seconds", "5"], {"seed": 2, "generator": "piano", "seconds": 5})
        self.assertEqual(r.generator, "piano")
        self.assertEqual(len(r.chords), 0)

    # --- the picture as a numpy array ------------------------------------------------------------------------------

    def test_array_equals_file(self):
        rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))  # PNG: lossless, so exactly the pixels photong decodes
        from_file = self.pipeline.generate(CHELSEA, seed=1)
        from_array = self.pipeline.generate(rgb, seed=1)
        self.assertEqual(from_array.midi, from_file.midi)
        self.assertEqual(from_array.to_dict(), from_file.to_dict())
        self.assertEqual(self.pipeline.generate(pathlib.Path(CHELSEA), seed=1).midi, from_file.midi)
        # Any strides: a flipped view gives what its contiguous copy gives.
        flipped = rgb[::-1, ::-1]
        self.assertEqual(self.pipeline.generate(flipped, seed=1).midi, self.pipeline.generate(np.ascontiguousarray(flipped), seed=1).midi)

    def test_grey_and_rgba_arrays_equal_their_png_files(self):
        rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
        grey = np.asarray(Image.fromarray(rgb).convert("L"))
        Image.fromarray(grey).save(self.path("grey.png"))
        self.assertEqual(self.pipeline.generate(grey, seed=4).midi, self.pipeline.generate(self.path("grey.png"), seed=4).midi)
        alpha = np.random.default_rng(0).integers(0, 256, rgb.shape[:2], dtype=np.uint8)
        rgba = np.dstack([rgb, alpha])
        Image.fromarray(rgba, "RGBA").save(self.path("rgba.png"))
        from_rgba = self.pipeline.generate(rgba, seed=4)
        self.assertEqual(from_rgba.midi, self.pipeline.generate(self.path("rgba.png"), seed=4).midi)
        self.assertEqual(from_rgba.midi, self.pipeline.generate(rgb, seed=4).midi)  # alpha ignored

    # --- the result -------------------------------------------------------------------------------------------------

    def test_latent_is_a_view_of_the_result(self):
        r = self.pipeline.generate(CHELSEA, seed=1)
        z = r.latent
        self.assertEqual((z.shape, z.dtype), ((self.pipeline.z_size,), np.float32))
        self.assertFalse(z.flags.owndata)
        self.assertIs(z.base, r)
        self.assertTrue(np.shares_memory(z, r.latent))
        self.assertFalse(z.flags.writeable)
        np.testing.assert_array_equal(z, np.array(r.to_dict()["latent"], dtype=np.float32))
        # The view keeps the result alive on its own.
        kept = self.pipeline.generate(CHELSEA, seed=1).latent
        np.testing.assert_array_equal(kept, z)

    def test_notes_and_events(self):
        r = self.pipeline.generate(CHELSEA, seed=1)
        d = r.to_dict()
        self.assertEqual(r.melody.dtype.names, ("pitch", "velocity", "channel", "start_step", "end_step", "start_s", "end_s"))
        for array, notes, channel in ((r.melody, d["melody"], 0), (r.chords, d["chords"], 1)):
            self.assertEqual(len(array), len(notes))
            for field in ("pitch", "velocity", "start_step", "end_step", "start_s", "end_s"):
                self.assertEqual(array[field].tolist(), [n[field] for n in notes], field)
            self.assertTrue((array["channel"] == channel).all())
        self.assertEqual(r.events.dtype, np.int32)
        self.assertEqual(r.events.tolist(), d["events"])

    def test_same_seed_same_bytes(self):
        a, b = self.pipeline.generate(CHELSEA, seed=5), self.pipeline.generate(CHELSEA, seed=5)
        self.assertEqual(a.midi, b.midi)
        self.assertNotEqual(self.pipeline.generate(CHELSEA, seed=6).to_dict()["events"], a.to_dict()["events"])

    # --- threads ----------------------------------------------------------------------------------------------------

    def test_python_thread_runs_during_generate(self):
        # With a switch interval far longer than a generate, a thread that keeps the GIL is never preempted: the
        # main thread can count only while generate() has released it.
        rgb = np.asarray(Image.open(CHELSEA).convert("RGB"))
        done, errors = threading.Event(), []

        def work():
            try:
                self.pipeline.generate(rgb, seed=1)
            except BaseException as e:
                errors.append(e)
            finally:
                done.set()

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000)
        try:
            t = threading.Thread(target=work)
            t.start()
            ticks = 0
            while not done.wait(0.001):  # waiting releases the GIL, so the generating thread can take it back
                ticks += 1
            t.join()
        finally:
            sys.setswitchinterval(interval)
        self.assertEqual(errors, [])
        self.assertGreater(ticks, 0, "no Python code ran while generate() worked: the GIL was held")

    def test_concurrent_generates_equal_sequential_ones(self):
        expected = {seed: self.pipeline.generate(CHELSEA, seed=seed).midi for seed in (1, 2)}
        got, errors = {}, []

        def work(seed):
            try:
                got[seed] = self.pipeline.generate(CHELSEA, seed=seed).midi
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(got, expected)

    # --- bad inputs -------------------------------------------------------------------------------------------------

    def test_bad_arrays_raise_value_error(self):
        cases = [(np.zeros((8, 8, 3), np.float64), "float64", "(8, 8, 3)"), (np.zeros((8, 8, 2), np.uint8), "uint8", "(8, 8, 2)"),
                 (np.zeros(8, np.uint8), "uint8", "(8,)"), (np.zeros((0, 8, 3), np.uint8), "uint8", "(0, 8, 3)"),
                 (np.zeros((2, 8, 8, 3), np.uint8), "uint8", "(2, 8, 8, 3)")]
        for array, dtype, shape in cases:
            with self.assertRaises(ValueError, msg=shape) as cm:
                self.pipeline.generate(array)
            message = str(cm.exception)
            self.assertIn("(H, W, 3)", message)
            self.assertIn("%s array of shape %s" % (dtype, shape), message)
        with self.assertRaises(TypeError):
            self.pipeline.generate([[1, 2, 3]])

    def test_bad_options_raise_value_error(self):
        bad = [{"seed": -1}, {"seed": 2**64}, {"temperature": -0.1}, {"temperature": float("nan")}, {"top_k": -1}, {"top_p": 0},
               {"top_p": 1.5}, {"form": "ABC"}, {"form": "aaba"}, {"variations": 0}, {"variations": 257}, {"rank": "best"},
               {"latent_source": "clip"}, {"brightness": 1.5}, {"contrast": -2}, {"valence": 1.1}, {"arousal": -0.1},
               {"generator": "drums"}, {"seconds": 0.5}, {"seconds": 601}]
        for options in bad:
            with self.assertRaises(ValueError, msg=str(options)):
                self.pipeline.generate(CHELSEA, **options)
        with self.assertRaises(ValueError):
            photong.Pipeline(WEIGHTS, threads=-1)

    def test_unreadable_picture_raises_photong_error(self):
        with open(self.path("not_a_picture.png"), "wb") as f:
            f.write(b"this is not a picture")
        for path, says in ((self.path("missing.png"), "cannot open image file"), (self.path("not_a_picture.png"), "not a readable image")):
            with self.assertRaises(photong.Error) as cm:
                self.pipeline.generate(path)
            e = cm.exception
            self.assertIsInstance(e, RuntimeError)
            self.assertEqual(e.file, path)
            self.assertIn(says, e.message)
            self.assertEqual(str(e), "photong: %s [file: %s]" % (e.message, path))

    def weights_copy(self, name, leave_out=(), damage=None):
        """A weights directory of links to WEIGHTS' files, less `leave_out`, with `damage` a changed copy."""
        d = self.path(name)
        os.makedirs(d)
        for f in os.listdir(WEIGHTS):
            if f.endswith((".safetensors", ".sha256")) and f.split(".")[0] not in leave_out:
                os.symlink(os.path.join(WEIGHTS, f), os.path.join(d, f))
        if damage:
            f = os.path.join(d, damage + ".safetensors")
            data = bytearray(pathlib.Path(WEIGHTS, damage + ".safetensors").read_bytes())
            data[-1] ^= 1  # the last byte of the last tensor: still a valid file, no longer the checksummed one
            os.unlink(f)
            with open(f, "wb") as out:
                out.write(data)
        return d

    def test_bad_weights_raise_photong_error_naming_the_file(self):
        with self.assertRaises(photong.Error) as cm:
            photong.Pipeline(self.path("no_such_dir"))
        self.assertIn("inception_v3.safetensors", cm.exception.file)
        d = self.weights_copy("damaged", damage="bridge_valence")
        with self.assertRaises(photong.Error) as cm:
            photong.Pipeline(d)
        self.assertEqual(cm.exception.file, os.path.join(d, "bridge_valence.safetensors"))
        self.assertIn("SHA-256", cm.exception.message)
        photong.Pipeline(d, verify_checksums=False)  # the check is what refused it

    def test_missing_affect_bridges_need_colour_affect_or_values(self):
        d = self.weights_copy("no_affect", leave_out=("bridge_arousal", "bridge_valence"))
        p = photong.Pipeline(d)
        self.assertFalse(p.has_affect_bridges)
        self.assertTrue(self.pipeline.has_affect_bridges)
        with self.assertRaises(photong.Error) as cm:
            p.generate(CHELSEA)
        self.assertIn("colour_affect", str(cm.exception))
        self.assertEqual(p.generate(CHELSEA, seed=1, colour_affect=True).midi, self.pipeline.generate(CHELSEA, seed=1, colour_affect=True).midi)
        self.assertEqual(p.generate(CHELSEA, seed=1, valence=0.7, arousal=0.3).midi,
                         self.pipeline.generate(CHELSEA, seed=1, valence=0.7, arousal=0.3).midi)

    def test_docstrings(self):
        self.assertIn("Pipeline", photong.__doc__)
        for obj in (photong.Pipeline, photong.Pipeline.__init__, photong.Pipeline.generate, photong.Result, photong.Result.to_dict, photong.Error):
            self.assertTrue(obj.__doc__ and len(obj.__doc__) > 20, obj)
        for cls, names in ((photong.Pipeline, ["has_piano", "has_affect_bridges", "has_latent_map", "z_size"]),
                           (photong.Result, ["bpm", "key", "key_tonic", "key_major", "valence", "arousal", "latent", "melody", "chords", "events",
                                             "midi", "generator", "temperature", "top_k", "top_p", "form", "picture_brightness", "edge_density"])):
            for name in names:
                self.assertTrue(getattr(cls, name).__doc__, "%s.%s" % (cls.__name__, name))


def generate_in_worker(weights, picture):
    """A Dask task: the module imported and a Pipeline loaded in the worker process."""
    import photong as worker_photong
    return worker_photong.Pipeline(weights).generate(picture, seed=1).midi


class DaskWorkerTest(unittest.TestCase):
    def test_generate_in_a_dask_worker_process(self):
        from dask.distributed import Client, LocalCluster
        local = photong.Pipeline(WEIGHTS).generate(CHELSEA, seed=1).midi
        # The workers are new processes: they find the module through PYTHONPATH, as any worker would.
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
            remote = client.submit(generate_in_worker, WEIGHTS, CHELSEA).result()
            worker_pid = client.run(os.getpid)
        self.assertNotIn(os.getpid(), worker_pid.values())
        self.assertEqual(remote, local)


if __name__ == "__main__":
    unittest.main()
