// photong/nn/lstm.hpp — LSTM layers with TensorFlow LSTMBlockCell semantics (MusicVAE's cell).
//
// Weights as TF stores them: kernel (input + units, 4 * units) multiplying [x, h_prev], bias
// (4 * units), gate columns in the order i (input), j (candidate), f (forget), o (output); the
// forget bias (1.0 in TF and MusicVAE) is added at run time, not stored. One step:
//   [i j f o] = [x, h] . kernel + bias
//   c = sigmoid(f + forget_bias) * c + sigmoid(i) * tanh(j),   h = sigmoid(o) * tanh(c)
// No peepholes, no cell clipping (LSTMBlockCell's defaults, as magenta builds it).
//
// The kernel is packed once for gemm(); its input rows (W_x) and recurrent rows (W_h) are applied
// as separate row ranges of it, so over a sequence the input half is one product for all steps
// (frugally-deep's habit) and only h . W_h runs per step, and a decoder can apply the part of its
// input that is fixed for many steps once, and a one-hot part as a row gather. Every call takes a batch. lstm_step_reference is the plain
// definition in double that the fast path is tested against (PyTorch's i, f, g, o order and
// ONNX's i, o, f, c order are converted to this one by the fixture generator).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/tensor.hpp"
#include "photong/nn/gemm.hpp"

namespace photong {

class LstmCell {
public:
    LstmCell() = default;
    /// kernel: (input_size + units, 4 * units); bias: (4 * units).
    LstmCell(const Tensor& kernel, const Tensor& bias, std::int64_t input_size, float forget_bias = 1.0f, std::string name = "lstm")
        : in_(input_size), forget_bias_(forget_bias), name_(std::move(name)) {
        require(kernel.rank() == 2 && kernel.dim(1) % 4 == 0, "LSTM kernel must be (input + units, 4 * units)",
                {"", name_, "rank 2, columns a multiple of 4", shape_to_string(kernel.shape())});
        units_ = kernel.dim(1) / 4;
        require(in_ > 0 && kernel.dim(0) == in_ + units_, "LSTM kernel rows must be input size + units",
                {"", name_, std::to_string(in_ + units_) + " x " + std::to_string(4 * units_), shape_to_string(kernel.shape())});
        require(bias.rank() == 1 && bias.dim(0) == 4 * units_, "LSTM bias must have 4 * units values",
                {"", name_, std::to_string(4 * units_), shape_to_string(bias.shape())});
        w_ = PackedMatrix(kernel.data(), in_ + units_, 4 * units_);
        bias_ = bias.values();
        bias_.resize(std::size_t(w_.panels() * PackedMatrix::kPanel), 0.0f);
    }

    std::int64_t input_size() const { return in_; }
    std::int64_t units() const { return units_; }
    const std::string& name() const { return name_; }
    /// Bytes of weights one step streams (what bounds a batch-1 step on a CPU).
    std::int64_t weight_bytes() const { return (in_ + units_) * 4 * units_ * std::int64_t(sizeof(float)); }

    /// Runs the matrix products of this cell on `pool` (split by output columns; results are
    /// bit-identical for any pool size). Without a pool everything runs on the calling thread.
    void use_thread_pool(ThreadPool* pool) { pool_ = pool; }

    /// Input half of the gates for `rows` inputs at once: gates (rows, 4u) = x (rows, input) . W_x + bias.
    void input_gates(const float* x, std::int64_t rows, float* gates) const {
        partial_input_gates(x, in_, rows, 0, in_, true, false, gates);
    }

    /// gates (+)= x[:, 0 : end-begin) . W_x[begin : end) (+ bias): the share of input columns
    /// [begin, end) only, with row r of x at x + r * ldx. Lets a caller apply the part of the
    /// input that stays fixed over many steps once (a decoder's latent code) and the rest per step.
    void partial_input_gates(const float* x, std::int64_t ldx, std::int64_t rows, std::int64_t begin, std::int64_t end, bool add_bias,
                             bool accumulate, float* gates) const {
        // Runs once per decode step: the lazy require() builds its strings only on failure.
        require(0 <= begin && begin < end && end <= in_, "LSTM input column range outside the input", [&] {
            return ErrorContext{"", name_, "0 <= begin < end <= " + std::to_string(in_), std::to_string(begin) + ".." + std::to_string(end)};
        });
        for_row_chunks(x, ldx, rows, [&](const IndirectRows& a, std::int64_t m, std::int64_t r0) {
            product(a, m, begin, end, add_bias, accumulate, gates + r0 * 4 * units_);
        });
    }

