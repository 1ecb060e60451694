#!/usr/bin/python3
"""Train Magenta's `hierdec-mel_16bar` MusicVAE in PyTorch and export it under Magenta's TF names.

usage:
  train_hierdec.py --data build/melody-data/mel16.safetensors --out-dir RUN [--preset small]
                   [--max-steps N] [--max-minutes M] [--threads T] [--resume] [--export OUT.safetensors [--fp16]]
  train_hierdec.py --out-dir RUN --export-only --export OUT.safetensors [--fp16]   (latest checkpoint)
  train_hierdec.py --self-test                                                     (tiny model, no data)

Model (facts from magenta music_vae: configs.py `hierdec-mel_16bar`, lstm_models.py, lstm_utils.py,
base_model.py; no magenta code is used):
- BidirectionalLstmEncoder: stacked bidirectional LSTMs over the 256 one-hot steps (layer k > 0 reads
  [fw outputs, bw outputs] of layer k - 1); the encoding is [last layer's fw final h, bw final h];
  mu = dense, sigma = softplus(dense) (`encoder/mu`, `encoder/sigma`, kernels ~ N(0, 0.001));
  z = mu + sigma * eps.
- HierarchicalLstmDecoder(level_lengths [16, 16], disable_autoregression=True): the conductor
  `decoder/hierarchical_level_0` starts from tanh(dense(z)) split (c0, h0, c1, h1), reads zeros of
  width 1 for 16 steps; each step's top-layer h is a bar embedding. Its cells are
  `decoder/hierarchical_level_0/cell_K/lstm_cell` (no `multi_rnn_cell` level: the MultiRNNCell is
  called with the level's scope), the core's `core_decoder/decoder/multi_rnn_cell/cell_K/lstm_cell`.
- core CategoricalLstmDecoder `core_decoder/decoder`: per bar, state tanh(dense(embedding))
  (`z_to_initial_state`), inputs [previous event one-hot, embedding], `output_projection` to the 90
  classes. Teacher forcing: base_model pads the whole 256-step target right by one zero step and the
  hierarchical decoder splits it per bar, so a bar's first input is the previous bar's last event.
- loss (base_model._compute_model_loss): r_loss = per-sequence sum of softmax cross-entropy;
  kl = KL(N(mu, sigma) || N(0, I)) in nats; kl_cost = max(kl - free_bits * ln 2, 0);
  beta = (1 - beta_rate^step) * max_beta; loss = mean(r_loss) + beta * mean(kl_cost).
  hierdec-mel_16bar sets free_bits 256, max_beta 0.2 and leaves beta_rate at base_model's default 0.0
  (so beta = 0 at step 0 and max_beta afterwards); --beta-rate overrides.
- optimiser (base_model.train, music_vae_train.py): Adam with
  lr = (learning_rate - min_learning_rate) * decay_rate^step + min_learning_rate (1e-3, 0.9999, 1e-5);
  gradients clipped to global norm grad_clip 1.0, and zeroed when the norm is >= grad_norm_clip_to_zero
  (10000). LSTMBlockCell kernels use TF's default glorot-uniform init, biases 0 plus forget_bias 1.0.

PyTorch's nn.LSTM is used internally (gates i, f, g, o; W_ih, W_hh, b_ih + b_hh) with its forget
bias initialised to 1.0. Export converts each layer exactly to TF's LSTMBlockCell layout:
kernel = concat(W_ih, W_hh, dim 1)^T with gate blocks reordered to (i, j=g, f, o), shape
[input + units, 4 units]; bias = b_ih + b_hh reordered likewise minus 1.0 in the f block (TF adds
forget_bias 1.0 at run time). Dense kernels are [in, out].

Speed: Debian's python3-torch uses the system libblas.so.3; with netlib's reference BLAS a `--preset
small` step at batch 64 costs ~390 CPU-seconds, with OpenBLAS ~42 (`apt-get install
libopenblas0-pthread`, or unpack its .deb and set LD_LIBRARY_PATH to its openblas-pthread directory and
OPENBLAS_NUM_THREADS to --threads). The tool warns when it finds the reference BLAS. On this 2-core machine
one thread is faster than two: a `--preset cpu` step at batch 32 took 3.0 s with --threads 1 and
OPENBLAS_NUM_THREADS=1, 6.0 s with 2 (the per-time-step products are too small to split; the threads only
contend), and it leaves the second core free.

Checkpoints (OUT_DIR/checkpoint.pt: model, Adam state, step, hparams, RNG states; written atomically
every --checkpoint-every steps, at the end, on SIGTERM/SIGINT and at --max-minutes) make --resume
continue exactly: batches and eps are functions of (seed, step), so a resumed run reproduces an
uninterrupted one bit for bit on the same machine and thread count. OUT_DIR/log.csv holds the train
(window means over --log-every steps) and val rows.
"""
import argparse
import csv
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "weights"))
import safetensors_io  # noqa: E402

sys.path.insert(0, HERE)
import lstm_fused  # noqa: E402

CLASSES, BARS, STEPS_PER_BAR = 90, 16, 16
SEQ_LEN = BARS * STEPS_PER_BAR
MIN_PITCH, MAX_PITCH = 21, 108

PRESETS = {
    # enc_units, enc_layers, cond_units, cond_layers, core_units, core_layers, z
    "full": (2048, 2, 1024, 2, 1024, 2, 512),
    "small": (512, 2, 512, 2, 512, 2, 512),
    # What a 2-core CPU trains in an hour or two (~4 s per batch of 64 with OpenBLAS): z stays 512,
    # the size Photong's embedding bridge predicts.
    "cpu": (256, 2, 256, 2, 256, 2, 512),
    "tiny": (16, 2, 12, 2, 10, 2, 8),
}
SIZE_KEYS = ("enc_units", "enc_layers", "cond_units", "cond_layers", "core_units", "core_layers", "z_size")

# PyTorch gate blocks (i, f, g, o) -> TF LSTMBlockCell blocks (i, j=g, f, o).
TF_FROM_TORCH = (0, 2, 1, 3)
FORGET_BIAS = 1.0
# The conductor's MultiRNNCell is called with the level's variable scope (lstm_models.py
# _hierarchical_decode: `self._hier_cells[level](next_input, state, scope)`), so its cells sit directly
# under it with no `multi_rnn_cell` level; the core decoder's cell is built by dynamic_decode and has one.
CONDUCTOR_STACK = "decoder/hierarchical_level_0"
CORE_STACK = "core_decoder/decoder/multi_rnn_cell"


