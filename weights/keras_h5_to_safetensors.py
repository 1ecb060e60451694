#!/usr/bin/python3
"""Convert a Keras HDF5 file (full saved model or weights only) to photong safetensors (all tensors F32).

usage: keras_h5_to_safetensors.py INPUT.h5 OUTPUT.safetensors [--source S] [--resize MODE] [--preprocess MODE]
                                  [--classes A,B,..] [--head-activations a,b,..] [--drop-head]
                                  [--bridge embedding|arousal|valence] [--quiet]

HDF5 layout (keras engine/saving.py `save_weights_to_hdf5_group` / `load_weights_from_hdf5_group`):
- weights-only file (`model.save_weights`, e.g. keras.applications'
  inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5): root attribute `layer_names` (every layer of
  `model.layers`, in that order, weightless ones too), `backend`, `keras_version`; one group per layer with attribute
  `weight_names` (e.g. b'conv2d_1/kernel:0') and one dataset per weight at that path inside the layer group
  (`conv2d_1/conv2d_1/kernel:0`).
- full model (`model.save`): the same structure under the group `model_weights`; the root attribute `model_config`
  holds the architecture JSON ({class_name, config: {layers, input_layers, output_layers}}).
- attributes too big for an HDF5 object header are split into `layer_names0`, `layer_names1`, ...
Naming, InceptionV3 renaming and checks as in tfjs_layers_to_safetensors.py (shared code). Without `model_config`
the conv/BN order comes from the numeric suffix of the auto names. Default metadata (Keras ImageNet weights):
resize bilinear_half_pixel, preprocess inception (x/127.5 - 1).
"""
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_layers_to_safetensors import (ConversionError, KerasModel, layers_from_model_config, run_converter,  # noqa: E402
                                        weight_short_name)

try:
    import h5py
except ImportError:  # pragma: no cover
    sys.exit("keras_h5_to_safetensors: needs h5py (Debian: apt-get install python3-h5py)")


def _to_str(v):
    if isinstance(v, bytes):
        return v.decode("utf8")
    if isinstance(v, np.bytes_):
        return bytes(v).decode("utf8")
    return str(v)


def load_attribute_list(group, name):
    """Keras' load_attributes_from_hdf5_group: `name`, or the chunks `name0`, `name1`, ..."""
    if name in group.attrs:
        vals = group.attrs[name]
        return [_to_str(v) for v in np.atleast_1d(vals)] if np.size(vals) else []
    out, i = [], 0
    while "%s%d" % (name, i) in group.attrs:
        out.extend(_to_str(v) for v in np.atleast_1d(group.attrs["%s%d" % (name, i)]))
        i += 1
    return out


def _has_attr_list(group, name):
    return name in group.attrs or ("%s0" % name) in group.attrs


def read_keras_h5(path):
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ConversionError("%s: cannot open as HDF5: %s" % (path, e))
    with f:
        if _has_attr_list(f, "layer_names"):
            g = f
        elif "model_weights" in f and _has_attr_list(f["model_weights"], "layer_names"):
            g = f["model_weights"]
        else:
            raise ConversionError("%s: no Keras weights (root attribute 'layer_names' or group 'model_weights')" % path)
        layer_names = load_attribute_list(g, "layer_names")
        kv = g.attrs.get("keras_version", f.attrs.get("keras_version"))
        kv = _to_str(kv) if kv is not None else None
        weights = collections.OrderedDict()
        for ln in layer_names:
            if ln not in g:
                raise ConversionError("%s: layer %r is listed in layer_names but has no group" % (path, ln))
            lg = g[ln]
            wnames = load_attribute_list(lg, "weight_names")
            ws = collections.OrderedDict()
            for wn in wnames:
                if wn not in lg:
                    raise ConversionError("%s: layer %r: weight %r listed in weight_names but no dataset %s/%s"
                                          % (path, ln, wn, ln, wn))
                ds = lg[wn]
                if not isinstance(ds, h5py.Dataset):
                    raise ConversionError("%s: %s/%s is not a dataset" % (path, ln, wn))
                arr = np.asarray(ds[()])
                if arr.dtype.kind not in "fiu":
                    raise ConversionError("%s: tensor %s/%s has dtype %s" % (path, ln, wn, arr.dtype))
                short = weight_short_name(wn)
                if short in ws:
                    raise ConversionError("%s: layer %r has two weights named %r (nested model?)" % (path, ln, short))
                ws[short] = arr.astype(np.float32)
            if ws:
                weights[ln] = ws
        mc = f.attrs.get("model_config")
    if mc is not None:
        try:
            model_config = json.loads(_to_str(mc))
        except ValueError as e:
            raise ConversionError("%s: model_config is not JSON: %s" % (path, e))
        layers, outputs = layers_from_model_config(model_config, path)
        # A Sequential model's config lists its InputLayer, but model.layers (hence layer_names) does not.
        seq_inputs = {l["name"] for l in layers if l["class_name"] == "InputLayer" and l["name"] not in layer_names
                      and model_config.get("class_name") == "Sequential"}
        cfg_names = [l["name"] for l in layers if l["name"] not in seq_inputs]
        if set(cfg_names) != set(layer_names):
            raise ConversionError("%s: model_config layers and layer_names differ: only in config %s, only in "
                                  "weights %s" % (path, sorted(set(cfg_names) - set(layer_names))[:5],
                                                  sorted(set(layer_names) - set(cfg_names))[:5]))
    else:
        layers = [dict(name=n, class_name=None, config=None, inbound=None) for n in layer_names]
        outputs = None
    return KerasModel(path, layers, outputs, weights, keras_version=kv)


def main(argv=None):
    def describe(path, model):
        return "Keras %s %s (%s)" % (model.keras_version or "?", "saved model" if model.has_topology else "weights",
                                     os.path.basename(path))
    return run_converter("keras_h5_to_safetensors", __doc__.split("\n\n")[0],
                         "Keras .h5 file (full model or weights only)", read_keras_h5, describe, argv)


if __name__ == "__main__":
    sys.exit(main())