    /// Input gates of one-hot inputs, as gathers: gates row r (4u) = bias + row hot[r] of W_x, or
    /// the bias alone where hot[r] is -1 (an all-zero input).
    void one_hot_input_gates(const int* hot, std::int64_t rows, float* gates) const {
        for (std::int64_t r = 0; r < rows; ++r) {
            float* g = gates + r * 4 * units_;
            std::copy_n(bias_.data(), 4 * units_, g);
            if (hot[r] != -1) add_input_row(hot[r], g);
        }
    }

    /// gates_row (4u) += row `input_index` of W_x: the product of a one-hot input with the kernel.
    void add_input_row(std::int64_t input_index, float* gates_row) const {
        require(0 <= input_index && input_index < in_, "one-hot index outside the LSTM input",
                [&] { return ErrorContext{"", name_, "0.." + std::to_string(in_ - 1), std::to_string(input_index)}; });
        w_.add_row(input_index, gates_row);
    }

    /// One step for a batch, given its input gates (batch, 4u) from input_gates(); `gates` is
    /// used as scratch. c and h (batch, units) are read and updated in place.
    void step_from_gates(float* gates, std::int64_t batch, float* c, float* h) const {
        // gates += h . W_h (the input half and the bias are already in `gates`).
        for_row_chunks(h, units_, batch, [&](const IndirectRows& a, std::int64_t m, std::int64_t r0) {
            product(a, m, in_, in_ + units_, false, true, gates + r0 * 4 * units_);
        });
        // The nonlinearities through Eigen's vectorised logistic and tanh: with std::exp and
        // std::tanh per value they cost as much as the product itself at batch 8.
        using Array = Eigen::Map<Eigen::ArrayXf>;
        using ConstArray = Eigen::Map<const Eigen::ArrayXf>;
        const std::int64_t u = units_;
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* g = gates + b * 4 * u;
            Array cb(c + b * u, u), hb(h + b * u, u);
            cb = (ConstArray(g + 2 * u, u) + forget_bias_).logistic() * cb + ConstArray(g, u).logistic() * ConstArray(g + u, u).tanh();
            hb = ConstArray(g + 3 * u, u).logistic() * cb.tanh();
        }
    }

    /// One step for a batch: x (batch, input); c, h (batch, units) updated in place; `gates`
    /// (batch, 4u) is scratch, so a decoding loop allocates nothing per step.
    void step(const float* x, std::int64_t batch, float* c, float* h, float* gates) const {
        input_gates(x, batch, gates);
        step_from_gates(gates, batch, c, h);
    }

    /// As above, allocating its own scratch.
    void step(const float* x, std::int64_t batch, float* c, float* h) const {
        std::vector<float> gates(static_cast<std::size_t>(batch * 4 * units_));
        step(x, batch, c, h, gates.data());
    }

    /// A whole sequence: x (steps, batch, input) -> h at every step (steps, batch, units); c and h
    /// (batch, units) hold the initial state on entry and the final state on return. `reverse`
    /// runs from the last step to the first (the backward half of a bidirectional layer); the
    /// outputs stay aligned with the inputs.
    Tensor run(const Tensor& x, Tensor& c, Tensor& h, bool reverse = false) const {
        require(x.rank() == 3 && x.dim(2) == in_, "LSTM input must be (steps, batch, input)",
                {"", name_, "steps x batch x " + std::to_string(in_), shape_to_string(x.shape())});
        const std::int64_t T = x.dim(0), B = x.dim(1);
        const std::vector<std::int64_t> state{B, units_};
        require(c.shape() == state && h.shape() == state, "LSTM state must be (batch, units)",
                {"", name_, shape_to_string(state), shape_to_string(c.shape()) + " and " + shape_to_string(h.shape())});
        Tensor gates({T, B, 4 * units_});
        input_gates(x.data(), T * B, gates.data());  // one product for every step
        return run_from_gates(gates, c, h, reverse);
    }