def glorot_uniform_(tensors, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    for t in tensors:
        nn.init.uniform_(t, -limit, limit)


class HierdecVAE(nn.Module):
    def __init__(self, enc_units, enc_layers, cond_units, cond_layers, core_units, core_layers, z_size):
        super().__init__()
        self.sizes = dict(zip(SIZE_KEYS, (enc_units, enc_layers, cond_units, cond_layers, core_units, core_layers, z_size)))
        self.encoder = nn.LSTM(CLASSES, enc_units, num_layers=enc_layers, bidirectional=True, batch_first=True)
        self.mu = nn.Linear(2 * enc_units, z_size)
        self.sigma = nn.Linear(2 * enc_units, z_size)
        self.cond_init = nn.Linear(z_size, 2 * cond_layers * cond_units)
        self.conductor = nn.LSTM(1, cond_units, num_layers=cond_layers, batch_first=True)
        self.core_init = nn.Linear(cond_units, 2 * core_layers * core_units)
        self.core = nn.LSTM(CLASSES + cond_units, core_units, num_layers=core_layers, batch_first=True)
        self.proj = nn.Linear(core_units, CLASSES)
        self.fused = False  # forward() through lstm_fused instead of nn.LSTM (the trainer's choice on the CPU)
        self.reset_parameters()

    def reset_parameters(self):
        """Magenta's initialisers: LSTMBlockCell kernel glorot-uniform over the TF [in + u, 4u] matrix, bias 0
        (+ forget_bias 1 at run time); initial-state and mu/sigma dense kernels N(0, 0.001), bias 0;
        output_projection glorot-uniform, bias 0."""
        for lstm in (self.encoder, self.conductor, self.core):
            u = lstm.hidden_size
            for name, p in lstm.named_parameters():
                if name.startswith("weight_ih"):
                    w_hh = getattr(lstm, name.replace("weight_ih", "weight_hh"))
                    glorot_uniform_([p, w_hh], p.shape[1] + u, 4 * u)
                elif name.startswith("bias_ih"):
                    with torch.no_grad():
                        p.zero_()
                        p[u:2 * u] = FORGET_BIAS  # torch's f block
                elif name.startswith("bias_hh"):
                    nn.init.zeros_(p)
        for lin in (self.mu, self.sigma, self.cond_init, self.core_init):
            nn.init.normal_(lin.weight, 0.0, 0.001)
            nn.init.zeros_(lin.bias)
        glorot_uniform_([self.proj.weight], self.proj.in_features, self.proj.out_features)
        nn.init.zeros_(self.proj.bias)

    @staticmethod
    def _initial_state(dense_out, layers, units):
        """tanh(dense) split as (c0, h0, c1, h1, ...) -> nn.LSTM's (h, c) of shape [layers, N, units]."""
        s = torch.tanh(dense_out).view(-1, layers, 2, units)
        c = s[:, :, 0].transpose(0, 1).contiguous()
        h = s[:, :, 1].transpose(0, 1).contiguous()
        return h, c

    def encode(self, onehot):
        _, (h_n, _) = self.encoder(onehot)
        final = torch.cat([h_n[-2], h_n[-1]], dim=1)  # last layer's fw, bw final h
        return self.mu(final), F.softplus(self.sigma(final))

    def decode_teacher_forced(self, z, onehot):
        B = z.shape[0]
        s = self.sizes
        cond_state = self._initial_state(self.cond_init(z), s["cond_layers"], s["cond_units"])
        emb, _ = self.conductor(z.new_zeros(B, BARS, 1), cond_state)  # [B, BARS, cond_units]
        emb = emb.reshape(B * BARS, s["cond_units"])
        core_state = self._initial_state(self.core_init(emb), s["core_layers"], s["core_units"])
        prev = torch.cat([onehot.new_zeros(B, 1, CLASSES), onehot[:, :-1]], dim=1)  # target shifted right by one
        prev = prev.reshape(B * BARS, STEPS_PER_BAR, CLASSES)
        x = torch.cat([prev, emb.unsqueeze(1).expand(-1, STEPS_PER_BAR, -1)], dim=2)
        out, _ = self.core(x, core_state)
        return self.proj(out).reshape(B, SEQ_LEN, CLASSES)

    # ---- the same maths through lstm_fused (one autograd node per LSTM layer; ~2x faster on the CPU)

    def encode_fused(self, events):
        """encode() for int events [B, T]: layer 0's one-hot input product is a row gather of W_ih."""
        lstm, H = self.encoder, self.encoder.hidden_size
        T, B = events.shape[1], events.shape[0]
        zeros = events.new_zeros(B, H, dtype=self.mu.weight.dtype)
        seq, finals = None, []
        for k in range(lstm.num_layers):
            outs, finals = [], []
            for suffix, reverse in (("", False), ("_reverse", True)):
                if k == 0:
                    w = getattr(lstm, "weight_ih_l0" + suffix)
                    b = getattr(lstm, "bias_ih_l0" + suffix) + getattr(lstm, "bias_hh_l0" + suffix)
                    x_proj = F.embedding(events.t(), w.t()) + b                  # [T, B, 4H]
                else:
                    x_proj = lstm_fused.project(seq, lstm, k, suffix)
                o, h, _ = lstm_fused.lstm_layer(x_proj, getattr(lstm, f"weight_hh_l{k}{suffix}"), zeros, zeros, reverse)
                outs.append(o)
                finals.append(h)
            seq = torch.cat(outs, dim=2)                                         # [T, B, 2H]
        final = torch.cat(finals, dim=1)
        return self.mu(final), F.softplus(self.sigma(final))

    @staticmethod
    def _stack_fused(lstm, x_proj0, h0, c0):
        """A unidirectional nn.LSTM stack through lstm_fused; layer 0's input projection is given."""
        x_proj = x_proj0
        for k in range(lstm.num_layers):
            out, _, _ = lstm_fused.lstm_layer(x_proj, getattr(lstm, f"weight_hh_l{k}"), h0[k], c0[k])
            if k + 1 < lstm.num_layers:
                x_proj = lstm_fused.project(out, lstm, k + 1)
        return out

    def decode_teacher_forced_fused(self, z, events):
        """decode_teacher_forced() for int events [B, 256]; the conductor's zero input leaves only its bias, and
        the core's first-layer product is a gather for the previous event plus one product per bar for the
        embedding (the same for the bar's 16 steps)."""
        B, s = z.shape[0], self.sizes
        h0, c0 = self._initial_state(self.cond_init(z), s["cond_layers"], s["cond_units"])
        cb = self.conductor.bias_ih_l0 + self.conductor.bias_hh_l0
        emb = self._stack_fused(self.conductor, cb.expand(BARS, B, -1), h0, c0)   # [BARS, B, cond_units]
        emb = emb.transpose(0, 1).reshape(B * BARS, s["cond_units"])             # bar-major within each sequence
        h0, c0 = self._initial_state(self.core_init(emb), s["core_layers"], s["core_units"])
        prev = torch.cat([events.new_zeros(B, 1), events[:, :-1] + 1], dim=1)   # 0 = nothing before bar 1
        prev = prev.reshape(B * BARS, STEPS_PER_BAR).t()                          # [16, B*BARS]
        w = self.core.weight_ih_l0                                                # [4H, CLASSES + cond_units]
        w_prev = torch.cat([w.new_zeros(w.shape[0], 1), w[:, :CLASSES]], dim=1).t()  # row 0: no previous event
        per_bar = torch.addmm(self.core.bias_ih_l0 + self.core.bias_hh_l0, emb, w[:, CLASSES:].t())
        x_proj = F.embedding(prev, w_prev) + per_bar                              # [16, B*BARS, 4H]
        out = self._stack_fused(self.core, x_proj, h0, c0)                        # [16, B*BARS, H]
        logits = self.proj(out.transpose(0, 1))                                   # [B*BARS, 16, CLASSES]
        return logits.reshape(B, SEQ_LEN, CLASSES)

    def forward(self, events, eps):
        if self.fused:
            mu, sigma = self.encode_fused(events.long())
            return self.decode_teacher_forced_fused(mu + sigma * eps, events.long()), mu, sigma
        onehot = F.one_hot(events.long(), CLASSES).to(self.mu.weight.dtype)
        mu, sigma = self.encode(onehot)
        z = mu + sigma * eps
        return self.decode_teacher_forced(z, onehot), mu, sigma


def losses(model, events, eps, step, hp):
    logits, mu, sigma = model(events, eps)
    target = events.long()
    ce = F.cross_entropy(logits.reshape(-1, CLASSES), target.reshape(-1), reduction="none").view(target.shape)
    r_loss = ce.sum(dim=1)
    kl = (0.5 * (mu * mu + sigma * sigma - 1.0) - torch.log(sigma)).sum(dim=1)
    kl_cost = torch.clamp(kl - hp["free_bits"] * math.log(2.0), min=0.0)
    beta = (1.0 - hp["beta_rate"] ** step) * hp["max_beta"]  # python: 0.0 ** 0 == 1.0, as tf.pow
    loss = r_loss.mean() + beta * kl_cost.mean()
    acc = (logits.argmax(dim=2) == target).float().mean()
    return loss, {"loss": loss.item(), "recon": r_loss.mean().item(), "kl": kl.mean().item(),
                  "kl_bits": kl.mean().item() / math.log(2.0), "beta": beta, "acc": acc.item()}


def learning_rate(step, hp):
    return (hp["learning_rate"] - hp["min_learning_rate"]) * hp["decay_rate"] ** step + hp["min_learning_rate"]


# ---------------------------------------------------------------- export

def _tf_lstm(w_ih, w_hh, b_ih, b_hh):
    u = w_hh.shape[1]
    order = np.concatenate([np.arange(k * u, (k + 1) * u) for k in TF_FROM_TORCH])
    kernel = np.concatenate([w_ih, w_hh], axis=1)[order].T
    bias = (b_ih + b_hh)[order].copy()
    bias[2 * u:3 * u] -= FORGET_BIAS  # TF's f block; LSTMBlockCell adds forget_bias at run time
    return np.ascontiguousarray(kernel), bias


def _lstm_layer(lstm, k, suffix=""):
    g = lambda n: getattr(lstm, f"{n}_l{k}{suffix}").detach().cpu().double().numpy()  # noqa: E731
    return _tf_lstm(g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"))


def _dense(lin):
    return lin.weight.detach().cpu().double().numpy().T.copy(), lin.bias.detach().cpu().double().numpy().copy()


def magenta_tensors(model):
    """The model's variables under Magenta's TF names and layouts, as float64 numpy arrays."""
    out = {}

    def put(name, pair):
        out[name + "/kernel"], out[name + "/bias"] = pair

    for k in range(model.encoder.num_layers):
        for d, suffix in (("fw", ""), ("bw", "_reverse")):
            put(f"encoder/cell_{k}/bidirectional_rnn/{d}/multi_rnn_cell/cell_0/lstm_cell", _lstm_layer(model.encoder, k, suffix))
    put("encoder/mu", _dense(model.mu))
    put("encoder/sigma", _dense(model.sigma))
    hl = "decoder/hierarchical_level_0"
    put(hl + "/initial_state", _dense(model.cond_init))
    for k in range(model.conductor.num_layers):
        put(f"{CONDUCTOR_STACK}/cell_{k}/lstm_cell", _lstm_layer(model.conductor, k))
    cd = "core_decoder/decoder"
    put(cd + "/z_to_initial_state", _dense(model.core_init))
    for k in range(model.core.num_layers):
        put(f"{CORE_STACK}/cell_{k}/lstm_cell", _lstm_layer(model.core, k))
    put(cd + "/output_projection", _dense(model.proj))
    return out


def _torch_lstm_from_tf(kernel, bias):
    """Inverse of _tf_lstm: TF LSTMBlockCell kernel [in + u, 4u] and bias (i, j, f, o) -> torch's
    W_ih [4u, in], W_hh [4u, u], b_ih (with forget_bias folded back in), b_hh = 0, gate blocks (i, f, g, o)."""
    u = kernel.shape[1] // 4
    back = np.concatenate([np.arange(k * u, (k + 1) * u) for k in TF_FROM_TORCH])  # the permutation is its own inverse
    bias = bias.astype(np.float64).copy()
    bias[2 * u:3 * u] += FORGET_BIAS
    w = kernel.astype(np.float64).T[back]
    return w[:, :kernel.shape[0] - u], w[:, kernel.shape[0] - u:], bias[back], np.zeros(4 * u)


def load_magenta_tensors(model, tensors, source="weights", decoder_only=False):
    """Sets every parameter of `model` from Magenta-named tensors (what export() writes, or an official
    hierdec-mel_16bar checkpoint converted by weights/): the exact inverse of magenta_tensors. Names or shapes
    that do not match the model's sizes raise SystemExit naming the tensor. decoder_only: only the decoder's
    (conductor, core, projection) parameters; the file's encoder is ignored and the model's is left as it is."""
    want = magenta_tensors(model)
    if decoder_only:
        want = {k: v for k, v in want.items() if not k.startswith("encoder/")}
    missing = sorted(set(want) - set(tensors))
    extra = sorted(k for k in set(tensors) - set(want) if not k.startswith("global_step") and not (decoder_only and k.startswith("encoder/")))
    if missing or extra:
        raise SystemExit(f"{source}: does not fit model {model.sizes}: missing {missing[:4]}, unexpected {extra[:4]}")
    for k, v in want.items():
        if tuple(tensors[k].shape) != v.shape:
            raise SystemExit(f"{source}: tensor {k} has shape {list(tensors[k].shape)}, the model wants {list(v.shape)}")
    t = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}

    def set_(param, value):
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(param.dtype))

    def set_lstm(lstm, k, suffix, name):
        w_ih, w_hh, b_ih, b_hh = _torch_lstm_from_tf(t[name + "/kernel"], t[name + "/bias"])
        for n, v in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            set_(getattr(lstm, f"{n}_l{k}{suffix}"), v)

    def set_dense(lin, name):
        set_(lin.weight, t[name + "/kernel"].T)
        set_(lin.bias, t[name + "/bias"])

    for k in range(0 if decoder_only else model.encoder.num_layers):
        for d, suffix in (("fw", ""), ("bw", "_reverse")):
            set_lstm(model.encoder, k, suffix, f"encoder/cell_{k}/bidirectional_rnn/{d}/multi_rnn_cell/cell_0/lstm_cell")
    if not decoder_only:
        set_dense(model.mu, "encoder/mu")
        set_dense(model.sigma, "encoder/sigma")
    set_dense(model.cond_init, "decoder/hierarchical_level_0/initial_state")
    for k in range(model.conductor.num_layers):
        set_lstm(model.conductor, k, "", f"{CONDUCTOR_STACK}/cell_{k}/lstm_cell")
    set_dense(model.core_init, "core_decoder/decoder/z_to_initial_state")
    for k in range(model.core.num_layers):
        set_lstm(model.core, k, "", f"{CORE_STACK}/cell_{k}/lstm_cell")
    set_dense(model.proj, "core_decoder/decoder/output_projection")


