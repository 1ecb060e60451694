#!/usr/bin/python3
"""Export our Keras-named InceptionV3 weights to ONNX for the ONNX Runtime speed peer.

Usage: /usr/bin/python3 bench/peer_ort/export_onnx.py WEIGHTS.safetensors OUT.onnx

The graph is torchvision's inception_v3 up to Mixed_7c (Keras mixed10, include_top=False), loaded from the Keras
names by weights/inception_torchvision.py, with Keras 'same' average pooling (count_include_pad=False). Input
Bx3x299x299, output Bx2048x8x8, opset 13, the batch B a dynamic axis (the interleaved comparison runs 1 and 8).

Layout: our C++ runs NHWC; ORT is given NCHW, its native layout, so the peer is not penalised by layout
transposes (ORT's CPU conv kernels would otherwise have to convert). Timings compare the same network, each in
its own preferred layout.

Also writes OUT.check.safetensors: a seeded input and torch's output for it (both NCHW), so that time_ort.js
--check can confirm ORT computes the same features as the reference.
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "weights"))
import safetensors_io  # noqa: E402
import inception_torchvision as itv  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    wpath, out = argv[1], argv[2]
    torch.set_num_threads(2)
    tensors, meta = safetensors_io.load(wpath)
    if meta.get("model", "inception_v3") != "inception_v3":
        raise SystemExit(f"{wpath}: model={meta.get('model')}, not inception_v3")
    eps = float(meta.get("bn_epsilon", itv.BN_EPSILON))
    model = itv.load_keras_into_torch(tensors, itv.build_model(), bn_epsilon=eps)
    feats = itv.InceptionFeatures(model).eval()
    x = torch.zeros(1, 3, 299, 299)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(feats, x, out, opset_version=13, input_names=["input"], output_names=["mixed10"],
                          dynamic_axes={"input": {0: "batch"}, "mixed10": {0: "batch"}}, do_constant_folding=True)
    import onnx
    m = onnx.load(out)
    onnx.checker.check_model(m)
    pools = [n for n in m.graph.node if n.op_type == "AveragePool"]
    for n in pools:  # Keras 'same' average pooling must survive the export
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        assert attrs.get("count_include_pad", 0) == 0, attrs
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1

    g = torch.Generator().manual_seed(7)
    xc = torch.rand(1, 3, 299, 299, generator=g) * 2 - 1
    with torch.no_grad():
        yc = feats(xc)
    safetensors_io.save(os.path.splitext(out)[0] + ".check.safetensors",
                        {"input": xc.numpy().astype(np.float32), "output": yc.numpy().astype(np.float32)},
                        {"layout": "NCHW", "weights": os.path.basename(wpath)})
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB), nodes {dict(sorted(ops.items()))}, "
          f"AveragePool count_include_pad=0 x{len(pools)}, output {tuple(yc.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