    /// The recurrent half of run(): `gates` (steps, batch, 4u) already holds each step's input
    /// gates (from input_gates(), or gathered kernel rows for one-hot inputs) and is overwritten.
    Tensor run_from_gates(Tensor& gates, Tensor& c, Tensor& h, bool reverse = false) const {
        require(gates.rank() == 3 && gates.dim(2) == 4 * units_, "LSTM gates must be (steps, batch, 4 * units)",
                {"", name_, "steps x batch x " + std::to_string(4 * units_), shape_to_string(gates.shape())});
        const std::int64_t T = gates.dim(0), B = gates.dim(1);
        const std::vector<std::int64_t> state{B, units_};
        require(c.shape() == state && h.shape() == state, "LSTM state must be (batch, units)",
                {"", name_, shape_to_string(state), shape_to_string(c.shape()) + " and " + shape_to_string(h.shape())});
        Tensor out({T, B, units_});
        for (std::int64_t s = 0; s < T; ++s) {
            const std::int64_t t = reverse ? T - 1 - s : s;
            step_from_gates(gates.data() + t * B * 4 * units_, B, c.data(), h.data());
            std::copy_n(h.data(), B * units_, out.data() + t * B * units_);
        }
        return out;
    }

private:
    /// Calls fn(rows, m, first_row) for chunks of at most kChunk rows of a (row stride lda), with
    /// the row pointers on the stack: no allocation per step.
    template <class Fn>
    static void for_row_chunks(const float* a, std::int64_t lda, std::int64_t rows, Fn&& fn) {
        constexpr std::int64_t kChunk = 64, kWholeRow = std::int64_t(1) << 40;
        std::array<const float*, kChunk> ptrs;
        for (std::int64_t r0 = 0; r0 < rows; r0 += kChunk) {
            const std::int64_t m = std::min(kChunk, rows - r0);
            for (std::int64_t i = 0; i < m; ++i) ptrs[std::size_t(i)] = a + (r0 + i) * lda;
            fn(IndirectRows{ptrs.data(), m, kWholeRow}, m, r0);  // one segment: rows are contiguous
        }
    }

    /// out (m, 4u) (+)= A . W[k_begin, k_end) (+ bias), split over the pool by column panels.
    void product(const IndirectRows& a, std::int64_t m, std::int64_t k_begin, std::int64_t k_end, bool add_bias, bool accumulate,
                 float* out) const {
        const float* bias = add_bias ? bias_.data() : nullptr;
        const std::int64_t panels = w_.panels();
        // A pool dispatch costs microseconds: worth it only for a large enough share of the kernel.
        const bool parallel = pool_ && pool_->size() > 1 && (k_end - k_begin) * 4 * units_ * std::max<std::int64_t>(m, 4) >= (1 << 20);
        if (!parallel) {
            gemm_rows(a, m, w_, k_begin, k_end, 0, panels, bias, false, out, 4 * units_, accumulate);
            return;
        }
        const std::int64_t parts = std::min<std::int64_t>(pool_->size(), panels);
        pool_->for_each(parts, [&](std::int64_t p) {
            gemm_rows(a, m, w_, k_begin, k_end, panels * p / parts, panels * (p + 1) / parts, bias, false, out, 4 * units_, accumulate);
        });
    }

    std::int64_t in_ = 0, units_ = 0;
    float forget_bias_ = 1.0f;
    std::string name_;
    PackedMatrix w_;           // the whole kernel: rows [0, in) multiply x, rows [in, in + units) multiply h
    std::vector<float> bias_;  // padded to whole panels
    ThreadPool* pool_ = nullptr;
};

/// The definition of one LSTMBlockCell step, in double: x (batch, input), c and h (batch, units)
/// updated in place; kernel (input + units, 4 * units), gates i, j, f, o.
inline void lstm_step_reference(const Tensor& kernel, const Tensor& bias, std::int64_t input_size, float forget_bias, const float* x,
                                std::int64_t batch, float* c, float* h) {
    const std::int64_t u = kernel.dim(1) / 4, in = input_size;
    auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    for (std::int64_t b = 0; b < batch; ++b) {
        std::vector<double> g(static_cast<std::size_t>(4 * u));
        for (std::int64_t col = 0; col < 4 * u; ++col) {
            double acc = bias[std::size_t(col)];
            for (std::int64_t r = 0; r < in; ++r) acc += double(x[b * in + r]) * kernel[std::size_t(r * 4 * u + col)];
            for (std::int64_t r = 0; r < u; ++r) acc += double(h[b * u + r]) * kernel[std::size_t((in + r) * 4 * u + col)];
            g[std::size_t(col)] = acc;
        }
        for (std::int64_t k = 0; k < u; ++k) {
            const double i = sig(g[std::size_t(k)]), j = std::tanh(g[std::size_t(u + k)]);
            const double f = sig(g[std::size_t(2 * u + k)] + forget_bias), o = sig(g[std::size_t(3 * u + k)]);
            const double cn = f * c[b * u + k] + i * j;
            c[b * u + k] = float(cn);
            h[b * u + k] = float(o * std::tanh(cn));
        }
    }
}

}  // namespace photong