def sizes_from_tensors(tensors):
    """The SIZE_KEYS of a Magenta-named hierdec file, read from its shapes."""
    def count(cell):  # cell(k) -> the name of layer k's kernel
        k = 0
        while cell(k) in tensors:
            k += 1
        return k
    enc_layers = count(lambda k: f"encoder/cell_{k}/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel")
    return {"enc_units": tensors["encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/bias"].shape[0] // 4,
            "enc_layers": enc_layers,
            "cond_units": tensors[f"{CONDUCTOR_STACK}/cell_0/lstm_cell/bias"].shape[0] // 4,
            "cond_layers": count(lambda k: f"{CONDUCTOR_STACK}/cell_{k}/lstm_cell/kernel"),
            "core_units": tensors[f"{CORE_STACK}/cell_0/lstm_cell/bias"].shape[0] // 4,
            "core_layers": count(lambda k: f"{CORE_STACK}/cell_{k}/lstm_cell/kernel"),
            "z_size": tensors["encoder/mu/bias"].shape[0]}


def model_from_tensors(tensors, source="weights", dtype=torch.float32):
    """HierdecVAE of `dtype` sized by and holding Magenta-named tensors (sizes_from_tensors + load_magenta_tensors);
    the values are cast once, to `dtype`, so float64 keeps them exactly."""
    model = HierdecVAE(**sizes_from_tensors(tensors)).to(dtype)
    load_magenta_tensors(model, tensors, source)
    return model


