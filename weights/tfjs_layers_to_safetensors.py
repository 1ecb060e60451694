#!/usr/bin/python3
"""Convert a tfjs layers model (model.json + binary weight shards) to photong safetensors (all tensors F32).

usage: tfjs_layers_to_safetensors.py MODEL_JSON OUTPUT.safetensors [--source S] [--resize MODE]
                                     [--preprocess MODE] [--classes A,B,..] [--head-activations a,b,..]
                                     [--drop-head] [--bridge embedding|arousal|valence] [--quiet]

Reading (facts from tfjs-core `io_utils.decodeWeights` / the weights loader): each `weightsManifest` group lists
`paths` (files relative to model.json) whose bytes, concatenated in order, hold the group's `weights` back to back,
each `prod(shape)` values of its storage type. Storage: float32 / int32 little-endian; or `quantization` with
dtype uint8/uint16 (value = q * scale + min, computed in double and stored as float32 as tfjs does; int32 weights
round) or float16 (IEEE half, float32 weights only).

Naming: a weight keeps its Keras name minus any ":0" suffix (`conv2d_5/kernel` [kh,kw,cin,cout],
`batch_normalization_5/beta`, `dense_1/kernel` [in,out]). An InceptionV3 graph (94 Conv2D layers and layers
mixed0..mixed10) is renamed to the canonical 1-based Keras-2.2.4 numbering `conv2d_1..94`,
`batch_normalization_1..94` (the BN that follows conv k gets k) and the head's auto-named dense layers `dense_1..N`,
numbered in *creation order*. Keras stores `model.layers` sorted by graph depth, NOT in creation order (nsfwjs'
list starts conv2d_1..5, 9, 7, 10, 6, 8, ...), so the creation order is recovered from the topology: a post-order
depth-first walk from the outputs that visits each layer's inputs in their listed order reproduces the order of the
`conv2d_bn` calls in keras' applications/inception_v3.py (every concatenation lists its branches in call order).
Without a topology (weights-only .h5) the numeric suffix of the auto-generated names is used (Keras' per-class name
counters grow in creation order: Keras 2.2.4 `conv2d_1, conv2d_2, ...`, newer Keras `conv2d, conv2d_1, ...`).
The 94 kernels are then checked against the shapes / strides / paddings of Keras' InceptionV3.

Any other model (no mixed0..mixed10) keeps its names (`<layer>/kernel`, `<layer>/bias`, ...); when its config is a
single chain of Conv2D / Dense / Flatten / GlobalAveragePooling2D / Dropout / Activation layers the metadata also
gets `architecture` and `input_shape`, and `--bridge embedding|arousal|valence` marks it as a Photong bridge model
(metadata model=bridge, bridge=KIND; conversion fails if the architecture cannot be read).

The functions here are shared with keras_h5_to_safetensors.py (model description -> canonical tensors + metadata).
"""
import argparse
import collections
import json
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FORMAT_VERSION = "1"
NSFWJS_CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
RESIZE_MODES = ("bilinear_align_corners", "bilinear_half_pixel")
PREPROCESS_MODES = ("divide_255", "inception")
MIXED_NAMES = ["mixed%d" % i for i in range(11)]


class ConversionError(Exception):
    pass


# --------------------------------------------------------------------------------------------------------------
# Keras InceptionV3 (keras-team/keras applications/inception_v3.py), layers in creation order, Keras-2.2.4 names.

