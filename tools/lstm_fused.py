#!/usr/bin/python3
"""An LSTM layer for CPU training with a hand-written backward pass (back-propagation through time).

usage: lstm_fused.py --self-test      (values and gradients against torch.nn.LSTM in float64)

Why: PyTorch 1.13's CPU nn.LSTM records every time step's cell as separate autograd nodes. Profiling one
`--preset cpu` training step of tools/train_hierdec.py (batch 64, one thread) put ~40 % of the time in aten::cat
and aten::copy_ (gate chunks and per-step slices being stitched back together in backward) and only ~45 % in the
matrix products. Here a whole layer is one autograd node:

  forward   one input product for all steps is done by the caller (x_proj, so a one-hot input can be a row
            gather and a per-bar input can be computed once per bar); then per step one [B, H] x [H, 4H] product
            and the gate arithmetic, keeping the gate activations and cell states;
  backward  per step the gate gradients and one [B, 4H] x [4H, H] product for the hidden-state gradient; the
            recurrent weight gradient is ONE product over all steps at the end.

The maths is nn.LSTM's (gate blocks i, f, g, o in W_ih/W_hh rows, c' = f c + i g, h' = o tanh(c')), and the
parameters stay in the nn.LSTM modules, so export, load and checkpoints do not change.
"""
import sys

import torch


class _LstmLayer(torch.autograd.Function):
    """x_proj [T, B, 4H] (= x W_ih^T + b_ih + b_hh), w_hh [4H, H], h0/c0 [B, H] -> out [T, B, H], h_T, c_T.
    `reverse` runs the steps from T-1 down to 0 (the backward direction of a bidirectional layer); out[t] is
    always the output at input position t."""

    @staticmethod
    def forward(ctx, x_proj, w_hh, h0, c0, reverse):
        T, B, G = x_proj.shape
        H = G // 4
        acts = torch.empty_like(x_proj)                       # [T, B, 4H] i, f, g, o after their nonlinearity
        cells = x_proj.new_empty(T, B, H)                     # [T, B, H] c_t
        out = x_proj.new_empty(T, B, H)                       # [T, B, H] h_t
        w_t = w_hh.t()
        h, c = h0, c0
        order = range(T - 1, -1, -1) if reverse else range(T)
        for t in order:
            a = acts[t]
            torch.addmm(x_proj[t], h, w_t, out=a)
            a[:, :2 * H].sigmoid_()
            a[:, 2 * H:3 * H].tanh_()
            a[:, 3 * H:].sigmoid_()
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c = torch.addcmul(f * c, i, g, out=cells[t])
            h = torch.mul(o, torch.tanh(c), out=out[t])
        ctx.save_for_backward(acts, cells, out, w_hh, h0, c0)
        ctx.reverse = reverse
        return out, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, d_out, d_hT, d_cT):
        acts, cells, out, w_hh, h0, c0 = ctx.saved_tensors
        reverse = ctx.reverse
        T, B, G = acts.shape
        H = G // 4
        d_gates = torch.empty_like(acts)                      # [T, B, 4H] gradients of the pre-activations
        dh = d_hT.clone() if d_hT is not None else h0.new_zeros(B, H)
        dc = d_cT.clone() if d_cT is not None else c0.new_zeros(B, H)
        order = range(T) if reverse else range(T - 1, -1, -1)
        prev_of = (lambda t: t + 1) if reverse else (lambda t: t - 1)
        for t in order:
            if d_out is not None:
                dh = dh + d_out[t]
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tc = torch.tanh(cells[t])
            p = prev_of(t)
            c_prev = c0 if p < 0 or p >= T else cells[p]
            dg_all = d_gates[t]
            torch.mul(dh, tc, out=dg_all[:, 3 * H:])                               # d o
            dc = dc + dh * o * (1.0 - tc * tc)
            torch.mul(dc, g, out=dg_all[:, :H])                                    # d i
            torch.mul(dc, c_prev, out=dg_all[:, H:2 * H])                          # d f
            torch.mul(dc, i, out=dg_all[:, 2 * H:3 * H])                           # d g
            dc = dc * f
            # through the nonlinearities: sigmoid' = s (1 - s) for i, f, o; tanh' = 1 - g^2 for g
            s_if = a[:, :2 * H]
            dg_all[:, :2 * H].mul_(s_if * (1.0 - s_if))
            dg_all[:, 3 * H:].mul_(o * (1.0 - o))
            dg_all[:, 2 * H:3 * H].mul_(1.0 - g * g)
            dh = dg_all @ w_hh                                                     # [B, 4H] x [4H, H]
        # h_{t-1} for every step, in the order of the recurrence
        if reverse:
            h_prev = torch.cat([out[1:], h0.unsqueeze(0)], dim=0)
        else:
            h_prev = torch.cat([h0.unsqueeze(0), out[:-1]], dim=0)
        d_w_hh = d_gates.reshape(T * B, G).t() @ h_prev.reshape(T * B, H)          # [4H, H], one product
        return d_gates, d_w_hh, dh, dc, None


