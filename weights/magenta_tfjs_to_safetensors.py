#!/usr/bin/python3
"""Convert a magenta.js checkpoint (weights_manifest.json + tfjs binary shards, optional config.json) to
photong's safetensors, keeping Magenta's TF variable names.

usage: magenta_tfjs_to_safetensors.py CHECKPOINT_DIR OUT.safetensors [--model-name NAME]

This is the layout magenta.js loads (music_vae/model.ts fetches `<checkpoint>/weights_manifest.json` and passes
it to tfjs' `io.loadWeights`; `<checkpoint>/config.json` describes the model). The manifest is a JSON list of
groups {"paths": [shard files], "weights": [{"name", "shape", "dtype", optional "quantization"}]}; a group's
shards, concatenated in the listed order, hold its weights back to back (a weight may straddle two shards).
Storage follows tfjs (decoding shared with tfjs_layers_to_safetensors.py): float32 / int32 little-endian, or
quantized uint8 / uint16 (value = q * scale + min) or float16. Float weights are written dequantized as F32;
unquantized int32 weights stay I32 (quantized int32 ones are rounded, as tfjs does, and stored as I32).
Every shard's size is checked against what the manifest says before a byte is decoded.

Names are kept exactly (`decoder/multi_rnn_cell/cell_0/lstm_cell/kernel`, ...). Metadata uses the same keys as
magenta_manifest_to_safetensors.py so that the C++ side reads either: `model` (music_vae for config type
MusicVAE or no config, music_rnn for MusicRNN, else the type lowercased), `format_version`, `source`,
`has_encoder_lstm`, `has_decoder`, `data_converter` and `converter_<arg>` for each dataConverter argument;
plus `chord_encoder` when the config names one, `quantization` (the storage kinds seen) and `config_json`.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import tfjs_layers_to_safetensors as tfjs  # noqa: E402

ConversionError = tfjs.ConversionError  # the shared decoder raises this one

_WIDTH = {"float32": 4, "int32": 4}
_QWIDTH = {"uint8": 1, "uint16": 2, "float16": 2}


def _stored_bytes(spec, where):
    """Bytes a weight occupies in the shards; refuses unknown dtypes before anything is read."""
    try:
        shape = [int(d) for d in spec["shape"]]
    except (KeyError, TypeError, ValueError):
        raise ConversionError("%s: weight %s lacks an integer shape" % (where, spec.get("name")))
    if any(d < 0 for d in shape):
        raise ConversionError("%s: weight %s has a negative dimension %s" % (where, spec["name"], shape))
    dtype = spec.get("dtype", "float32")
    q = spec.get("quantization")
    if q is not None:
        qd = q.get("dtype") if isinstance(q, dict) else None
        if qd not in _QWIDTH:
            raise ConversionError("%s: weight %s: unknown quantization dtype %r (supported: uint8, uint16, float16)"
                                  % (where, spec["name"], qd))
        if dtype not in _WIDTH:
            raise ConversionError("%s: weight %s: unsupported dtype %r (supported: float32, int32)"
                                  % (where, spec["name"], dtype))
        width = _QWIDTH[qd]
    elif dtype in _WIDTH:
        width = _WIDTH[dtype]
    else:
        raise ConversionError("%s: weight %s: unsupported dtype %r (supported: float32, int32)"
                              % (where, spec["name"], dtype))
    return int(np.prod(shape, dtype=np.int64)) * width


def convert(src, model_name=None):
    manifest_path = os.path.join(src, "weights_manifest.json")
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise ConversionError("%s: cannot read manifest: %s" % (manifest_path, e))
    if not isinstance(manifest, list) or not manifest:
        raise ConversionError("%s: expected a non-empty list of weight groups" % manifest_path)
    tensors, kinds = {}, set()
    for gi, group in enumerate(manifest):
        where = "%s: group %d" % (manifest_path, gi)
        if not isinstance(group, dict) or not isinstance(group.get("paths"), list) \
                or not isinstance(group.get("weights"), list):
            raise ConversionError("%s: a group needs lists 'paths' and 'weights'" % where)
        chunks = []
        for p in group["paths"]:
            if not isinstance(p, str) or os.path.isabs(p) or ".." in p.split("/"):
                raise ConversionError("%s: shard path %r is not a plain relative path" % (where, p))
            fp = os.path.join(src, p)
            try:
                with open(fp, "rb") as f:
                    chunks.append(f.read())
            except OSError as e:
                raise ConversionError("%s: cannot read shard: %s" % (where, e))
        buf = b"".join(chunks)
        off = 0
        for spec in group["weights"]:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise ConversionError("%s: a weight lacks a name" % where)
            name = spec["name"]
            need = _stored_bytes(spec, where)
            if off + need > len(buf):
                raise ConversionError("%s: weight %s needs bytes [%d, %d) but the shards %s hold only %d "
                                      "(shard too short?)" % (where, name, off, off + need, group["paths"], len(buf)))
            if name in tensors:
                raise ConversionError("%s: weight %s appears twice" % (where, name))
            q = spec.get("quantization")
            dtype = spec.get("dtype", "float32")
            if q is None and dtype == "int32":
                arr = np.frombuffer(buf, dtype="<i4", count=need // 4, offset=off).reshape(
                    [int(d) for d in spec["shape"]])
            else:
                arr, used = tfjs._decode_tfjs_weight(spec, buf, off, manifest_path)
                assert used == need
                if dtype == "int32":
                    arr = arr.astype(np.int32)
            kinds.add(q["dtype"] if q is not None else dtype)
            tensors[name] = np.array(arr)
            off += need
        if off != len(buf):
            raise ConversionError("%s: the weights use %d bytes but the shards %s hold %d"
                                  % (where, off, group["paths"], len(buf)))
    config, config_path = None, os.path.join(src, "config.json")
    if os.path.exists(config_path):
        try:
            with open(config_path) as f:
                config = json.load(f)
        except (OSError, ValueError) as e:
            raise ConversionError("%s: cannot read config: %s" % (config_path, e))
        if not isinstance(config, dict):
            raise ConversionError("%s: expected a JSON object" % config_path)
    ctype = (config or {}).get("type", "MusicVAE")
    model = {"MusicVAE": "music_vae", "MusicRNN": "music_rnn"}.get(ctype, str(ctype).lower())
    meta = {"model": model, "format_version": "1",
            "source": "magenta.js checkpoint (%s)" % (model_name or os.path.basename(os.path.abspath(src))),
            "has_encoder_lstm": str(any(n.startswith("encoder/") and n.endswith("lstm_cell/kernel")
                                        for n in tensors)).lower(),
            "has_decoder": str(any(n.startswith("decoder/") for n in tensors)).lower(),
            "quantization": ",".join(sorted(kinds))}
    if config is not None:
        conv = config.get("dataConverter") or {}
        if conv:
            meta["data_converter"] = str(conv.get("type", ""))
            for k, v in (conv.get("args") or {}).items():
                meta["converter_" + k] = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
        if config.get("chordEncoder"):
            meta["chord_encoder"] = str(config["chordEncoder"])
        meta["config_json"] = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return tensors, meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint_dir")
    ap.add_argument("output")
    ap.add_argument("--model-name", default=None, help="recorded in the metadata's source")
    args = ap.parse_args(argv)
    try:
        tensors, meta = convert(args.checkpoint_dir, args.model_name)
    except ConversionError as e:
        print("magenta_tfjs_to_safetensors: error: %s" % e, file=sys.stderr)
        return 1
    safetensors_io.save(args.output, tensors, meta)
    print("wrote %s: %d variables, %d parameters (%s)" % (args.output, len(tensors),
                                                          sum(t.size for t in tensors.values()), meta["quantization"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