def inception_v3_keras_layers(head=None):
    """Return the layer list of Keras InceptionV3 (include_top=False, 299x299x3 input) in creation order.

    Each layer: dict(name, class_name, config, inbound=[names], out_channels). Names are the Keras-2.2.4 auto names
    of a fresh session (conv2d_1.., batch_normalization_1.., activation_1.., max_pooling2d_1..,
    average_pooling2d_1.., concatenate_1..; mixed* are explicit). head="nsfwjs" appends nsfwjs' classifier:
    AveragePooling2D 8x8 valid, Flatten, Dense 256 relu, Dropout, Dense 128 relu, Dropout, Dense 5 softmax.
    """
    layers, channels, counters = [], {}, collections.Counter()

    def add(class_name, prefix, inbound, config, out_channels, name=None):
        if name is None:
            counters[prefix] += 1
            name = "%s_%d" % (prefix, counters[prefix])
        config = dict(config, name=name)
        layers.append(dict(name=name, class_name=class_name, config=config, inbound=list(inbound),
                           out_channels=out_channels))
        channels[name] = out_channels
        return name

    def conv_bn(x, filters, kh, kw, strides=(1, 1), padding="same"):
        c = add("Conv2D", "conv2d", [x], dict(filters=filters, kernel_size=[kh, kw], strides=list(strides),
                                              padding=padding, use_bias=False, activation="linear"), filters)
        b = add("BatchNormalization", "batch_normalization", [c],
                dict(axis=3, epsilon=0.001, center=True, scale=False), filters)
        return add("Activation", "activation", [b], dict(activation="relu"), filters)

    def maxpool(x):
        return add("MaxPooling2D", "max_pooling2d", [x], dict(pool_size=[3, 3], strides=[2, 2], padding="valid"),
                   channels[x])

    def avgpool_same(x):
        return add("AveragePooling2D", "average_pooling2d", [x],
                   dict(pool_size=[3, 3], strides=[1, 1], padding="same"), channels[x])

    def concat(xs, name=None):
        return add("Concatenate", "concatenate", xs, dict(axis=3), sum(channels[v] for v in xs), name=name)

    x = add("InputLayer", "input", [], dict(batch_input_shape=[None, 299, 299, 3], dtype="float32"), 3)
    x = conv_bn(x, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv_bn(x, 32, 3, 3, padding="valid")
    x = conv_bn(x, 64, 3, 3)
    x = maxpool(x)
    x = conv_bn(x, 80, 1, 1, padding="valid")
    x = conv_bn(x, 192, 3, 3, padding="valid")
    x = maxpool(x)
    for i, pool_filters in enumerate((32, 64, 64)):  # mixed 0, 1, 2: 35x35
        b1 = conv_bn(x, 64, 1, 1)
        b5 = conv_bn(conv_bn(x, 48, 1, 1), 64, 5, 5)
        b3 = conv_bn(conv_bn(conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        bp = conv_bn(avgpool_same(x), pool_filters, 1, 1)
        x = concat([b1, b5, b3, bp], name="mixed%d" % i)
    b3 = conv_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")  # mixed 3: 17x17
    bd = conv_bn(conv_bn(conv_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=(2, 2), padding="valid")
    x = concat([b3, bd, maxpool(x)], name="mixed3")
    for i, c7 in enumerate((128, 160, 160, 192)):  # mixed 4..7: 17x17
        b1 = conv_bn(x, 192, 1, 1)
        b7 = conv_bn(conv_bn(conv_bn(x, c7, 1, 1), c7, 1, 7), 192, 7, 1)
        bd = conv_bn(x, c7, 1, 1)
        bd = conv_bn(bd, c7, 7, 1)
        bd = conv_bn(bd, c7, 1, 7)
        bd = conv_bn(bd, c7, 7, 1)
        bd = conv_bn(bd, 192, 1, 7)
        bp = conv_bn(avgpool_same(x), 192, 1, 1)
        x = concat([b1, b7, bd, bp], name="mixed%d" % (4 + i))
    b3 = conv_bn(conv_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")  # mixed 8: 8x8
    b7 = conv_bn(conv_bn(conv_bn(x, 192, 1, 1), 192, 1, 7), 192, 7, 1)
    b7 = conv_bn(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    x = concat([b3, b7, maxpool(x)], name="mixed8")
    for i in range(2):  # mixed 9, 10: 8x8
        b1 = conv_bn(x, 320, 1, 1)
        b3 = conv_bn(x, 384, 1, 1)
        b3 = concat([conv_bn(b3, 384, 1, 3), conv_bn(b3, 384, 3, 1)], name="mixed9_%d" % i)
        bd = conv_bn(conv_bn(x, 448, 1, 1), 384, 3, 3)
        bd = concat([conv_bn(bd, 384, 1, 3), conv_bn(bd, 384, 3, 1)])
        bp = conv_bn(avgpool_same(x), 192, 1, 1)
        x = concat([b1, b3, bd, bp], name="mixed%d" % (9 + i))
    if head == "nsfwjs":
        x = add("AveragePooling2D", "average_pooling2d", [x], dict(pool_size=[8, 8], strides=[8, 8],
                                                                     padding="valid"), 2048)
        x = add("Flatten", "flatten", [x], {}, 2048)
        for units, act in ((256, "relu"), (128, "relu"), (5, "softmax")):
            x = add("Dense", "dense", [x], dict(units=units, activation=act, use_bias=True), units)
            if act != "softmax":
                x = add("Dropout", "dropout", [x], dict(rate=0.5), units)
    elif head is not None:
        raise ValueError("unknown head %r" % head)
    return layers


def inception_v3_conv_specs():
    """The 94 convs in creation order: list of dict(kernel_shape=(kh,kw,cin,cout), strides, padding)."""
    layers = inception_v3_keras_layers()
    ch = {l["name"]: l["out_channels"] for l in layers}
    specs = []
    for l in layers:
        if l["class_name"] == "Conv2D":
            c = l["config"]
            specs.append(dict(kernel_shape=(c["kernel_size"][0], c["kernel_size"][1], ch[l["inbound"][0]],
                                            c["filters"]), strides=tuple(c["strides"]), padding=c["padding"]))
    assert len(specs) == 94
    return specs


# --------------------------------------------------------------------------------------------------------------
# Model description shared by the tfjs and h5 readers.

class KerasModel:
    """What a reader found: layers in file order and their weights.

    layers: list of dict(name, class_name or None, config or None, inbound list of names or None)
    outputs: list of output layer names, or None without topology
    weights: dict layer name -> OrderedDict(short weight name -> float32 ndarray)
    """

    def __init__(self, path, layers, outputs, weights, keras_version=None):
        self.path, self.layers, self.outputs, self.weights = path, layers, outputs, weights
        self.keras_version = keras_version
        self.has_topology = outputs is not None


def weight_short_name(weight_name):
    """'conv2d_1/kernel:0' -> 'kernel'."""
    n = weight_name.split("/")[-1]
    return re.sub(r":\d+$", "", n)


def strip_colon(weight_name):
    return re.sub(r":\d+$", "", weight_name)


def _inbound_names(layer, path):
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ConversionError("%s: layer %r is applied %d times (shared layers are not supported)"
                              % (path, layer.get("name"), len(nodes)))
    if not nodes:
        return []
    names = []

    def walk(o):
        if isinstance(o, dict):
            hist = o.get("keras_history")
            if hist is None and isinstance(o.get("config"), dict):
                hist = o["config"].get("keras_history")
            if hist is not None:  # Keras 3 config format
                names.append(hist[0])
                return
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            if len(o) >= 3 and isinstance(o[0], str) and isinstance(o[1], int):  # Keras 2 [name, node, tensor, kw]
                names.append(o[0])
                return
            for v in o:
                walk(v)

    walk(nodes[0])
    return names


def layers_from_model_config(model_config, path):
    """Parse a Keras model config ({class_name, config}) into (layers, outputs)."""
    if not isinstance(model_config, dict) or "config" not in model_config:
        raise ConversionError("%s: model topology has no 'config'" % path)
    cls = model_config.get("class_name")
    cfg = model_config["config"]
    raw_layers = cfg["layers"] if isinstance(cfg, dict) else cfg  # old Sequential: config is the layer list
    layers = []
    for i, rl in enumerate(raw_layers):
        lc = rl.get("config", {}) or {}
        name = rl.get("name") or lc.get("name")
        if rl.get("class_name") in ("Model", "Functional", "Sequential"):
            raise ConversionError("%s: layer %r is a nested %s; nested models are not supported, save the inner "
                                  "model on its own" % (path, name, rl.get("class_name")))
        if cls == "Sequential":
            inbound = [layers[-1]["name"]] if layers else []
        else:
            inbound = _inbound_names(rl, path)
        layers.append(dict(name=name, class_name=rl.get("class_name"), config=lc, inbound=inbound))
    if cls == "Sequential":
        outputs = [layers[-1]["name"]]
    else:
        out = cfg.get("output_layers") or []
        if out and isinstance(out[0], str):
            out = [out]
        outputs = [o[0] for o in out]
        if not outputs:
            raise ConversionError("%s: model config has no output_layers" % path)
    names = {l["name"] for l in layers}
    for l in layers:
        for p in l["inbound"]:
            if p not in names:
                raise ConversionError("%s: layer %r has unknown input layer %r" % (path, l["name"], p))
    return layers, outputs


def _suffix_key(name, prefix):
    m = re.fullmatch(re.escape(prefix) + r"(?:_(\d+))?", name)
    return None if m is None else (int(m.group(1)) if m.group(1) else 0)


def _creation_order(model):
    """Post-order DFS from the outputs, inputs visited in listed order (= Keras creation order for InceptionV3)."""
    inbound = {l["name"]: l["inbound"] for l in model.layers}
    seen, order = set(), []
    stack = [(o, False) for o in reversed(model.outputs)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
            continue
        if n in seen:
            continue
        seen.add(n)
        stack.append((n, True))
        for p in reversed(inbound[n]):
            if p not in seen:
                stack.append((p, False))
    rest = [l["name"] for l in model.layers if l["name"] not in seen]
    return order + rest, rest


def _infer_class(name, weights):
    keys = set(weights)
    if not keys:
        return None
    if {"moving_mean", "moving_variance"} <= keys:
        return "BatchNormalization"
    if "kernel" in keys and weights["kernel"].ndim == 4 and keys <= {"kernel", "bias"}:
        return "Conv2D"
    if "kernel" in keys and weights["kernel"].ndim == 2 and keys <= {"kernel", "bias"}:
        return "Dense"
    return "?"


def _fmt_shape(s):
    return "[" + ",".join(str(int(v)) for v in s) + "]"


def canonicalize(model, options, log):
    """Return (tensors: name -> float32 array, metadata: ordered dict of strings)."""
    path = model.path
    classes = {}
    for l in model.layers:
        c = l["class_name"] or _infer_class(l["name"], model.weights.get(l["name"], {}))
        classes[l["name"]] = c
    known = {l["name"] for l in model.layers}
    for lname in model.weights:
        if lname not in known:
            raise ConversionError("%s: weights for layer %r, which is not in the model's layer list" % (path, lname))

    names = [l["name"] for l in model.layers]
    convs = [n for n in names if classes[n] == "Conv2D"]
    has_mixed = all(m in known for m in MIXED_NAMES)
    if not has_mixed:
        log("%s: not an InceptionV3 graph (no mixed0..mixed10); converting names as they are" % path)
        return _generic(model, options, log)
    if getattr(options, "bridge", None):
        raise ConversionError("%s: --bridge given, but this is an InceptionV3 graph" % path)
    if len(convs) != 94:
        raise ConversionError("%s: has layers mixed0..mixed10 but %d Conv2D layers; Keras InceptionV3 has 94"
                              % (path, len(convs)))
    bns = [n for n in names if classes[n] == "BatchNormalization"]
    if len(bns) != 94:
        raise ConversionError("%s: expected 94 BatchNormalization layers (one per conv), found %d" % (path, len(bns)))
    denses = [n for n in names if classes[n] == "Dense"]
    others = [n for n in names if model.weights.get(n) and classes[n] not in ("Conv2D", "BatchNormalization", "Dense")]
    if others:
        raise ConversionError("%s: layers with weights that an InceptionV3 + dense head cannot hold: %s"
                              % (path, ", ".join("%s (%s: %s)" % (n, classes[n], ",".join(model.weights[n]))
                                                 for n in others)))

    by_suffix = {}
    for kind, group in (("conv2d", convs), ("batch_normalization", bns), ("dense", denses)):
        keys = [(_suffix_key(n, kind), i, n) for i, n in enumerate(group)]
        by_suffix[kind] = [n for _, _, n in sorted(keys, key=lambda t: (t[0] is None, t[0] or 0, t[1]))] \
            if all(k[0] is not None for k in keys) else None

    if model.has_topology:
        order, unreachable = _creation_order(model)
        if unreachable:
            log("warning: layers not reachable from the outputs: %s" % ", ".join(unreachable))
        conv_order = [n for n in order if classes[n] == "Conv2D"]
        consumers = collections.defaultdict(list)
        for l in model.layers:
            for p in l["inbound"]:
                consumers[p].append(l["name"])
        bn_order = []
        for k, c in enumerate(conv_order, 1):
            follow = [n for n in consumers[c] if classes[n] == "BatchNormalization"]
            if len(consumers[c]) != 1 or len(follow) != 1:
                raise ConversionError("%s: conv %r (canonical conv2d_%d) should feed exactly one BatchNormalization, "
                                      "feeds %s" % (path, c, k, consumers[c]))
            bn_order.append(follow[0])
        dense_order = [n for n in order if classes[n] == "Dense"]
        if by_suffix["conv2d"] is not None and by_suffix["conv2d"] != conv_order:
            log("warning: the Conv2D names' numeric order differs from the graph's creation order; "
                "using the graph (e.g. %s)" % next("%s vs %s" % (a, b) for a, b in
                                                   zip(by_suffix["conv2d"], conv_order) if a != b))
        how = "graph topology (creation order)"
    else:
        if by_suffix["conv2d"] is None or by_suffix["batch_normalization"] is None:
            raise ConversionError("%s: no model topology and the conv/BN layer names are not Keras auto names "
                                  "(conv2d[_N], batch_normalization[_N]); cannot recover their order" % path)
        conv_order, bn_order = by_suffix["conv2d"], by_suffix["batch_normalization"]
        dense_order = by_suffix["dense"] if by_suffix["dense"] is not None else denses
        how = "numeric suffix of the layer names (no topology)"

    specs = inception_v3_conv_specs()
    tensors = collections.OrderedDict()
    renamed = 0
    bn_eps, bn_scale = set(), set()
    for k, (c, b, spec) in enumerate(zip(conv_order, bn_order, specs), 1):
        cw, bw = model.weights.get(c, {}), model.weights.get(b, {})
        cname, bname = "conv2d_%d" % k, "batch_normalization_%d" % k
        renamed += (c != cname) + (b != bname)
        if set(cw) != {"kernel"}:
            raise ConversionError("%s: conv layer %r (canonical %s) has weights %s; expected only 'kernel' "
                                  "(use_bias=False)" % (path, c, cname, sorted(cw)))
        kern = cw["kernel"]
        if tuple(kern.shape) != spec["kernel_shape"]:
            raise ConversionError("%s: tensor %s/kernel%s: expected shape %s (Keras InceptionV3 conv #%d), found %s"
                                  % (path, c, "" if c == cname else " (canonical %s/kernel)" % cname,
                                     _fmt_shape(spec["kernel_shape"]), k, _fmt_shape(kern.shape)))
        cfg = _config(model, c)
        if cfg:
            st = tuple(cfg.get("strides", (1, 1)))
            pad = cfg.get("padding", "valid")
            if st != spec["strides"] or pad != spec["padding"] or cfg.get("use_bias", False):
                raise ConversionError("%s: conv %r (canonical %s): expected strides %s padding %s use_bias False, "
                                      "found strides %s padding %s use_bias %s"
                                      % (path, c, cname, spec["strides"], spec["padding"], st, pad,
                                         cfg.get("use_bias")))
            if cfg.get("dilation_rate", [1, 1]) not in ([1, 1], (1, 1), 1):
                raise ConversionError("%s: conv %r: dilation %s not supported" % (path, c, cfg["dilation_rate"]))
        tensors[cname + "/kernel"] = kern
        need = {"beta", "moving_mean", "moving_variance"}
        if not need <= set(bw) or not set(bw) <= need | {"gamma"}:
            raise ConversionError("%s: BatchNormalization %r (canonical %s) has weights %s; expected beta, "
                                  "moving_mean, moving_variance [, gamma]" % (path, b, bname, sorted(bw)))
        for short, arr in bw.items():
            if tuple(arr.shape) != (spec["kernel_shape"][3],):
                raise ConversionError("%s: tensor %s/%s (canonical %s/%s): expected shape [%d], found %s"
                                      % (path, b, short, bname, short, spec["kernel_shape"][3], _fmt_shape(arr.shape)))
            tensors["%s/%s" % (bname, short)] = arr
        bn_scale.add("gamma" in bw)
        bcfg = _config(model, b)
        bn_eps.add(float(bcfg["epsilon"]) if bcfg and "epsilon" in bcfg else 0.001)
        if bcfg and bcfg.get("axis", 3) not in (3, -1, [3], [-1]):
            raise ConversionError("%s: BatchNormalization %r normalises axis %s; only channels-last (3) is supported"
                                  % (path, b, bcfg.get("axis")))
    if len(bn_eps) != 1 or len(bn_scale) != 1:
        raise ConversionError("%s: batch norms disagree on epsilon %s / scale %s" % (path, bn_eps, bn_scale))
    eps, scale = bn_eps.pop(), bn_scale.pop()
    log("conv/BN order from %s; %d layer names changed to canonical Keras-2.2.4 names%s"
        % (how, renamed, "" if renamed else " (already canonical)"))

    # ---- head
    head_meta = collections.OrderedDict()
    if dense_order and not options.drop_head:
        acts, dense_names = [], []
        auto = 0
        prev_out = 2048
        for n in dense_order:
            w = model.weights.get(n, {})
            if "kernel" not in w or w["kernel"].ndim != 2:
                raise ConversionError("%s: dense layer %r has no 2-D kernel" % (path, n))
            if w["kernel"].shape[0] != prev_out:
                raise ConversionError("%s: tensor %s/kernel: expected %d inputs (previous layer's outputs), found "
                                      "shape %s" % (path, n, prev_out, _fmt_shape(w["kernel"].shape)))
            prev_out = w["kernel"].shape[1]
            if "bias" in w and tuple(w["bias"].shape) != (prev_out,):
                raise ConversionError("%s: tensor %s/bias: expected shape [%d], found %s"
                                      % (path, n, prev_out, _fmt_shape(w["bias"].shape)))
            if _suffix_key(n, "dense") is not None:
                auto += 1
                new = "dense_%d" % auto
            else:
                new = n
            dense_names.append(new)
            for short, arr in w.items():
                tensors["%s/%s" % (new, short)] = arr
            cfg = _config(model, n)
            acts.append(cfg.get("activation") if cfg else None)
        shapes = [tuple(model.weights[n]["kernel"].shape) for n in dense_order]
        is_nsfwjs = shapes == [(2048, 256), (256, 128), (128, 5)]
        if options.head_activations:
            given = options.head_activations.split(",")
            if len(given) != len(acts):
                raise ConversionError("--head-activations has %d entries, the head has %d dense layers"
                                      % (len(given), len(acts)))
            for i, (a, g) in enumerate(zip(acts, given)):
                if a is not None and a != g:
                    raise ConversionError("%s: dense layer %r has activation %r, --head-activations says %r"
                                          % (path, dense_order[i], a, g))
            acts = given
        elif any(a is None for a in acts):
            if is_nsfwjs:
                acts = ["relu", "relu", "softmax"]
            elif len(acts) == 1 and dense_order[0] == "predictions":
                acts = ["softmax"]  # keras.applications top
            else:
                raise ConversionError("%s: no topology to read the dense activations from; pass --head-activations"
                                      % path)
        if is_nsfwjs and acts != ["relu", "relu", "softmax"]:
            raise ConversionError("%s: nsfwjs-shaped head with activations %s" % (path, acts))
        head_meta["head"] = "nsfwjs" if is_nsfwjs else ("imagenet" if dense_order == ["predictions"] else "dense")
        head_meta["head_layers"] = ",".join(dense_names)
        head_meta["head_activations"] = ",".join(acts)
        pool = _head_pool(model, classes)
        if pool:
            head_meta["head_pool"] = pool
        if options.classes:
            cl = options.classes.split(",")
        elif is_nsfwjs:
            cl = NSFWJS_CLASSES
        else:
            cl = None
        if cl is not None:
            if len(cl) != prev_out:
                raise ConversionError("%d class names for a head with %d outputs" % (len(cl), prev_out))
            head_meta["classes"] = ",".join(cl)
        log("head: %s, dense layers %s, activations %s" % (head_meta["head"], head_meta["head_layers"],
                                                             head_meta["head_activations"]))
    elif dense_order:
        log("head dropped (--drop-head): %s" % ", ".join(dense_order))

    default_nsfwjs = head_meta.get("head") == "nsfwjs"
    resize = options.resize or ("bilinear_align_corners" if default_nsfwjs else "bilinear_half_pixel")
    preprocess = options.preprocess or ("divide_255" if default_nsfwjs else "inception")
    meta = collections.OrderedDict()
    meta["model"] = "inception_v3"
    meta["format_version"] = FORMAT_VERSION
    meta["source"] = options.source
    meta["input_size"] = str(_input_size(model))
    meta["resize"] = resize
    meta["preprocess"] = preprocess
    meta["bn_epsilon"] = repr(eps)
    meta["bn_scale"] = "true" if scale else "false"
    meta.update(head_meta)
    return _f32(tensors, path), meta


def _config(model, name):
    for l in model.layers:
        if l["name"] == name:
            return l["config"]
    return None


def _input_size(model):
    for l in model.layers:
        if l["class_name"] == "InputLayer" and l["config"]:
            shp = l["config"].get("batch_input_shape") or l["config"].get("batch_shape")
            if shp and len(shp) == 4 and shp[1] and shp[1] == shp[2]:
                return int(shp[1])
    return 299


def _head_pool(model, classes):
    if not model.has_topology:
        return "global_average" if "avg_pool" in classes else None
    consumers = collections.defaultdict(list)
    for l in model.layers:
        for p in l["inbound"]:
            consumers[p].append(l)
    nxt = consumers.get("mixed10", [])
    if len(nxt) != 1:
        return None
    l = nxt[0]
    c = l["config"] or {}
    if l["class_name"] == "GlobalAveragePooling2D":
        return "global_average"
    if l["class_name"] == "GlobalMaxPooling2D":
        return "global_max"
    if l["class_name"] in ("AveragePooling2D", "MaxPooling2D"):
        kind = "average" if l["class_name"] == "AveragePooling2D" else "max"
        ps, st = c.get("pool_size"), c.get("strides") or c.get("pool_size")
        return "%s_%dx%d_stride%d_%s" % (kind, ps[0], ps[1], st[0], c.get("padding", "valid"))
    return None


# --------------------------------------------------------------------------------------------------------------
# Bridge models (include/photong/models/bridges.hpp): a single chain of these Keras layers, described to the C++
# loader by the metadata `architecture` (a JSON list, one object per layer, in order) and `input_shape`.

BRIDGE_KINDS = ("embedding", "arousal", "valence")
_BRIDGE_TYPES = {"Conv2D": "conv2d", "Dense": "dense", "Flatten": "flatten",
                 "GlobalAveragePooling2D": "global_average_pooling2d", "Dropout": "dropout", "Activation": "activation"}
_BRIDGE_ACTIVATIONS = ("linear", "relu", "sigmoid", "softmax", "tanh", "softplus")


def _pair(v, what, where):
    v = [v, v] if isinstance(v, int) else list(v or [])
    if len(v) != 2 or not all(isinstance(x, int) and x >= 1 for x in v):
        raise ConversionError("%s: %s must be two positive integers, found %r" % (where, what, v))
    return v


def _activation(cfg, where):
    a = cfg.get("activation", "linear")
    if a is None:
        a = "linear"
    if not isinstance(a, str) or a not in _BRIDGE_ACTIVATIONS:
        raise ConversionError("%s: activation %r is not one of %s" % (where, a, "|".join(_BRIDGE_ACTIVATIONS)))
    return a


def _shape3(shp):
    if shp and len(shp) == 4 and all(isinstance(d, int) and d >= 1 for d in shp[1:]):
        return [int(d) for d in shp[1:]]
    return None


def bridge_architecture(model):
    """(architecture list, input_shape [h,w,c]) of a Keras model that is one chain of bridge layers, read from its
    config (class_name -> type; activation, kernel_size, strides, padding, use_bias, filters/units, rate).
    Raises ConversionError saying why the model is not one."""
    path = model.path
    if not model.has_topology:
        raise ConversionError("%s: no model config (a weights-only file); save the whole model (model.save) so "
                              "the architecture can be read" % path)
    arch, input_shape, prev = [], None, None
    for l in model.layers:
        cls, cfg, name = l["class_name"], l["config"] or {}, l["name"]
        where = "%s: layer %r (%s)" % (path, name, cls)
        if l["inbound"] and (prev is None or l["inbound"] != [prev]):
            raise ConversionError("%s: takes %s, not the previous layer %r; a bridge must be a single chain"
                                  % (where, l["inbound"], prev))
        shp = cfg.get("batch_input_shape") or cfg.get("batch_shape")
        if cls == "InputLayer":
            if prev is not None:
                raise ConversionError("%s: an input layer inside the chain" % where)
            input_shape = _shape3(shp)
            if input_shape is None:
                raise ConversionError("%s: input shape %r is not [batch, h, w, c]" % (where, shp))
            prev = name
            continue
        if prev is None and shp is not None:  # Sequential without an InputLayer: the first layer carries the shape
            input_shape = _shape3(shp)
        if cls not in _BRIDGE_TYPES:
            raise ConversionError("%s: layer type not supported in a bridge (supported: %s)"
                                  % (where, ", ".join(sorted(_BRIDGE_TYPES))))
        if cfg.get("data_format", "channels_last") not in ("channels_last", None):
            raise ConversionError("%s: data_format %r; only channels_last is supported" % (where, cfg["data_format"]))
        e = collections.OrderedDict(type=_BRIDGE_TYPES[cls], name=name)
        if cls == "Conv2D":
            if _pair(cfg.get("dilation_rate", 1), "dilation_rate", where) != [1, 1] or cfg.get("groups", 1) != 1:
                raise ConversionError("%s: dilated or grouped convolutions are not supported" % where)
            pad = str(cfg.get("padding", "valid")).lower()
            if pad not in ("valid", "same"):
                raise ConversionError("%s: padding %r is not valid or same" % (where, pad))
            e.update(activation=_activation(cfg, where), kernel_size=_pair(cfg.get("kernel_size"), "kernel_size", where),
                     strides=_pair(cfg.get("strides", 1), "strides", where), padding=pad,
                     use_bias=bool(cfg.get("use_bias", True)))
            if isinstance(cfg.get("filters"), int):
                e["filters"] = cfg["filters"]
        elif cls == "Dense":
            e.update(activation=_activation(cfg, where), use_bias=bool(cfg.get("use_bias", True)))
            if isinstance(cfg.get("units"), int):
                e["units"] = cfg["units"]
        elif cls == "Activation":
            e["activation"] = _activation(cfg, where)
        elif cls == "Dropout":
            if isinstance(cfg.get("rate"), (int, float)):
                e["rate"] = cfg["rate"]
        elif cls == "GlobalAveragePooling2D" and cfg.get("keepdims"):
            raise ConversionError("%s: keepdims=True is not supported" % where)
        ws = model.weights.get(name, {})
        want = {"kernel", "bias"} if e.get("use_bias") else {"kernel"} if "use_bias" in e else set()
        if set(ws) != want:
            raise ConversionError("%s: has weights %s, expected %s" % (where, sorted(ws), sorted(want)))
        arch.append(e)
        prev = name
    if not arch:
        raise ConversionError("%s: the model has no layers" % path)
    if model.outputs != [prev]:
        raise ConversionError("%s: outputs %s are not the chain's last layer %r" % (path, model.outputs, prev))
    if input_shape is None:
        raise ConversionError("%s: the model config gives no input shape [batch, h, w, c]" % path)
    return arch, input_shape


def _generic(model, options, log):
    tensors = collections.OrderedDict()
    for lname, ws in model.weights.items():
        for short, arr in ws.items():
            tensors["%s/%s" % (lname, short)] = arr
    meta = collections.OrderedDict()
    bridge = getattr(options, "bridge", None)
    meta["model"] = "bridge" if bridge else "keras"
    meta["format_version"] = FORMAT_VERSION
    meta["source"] = options.source
    if options.resize:
        meta["resize"] = options.resize
    if options.preprocess:
        meta["preprocess"] = options.preprocess
    arch = None
    if bridge:
        arch, input_shape = bridge_architecture(model)  # errors are fatal: the file must be loadable
        meta["bridge"] = bridge
    elif model.has_topology:
        try:
            arch, input_shape = bridge_architecture(model)
        except ConversionError as e:
            log("no bridge architecture written: %s" % e)
    if arch is not None:
        meta["input_shape"] = json.dumps(input_shape)
        meta["architecture"] = json.dumps(arch)
        log("architecture: %s" % " -> ".join("%s %s" % (e["type"], e["name"]) for e in arch))
    return _f32(tensors, model.path), meta


def _f32(tensors, path):
    out = collections.OrderedDict()
    for k, v in tensors.items():
        v = np.asarray(v)
        if not np.all(np.isfinite(v)):
            raise ConversionError("%s: tensor %s has non-finite values" % (path, k))
        out[k] = np.ascontiguousarray(v, dtype="<f4")
    return out


# --------------------------------------------------------------------------------------------------------------
# tfjs reader

_STORE = {"float32": ("<f4", 4), "int32": ("<i4", 4)}


def _decode_tfjs_weight(spec, buf, off, path):
    name = spec["name"]
    shape = [int(s) for s in spec["shape"]]
    n = int(np.prod(shape)) if shape else 1
    dtype = spec.get("dtype", "float32")
    q = spec.get("quantization")
    if q is not None:
        qd = q.get("dtype")
        if qd in ("uint8", "uint16"):
            if "scale" not in q or "min" not in q:
                raise ConversionError("%s: weight %s: %s quantization without scale/min" % (path, name, qd))
            width = 1 if qd == "uint8" else 2
            raw = np.frombuffer(buf, dtype="u1" if width == 1 else "<u2", count=n, offset=off)
            val = raw.astype(np.float64) * float(q["scale"]) + float(q["min"])
            if dtype == "float32":
                val = val.astype(np.float32)
            elif dtype == "int32":
                val = np.floor(val + 0.5).astype(np.float32)  # JS Math.round
            else:
                raise ConversionError("%s: weight %s: dtype %s with %s quantization unsupported" % (path, name, dtype, qd))
        elif qd == "float16":
            if dtype != "float32":
                raise ConversionError("%s: weight %s: float16 quantization of %s weights" % (path, name, dtype))
            width = 2
            val = np.frombuffer(buf, dtype="<f2", count=n, offset=off).astype(np.float32)
        else:
            raise ConversionError("%s: weight %s: unknown quantization dtype %r (supported: uint8, uint16, float16)"
                                  % (path, name, qd))
    else:
        if dtype not in _STORE:
            raise ConversionError("%s: weight %s: unsupported dtype %r (supported: float32, int32)" % (path, name, dtype))
        npdt, width = _STORE[dtype]
        val = np.frombuffer(buf, dtype=npdt, count=n, offset=off).astype(np.float32)
    return val.reshape(shape), n * width


def read_tfjs_layers_model(model_json):
    path = model_json
    try:
        with open(model_json, "rb") as f:
            mj = json.loads(f.read())
    except (OSError, ValueError) as e:
        raise ConversionError("%s: cannot read model JSON: %s" % (path, e))
    if "modelTopology" not in mj or "weightsManifest" not in mj:
        raise ConversionError("%s: not a tfjs layers model (needs modelTopology and weightsManifest)" % path)
    if mj.get("format") not in (None, "layers-model"):
        raise ConversionError("%s: format %r is not a layers model" % (path, mj.get("format")))
    topo = mj["modelTopology"]
    model_config = topo.get("model_config", topo) if isinstance(topo, dict) else None
    layers, outputs = layers_from_model_config(model_config, path)
    base = os.path.dirname(os.path.abspath(model_json))
    weights = collections.OrderedDict()
    layer_names = [l["name"] for l in layers]
    quant = collections.Counter()
    for gi, group in enumerate(mj["weightsManifest"]):
        chunks = []
        for p in group.get("paths", []):
            fp = os.path.join(base, p)
            try:
                with open(fp, "rb") as f:
                    chunks.append(f.read())
            except OSError as e:
                raise ConversionError("%s: weight shard %s: %s" % (path, fp, e))
        buf = b"".join(chunks)
        off = 0
        for spec in group.get("weights", []):
            name = strip_colon(spec["name"])
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            q = spec.get("quantization")
            width = {"uint8": 1, "uint16": 2, "float16": 2}.get(q.get("dtype"), 0) if q else 4
            if off + n * max(width, 1) > len(buf):
                raise ConversionError("%s: weight %s (shape %s) runs past the end of group %d's shards %s (%d bytes)"
                                      % (path, name, _fmt_shape(spec["shape"]), gi, group.get("paths"), len(buf)))
            arr, used = _decode_tfjs_weight(spec, buf, off, path)
            off += used
            quant[(q or {}).get("dtype", spec.get("dtype", "float32"))] += 1
            if "/" not in name:
                raise ConversionError("%s: weight name %r is not 'layer/weight'" % (path, name))
            lname, short = name.rsplit("/", 1)
            if lname not in layer_names:
                # tolerate scoped names such as 'model/conv2d_1/kernel' only if a unique layer matches the tail
                tail = [l for l in layer_names if lname.endswith("/" + l)]
                if len(tail) != 1:
                    raise ConversionError("%s: weight %s belongs to no layer of the topology" % (path, name))
                lname = tail[0]
            ws = weights.setdefault(lname, collections.OrderedDict())
            if short in ws:
                raise ConversionError("%s: weight %s appears twice" % (path, name))
            ws[short] = arr
        if off != len(buf):
            raise ConversionError("%s: group %d: the weights use %d bytes but the shards %s hold %d"
                                  % (path, gi, off, group.get("paths"), len(buf)))
    # keep each layer's weights in a stable order
    kv = topo.get("keras_version") if isinstance(topo, dict) else None
    m = KerasModel(path, layers, outputs, weights, keras_version=kv)
    m.quantization = quant
    return m


def quant_summary(counter):
    parts = []
    for k in ("uint8", "uint16", "float16"):
        if counter.get(k):
            parts.append("%s quantized" % k)
    return ", ".join(parts) if parts else "float32"


def add_common_args(ap):
    ap.add_argument("output", help="output .safetensors path")
    ap.add_argument("--source", help="metadata 'source' (default: derived from the input)")
    ap.add_argument("--resize", choices=RESIZE_MODES,
                    help="metadata 'resize' (default: bilinear_align_corners for an nsfwjs head, else "
                         "bilinear_half_pixel as for Keras ImageNet weights)")
    ap.add_argument("--preprocess", choices=PREPROCESS_MODES,
                    help="metadata 'preprocess' (default: divide_255 for an nsfwjs head, else inception = x/127.5-1)")
    ap.add_argument("--classes", help="comma-separated class names of the head's outputs")
    ap.add_argument("--head-activations", help="comma-separated activations of the head's dense layers "
                                               "(needed only when the file has no topology)")
    ap.add_argument("--drop-head", action="store_true", help="leave the dense head out (features only)")
    ap.add_argument("--bridge", choices=BRIDGE_KINDS,
                    help="the file is a Photong bridge model (a chain of Conv2D/Dense/Flatten/GlobalAveragePooling2D/"
                         "Dropout/Activation layers on the 8x8x2048 features): write metadata model=bridge, bridge, "
                         "input_shape and architecture (include/photong/models/bridges.hpp), or fail saying why not")
    ap.add_argument("-q", "--quiet", action="store_true")


def write_output(path, tensors, meta, log):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    safetensors_io.save(path, tensors, meta)  # atomic, with the usual permissions
    n = sum(v.size for v in tensors.values())
    log("wrote %s: %d tensors, %d parameters, %d bytes" % (path, len(tensors), n, os.path.getsize(path)))
    for k, v in meta.items():
        log("  %s = %s" % (k, v))


def run_converter(prog, description, input_help, read, describe_source, argv=None):
    """The command line every converter shares: read the input with read(path) into a KerasModel,
    canonicalise it, write the safetensors file; describe_source(path, model) fills --source when
    it is not given. Returns the exit status."""
    ap = argparse.ArgumentParser(prog=prog, description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help=input_help)
    add_common_args(ap)
    args = ap.parse_args(argv)
    log = (lambda *a: None) if args.quiet else (lambda s: print(s, flush=True))
    t0 = time.time()
    try:
        model = read(args.input)
        if args.source is None:
            args.source = describe_source(args.input, model)
        tensors, meta = canonicalize(model, args, log)
        write_output(args.output, tensors, meta, log)
    except ConversionError as e:
        print("%s: error: %s" % (prog, e), file=sys.stderr)
        return 1
    log("done in %.1f s" % (time.time() - t0))
    return 0


def main(argv=None):
    def describe(path, model):
        mj = json.load(open(path))
        origin = mj.get("generatedBy") or os.path.basename(os.path.dirname(os.path.abspath(path)))
        return "%s tfjs layers model (%s)" % (origin, quant_summary(model.quantization))
    return run_converter("tfjs_layers_to_safetensors", __doc__.split("\n\n")[0],
                         "tfjs layers model.json (weight shards next to it)", read_tfjs_layers_model, describe, argv)


if __name__ == "__main__":
    sys.exit(main())
