#!/usr/bin/python3
"""Checks weights/tf_checkpoint_to_safetensors.py on the three real TensorFlow checkpoints in
../shared/data/tf-checkpoints (TF 1.11 Saver, TF 1.1 Saver, TF2 Keras save_weights with two data shards)
and on broken copies of them.

- the CRC-32C code gives the standard check value and agrees with Debian's python3-crcmod where installed;
- each checkpoint converts with every tensor's crc32c matched (the index blocks' crcs too), and holds exactly
  the names, shapes and dtypes listed in ../shared/data/README.md, values finite and not all zero;
- optimizer state (Adam slots, beta powers, TF2 .OPTIMIZER_SLOT and optimizer/ variables) is dropped by
  default and kept with --include-optimizer; TF2's string object graph is skipped and named;
- a truncated or corrupted .index, a flipped byte in a tensor's data (error names the tensor) and a missing
  data shard are refused, leaving no output file behind.
Exit 0 when all hold.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "tf-checkpoints"))
CONVERT = os.path.join(REPO, "weights", "tf_checkpoint_to_safetensors.py")
sys.path.insert(0, os.path.join(REPO, "weights"))
import safetensors_io  # noqa: E402
import tf_checkpoint_to_safetensors as tfc  # noqa: E402

F32 = np.dtype("float32")
V = "/.ATTRIBUTES/VARIABLE_VALUE"
EXPECTED = {
    "bilstm-tf1": {
        "bidirectional_rnn/fw/lstm_cell/kernel": ([114, 256], F32),
        "bidirectional_rnn/fw/lstm_cell/bias": ([256], F32),
        "bidirectional_rnn/bw/lstm_cell/kernel": ([114, 256], F32),
        "bidirectional_rnn/bw/lstm_cell/bias": ([256], F32),
        "Variable": ([1778, 50], F32),
        "dense/kernel": ([128, 2], F32),
        "dense/bias": ([2], F32),
    },
    "lstm-tf1": {
        "rnn/multi_rnn_cell/cell_0/lstm_cell/weights": ([2168, 480], F32),
        "rnn/multi_rnn_cell/cell_0/lstm_cell/biases": ([480], F32),
        "Variable": ([5, 5, 1, 32], F32),
        "Variable_1": ([32], F32),
        "Variable_2": ([120, 28], F32),
        "Variable_3": ([28], F32),
        "Variable_4": ([], np.dtype("int32")),
    },
    "gru-tf2-two-shards": {
        "layer_with_weights-0/embeddings" + V: ([27, 64], F32),
        "layer_with_weights-1/cell/kernel" + V: ([64, 768], F32),
        "layer_with_weights-1/cell/recurrent_kernel" + V: ([256, 768], F32),
        "layer_with_weights-1/cell/bias" + V: ([2, 768], F32),
        "layer_with_weights-2/kernel" + V: ([256, 27], F32),
        "layer_with_weights-2/bias" + V: ([27], F32),
    },
}
# optimizer entries each checkpoint holds (7 variables x 2 Adam slots + 2 beta powers; 6 x 2 TF2 slots + 5 optimizer/ scalars)
EXPECTED_OPTIMIZER = {"bilstm-tf1": 14 + 2, "lstm-tf1": 0, "gru-tf2-two-shards": 12 + 5}


def run(*args):
    return subprocess.run([sys.executable, CONVERT, *args], capture_output=True, text=True)


def refused(r, out, *words):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert not os.path.exists(out), out
    leftovers = [n for n in os.listdir(os.path.dirname(out)) if n.endswith(".tmp")]
    assert not leftovers, leftovers


def writable_copy(src, dst):
    shutil.copytree(src, dst)
    os.chmod(dst, 0o755)
    for n in os.listdir(dst):
        os.chmod(os.path.join(dst, n), 0o644)


def main():
    if not os.path.isdir(DATA):
        print("check_tf_checkpoint: %s not found (it comes with ../shared)" % DATA)
        return 1
    # CRC-32C: the standard check value, the mask round trip, and an independent implementation if present.
    assert tfc.crc32c(b"123456789") == 0xE3069283
    rng = np.random.default_rng(7)
    for n in (0, 1, 7, 8, 9, 1000, 4099):
        b = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert tfc.unmask_crc(tfc.mask_crc(tfc.crc32c(b))) == tfc.crc32c(b)
        assert tfc.crc32c(b[n // 2:], tfc.crc32c(b[:n // 2])) == tfc.crc32c(b)
    crc_note = "crcmod not installed"
    try:
        import crcmod.predefined
        ref = crcmod.predefined.mkCrcFun("crc-32c")
        for n in (0, 1, 7, 8, 9, 1000, 4099, 65537):
            b = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            assert tfc.crc32c(b) == ref(b), n
        crc_note = "agrees with crcmod"
    except ImportError:
        pass

    tmp = tempfile.mkdtemp(prefix="photong-tfckpt.")
    report = []
    try:
        for ckpt, want in EXPECTED.items():
            src = os.path.join(DATA, ckpt)
            out = os.path.join(tmp, ckpt + ".safetensors")
            t0 = time.time()
            r = run(src, out)
            dt = time.time() - t0
            assert r.returncode == 0, r.stderr
            tensors, meta = safetensors_io.load(out)
            got = {k: (list(v.shape), v.dtype) for k, v in tensors.items()}
            assert got == want, (ckpt, sorted(got.items()))
            assert meta["format"] == "tf-tensor-bundle" and meta["crc32c_checked"] == str(len(want)), meta
            assert meta["num_shards"] == ("2" if "two-shards" in ckpt else "1"), meta
            for k, v in tensors.items():
                assert np.all(np.isfinite(v)) and np.any(v != 0), k
            dropped = meta.get("dropped_optimizer_tensors", "")
            n_dropped = len(dropped.split(",")) if dropped else 0
            assert n_dropped == EXPECTED_OPTIMIZER[ckpt], (ckpt, dropped)
            if ckpt == "gru-tf2-two-shards":
                assert meta["skipped_tensors"] == "_CHECKPOINTABLE_OBJECT_GRAPH:string", meta
            # with --include-optimizer the slots come too, each the shape of its variable
            r = run(src, out, "--include-optimizer")
            assert r.returncode == 0, r.stderr
            full, meta2 = safetensors_io.load(out)
            assert len(full) == len(want) + EXPECTED_OPTIMIZER[ckpt], (ckpt, sorted(full))
            assert meta2["crc32c_checked"] == str(len(full)) and "dropped_optimizer_tensors" not in meta2
            for k, v in tensors.items():
                assert np.array_equal(full[k], v), k
            for k in full:
                if k not in tensors:
                    assert tfc.is_optimizer_state(k), k
            if ckpt == "bilstm-tf1":
                assert full["dense/kernel/Adam_1"].shape == (128, 2) and full["beta1_power"].shape == ()
            if ckpt == "gru-tf2-two-shards":
                assert full["layer_with_weights-1/cell/kernel/.OPTIMIZER_SLOT/optimizer/m" + V].shape == (64, 768)
                assert full["optimizer/iter" + V].dtype == np.int64
            report.append("%s: %d tensors (+%d optimizer), %d crc ok, %.2f s"
                          % (ckpt, len(want), EXPECTED_OPTIMIZER[ckpt], len(full), dt))
        # the prefix form and the .index form give the same result as the directory form
        prefix = os.path.join(DATA, "lstm-tf1", "checkpoints")
        for form in (prefix, prefix + ".index"):
            out = os.path.join(tmp, "form.safetensors")
            r = run(form, out)
            assert r.returncode == 0, r.stderr
            assert set(safetensors_io.load(out)[0]) == set(EXPECTED["lstm-tf1"])
        r = run(prefix, "--list")
        assert r.returncode == 0 and "rnn/multi_rnn_cell/cell_0/lstm_cell/weights\tfloat32\t[2168, 480]" in r.stdout, r.stdout

        # --- broken copies
        bad = os.path.join(tmp, "bad")
        writable_copy(os.path.join(DATA, "bilstm-tf1"), bad)
        index = os.path.join(bad, "model.ckpt.index")
        data_file = os.path.join(bad, "model.ckpt.data-00000-of-00001")
        good_index = open(index, "rb").read()
        out = os.path.join(tmp, "bad.safetensors")
        # truncated index (footer gone; and shorter than a footer)
        open(index, "wb").write(good_index[:-10])
        refused(run(bad, out), out, "model.ckpt.index", "magic")
        open(index, "wb").write(good_index[:30])
        refused(run(bad, out), out, "model.ckpt.index", "too short")
        # a flipped byte inside the index's data block: the block crc catches it
        corrupt = bytearray(good_index)
        corrupt[40] ^= 0x01
        open(index, "wb").write(bytes(corrupt))
        refused(run(bad, out), out, "model.ckpt.index", "crc32c")
        open(index, "wb").write(good_index)
        # a flipped byte in dense/kernel's bytes: its crc mismatches and the error names it
        _, entries = tfc.read_bundle(os.path.join(bad, "model.ckpt"))
        e = dict(entries)["dense/kernel"]
        good_data = open(data_file, "rb").read()
        corrupt = bytearray(good_data)
        corrupt[e["offset"] + e["size"] // 2] ^= 0x10
        open(data_file, "wb").write(bytes(corrupt))
        refused(run(bad, out), out, "dense/kernel", "crc32c mismatch", "data-00000-of-00001")
        # a data file cut short
        open(data_file, "wb").write(good_data[:len(good_data) // 2])
        refused(run(bad, out), out, "past the end")
        # a missing data shard of the two-shard checkpoint
        bad2 = os.path.join(tmp, "bad2")
        writable_copy(os.path.join(DATA, "gru-tf2-two-shards"), bad2)
        os.unlink(os.path.join(bad2, "ckpt_100.data-00001-of-00002"))
        refused(run(bad2, out), out, "shard 1 of 2", "ckpt_100.data-00001-of-00002")
        # no checkpoint at all
        refused(run(os.path.join(tmp, "nothing-here"), out), out, "nothing-here.index")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("check_tf_checkpoint: ok (crc32c %s)" % crc_note)
    for line in report:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
