#!/usr/bin/python3
"""GRU reference fixtures for tests/test_gru.cpp, from two outside references.

usage: gen_gru_fixtures.py OUTDIR      (writes OUTDIR/gru/*.safetensors)

Each file holds PyTorch-layout weights per layer L -- `weight_ih_L` (3H, in), `weight_hh_L` (3H, H), `bias_ih_L`,
`bias_hh_L` (3H), gate rows r, z, n -- plus `x` (steps, batch, input), initial `h0_L`, the top layer's outputs `y`
(steps, batch, H) where known and every layer's final `h_L`. Metadata: `layers`, `reset` ("after" or "before": where
the reset gate acts, see include/photong/nn/gru.hpp), `source`.

- PyTorch 1.13 nn.GRU (reset applied to the recurrent product, "after"), 1 and 2 layers.
- ONNX's own GRU node tests from Debian's libonnx-testdata (gate order z, r, h; W (1, 3H, in), R (1, 3H, H),
  B (1, 6H) = Wb and Rb; linear_before_reset = 0: reset applied to h before the product, "before"); layout 1
  (batch first) turned back to (steps, batch, ...).
"""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights"))
import safetensors_io  # noqa: E402

ONNX_DIR = "/usr/share/libonnx-testdata/data/node"


def torch_case(out, name, layers, steps, batch, inp, units, seed):
    torch.manual_seed(seed)
    gru = torch.nn.GRU(inp, units, num_layers=layers).eval()
    x = torch.randn(steps, batch, inp)
    h0 = torch.randn(layers, batch, units) * 0.5
    with torch.no_grad():
        y, hT = gru(x, h0)
    t = {"x": x.numpy(), "y": y.numpy()}
    for L in range(layers):
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            t[f"{n}_{L}"] = getattr(gru, f"{n}_l{L}").detach().numpy()
        t[f"h0_{L}"], t[f"h_{L}"] = h0[L].numpy(), hT[L].numpy()
    safetensors_io.save(os.path.join(out, name + ".safetensors"), t, {"layers": str(layers), "reset": "after", "source": "torch.nn.GRU " + torch.__version__})


def onnx_case(out, d):
    m = onnx.load(os.path.join(d, "model.onnx"))
    node = m.graph.node[0]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if attrs.get("linear_before_reset", 0) != 0:
        return
    arrays = []
    for f in sorted(glob.glob(os.path.join(d, "test_data_set_0", "input_*.pb"))):
        tp = onnx.TensorProto()
        tp.ParseFromString(open(f, "rb").read())
        arrays.append(numpy_helper.to_array(tp))
    outs = []
    for f in sorted(glob.glob(os.path.join(d, "test_data_set_0", "output_*.pb"))):
        tp = onnx.TensorProto()
        tp.ParseFromString(open(f, "rb").read())
        outs.append(numpy_helper.to_array(tp))
    x, W, R = arrays[0], arrays[1][0], arrays[2][0]
    H = W.shape[0] // 3
    B = arrays[3][0] if len(arrays) > 3 else np.zeros(6 * H, np.float32)
    batch_first = attrs.get("layout", 0) == 1
    if batch_first:
        x = np.transpose(x, (1, 0, 2))
    reorder = lambda a: np.concatenate([a[H:2 * H], a[0:H], a[2 * H:3 * H]], axis=0)  # z, r, h -> r, z, n
    present = [o for o in node.output if o]  # the outputs' files follow the non-empty names in order
    h_final = outs[present.index("Y_h")]
    h_final = h_final[:, 0] if batch_first else h_final[0]
    t = {"x": x.astype(np.float32), "weight_ih_0": reorder(W), "weight_hh_0": reorder(R), "bias_ih_0": reorder(B[:3 * H]),
         "bias_hh_0": reorder(B[3 * H:]), "h0_0": np.zeros((x.shape[1], H), np.float32), "h_0": h_final.astype(np.float32)}
    if "Y" in present:
        y = outs[present.index("Y")]
        t["y"] = (np.transpose(y[:, :, 0], (1, 0, 2)) if batch_first else y[:, 0]).astype(np.float32)
    safetensors_io.save(os.path.join(out, "onnx_" + os.path.basename(d) + ".safetensors"), t,
                        {"layers": "1", "reset": "before", "source": "ONNX node test " + os.path.basename(d)})


def main():
    out = os.path.join(sys.argv[1], "gru")
    os.makedirs(out, exist_ok=True)
    torch_case(out, "torch_1layer", 1, 7, 3, 5, 8, 1)
    torch_case(out, "torch_2layer", 2, 9, 2, 267, 64, 2)
    for d in sorted(glob.glob(os.path.join(ONNX_DIR, "test_gru_*"))):
        onnx_case(out, d)
    print("gru fixtures:", sorted(os.listdir(out)))


if __name__ == "__main__":
    main()
