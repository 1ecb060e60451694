#!/usr/bin/python3
"""Reference fixtures for the bridge models (include/photong/models/bridges.hpp), computed by PyTorch.

Usage: /usr/bin/python3 tests/reference/gen_bridge_fixtures.py OUTDIR

Writes OUTDIR/bridges/:
  <kind>.safetensors            seeded random weights in photong's bridge format (Keras names, HWIO / [in,out] kernels,
                                metadata bridge / input_shape / architecture), kind = embedding, arousal, valence
  <kind>_io.safetensors         `features` (3, 8, 8, 2048) NHWC and `output` (3, k): PyTorch's forward in float64
  arousal_colour.safetensors    an arousal head that also takes the pictures' colour features (concat_colour_features:
                                Conv2D 1x1 2048->32 relu, GlobalAveragePooling2D, + [brightness, saturation,
                                colourfulness], Dense 1 sigmoid), with arousal_colour_io holding `colour` (3, 3) too
  <kind>_from_h5.safetensors    embedding (Functional config) and valence (Sequential config) written as Keras-layout
                                .h5 files by hand (h5py, write_keras_h5 below) and converted by
                                weights/keras_h5_to_safetensors.py --bridge KIND
The three networks (the paper gives only "a 2D convolution layer and multiple dense layers" for the embedding
generator and "binary classification" for arousal and valence):
  embedding  Conv2D 3x3 valid 2048->64 relu, Flatten, Dropout, Dense 256 relu, Dense 512 linear
  arousal    Conv2D 1x1 2048->32 relu, GlobalAveragePooling2D, Dense 1 sigmoid
  valence    Conv2D 3x3 same 2048->16 relu, Flatten, Dense 2 softmax
PyTorch is NCHW: features and kernels are permuted in, and Flatten permutes to NHWC first so that the dense kernel's
rows are read in Keras' (h, w, c) order -- the ordering the C++ test checks.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "weights"))
import safetensors_io  # noqa: E402

SEED = 20240707
INPUT_SHAPE = [8, 8, 2048]

SPECS = {
    "embedding": [
        dict(type="conv2d", name="conv2d", activation="relu", kernel_size=[3, 3], strides=[1, 1], padding="valid",
             filters=64),
        dict(type="flatten", name="flatten"),
        dict(type="dropout", name="dropout", rate=0.3),
        dict(type="dense", name="dense", activation="relu", units=256),
        dict(type="dense", name="dense_1", activation="linear", units=512),
    ],
    "arousal": [
        dict(type="conv2d", name="conv2d_1", activation="relu", kernel_size=[1, 1], strides=[1, 1], padding="valid",
             filters=32),
        dict(type="global_average_pooling2d", name="global_average_pooling2d"),
        dict(type="dense", name="dense_2", activation="sigmoid", units=1),
    ],
    "valence": [
        dict(type="conv2d", name="conv2d_2", activation="relu", kernel_size=[3, 3], strides=[1, 1], padding="same",
             filters=16),
        dict(type="flatten", name="flatten_1"),
        dict(type="dense", name="dense_3", activation="softmax", units=2),
    ],
}


def random_weights(spec, rng, input_shape=INPUT_SHAPE):
    """Keras-layout tensors for `spec`, scaled so activations stay O(1)."""
    t, shape = {}, list(input_shape)
    for l in spec:
        if l["type"] == "conv2d":
            kh, kw = l["kernel_size"]
            fan_in = kh * kw * shape[2]
            t[l["name"] + "/kernel"] = (rng.standard_normal((kh, kw, shape[2], l["filters"])) / np.sqrt(fan_in)).astype(np.float32)
            t[l["name"] + "/bias"] = (0.1 * rng.standard_normal(l["filters"])).astype(np.float32)
            shape = conv_out(shape, l) + [l["filters"]]
        elif l["type"] == "flatten":
            shape = [int(np.prod(shape))]
        elif l["type"] == "global_average_pooling2d":
            shape = [shape[2]]
        elif l["type"] == "concat_colour_features":
            shape = [shape[0] + len(l["features"])]
        elif l["type"] == "dense":
            t[l["name"] + "/kernel"] = (rng.standard_normal((shape[0], l["units"])) * 2 / np.sqrt(shape[0])).astype(np.float32)
            t[l["name"] + "/bias"] = (0.1 * rng.standard_normal(l["units"])).astype(np.float32)
            shape = [l["units"]]
    return t


def tf_same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def conv_out(shape, l):
    out = []
    for a in range(2):
        k, s = l["kernel_size"][a], l["strides"][a]
        out.append(-(-shape[a] // s) if l["padding"] == "same" else (shape[a] - k) // s + 1)
    return out


def activation(x, name, channel_dim):
    if name == "relu":
        return torch.relu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "softmax":
        return torch.softmax(x, dim=channel_dim)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softplus":
        return F.softplus(x)
    assert name == "linear", name
    return x


def torch_forward(spec, tensors, features, colour=None):
    """PyTorch (NCHW, float64) forward of a bridge in Keras semantics; features NHWC float32; colour (n, 3) the
    pictures' [brightness, saturation, colourfulness] for a concat_colour_features layer."""
    x = torch.from_numpy(features.astype(np.float64)).permute(0, 3, 1, 2)  # NHWC -> NCHW
    for l in spec:
        if l["type"] == "conv2d":
            w = torch.from_numpy(tensors[l["name"] + "/kernel"].astype(np.float64)).permute(3, 2, 0, 1)  # HWIO -> OIHW
            b = torch.from_numpy(tensors[l["name"] + "/bias"].astype(np.float64))
            if l["padding"] == "same":
                top, bottom = tf_same_pads(x.shape[2], l["kernel_size"][0], l["strides"][0])
                left, right = tf_same_pads(x.shape[3], l["kernel_size"][1], l["strides"][1])
                x = F.pad(x, (left, right, top, bottom))
            x = activation(F.conv2d(x, w, b, stride=tuple(l["strides"])), l["activation"], 1)
        elif l["type"] == "flatten":
            x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # Keras channels_last order (h, w, c)
        elif l["type"] == "global_average_pooling2d":
            x = x.mean(dim=(2, 3))
        elif l["type"] == "dense":
            w = torch.from_numpy(tensors[l["name"] + "/kernel"].astype(np.float64))
            b = torch.from_numpy(tensors[l["name"] + "/bias"].astype(np.float64))
            x = activation(x @ w + b, l["activation"], 1)
        elif l["type"] == "dropout":
            pass
        elif l["type"] == "concat_colour_features":
            names = ["brightness", "saturation", "colourfulness"]
            cols = torch.from_numpy(colour.astype(np.float64))[:, [names.index(f) for f in l["features"]]]
            x = torch.cat([x, cols], dim=1)
        else:
            raise ValueError(l["type"])
    return x.numpy().astype(np.float32)