def export(model, path, fp16, meta):
    tensors = magenta_tensors(model)
    dtype = np.float16 if fp16 else np.float32
    tensors = {k: v.astype(dtype) for k, v in tensors.items()}
    safetensors_io.save(path, tensors, meta)
    n = sum(v.size for v in tensors.values())
    print(f"exported {path}: {len(tensors)} variables, {n} parameters, {'float16' if fp16 else 'float32'}", flush=True)


# ---------------------------------------------------------------- numpy reference (self-test)

def numpy_reference(w, events):
    """Teacher-forced logits and mu, sigma from the exported tensors alone, in float64, by TF's
    LSTMBlockCell maths (helpers from tests/reference, written independently of this file's model)."""
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
    from gen_encoder_fixture import run_direction  # noqa: E402
    B = events.shape[0]
    x = np.zeros((SEQ_LEN, B, CLASSES))
    for b in range(B):
        x[np.arange(SEQ_LEN), b, events[b]] = 1.0
    seq, inp, k = x, CLASSES, 0
    while f"encoder/cell_{k}/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel" in w:
        outs, finals = [], []
        for d, rev in (("fw", False), ("bw", True)):
            cell = f"encoder/cell_{k}/bidirectional_rnn/{d}/multi_rnn_cell/cell_0/lstm_cell"
            kern = w[cell + "/kernel"]
            o, h = run_direction(seq @ kern[:inp] + w[cell + "/bias"], kern[inp:], rev)
            outs.append(o)
            finals.append(h)
        seq = np.concatenate(outs, axis=2)
        inp = seq.shape[2]
        k += 1
    final = np.concatenate(finals, axis=1)
    mu = final @ w["encoder/mu/kernel"] + w["encoder/mu/bias"]
    sigma = np.logaddexp(0.0, final @ w["encoder/sigma/kernel"] + w["encoder/sigma/bias"])
    return numpy_decoder_logits(w, mu, events), mu, sigma  # z = mu (eps = 0)


