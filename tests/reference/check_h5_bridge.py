#!/usr/bin/python3
"""weights/keras_h5_to_safetensors.py --bridge on hand-written Keras-layout .h5 bridge models (h5py only).

Checks: Sequential and Functional saves of the three test bridges (gen_bridge_fixtures.py) convert to the tensors
they hold and to the `architecture` / `input_shape` / `bridge` metadata the C++ loader reads; without --bridge the
architecture is still recorded (model=keras); and models that are not a bridge are refused with a reason
(unsupported layer, channels_first, a branch, a weights-only file). Exits non-zero on any failure.
"""
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "weights"))
import gen_bridge_fixtures as g  # noqa: E402
import keras_h5_to_safetensors as conv  # noqa: E402
import safetensors_io  # noqa: E402

failures = []


def check(cond, what):
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def run(h5, out, *args):
    import contextlib
    import io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = conv.main([h5, out, "--quiet"] + list(args))
    return rc, err.getvalue()


def main():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="photong-h5bridge.") as tmp:
        for kind, spec in g.SPECS.items():
            tensors = g.random_weights(spec, rng)
            for style in ("sequential", "functional"):
                h5, out = os.path.join(tmp, "%s_%s.h5" % (kind, style)), os.path.join(tmp, "%s_%s.safetensors" % (kind, style))
                g.write_keras_h5(h5, spec, tensors, style)
                rc, err = run(h5, out, "--bridge", kind)
                if rc != 0:
                    check(False, "%s %s converts: %s" % (kind, style, err.strip()))
                    continue
                got, meta = safetensors_io.load(out)
                same = set(got) == set(tensors) and all(np.array_equal(got[k], tensors[k]) for k in tensors)
                arch = json.loads(meta.get("architecture", "[]"))
                strip = [{k: v for k, v in e.items() if k != "use_bias"} for e in arch]
                check(same and meta.get("model") == "bridge" and meta.get("bridge") == kind
                      and json.loads(meta.get("input_shape", "null")) == g.INPUT_SHAPE and strip == spec
                      and all(e.get("use_bias", True) for e in arch),
                      "%s %s: tensors identical, metadata %s" % (kind, style, "as written" if strip == spec else arch))
        spec, tensors = g.SPECS["valence"], g.random_weights(g.SPECS["valence"], rng)
        h5, out = os.path.join(tmp, "plain.h5"), os.path.join(tmp, "plain.safetensors")
        g.write_keras_h5(h5, spec, tensors, "functional")
        rc, _ = run(h5, out)
        meta = safetensors_io.load(out)[1] if rc == 0 else {}
        check(rc == 0 and meta.get("model") == "keras" and "architecture" in meta and "bridge" not in meta,
              "without --bridge: model=keras, architecture recorded, no bridge key")

        def refused(name, expect, write, *args):
            p = os.path.join(tmp, name + ".h5")
            write(p)
            rc, err = run(p, os.path.join(tmp, name + ".safetensors"), *args)
            check(rc != 0 and expect in err, "%s refused (%s)" % (name, err.strip().split("error: ")[-1][:150]))

        refused("unsupported_layer", "not supported in a bridge",
                lambda p: g.write_keras_h5(p, spec, tensors, "sequential", layer_class={"flatten_1": "MaxPooling2D"}),
                "--bridge", "valence")

        def channels_first(p):
            orig = g.keras_layer_config
            g.keras_layer_config = lambda l: dict(orig(l), data_format="channels_first") if l["type"] == "flatten" else orig(l)
            try:
                g.write_keras_h5(p, spec, tensors, "sequential")
            finally:
                g.keras_layer_config = orig
        refused("channels_first", "only channels_last", channels_first, "--bridge", "valence")

        def branched(p):
            import h5py
            g.write_keras_h5(p, spec, tensors, "functional")
            with h5py.File(p, "r+") as f:
                mc = json.loads(f.attrs["model_config"])
                mc["config"]["layers"][2]["inbound_nodes"] = [[["input_1", 0, 0, {}]]]  # flatten skips the conv
                f.attrs["model_config"] = json.dumps(mc).encode()
        refused("branched", "single chain", branched, "--bridge", "valence")

        def weights_only(p):
            import h5py
            g.write_keras_h5(p, spec, tensors, "functional")
            with h5py.File(p, "r+") as f:
                del f.attrs["model_config"]
        refused("weights_only", "no model config", weights_only, "--bridge", "valence")
    print("check_h5_bridge: %s" % ("all passed" if not failures else "%d FAILED" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