def bridge_metadata(kind, spec):
    return {"model": "bridge", "bridge": kind, "input_shape": json.dumps(INPUT_SHAPE), "architecture": json.dumps(spec)}


# ---------------------------------------------------------------------------------------------------------------
# A Keras-layout .h5 written by hand (Keras/TF are not installed): the layout of `model.save` in tf.keras 2.x
# (root attrs keras_version / backend / model_config; group model_weights with attr layer_names, one group per
# layer with attr weight_names and datasets `<layer>/<layer>/kernel:0`), as tests/reference/make_keras_h5.py does.

_KERAS_CLASS = {"conv2d": "Conv2D", "dense": "Dense", "flatten": "Flatten", "dropout": "Dropout",
                "global_average_pooling2d": "GlobalAveragePooling2D", "activation": "Activation"}


def keras_layer_config(l):
    c = {"name": l["name"], "trainable": True, "dtype": "float32"}
    if l["type"] == "conv2d":
        c.update(filters=l["filters"], kernel_size=l["kernel_size"], strides=l["strides"], padding=l["padding"],
                 data_format="channels_last", dilation_rate=[1, 1], groups=1, activation=l["activation"],
                 use_bias=True, kernel_initializer={"class_name": "GlorotUniform", "config": {"seed": None}},
                 bias_initializer={"class_name": "Zeros", "config": {}}, kernel_regularizer=None)
    elif l["type"] == "dense":
        c.update(units=l["units"], activation=l["activation"], use_bias=True,
                 kernel_initializer={"class_name": "GlorotUniform", "config": {"seed": None}})
    elif l["type"] in ("flatten", "global_average_pooling2d"):
        c.update(data_format="channels_last")
        if l["type"] == "global_average_pooling2d":
            c["keepdims"] = False
    elif l["type"] == "dropout":
        c.update(rate=l.get("rate", 0.5), noise_shape=None, seed=None)
    elif l["type"] == "activation":
        c.update(activation=l["activation"])
    return c