def numpy_decoder_logits(w, z, events):
    """Teacher-forced hierarchical decoder logits (B, 256, 90) for codes z from the Magenta-named tensors alone,
    in float64 by TF's LSTMBlockCell maths: the previous event of step 0 is zeros, of every other step
    events[step - 1] (each bar starts from the previous bar's last event)."""
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
    from gen_hierdec_fixture import lstm_block_step  # noqa: E402

    def stack(prefix):
        cells, k = [], 0
        while f"{prefix}/cell_{k}/lstm_cell/kernel" in w:
            cells.append((w[f"{prefix}/cell_{k}/lstm_cell/kernel"], w[f"{prefix}/cell_{k}/lstm_cell/bias"]))
            k += 1
        return cells

    def split_state(v, cells):
        u = [c[0].shape[1] // 4 for c in cells]
        off, st = 0, []
        for n in u:
            st.append([v[:, off:off + n], v[:, off + n:off + 2 * n]])
            off += 2 * n
        return st

    hl, cd = "decoder/hierarchical_level_0", "core_decoder/decoder"
    cond, core = stack(CONDUCTOR_STACK), stack(CORE_STACK)
    B = z.shape[0]
    cst = split_state(np.tanh(z @ w[hl + "/initial_state/kernel"] + w[hl + "/initial_state/bias"]), cond)
    logits = np.zeros((B, SEQ_LEN, CLASSES))
    prev = np.zeros((B, CLASSES))
    for bar in range(BARS):
        h = np.zeros((B, 1))
        for L, (kern, bias) in enumerate(cond):
            cst[L] = list(lstm_block_step(h, cst[L][0], cst[L][1], kern, bias))
            h = cst[L][1]
        emb = h
        kst = split_state(np.tanh(emb @ w[cd + "/z_to_initial_state/kernel"] + w[cd + "/z_to_initial_state/bias"]), core)
        for t in range(STEPS_PER_BAR):
            h = np.concatenate([prev, emb], axis=1)
            for L, (kern, bias) in enumerate(core):
                kst[L] = list(lstm_block_step(h, kst[L][0], kst[L][1], kern, bias))
                h = kst[L][1]
            step = bar * STEPS_PER_BAR + t
            logits[:, step] = h @ w[cd + "/output_projection/kernel"] + w[cd + "/output_projection/bias"]
            prev = np.zeros((B, CLASSES))
            prev[np.arange(B), events[:, step]] = 1.0  # teacher forcing
    return logits


def self_test():
    torch.manual_seed(1234)
    model = HierdecVAE(*PRESETS["tiny"]).double()
    with torch.no_grad():  # perturb every parameter (biases too) so each layout and gate order matters
        for p in model.parameters():
            p.add_(torch.empty_like(p).uniform_(-0.3, 0.3))
    rng = np.random.default_rng(7)
    events = np.where(rng.random((3, SEQ_LEN)) < 0.5, 0, rng.integers(1, CLASSES, size=(3, SEQ_LEN))).astype(np.int64)
    with torch.no_grad():
        ev = torch.from_numpy(events)
        logits, mu, sigma = model(ev, torch.zeros(3, model.sizes["z_size"], dtype=torch.float64))
    w = magenta_tensors(model)
    # The exported float32 tensors, read back from a file, drive the reference.
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.safetensors")
        safetensors_io.save(path, {k: v.astype(np.float32) for k, v in w.items()}, {"model": "music_vae"})
        w32, _ = safetensors_io.load(path)
    want = {"logits": logits.numpy(), "mu": mu.numpy(), "sigma": sigma.numpy()}
    ok = True
    for label, weights in (("float64 tensors", w), ("float32 file", {k: v.astype(np.float64) for k, v in w32.items()})):
        ref_logits, ref_mu, ref_sigma = numpy_reference(weights, events)
        for name, got in (("logits", ref_logits), ("mu", ref_mu), ("sigma", ref_sigma)):
            err = float(np.abs(got - want[name]).max())
            good = err <= 1e-4
            ok &= good
            print(f"self-test [{label}] {name}: max |torch - numpy TF reference| = {err:.3e} {'ok' if good else 'FAIL'}")
    # The names and shapes photong's C++ loaders read (music_vae_{encoder,hier,flat}.hpp), spelt out.
    e, z, c, u = 16, 8, 12, 10
    want_shapes = {"encoder/mu/kernel": [2 * e, z], "encoder/mu/bias": [z], "encoder/sigma/kernel": [2 * e, z], "encoder/sigma/bias": [z],
                   "decoder/hierarchical_level_0/initial_state/kernel": [z, 4 * c], "decoder/hierarchical_level_0/initial_state/bias": [4 * c],
                   "decoder/hierarchical_level_0/cell_0/lstm_cell/kernel": [1 + c, 4 * c],
                   "decoder/hierarchical_level_0/cell_1/lstm_cell/kernel": [2 * c, 4 * c],
                   "core_decoder/decoder/z_to_initial_state/kernel": [c, 4 * u], "core_decoder/decoder/z_to_initial_state/bias": [4 * u],
                   "core_decoder/decoder/multi_rnn_cell/cell_0/lstm_cell/kernel": [CLASSES + c + u, 4 * u],
                   "core_decoder/decoder/multi_rnn_cell/cell_1/lstm_cell/kernel": [2 * u, 4 * u],
                   "core_decoder/decoder/output_projection/kernel": [u, CLASSES], "core_decoder/decoder/output_projection/bias": [CLASSES]}
    for k in range(2):
        want_shapes[f"decoder/hierarchical_level_0/cell_{k}/lstm_cell/bias"] = [4 * c]
        want_shapes[f"core_decoder/decoder/multi_rnn_cell/cell_{k}/lstm_cell/bias"] = [4 * u]
        for d in ("fw", "bw"):
            cell = f"encoder/cell_{k}/bidirectional_rnn/{d}/multi_rnn_cell/cell_0/lstm_cell"
            want_shapes[cell + "/kernel"] = [(CLASSES if k == 0 else 2 * e) + e, 4 * e]
            want_shapes[cell + "/bias"] = [4 * e]
    # --init-from reads an export back: the inverse must rebuild every parameter exactly (float64 here).
    back = model_from_tensors(w, "self-test export", torch.float64)
    with torch.no_grad():  # torch splits the bias in two (b_ih + b_hh), so compare what the model computes
        outs_back = back(ev, torch.zeros(3, model.sizes["z_size"], dtype=torch.float64))
    err = max(float((a - b).abs().max()) for a, b in zip(outs_back, (logits, mu, sigma)))
    good = err < 1e-9 and sizes_from_tensors(w) == model.sizes
    ok &= good
    print(f"self-test: export read back by load_magenta_tensors: max |difference| {err:.3e} {'ok' if good else 'FAIL'}")
    got_shapes = {k: list(v.shape) for k, v in w.items()}
    good = got_shapes == want_shapes
    ok &= good
    print(f"self-test: {len(w)} variables, names and shapes as photong's loaders read them: {'ok' if good else 'FAIL'}")
    if not good:
        print("  missing/wrong:", {k: v for k, v in want_shapes.items() if got_shapes.get(k) != v},
              "extra:", sorted(set(got_shapes) - set(want_shapes)))
    # The fused CPU path (lstm_fused) must compute what the nn.LSTM path computes, gradients included.
    fused = HierdecVAE(*PRESETS["tiny"]).double()
    fused.load_state_dict(model.state_dict())
    fused.fused = True
    hp = default_hparams()
    eps = torch.randn(3, model.sizes["z_size"], dtype=torch.float64)
    grads = []
    for m_ in (model, fused):
        m_.zero_grad()
        loss, _ = losses(m_, ev, eps, 5, hp)
        loss.backward()
        grads.append([loss.detach()] + [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in m_.parameters()])
    err = max(float((a - b).abs().max()) for a, b in zip(*grads))
    good = err < 1e-9
    ok &= good
    print(f"self-test: fused LSTM path vs nn.LSTM path, loss and {len(grads[0]) - 1} parameter gradients: "
          f"max |difference| {err:.3e} {'ok' if good else 'FAIL'}")
    # The training loss at initialisation: the decoder must start near uniform and the step must run.
    model = HierdecVAE(*PRESETS["tiny"])
    hp = default_hparams()
    loss, m = losses(model, torch.from_numpy(events), torch.zeros(3, model.sizes["z_size"]), 0, hp)
    loss.backward()
    expect = SEQ_LEN * math.log(CLASSES)
    good = abs(m["recon"] - expect) < 0.05 * expect
    ok &= good
    print(f"self-test: initial recon {m['recon']:.2f} vs uniform {expect:.2f} {'ok' if good else 'FAIL'}")
    print("self-test:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


# ---------------------------------------------------------------- training

def blas_library():
    """The BLAS shared library this process has mapped (Linux), and whether it is the slow reference one.
    Debian's torch is built with BLAS_INFO=generic and uses whatever libblas.so.3 resolves to; netlib's
    reference BLAS makes training ~10x slower than OpenBLAS (see the usage notes)."""
    try:
        libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and ".so" in line})
    except OSError:
        return "unknown", False
    slow = bool(libs) and not any("openblas" in x or "mkl" in x or "blis" in x for x in libs)
    return ",".join(os.path.basename(os.path.dirname(x)) + "/" + os.path.basename(x) for x in libs) or "none", slow


TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"  # Debian libtcmalloc-minimal4


