// photong/nn/gru.hpp — GRU layers, PyTorch's layout and semantics by default:
//
//   weight_ih (3H, in), weight_hh (3H, H), bias_ih and bias_hh (3H), gate rows r, z, n (PyTorch's nn.GRU)
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       reset applied to the recurrent product (ResetAfterProduct:
//                                                        PyTorch, Keras reset_after=True, ONNX linear_before_reset=1)
//   n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)       reset applied to h first (ResetBeforeProduct: TF1 GRUCell,
//                                                        Keras reset_after=False, ONNX's default linear_before_reset=0)
//   h' = (1 - z) * n + z * h
// The input half of a whole sequence is one product (input_gates); per step only the recurrent product runs. Every
// call takes a batch. gru_step_reference is the plain definition in double that the fast path is tested against
// (with PyTorch's nn.GRU and ONNX's GRU node tests, tests/test_gru.cpp).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/tensor.hpp"
#include "photong/nn/gemm.hpp"

namespace photong {

enum class GruReset { AfterProduct, BeforeProduct };

class GruLayer {
public:
    GruLayer() = default;
    /// PyTorch's tensors: weight_ih (3H, in), weight_hh (3H, H), bias_ih and bias_hh (3H) (either bias may be empty: zero).
    GruLayer(const Tensor& weight_ih, const Tensor& weight_hh, std::vector<float> bias_ih, std::vector<float> bias_hh,
             GruReset reset = GruReset::AfterProduct, std::string name = "gru")
        : reset_(reset), name_(std::move(name)) {
        require(weight_hh.rank() == 2 && weight_hh.dim(0) % 3 == 0 && weight_hh.dim(1) * 3 == weight_hh.dim(0), "GRU weight_hh must be (3H, H)",
                {"", name_ + "/weight_hh", "3H x H", shape_to_string(weight_hh.shape())});
        units_ = weight_hh.dim(1);
        require(weight_ih.rank() == 2 && weight_ih.dim(0) == 3 * units_ && weight_ih.dim(1) > 0, "GRU weight_ih must be (3H, input)",
                {"", name_ + "/weight_ih", std::to_string(3 * units_) + " x input", shape_to_string(weight_ih.shape())});
        in_ = weight_ih.dim(1);
        for (auto* b : {&bias_ih, &bias_hh}) {
            if (b->empty()) b->assign(std::size_t(3 * units_), 0.0f);
            require(std::int64_t(b->size()) == 3 * units_, "GRU bias must have 3H values",
                    {"", name_ + (b == &bias_ih ? "/bias_ih" : "/bias_hh"), std::to_string(3 * units_), std::to_string(b->size())});
        }
        w_ih_ = PackedMatrix(transposed(weight_ih).data(), in_, 3 * units_);
        w_hh_ = PackedMatrix(transposed(weight_hh).data(), units_, 3 * units_);
        b_ih_ = std::move(bias_ih), b_hh_ = std::move(bias_hh);
        b_ih_.resize(std::size_t(w_ih_.panels() * PackedMatrix::kPanel), 0.0f);
        b_hh_.resize(std::size_t(w_hh_.panels() * PackedMatrix::kPanel), 0.0f);
        if (reset_ == GruReset::BeforeProduct) w_hn_ = transposed(weight_hh);  // the n block is applied to r * h on its own
    }

    std::int64_t input_size() const { return in_; }
    std::int64_t units() const { return units_; }
    GruReset reset() const { return reset_; }
    const std::string& name() const { return name_; }
    void use_thread_pool(ThreadPool* pool) { pool_ = pool; }

    /// Input half for `rows` inputs at once: gx (rows, 3H) = x (rows, input) . W_ih^T + b_ih.
    void input_gates(const float* x, std::int64_t rows, float* gx) const { product(w_ih_, x, in_, rows, b_ih_.data(), gx); }

    /// One step from its input half gx (batch, 3H); h (batch, H) updated in place. `scratch` holds 3H * batch floats.
    void step_from_gates(const float* gx, std::int64_t batch, float* h, float* scratch) const {
        const std::int64_t H = units_;
        product(w_hh_, h, H, batch, b_hh_.data(), scratch);  // gh = h . W_hh^T + b_hh
        std::vector<float> rh;
        for (std::int64_t b = 0; b < batch; ++b) {
            const float* x = gx + b * 3 * H;
            float* g = scratch + b * 3 * H;
            float* hb = h + b * H;
            for (std::int64_t k = 0; k < 2 * H; ++k) g[k] = 1.0f / (1.0f + std::exp(-(x[k] + g[k])));  // r, z
            if (reset_ == GruReset::AfterProduct) {
                for (std::int64_t k = 0; k < H; ++k) g[2 * H + k] = std::tanh(x[2 * H + k] + g[k] * g[2 * H + k]);
            } else {  // W_hn (r * h) + b_hn: a product of its own
                rh.resize(std::size_t(H));
                for (std::int64_t k = 0; k < H; ++k) rh[std::size_t(k)] = g[k] * hb[k];
                using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
                Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>> w(w_hn_.data() + 2 * H, H, H, Eigen::OuterStride<>(3 * H));
                const Eigen::RowVectorXf n = Eigen::Map<const Eigen::RowVectorXf>(rh.data(), H) * w;
                for (std::int64_t k = 0; k < H; ++k) g[2 * H + k] = std::tanh(x[2 * H + k] + n[k] + b_hh_[std::size_t(2 * H + k)]);
            }
            for (std::int64_t k = 0; k < H; ++k) hb[k] = (1.0f - g[H + k]) * g[2 * H + k] + g[H + k] * hb[k];
        }
    }

    /// One step: x (batch, input); h (batch, H) updated in place.
    void step(const float* x, std::int64_t batch, float* h) const {
        std::vector<float> gx(std::size_t(batch * 3 * units_)), scratch(gx.size());
        input_gates(x, batch, gx.data());
        step_from_gates(gx.data(), batch, h, scratch.data());
    }

    /// A whole sequence: x (steps, batch, input) -> h at every step (steps, batch, H); h (batch, H) is the initial
    /// state and ends as the final one.
    Tensor run(const Tensor& x, Tensor& h) const {
        require(x.rank() == 3 && x.dim(2) == in_, "GRU input must be (steps, batch, input)", {"", name_, "steps x batch x " + std::to_string(in_), shape_to_string(x.shape())});
        const std::int64_t T = x.dim(0), B = x.dim(1), H = units_;
        require(h.rank() == 2 && h.dim(0) == B && h.dim(1) == H, "GRU state must be (batch, units)", {"", name_, std::to_string(B) + " x " + std::to_string(H), shape_to_string(h.shape())});
        std::vector<float> gx(std::size_t(T * B * 3 * H)), scratch(std::size_t(B * 3 * H));
        input_gates(x.data(), T * B, gx.data());
        Tensor y({T, B, H});
        for (std::int64_t t = 0; t < T; ++t) {
            step_from_gates(gx.data() + t * B * 3 * H, B, h.data(), scratch.data());
            std::copy_n(h.data(), B * H, y.data() + t * B * H);
        }
        return y;
    }

private:
    /// out (rows, 3H) = a (rows, k) . W + bias, split over the pool by column panels when large enough.
    void product(const PackedMatrix& w, const float* a, std::int64_t k, std::int64_t rows, const float* bias, float* out) const {
        constexpr std::int64_t kChunk = 64, kWholeRow = std::int64_t(1) << 40;
        const float* ptrs[kChunk];
        const std::int64_t panels = w.panels(), n = 3 * units_;
        for (std::int64_t r0 = 0; r0 < rows; r0 += kChunk) {
            const std::int64_t m = std::min(kChunk, rows - r0);
            for (std::int64_t i = 0; i < m; ++i) ptrs[i] = a + (r0 + i) * k;
            const IndirectRows rows_view{ptrs, m, kWholeRow};
            // A pool dispatch costs a few microseconds; a 256 x 768 product (a decode step at batch 1) takes ~15 us on one core.
            const bool parallel = pool_ && pool_->size() > 1 && k * n * std::max<std::int64_t>(m, 1) >= (1 << 17);
            if (!parallel) {
                gemm_rows(rows_view, m, w, 0, k, 0, panels, bias, false, out + r0 * n, n, false);
                continue;
            }
            const std::int64_t parts = std::min<std::int64_t>(pool_->size(), panels);
            pool_->for_each(parts, [&](std::int64_t p) {
                gemm_rows(rows_view, m, w, 0, k, panels * p / parts, panels * (p + 1) / parts, bias, false, out + r0 * n, n, false);
            });
        }
    }

    GruReset reset_ = GruReset::AfterProduct;
    std::string name_;
    std::int64_t in_ = 0, units_ = 0;
    PackedMatrix w_ih_, w_hh_;       // W_ih^T (in, 3H) and W_hh^T (H, 3H)
    std::vector<float> b_ih_, b_hh_;  // padded to whole panels
    Tensor w_hn_;                     // W_hh^T again, for ResetBeforeProduct's separate n product
    ThreadPool* pool_ = nullptr;
};

/// The definition of one GRU step in double (PyTorch layout, see the header comment): x (batch, input), h (batch, H)
/// updated in place.
inline void gru_step_reference(const Tensor& w_ih, const Tensor& w_hh, const std::vector<float>& b_ih, const std::vector<float>& b_hh,
                               GruReset reset, const float* x, std::int64_t batch, float* h) {
    const std::int64_t H = w_hh.dim(1), in = w_ih.dim(1);
    auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    auto bias = [](const std::vector<float>& b, std::int64_t i) { return b.empty() ? 0.0 : double(b[std::size_t(i)]); };
    for (std::int64_t b = 0; b < batch; ++b) {
        std::vector<double> gi(static_cast<std::size_t>(3 * H)), gh(static_cast<std::size_t>(3 * H));
        for (std::int64_t r = 0; r < 3 * H; ++r) {
            double a = bias(b_ih, r), c = bias(b_hh, r);
            for (std::int64_t i = 0; i < in; ++i) a += double(w_ih[std::size_t(r * in + i)]) * x[b * in + i];
            for (std::int64_t i = 0; i < H; ++i) c += double(w_hh[std::size_t(r * H + i)]) * h[b * H + i];
            gi[std::size_t(r)] = a, gh[std::size_t(r)] = c;
        }
        std::vector<double> out(static_cast<std::size_t>(H));
        for (std::int64_t k = 0; k < H; ++k) {
            const double r = sig(gi[std::size_t(k)] + gh[std::size_t(k)]), z = sig(gi[std::size_t(H + k)] + gh[std::size_t(H + k)]);
            double n;
            if (reset == GruReset::AfterProduct) {
                n = std::tanh(gi[std::size_t(2 * H + k)] + r * gh[std::size_t(2 * H + k)]);
            } else {
                double acc = bias(b_hh, 2 * H + k);
                for (std::int64_t i = 0; i < H; ++i)
                    acc += double(w_hh[std::size_t((2 * H + k) * H + i)]) * sig(gi[std::size_t(i)] + gh[std::size_t(i)]) * h[b * H + i];
                n = std::tanh(gi[std::size_t(2 * H + k)] + acc);
            }
            out[std::size_t(k)] = (1 - z) * n + z * h[b * H + k];
        }
        for (std::int64_t k = 0; k < H; ++k) h[b * H + k] = float(out[std::size_t(k)]);
    }
}

}  // namespace photong