def write_keras_h5(path, spec, tensors, style, input_shape=INPUT_SHAPE, layer_class=None):
    """style: 'sequential' (config lists the InputLayer, layer_names does not) or 'functional' (inbound_nodes).
    layer_class optionally overrides a layer's Keras class name (to fabricate unsupported layers)."""
    import h5py
    layer_class = layer_class or {}
    inp = {"class_name": "InputLayer", "config": {"batch_input_shape": [None] + list(input_shape), "dtype": "float32",
                                                  "sparse": False, "ragged": False, "name": "input_1"}}
    cfg_layers = [dict(inp, name="input_1", inbound_nodes=[])] if style == "functional" else [inp]
    prev = "input_1"
    for l in spec:
        e = {"class_name": layer_class.get(l["name"], _KERAS_CLASS[l["type"]]), "config": keras_layer_config(l)}
        if style == "functional":
            e.update(name=l["name"], inbound_nodes=[[[prev, 0, 0, {}]]])
        cfg_layers.append(e)
        prev = l["name"]
    if style == "functional":
        model_config = {"class_name": "Functional", "config": {"name": "model", "layers": cfg_layers,
                                                                "input_layers": [["input_1", 0, 0]],
                                                                "output_layers": [[prev, 0, 0]]}}
        layer_names = ["input_1"] + [l["name"] for l in spec]
    else:
        model_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": cfg_layers}}
        layer_names = [l["name"] for l in spec]
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode() for n in layer_names])
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0"
        for ln in layer_names:
            lg = g.create_group(ln)
            names = [("%s/%s:0" % (ln, w)).encode() for w in ("kernel", "bias") if "%s/%s" % (ln, w) in tensors]
            lg.attrs["weight_names"] = np.array(names) if names else np.array([], dtype="S1")
            for n in names:
                lg.create_dataset(n.decode(), data=tensors[n.decode().replace(":0", "")])


def convert_h5(h5, out, kind):
    import keras_h5_to_safetensors
    rc = keras_h5_to_safetensors.main([h5, out, "--bridge", kind, "--quiet"])
    if rc != 0:
        raise SystemExit("gen_bridge_fixtures: converting %s failed" % h5)


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    outdir = os.path.join(argv[1], "bridges")
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    features = np.maximum(rng.standard_normal([3] + INPUT_SHAPE), 0).astype(np.float32)  # post-ReLU like mixed10
    for kind, spec in SPECS.items():
        tensors = random_weights(spec, rng)
        out = torch_forward(spec, tensors, features)
        safetensors_io.save(os.path.join(outdir, kind + ".safetensors"), tensors, bridge_metadata(kind, spec))
        safetensors_io.save(os.path.join(outdir, kind + "_io.safetensors"), {"features": features, "output": out},
                            {"bridge": kind})
        if kind in ("embedding", "valence"):
            h5 = os.path.join(outdir, kind + ".h5")
            write_keras_h5(h5, spec, tensors, "functional" if kind == "embedding" else "sequential")
            convert_h5(h5, os.path.join(outdir, kind + "_from_h5.safetensors"), kind)
            os.remove(h5)
        print("bridge %-9s output %s, range [%.3g, %.3g]" % (kind, out.shape, out.min(), out.max()))
    # drawn after the three above, so their fixtures do not change
    spec = [dict(type="conv2d", name="conv2d", activation="relu", kernel_size=[1, 1], strides=[1, 1], padding="valid", filters=32),
            dict(type="global_average_pooling2d", name="global_average_pooling2d"),
            dict(type="concat_colour_features", name="colour_features", features=["brightness", "saturation", "colourfulness"]),
            dict(type="dense", name="dense", activation="sigmoid", units=1)]
    tensors = random_weights(spec, rng)
    tensors["dense/kernel"][-1] /= 50  # colourfulness is on a 0..~150 scale; keep the logit O(1)
    colour = np.stack([rng.uniform(0, 1, 3), rng.uniform(0, 1, 3), rng.uniform(0, 120, 3)], axis=1).astype(np.float32)
    out = torch_forward(spec, tensors, features, colour)
    safetensors_io.save(os.path.join(outdir, "arousal_colour.safetensors"), tensors, bridge_metadata("arousal", spec))
    safetensors_io.save(os.path.join(outdir, "arousal_colour_io.safetensors"),
                        {"features": features, "colour": colour, "output": out}, {"bridge": "arousal"})
    print("bridge arousal+colour output %s, %s" % (out.shape, out.ravel()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