def reexec_with_fast_allocator(threads):
    """Re-runs this process with tcmalloc preloaded and OpenBLAS held to `threads` threads, when that is not so yet.
    Why: glibc returns the large per-step buffers (activations of [256, B, 4H]) to the kernel on every free, so
    every step page-faults them in again; with tcmalloc a `--preset cpu` batch-64 step went from 7.4 to 4.6 s here
    (weights/MELODY.md). OpenBLAS's pthread build ignores torch.set_num_threads and, with the other core busy, its
    second thread made small products 5x slower. PHOTONG_TRAIN_NO_REEXEC=1 turns this off."""
    if os.environ.get("PHOTONG_TRAIN_NO_REEXEC") == "1" or not os.path.exists(TCMALLOC):
        return
    env = dict(os.environ)
    want_threads = str(threads or 1)
    if "tcmalloc" in env.get("LD_PRELOAD", "") and env.get("OPENBLAS_NUM_THREADS") == want_threads:
        return
    others = [x for x in env.get("LD_PRELOAD", "").split(":") if x and "tcmalloc" not in x]
    env["LD_PRELOAD"] = ":".join(others + [TCMALLOC])
    env["OPENBLAS_NUM_THREADS"] = want_threads
    env["PHOTONG_TRAIN_NO_REEXEC"] = "1"
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def allocator_name():
    try:
        maps = open("/proc/self/maps").read()
    except OSError:
        return "unknown"
    return "tcmalloc" if "tcmalloc" in maps else "jemalloc" if "jemalloc" in maps else "system malloc"


def default_hparams():
    return {"free_bits": 256.0, "max_beta": 0.2, "beta_rate": 0.0, "learning_rate": 1e-3, "decay_rate": 0.9999,
            "min_learning_rate": 1e-5, "grad_clip": 1.0, "grad_norm_clip_to_zero": 10000.0}


def load_data(path):
    t, meta = safetensors_io.load(path)
    for k in ("train_events", "val_events"):
        if k in t:
            e = t[k]
            if e.ndim != 2 or e.shape[1] != SEQ_LEN or e.min() < 0 or e.max() >= CLASSES:
                raise SystemExit(f"{path}: {k} must be int [N, {SEQ_LEN}] of classes 0..{CLASSES - 1}, got {e.dtype} {e.shape}")
    if "train_events" not in t:
        raise SystemExit(f"{path}: no train_events")
    train = torch.from_numpy(t["train_events"].astype(np.int64))
    val = torch.from_numpy(t["val_events"].astype(np.int64)) if "val_events" in t and len(t["val_events"]) else None
    import hashlib
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    # The data file's own metadata (licences, sources, counts) travels with the weights; values too long
    # for a weights header (the per-song list) are replaced by their length.
    meta = {k: (v if len(v) <= 8000 else "(omitted: %d characters; see the data file)" % len(v)) for k, v in meta.items()}
    meta.update(train_sequences=str(len(train)), val_sequences=str(0 if val is None else len(val)), sha256=digest)
    if "train_song" in t:
        meta["train_songs_distinct"] = str(len(np.unique(t["train_song"])))
    if "val_song" in t:
        meta["val_songs_distinct"] = str(len(np.unique(t["val_song"])))
    return train, val, meta


def batch_indices(step, n, batch, seed):
    """Deterministic from (seed, step): epoch e uses permutation default_rng([seed, e]); last partial batch dropped."""
    per_epoch = n // batch
    if per_epoch == 0:
        raise SystemExit(f"batch size {batch} exceeds the {n} training sequences")
    epoch, pos = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return torch.from_numpy(perm[pos * batch:(pos + 1) * batch]), epoch


def step_eps(step, batch, z, seed):
    g = torch.Generator().manual_seed(seed * 1_000_003 + step + 1)
    return torch.randn(batch, z, generator=g)