def lstm_layer(x_proj, w_hh, h0, c0, reverse=False):
    """One LSTM layer over precomputed input projections; see _LstmLayer. Returns (out [T, B, H], h_T, c_T)."""
    return _LstmLayer.apply(x_proj, w_hh, h0, c0, reverse)


def project(x, lstm, k, suffix=""):
    """x [T, B, in] -> x W_ih^T + b_ih + b_hh for layer k of nn.LSTM `lstm` (suffix "_reverse" for its bw)."""
    w = getattr(lstm, f"weight_ih_l{k}{suffix}")
    b = getattr(lstm, f"bias_ih_l{k}{suffix}") + getattr(lstm, f"bias_hh_l{k}{suffix}")
    return torch.addmm(b, x.reshape(-1, x.shape[-1]), w.t()).view(x.shape[0], x.shape[1], -1)


def self_test():
    """Forward values and all gradients of stacked uni- and bidirectional layers built from lstm_layer against
    torch.nn.LSTM (an independent implementation) in float64, with a random upstream gradient on every output."""
    torch.manual_seed(3)
    ok = True
    for bidirectional in (False, True):
        T, B, I, H, L = 7, 3, 5, 4, 2
        ref = torch.nn.LSTM(I, H, num_layers=L, bidirectional=bidirectional).double()
        with torch.no_grad():
            for p in ref.parameters():
                p.uniform_(-0.8, 0.8)
        D = 2 if bidirectional else 1
        x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
        h0 = torch.randn(L * D, B, H, dtype=torch.float64, requires_grad=True)
        c0 = torch.randn(L * D, B, H, dtype=torch.float64, requires_grad=True)
        w_out = torch.randn(T, B, D * H, dtype=torch.float64)
        w_h = torch.randn(L * D, B, H, dtype=torch.float64)
        w_c = torch.randn(L * D, B, H, dtype=torch.float64)

        def loss_of(out, hn, cn):
            return (out * w_out).sum() + (hn * w_h).sum() + (cn * w_c).sum()

        out, (hn, cn) = ref(x, (h0, c0))
        loss = loss_of(out, hn, cn)
        want = [out.detach(), hn.detach(), cn.detach()] + list(torch.autograd.grad(loss, [x, h0, c0] + list(ref.parameters())))

        seq, hs, cs = x, [], []
        for k in range(L):
            outs = []
            for d, suffix in enumerate(["", "_reverse"][:D]):
                o, h, c = lstm_layer(project(seq, ref, k, suffix), getattr(ref, f"weight_hh_l{k}{suffix}"),
                                     h0[k * D + d], c0[k * D + d], reverse=bool(d))
                outs.append(o)
                hs.append(h)
                cs.append(c)
            seq = torch.cat(outs, dim=2)
        hn2, cn2 = torch.stack(hs), torch.stack(cs)
        loss2 = loss_of(seq, hn2, cn2)
        got = [seq.detach(), hn2.detach(), cn2.detach()] + list(torch.autograd.grad(loss2, [x, h0, c0] + list(ref.parameters())))
        names = ["out", "h_n", "c_n", "d x", "d h0", "d c0"] + ["d " + n for n, _ in ref.named_parameters()]
        worst = max(float((a - b).abs().max()) for a, b in zip(got, want))
        bad = [n for n, a, b in zip(names, got, want) if float((a - b).abs().max()) > 1e-10]
        good = not bad
        ok &= good
        print(f"self-test lstm_fused ({'bidirectional' if bidirectional else 'unidirectional'}, {L} layers): "
              f"{len(names)} values/gradients vs torch.nn.LSTM, max |difference| {worst:.2e} "
              f"{'ok' if good else 'FAIL ' + ', '.join(bad)}")
    print("self-test:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    print(__doc__)
    sys.exit(2)