def key_shift_range(keys):
    """The semitone shifts that --transpose-keys K draws from: K consecutive shifts around 0, -5..+6 for 12."""
    return -((keys - 1) // 2), keys // 2


def allowed_shifts(events, keys):
    """Per window [B, 256], the lowest and highest shift in key_shift_range(keys) that keeps every note-on inside
    MIDI 21..108 (classes 2..89)."""
    lo, hi = key_shift_range(keys)
    notes = events >= 2
    pmin = torch.where(notes, events, torch.full_like(events, CLASSES)).min(dim=1).values
    pmax = torch.where(notes, events, torch.full_like(events, -1)).max(dim=1).values
    return torch.clamp(2 - pmin, min=lo), torch.clamp(CLASSES - 1 - pmax, max=hi)


def transpose_batch(events, step, seed, keys):
    """Transposition augmentation, deterministic in (seed, step): each window moves by a shift drawn uniformly
    from those of allowed_shifts (0 included, so the original key is one of the K). Holds and note-offs stay."""
    if keys <= 1:
        return events
    lo, hi = allowed_shifts(events, keys)
    g = torch.Generator().manual_seed(seed * 7_919 + step + 17)
    u = torch.rand(len(events), generator=g, dtype=torch.float64)
    k = torch.minimum(lo + torch.floor(u * (hi - lo + 1).double()).long(), hi)
    return torch.where(events >= 2, events + k[:, None], events)


def transposed_window_count(events, keys):
    """How many distinct (window, shift) pairs the augmentation can draw: the training windows in all keys."""
    if keys <= 1:
        return len(events)
    lo, hi = allowed_shifts(events, keys)
    return int((hi - lo + 1).sum())


@torch.no_grad()
def evaluate(model, events, batch, max_batches, step, hp, seed):
    if events is None:
        return None
    model.eval()
    n = min(len(events), batch * max_batches)
    sums, count = {}, 0
    for i in range(0, n, batch):
        ev = events[i:min(i + batch, n)]
        g = torch.Generator().manual_seed(seed + 77 + i)
        dev = model.mu.weight.device
        _, m = losses(model, ev.to(dev), torch.randn(len(ev), model.sizes["z_size"], generator=g).to(dev), step, hp)
        for k, v in m.items():
            sums[k] = sums.get(k, 0.0) + v * len(ev)
        count += len(ev)
    model.train()
    return {k: v / count for k, v in sums.items()} | {"n": count}


def atomic_torch_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def build_metadata(args, sizes, hp, data_path, data_meta, state):
    meta = {"model": "music_vae", "format_version": "1", "architecture": "hierdec-mel_16bar",
            "source": "trained by tools/train_hierdec.py (PyTorch %s)" % torch.__version__,
            "data_converter": "OneHotMelodyConverter",
            "converter_minPitch": str(MIN_PITCH), "converter_maxPitch": str(MAX_PITCH), "converter_numSteps": str(SEQ_LEN),
            "bars": str(BARS), "steps_per_bar": str(STEPS_PER_BAR), "classes": str(CLASSES),
            "has_encoder_lstm": "true", "has_decoder": "true", "preset": args.preset or "custom",
            "license": "inherits the licences of its training data: see data metadata (data_*)",
            "data_file": os.path.basename(data_path) if data_path else "",
            "steps_trained": str(state["step"]), "batch_size": str(args.batch_size), "seed": str(args.seed),
            "training_seconds": "%.1f" % state["train_seconds"], "device": state.get("device", "cpu"),
            "exported_dtype": "float16" if args.fp16 else "float32"}
    if state.get("init_from"):
        meta["initialised_from"] = state["init_from"]
    if args.sampling_temperature is not None:
        if not (0 < args.sampling_temperature <= 10):
            raise SystemExit("--sampling-temperature must be in (0, 10]")
        meta["sampling_temperature"] = repr(args.sampling_temperature)
    if args.sampling_top_k is not None:
        if not (0 <= args.sampling_top_k <= 100000):
            raise SystemExit("--sampling-top-k must be in 0..100000")
        meta["sampling_top_k"] = str(args.sampling_top_k)
    if args.sampling_top_p is not None:
        if not (0 < args.sampling_top_p <= 1):
            raise SystemExit("--sampling-top-p must be in (0, 1]")
        meta["sampling_top_p"] = repr(args.sampling_top_p)
    if args.song_form is not None:
        import hierdec_decode
        hierdec_decode.form_sources(args.song_form, BARS)  # raises on a malformed form or one that does not divide 16 bars
        meta["song_form"] = args.song_form
    meta.update({k: str(v) for k, v in sizes.items()})
    meta.update({"hparam_" + k: repr(v) for k, v in hp.items()})
    for k, v in (data_meta or {}).items():
        meta.setdefault("data_" + k, v)  # never over the converter keys above
    for split in ("train", "val"):
        m = state.get("final_" + split)
        if m:
            meta["final_%s_metrics" % split] = json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in m.items()})
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true", help="check the export against a numpy TF reference and exit")
    ap.add_argument("--data", default="build/melody-data/mel16.safetensors")
    ap.add_argument("--out-dir", default=None)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small")
    for k in SIZE_KEYS:
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=None, help="override the preset's " + k)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-steps", type=int, default=100000, help="total steps to reach (a resumed run counts earlier ones)")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (and checkpoint) after this much wall time")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="torch device (cpu, cuda); checkpoints are device-independent")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    ap.add_argument("--init-from", default=None, metavar="WEIGHTS.safetensors",
                    help="start from exported Magenta-named weights (e.g. the shipped weights/hierdec_mel16_photong."
                         "safetensors): sizes from the file, the step count (and so the lr and beta schedules) from its "
                         "steps_trained metadata, fresh Adam moments; for continuing a model whose checkpoint is gone")
    ap.add_argument("--transpose-keys", type=int, default=12, metavar="K",
                    help="transposition augmentation: each training window is moved by a random shift among K "
                         "consecutive ones around 0 (-5..+6 for 12: all keys) that keep its notes in MIDI 21..108; "
                         "1 = none (what magenta's mel_16bar training did)")
    ap.add_argument("--lstm", choices=("fused", "nn"), default=None,
                    help="LSTM implementation for training: fused (tools/lstm_fused.py, default on the CPU) or "
                         "torch.nn.LSTM (default on CUDA, where cuDNN runs it)")
    ap.add_argument("--init-decoder-from", default=None, metavar="WEIGHTS.safetensors",
                    help="start the decoder from exported weights (its sizes must be the preset's) and the encoder afresh "
                         "at the preset's sizes (e.g. a smaller encoder); the step count and schedules go on from the file")
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--val-batches", type=int, default=8, help="evaluate on the first N batches of val_events")
    ap.add_argument("--export", default=None, help="write Magenta-named safetensors here at the end")
    ap.add_argument("--export-only", action="store_true", help="load OUT_DIR/checkpoint.pt and export, no training")
    ap.add_argument("--fp16", action="store_true", help="export float16 tensors")
    ap.add_argument("--sampling-temperature", type=float, default=None,
                    help="record the temperature this model should be sampled at (metadata sampling_temperature, read by "
                         "photong's recommended_temperature when the user names none); e.g. the one whose prior samples' "
                         "note-ons per bar come closest to the data's (tools/eval_hierdec.py prints both)")
    ap.add_argument("--sampling-top-k", type=int, default=None, help="record sampling_top_k (photong's default top-k for this model)")
    ap.add_argument("--sampling-top-p", type=float, default=None, help="record sampling_top_p (the default nucleus)")
    ap.add_argument("--song-form", default=None, help="record song_form (the default form: AABA, ABAB!, none, ...; "
                    "tools/eval_hierdec.py --sweep-forms compares them)")
    hp0 = default_hparams()
    for k, v in hp0.items():
        ap.add_argument("--" + k.replace("_", "-"), type=float, default=v, help=f"magenta hparam (default {v})")
    args = ap.parse_args(argv)

    if args.self_test:
        return self_test()
    if not args.out_dir:
        ap.error("--out-dir is required")
    if not args.export_only and args.device == "cpu":
        reexec_with_fast_allocator(args.threads)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    ckpt_path = os.path.join(args.out_dir, "checkpoint.pt")

    sizes = dict(zip(SIZE_KEYS, PRESETS[args.preset]))
    for k in SIZE_KEYS:
        if getattr(args, k) is not None and getattr(args, k) != sizes[k]:
            sizes[k] = getattr(args, k)
            args.preset = args.preset.split("+")[0] + "+overrides"
    hp = {k: getattr(args, k) for k in hp0}
    state = {"step": 0, "train_seconds": 0.0}
    ckpt = None
    if args.resume or args.export_only:
        if not os.path.exists(ckpt_path):
            raise SystemExit(f"no checkpoint at {ckpt_path}")
        ckpt = torch.load(ckpt_path, map_location="cpu")
        sizes, hp = ckpt["sizes"], ckpt["hparams"]
        args.seed, args.batch_size = ckpt["seed"], ckpt["batch_size"]
        args.transpose_keys = ckpt.get("transpose_keys", args.transpose_keys)
        args.preset = ckpt.get("preset", args.preset)
        state.update(ckpt["state"])
        if not args.export_only and ckpt["data"] != os.path.abspath(args.data):
            print(f"warning: resuming on {args.data}, checkpoint trained on {ckpt['data']}", flush=True)
    init_tensors = None
    if args.init_from:
        if ckpt:
            ap.error("--init-from and --resume/--export-only exclude each other")
        init_tensors, init_meta = safetensors_io.load(args.init_from)
        sizes = sizes_from_tensors(init_tensors)
        args.preset = init_meta.get("preset", "custom")
        state["step"] = int(init_meta.get("steps_trained", "0"))
        state["train_seconds"] = float(init_meta.get("training_seconds", "0"))
        state["init_from"] = "%s (step %d)" % (os.path.basename(args.init_from), state["step"])
    if args.init_decoder_from:
        if ckpt or args.init_from:
            ap.error("--init-decoder-from excludes --init-from, --resume and --export-only")
        init_tensors, init_meta = safetensors_io.load(args.init_decoder_from)
        state["step"] = int(init_meta.get("steps_trained", "0"))
        state["train_seconds"] = float(init_meta.get("training_seconds", "0"))
        state["init_from"] = "decoder of %s (step %d), encoder afresh" % (os.path.basename(args.init_decoder_from), state["step"])
    torch.manual_seed(args.seed)
    model = HierdecVAE(**sizes)
    if init_tensors is not None:
        load_magenta_tensors(model, init_tensors, args.init_from or args.init_decoder_from, decoder_only=bool(args.init_decoder_from))
        print(f"init from {state['init_from']}: {sizes}, continuing at step {state['step']}", flush=True)
    device = torch.device(args.device)
    if ckpt:
        model.load_state_dict(ckpt["model"])
    model.to(device)
    model.fused = (args.lstm or ("fused" if device.type == "cpu" else "nn")) == "fused"
    # Adam's defaults (betas 0.9, 0.999, eps 1e-8) are TF's; TF applies eps to the bias-uncorrected
    # sqrt(v) (its "epsilon hat"), a negligible difference.
    opt = torch.optim.Adam(model.parameters(), lr=hp["learning_rate"])
    if ckpt:
        opt.load_state_dict(ckpt["optimizer"])  # moves the moments to the parameters' device
        torch.set_rng_state(ckpt["torch_rng"])
        np.random.set_state(ckpt["numpy_rng"])
    nparams = sum(p.numel() for p in model.parameters())

    data_path = args.data if not args.export_only else (ckpt or {}).get("data", args.data)
    data_meta, val = ckpt.get("data_meta", {}) if ckpt else {}, None
    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS library is loaded before looking for it
    blas, slow_blas = blas_library()
    if slow_blas and not args.export_only and device.type == "cpu":
        print(f"warning: torch is using the reference BLAS ({blas}); OpenBLAS is ~10-20x faster here: install "
              "libopenblas0-pthread, or run with LD_LIBRARY_PATH=<dir holding openblas' libblas.so.3> "
              "OPENBLAS_NUM_THREADS=<threads>", flush=True)
    if not args.export_only:
        train, val, data_meta = load_data(args.data)
        data_meta["transpose_keys"] = str(args.transpose_keys)
        data_meta["train_windows_all_keys"] = str(transposed_window_count(train, args.transpose_keys))
        print(f"transposition: {args.transpose_keys} keys (shifts {key_shift_range(args.transpose_keys)}), "
              f"{data_meta['train_windows_all_keys']} (window, key) pairs from {len(train)} windows", flush=True)
        print(f"data {args.data}: {len(train)} train, {0 if val is None else len(val)} val sequences; model {sizes}, "
              f"{nparams} parameters; threads {torch.get_num_threads()}; device {device}; BLAS {blas}; "
              f"allocator {allocator_name()}; LSTM {'fused' if model.fused else 'nn'}", flush=True)

    def save_checkpoint():
        state["device"] = str(device) if device.type == "cpu" else "%s (%s)" % (device, torch.cuda.get_device_name(device))
        atomic_torch_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "sizes": sizes, "hparams": hp,
                           "seed": args.seed, "batch_size": args.batch_size, "state": state, "preset": args.preset,
                           "transpose_keys": args.transpose_keys,
                           "data": os.path.abspath(data_path), "data_meta": data_meta,
                           "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state()}, ckpt_path)

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True
        print(f"signal {signum}: checkpointing after this step", flush=True)

    if not args.export_only:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log_path = os.path.join(args.out_dir, "log.csv")
        fields = ["split", "step", "loss", "recon", "kl", "kl_bits", "beta", "lr", "acc", "grad_norm", "steps_per_s", "train_seconds"]
        new_log = not os.path.exists(log_path)
        log_file = open(log_path, "a", newline="")
        log = csv.DictWriter(log_file, fieldnames=fields, extrasaction="ignore")
        if new_log:
            log.writeheader()
        start = time.time()
        base_seconds = state["train_seconds"]
        window, wstart, wsteps = {}, time.time(), 0
        model.train()
        while state["step"] < args.max_steps and not stop["flag"]:
            if args.max_minutes is not None and time.time() - start >= 60 * args.max_minutes:
                print("time limit reached", flush=True)
                break
            step = state["step"]
            idx, epoch = batch_indices(step, len(train), args.batch_size, args.seed)
            events = transpose_batch(train[idx], step, args.seed, args.transpose_keys).to(device)
            eps = step_eps(step, len(events), sizes["z_size"], args.seed).to(device)
            lr = learning_rate(step, hp)
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=False)
            loss, m = losses(model, events, eps, step, hp)
            loss.backward()
            grads = [p.grad for p in model.parameters() if p.grad is not None]  # the conductor's W_ih has none when fused (zero input)
            gnorm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
            with torch.no_grad():
                if not math.isfinite(gnorm) or gnorm >= hp["grad_norm_clip_to_zero"]:
                    for g in grads:
                        g.zero_()
                elif gnorm > hp["grad_clip"]:
                    for g in grads:
                        g.mul_(hp["grad_clip"] / gnorm)  # tf.clip_by_global_norm
            opt.step()
            state["step"] = step + 1
            state["train_seconds"] = base_seconds + time.time() - start
            m.update(lr=lr, grad_norm=gnorm)
            for k, v in m.items():
                window[k] = window.get(k, 0.0) + v
            wsteps += 1
            if state["step"] % args.log_every == 0 or state["step"] == args.max_steps:
                avg = {k: v / wsteps for k, v in window.items()}
                avg.update(split="train", step=state["step"], steps_per_s=wsteps / (time.time() - wstart),
                           train_seconds=state["train_seconds"])
                state["final_train"] = {k: avg[k] for k in ("loss", "recon", "kl_bits", "acc")} | {"step": state["step"]}
                print("step %d epoch %d loss %.3f recon %.3f kl %.2f bits beta %.3f lr %.2e acc %.4f |g| %.2f  %.3f steps/s"
                      % (state["step"], epoch, avg["loss"], avg["recon"], avg["kl_bits"], avg["beta"], avg["lr"], avg["acc"],
                         avg["grad_norm"], avg["steps_per_s"]), flush=True)
                log.writerow(avg)
                log_file.flush()
                window, wstart, wsteps = {}, time.time(), 0
            if state["step"] % args.eval_every == 0 and val is not None:
                vm = evaluate(model, val, args.batch_size, args.val_batches, state["step"], hp, args.seed)
                state["final_val"] = {k: vm[k] for k in ("loss", "recon", "kl_bits", "acc", "n")} | {"step": state["step"]}
                print("val step %d loss %.3f recon %.3f kl %.2f bits acc %.4f (%d seqs)"
                      % (state["step"], vm["loss"], vm["recon"], vm["kl_bits"], vm["acc"], vm["n"]), flush=True)
                log.writerow(vm | {"split": "val", "step": state["step"]})
                log_file.flush()
            if state["step"] % args.checkpoint_every == 0:
                save_checkpoint()
        if val is not None and (state.get("final_val") or {}).get("step") != state["step"]:
            vm = evaluate(model, val, args.batch_size, args.val_batches, state["step"], hp, args.seed)
            state["final_val"] = {k: vm[k] for k in ("loss", "recon", "kl_bits", "acc", "n")} | {"step": state["step"]}
            print("val step %d loss %.3f recon %.3f kl %.2f bits acc %.4f (%d seqs)"
                  % (state["step"], vm["loss"], vm["recon"], vm["kl_bits"], vm["acc"], vm["n"]), flush=True)
            log.writerow(vm | {"split": "val", "step": state["step"]})
        log_file.close()
        save_checkpoint()
        print(f"checkpoint {ckpt_path} at step {state['step']} ({state['train_seconds']:.1f} s trained)", flush=True)
    if args.export:
        meta = build_metadata(args, sizes, hp, data_path, data_meta, state)
        meta["threads"] = str(torch.get_num_threads())
        meta["blas"] = blas
        export(model, args.export, args.fp16, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
