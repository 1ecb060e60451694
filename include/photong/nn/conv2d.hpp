// photong/nn/conv2d.hpp — 2-D convolution over NHWC maps, with bias and an optional fused ReLU.
//
// Weights are Keras' HWIO kernel (kh, kw, cin, cout). Flattened row-major that is exactly the
// (kh*kw*cin, cout) right-hand matrix of an im2col product, so packing is a copy, done once.
// BatchNormalization (inference) folds into the kernel and a bias at load time (fold_batchnorm).
//
// Fast path: output pixels are cut into fixed tiles of rows (and, for maps with few pixels, of
// output channels). Each tile is an indirect GEMM against the packed weights (nn/gemm.hpp): for
// every kernel tap, each output pixel's row points straight at the input pixel under that tap (or
// at zeros in the padding), so no im2col copy is made; bias and ReLU are applied as the last tap
// stores. Inputs with very few channels (the RGB stem) take whole window rows as segments instead (or, with
// padding, are gathered with im2col first).
// Stride-1 3x3, 5x5, 1x7, 7x1, 1x3 and 3x1 layers on large enough maps run as Winograd F(m, r) instead
// (nn/winograd.hpp; the variant from Conv2DParams::winograd_tile; both forms are kept, the choice depends only on
// the layer and the output's height and width, never the batch).
// Results are identical for any number of threads (the summation order ignores the tiling).
// conv2d_reference is the plain seven-loop definition the fast path is tested against.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/tensor.hpp"
#include "photong/nn/gemm.hpp"
#include "photong/nn/padding.hpp"
#include "photong/nn/winograd.hpp"

namespace photong {

struct Conv2DParams {
    int kernel_h = 1, kernel_w = 1;
    int stride_h = 1, stride_w = 1;
    Padding padding = Padding::Same;
    bool relu = false;
    bool allow_winograd = true;  ///< stride-1 layers with a Winograd variant may use it (nn/winograd.hpp)
    /// Make the Winograd weights at construction; false: at the first input large enough to use them (a layer
    /// that runs on small maps at the usual input size need not carry them).
    bool winograd_at_load = true;
    /// Winograd output tile along each axis the kernel spans: 2 (F(2x2,3x3), F(2x2,5x5), F(1x2,1x7), ...), 3 (F(3,7))
    /// or 4 (F(4,3), F(4,5)); WinogradShape::for_kernel lists the variants. Larger tiles do fewer products with more
    /// rounding error (bench/winograd_error measures both per layer).
    int winograd_tile = 2;
};

/// Folds inference-mode BatchNormalization into a convolution: for output channel o,
/// y = gamma * (conv - mean) / sqrt(var + eps) + beta = conv * s + (beta - mean * s) with
/// s = gamma / sqrt(var + eps). `kernel` is HWIO (its last axis is o); `bias` may be empty (zero).
/// `gamma` may be empty (Keras scale=False means gamma = 1).
inline void fold_batchnorm(Tensor& kernel, std::vector<float>& bias, const std::vector<float>& gamma,
                           const std::vector<float>& beta, const std::vector<float>& mean, const std::vector<float>& var,
                           float epsilon, const std::string& layer = "") {
    const std::size_t cout = std::size_t(kernel.dim(kernel.rank() - 1));
    auto check = [&](const std::vector<float>& v, const char* what) {
        require(v.size() == cout, std::string("batchnorm ") + what + " does not match the conv's output channels",
                {"", layer, std::to_string(cout), std::to_string(v.size())});
    };
    check(beta, "beta"); check(mean, "moving_mean"); check(var, "moving_variance");
    if (!gamma.empty()) check(gamma, "gamma");
    if (bias.empty()) bias.assign(cout, 0.0f);
    check(bias, "bias");
    std::vector<float> s(cout);
    for (std::size_t o = 0; o < cout; ++o) {
        require(var[o] + epsilon > 0.0f, "batchnorm variance + epsilon must be positive", {"", layer, "> 0", std::to_string(var[o])});
        s[o] = (gamma.empty() ? 1.0f : gamma[o]) / std::sqrt(var[o] + epsilon);
        bias[o] = beta[o] + (bias[o] - mean[o]) * s[o];
    }
    // Row by row (HWIO: the output channel is the fastest index): an index division per weight cost 160 ms of
    // InceptionV3's load, more than the scaling itself.
    float* w = kernel.data();
    const std::size_t rows = kernel.size() / cout;
    for (std::size_t r = 0; r < rows; ++r, w += cout)
        for (std::size_t o = 0; o < cout; ++o) w[o] *= s[o];
}

class Conv2D {
public:
    Conv2D() = default;
    /// kernel: (kh, kw, cin, cout) HWIO; bias: cout values or empty for none.
    Conv2D(const Tensor& kernel, std::vector<float> bias, Conv2DParams p, std::string name = "conv2d")
        : p_(p), name_(std::move(name)) {
        require(kernel.rank() == 4, "conv kernel must be rank 4 (kh, kw, cin, cout)", {"", name_, "rank 4", shape_to_string(kernel.shape())});
        p_.kernel_h = int(kernel.dim(0));
        p_.kernel_w = int(kernel.dim(1));
        cin_ = int(kernel.dim(2));
        cout_ = int(kernel.dim(3));
        require(p_.stride_h > 0 && p_.stride_w > 0, "conv strides must be positive", {"", name_});
        if (bias.empty()) bias.assign(std::size_t(cout_), 0.0f);
        require(int(bias.size()) == cout_, "conv bias does not match output channels", {"", name_, std::to_string(cout_), std::to_string(bias.size())});
        // HWIO row-major is the (kh*kw*cin, cout) right-hand side of the im2col product.
        weights_ = PackedMatrix(kernel.data(), std::int64_t(p_.kernel_h) * p_.kernel_w * cin_, cout_);
        set_bias(std::move(bias));
        if (winograd_eligible()) {
            winograd_ = std::make_shared<LazyWinograd>();
            if (p_.winograd_at_load) std::call_once(winograd_->once, [&] { winograd_->set(make_winograd(kernel.data())); });
        }
    }

    /// True when forward() on this input runs as Winograd: layers with a variant do for outputs of at least
    /// kMinWinogradTiles tiles per image; smaller maps take the direct product. Counted per image, not per
    /// batch, so an image gives the same bits alone or batched.
    bool uses_winograd(const FeatureView& in) const {
        const std::vector<int> o = output_shape(in);
        return winograd_ && winograd_shape().tiles(1, o[1], o[2]) >= kMinWinogradTiles;
    }
    /// The windows Winograd computes: a variant for the kernel and tile (WinogradShape::for_kernel, written to
    /// `shape`), stride 1, enough input channels for its products.
    static bool winograd_window(int kernel_h, int kernel_w, int stride_h, int stride_w, int cin, int tile, WinogradShape& shape) {
        return stride_h == 1 && stride_w == 1 && cin >= kMinIndirectChannels && WinogradShape::for_kernel(kernel_h, kernel_w, tile, shape);
    }
    static bool winograd_window(int kernel_h, int kernel_w, int stride_h, int stride_w, int cin, int tile = 2) {
        WinogradShape shape;
        return winograd_window(kernel_h, kernel_w, stride_h, stride_w, cin, tile, shape);
    }
    /// The rule uses_winograd() applies, for a layer that allows Winograd, from shapes alone (benchmarks count FLOPs
    /// with it); `shape` is the variant when it applies.
    static bool winograd_applies(int kernel_h, int kernel_w, int stride, int cin, int out_h, int out_w, int tile, WinogradShape& shape) {
        return winograd_window(kernel_h, kernel_w, stride, stride, cin, tile, shape) && shape.tiles(1, out_h, out_w) >= kMinWinogradTiles;
    }
    static bool winograd_applies(int kernel_h, int kernel_w, int stride, int cin, int out_h, int out_w, int tile = 2) {
        WinogradShape shape;
        return winograd_applies(kernel_h, kernel_w, stride, cin, out_h, out_w, tile, shape);
    }
    /// Floating-point operations (2 per multiply-add) of one image's products: kh*kw*cin*cout per output pixel
    /// directly; as Winograd, th*tw products of cin x cout per tile (its transforms' few adds per element are not
    /// counted). What the benchmarks call effective FLOPs, beside the direct count.
    static double product_flops(int kernel_h, int kernel_w, int stride, int cin, int cout, int out_h, int out_w, bool allow_winograd = true,
                                int tile = 2) {
        WinogradShape shape;
        if (allow_winograd && winograd_applies(kernel_h, kernel_w, stride, cin, out_h, out_w, tile, shape))
            return 2.0 * double(shape.tiles(1, out_h, out_w)) * shape.positions() * cin * double(cout);
        return 2.0 * out_h * double(out_w) * kernel_h * kernel_w * cin * double(cout);
    }
    /// True for the layers that may run as Winograd (a variant for the window, stride 1, enough input channels, allowed).
    bool winograd_eligible() const {
        return p_.allow_winograd && winograd_window(p_.kernel_h, p_.kernel_w, p_.stride_h, p_.stride_w, cin_, p_.winograd_tile);
    }
    /// The Winograd variant this layer runs when it does (meaningful when winograd_eligible()).
    WinogradShape winograd_shape() const {
        WinogradShape shape;
        WinogradShape::for_kernel(p_.kernel_h, p_.kernel_w, p_.winograd_tile, shape);
        return shape;
    }

    /// One convolution computing the outputs of several that read the same input with the same
    /// window (their output channels side by side, in the order given). InceptionV3's blocks
    /// open with up to three 1x1 convolutions of one map: one wide product streams the input
    /// once and keeps the GEMM's right-hand side wide enough to run near peak.
    static Conv2D concat_outputs(const std::vector<const Conv2D*>& convs, std::string name) {
        require(!convs.empty(), "concat_outputs needs at least one convolution", {"", name});
        const Conv2D& first = *convs.front();
        Conv2D fused;
        fused.p_ = first.p_;
        fused.name_ = std::move(name);
        fused.cin_ = first.cin_;
        for (const Conv2D* c : convs) {
            const bool same = c->cin_ == first.cin_ && c->p_.kernel_h == first.p_.kernel_h && c->p_.kernel_w == first.p_.kernel_w &&
                              c->p_.stride_h == first.p_.stride_h && c->p_.stride_w == first.p_.stride_w &&
                              c->p_.padding == first.p_.padding && c->p_.relu == first.p_.relu;
            require(same, "convolutions fused by concat_outputs must share input channels, window, strides, padding and activation",
                    {"", fused.name_ + " <- " + c->name_});
            fused.cout_ += c->cout_;
        }
        const std::int64_t K = std::int64_t(first.p_.kernel_h) * first.p_.kernel_w * first.cin_;
        std::vector<float> w(std::size_t(K * fused.cout_));
        for (std::int64_t k = 0; k < K; ++k) {
            float* row = w.data() + k * fused.cout_;
            for (const Conv2D* c : convs)
                for (int o = 0; o < c->cout_; ++o) *row++ = c->weights_.at(k, o);
        }
        fused.weights_ = PackedMatrix(w.data(), K, fused.cout_);
        std::vector<float> bias;
        for (const Conv2D* c : convs) bias.insert(bias.end(), c->bias_.begin(), c->bias_.begin() + c->cout_);
        fused.set_bias(std::move(bias));
        return fused;
    }

    /// The Winograd form of a layer (its variant given by winograd_shape()).
    using Winograd = WinogradConv;

    /// A layer from parts already packed (by packed_weights(), padded_bias() and winograd() of an equal
    /// layer: what the packed-weights cache stores), so nothing is packed or transformed. `winograd` may be
    /// null for a layer that has none. Throws when the parts do not fit `p`, `cin` and `cout`.
    static Conv2D from_packed(Conv2DParams p, int cin, int cout, PackedMatrix weights, std::vector<float> bias_padded,
                              std::shared_ptr<const Winograd> winograd, std::string name) {
        Conv2D c;
        c.p_ = p;
        c.name_ = std::move(name);
        c.cin_ = cin;
        c.cout_ = cout;
        const std::int64_t K = std::int64_t(p.kernel_h) * p.kernel_w * cin;
        require(weights.rows() == K && weights.cols() == cout, "packed conv weights do not match the layer",
                {"", c.name_, std::to_string(K) + "x" + std::to_string(cout), std::to_string(weights.rows()) + "x" + std::to_string(weights.cols())});
        require(std::int64_t(bias_padded.size()) == weights.panels() * PackedMatrix::kPanel, "packed conv bias is not padded to whole panels",
                {"", c.name_, std::to_string(weights.panels() * PackedMatrix::kPanel), std::to_string(bias_padded.size())});
        c.weights_ = std::move(weights);
        c.bias_ = std::move(bias_padded);
        if (c.winograd_eligible()) {
            require(!winograd || winograd->shape() == c.winograd_shape(), "Winograd weights are of another variant than the layer's",
                    {"", c.name_, c.winograd_shape().name(), winograd ? winograd->shape().name() : ""});
            c.winograd_ = std::make_shared<LazyWinograd>();
            if (winograd) std::call_once(c.winograd_->once, [&] { c.winograd_->set(std::move(winograd)); });
        } else {
            require(!winograd, "Winograd weights given for a layer that cannot use them", {"", c.name_});
        }
        return c;
    }

    const std::string& name() const { return name_; }
    const Conv2DParams& params() const { return p_; }
    /// The packed (kh*kw*cin, cout) right-hand side, its bias padded to whole panels, and the Winograd
    /// form (null when the layer has none): the parts from_packed() takes.
    const PackedMatrix& packed_weights() const { return weights_; }
    const std::vector<float>& padded_bias() const { return bias_; }
    /// The Winograd form if it has been made (at load, or by an input that needed it), else null.
    std::shared_ptr<const Winograd> winograd() const {
        return winograd_ && winograd_->made.load(std::memory_order_acquire) ? winograd_->weights : nullptr;
    }
    int in_channels() const { return cin_; }
    int out_channels() const { return cout_; }
    /// Kernel element (ky, kx, ci, co) after BN folding.
    float weight(int ky, int kx, int ci, int co) const { return weights_.at((std::int64_t(ky) * p_.kernel_w + kx) * cin_ + ci, co); }
    float bias(int co) const { return bias_[std::size_t(co)]; }

    /// Output (n, h, w, c) for an input of the given size; throws on a channel mismatch.
    std::vector<int> output_shape(const FeatureView& in) const {
        require(in.c == cin_, "conv input has the wrong number of channels", {"", name_, std::to_string(cin_), std::to_string(in.c)});
        const WindowAxis y = window_axis(in.h, p_.kernel_h, p_.stride_h, p_.padding, name_);
        const WindowAxis x = window_axis(in.w, p_.kernel_w, p_.stride_w, p_.padding, name_);
        return {in.n, y.out, x.out, cout_};
    }

    /// Writes the convolution of `in` into `out` (which may be a channel slice of a wider map).
    void forward(const FeatureView& in, const FeatureView& out, ThreadPool& pool = default_thread_pool()) const {
        const std::vector<int> want = output_shape(in);
        require(out.shape() == want, "conv output view has the wrong shape", {"", name_, shape_to_string(want), shape_to_string(out.shape())});
        // Winograd pays for its transforms once there are enough tiles to fill a micro-kernel or two (InceptionV3's 8x8
        // stage, one thread: F(1x2,1x3)'s 32 tiles 1.3x faster than direct, F(2x2,3x3)'s 16 1.4x); smaller maps, direct.
        if (uses_winograd(in)) return winograd_form().forward(in, out, pool);
        const WindowAxis ay = window_axis(in.h, p_.kernel_h, p_.stride_h, p_.padding);
        const WindowAxis ax = window_axis(in.w, p_.kernel_w, p_.stride_w, p_.padding);
        const std::int64_t rows = out.pixels(), K = weights_.rows(), panels = weights_.panels();
        // A handful of input channels (the 3-channel stem) makes per-tap blocks too short to pay
        // for their C traffic: gather whole receptive fields (im2col) for those instead; or, when every window row
        // lies inside a densely packed map ('valid' padding), point at each window row as one segment of
        // kernel_w * cin floats (the 3-channel stem: 3 segments of 9), the same K order with no copy.
        const bool few_channels = cin_ < kMinIndirectChannels && K > cin_;
        const bool row_segments = few_channels && p_.padding == Padding::Valid && in.pixel_stride == cin_;
        const bool gather = few_channels && !row_segments;

        // Tasks: up to kRowTile output pixels (whole micro-kernels) by a group of B panels, balanced over the pool
        // (BalancedTasks); maps with few pixels (the 17x17 and 8x8 stages) are also cut along output channels.
        const std::int64_t micro = (rows + gemm_detail::kRows - 1) / gemm_detail::kRows;
        const BalancedTasks grid(micro, kRowTile / gemm_detail::kRows, panels, pool.size());

        pool.for_each(grid.count(), [&](std::int64_t t) {
            std::int64_t m0 = 0, m1 = 0, j0 = 0, j1 = 0;
            grid.ranges(t, m0, m1, j0, j1);
            const std::int64_t r0 = m0 * gemm_detail::kRows, nr = std::min(rows, m1 * gemm_detail::kRows) - r0;
            float* c = out.data + r0 * out.pixel_stride;
            thread_local std::vector<const float*> ptrs;
            if (gather) {
                thread_local std::vector<float> patches;
                patches.resize(std::size_t(nr * K));
                im2col(in, ay, ax, r0, nr, patches.data());
                ptrs.resize(std::size_t(nr));
                for (std::int64_t r = 0; r < nr; ++r) ptrs[std::size_t(r)] = patches.data() + r * K;
                gemm(IndirectRows{ptrs.data(), nr, K}, nr, weights_, j0, j1, bias_.data(), p_.relu, c, out.pixel_stride);
                return;
            }
            if (row_segments) {
                ptrs.resize(std::size_t(p_.kernel_h * nr));
                for (std::int64_t r = 0; r < nr; ++r) {
                    const std::int64_t q = r0 + r;
                    const int ox = int(q % ax.out), oy = int((q / ax.out) % ay.out), n = int(q / (std::int64_t(ax.out) * ay.out));
                    for (int ky = 0; ky < p_.kernel_h; ++ky) ptrs[std::size_t(ky * nr + r)] = in.pixel(n, oy * p_.stride_h + ky, ox * p_.stride_w);
                }
                gemm(IndirectRows{ptrs.data(), nr, std::int64_t(p_.kernel_w) * cin_}, nr, weights_, j0, j1, bias_.data(), p_.relu, c, out.pixel_stride);
                return;
            }
            // Indirect GEMM: for each kernel tap, point each output pixel's row at the input pixel
            // under that tap (or at zeros in the padding); the taps are the segments of K.
            thread_local std::vector<float> zeros;
            if (zeros.size() < std::size_t(cin_)) zeros.assign(std::size_t(cin_), 0.0f);
            const int taps = p_.kernel_h * p_.kernel_w;
            ptrs.resize(std::size_t(taps * nr));
            for (std::int64_t r = 0; r < nr; ++r) {
                const std::int64_t q = r0 + r;
                const int ox = int(q % ax.out), oy = int((q / ax.out) % ay.out), n = int(q / (std::int64_t(ax.out) * ay.out));
                for (int tap = 0; tap < taps; ++tap) {
                    const int iy = oy * p_.stride_h - ay.pad + tap / p_.kernel_w, ix = ox * p_.stride_w - ax.pad + tap % p_.kernel_w;
                    ptrs[std::size_t(tap * nr + r)] = (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) ? zeros.data() : in.pixel(n, iy, ix);
                }
            }
            gemm(IndirectRows{ptrs.data(), nr, cin_}, nr, weights_, j0, j1, bias_.data(), p_.relu, c, out.pixel_stride);
        });
    }

    /// Convenience: allocates and returns the output.
    Tensor forward(const FeatureView& in, ThreadPool& pool = default_thread_pool()) const {
        const auto s = output_shape(in);
        Tensor out = Tensor::nhwc(s[0], s[1], s[2], s[3]);
        forward(in, out.view(), pool);
        return out;
    }
    Tensor forward(const Tensor& in, ThreadPool& pool = default_thread_pool()) const { return forward(in.view(), pool); }

private:
    static constexpr std::int64_t kRowTile = 10 * gemm_detail::kRows;  ///< at most this many pixels per task (whole micro-kernels)
    static constexpr int kMinIndirectChannels = 16;
    static constexpr std::int64_t kMinWinogradTiles = 16;

    /// Keeps the bias padded to whole panels: the micro-kernel reads a panel's worth.
    void set_bias(std::vector<float> bias) {
        bias.resize(std::size_t(weights_.panels() * PackedMatrix::kPanel), 0.0f);
        bias_ = std::move(bias);
    }

    /// Gathers the receptive fields of output pixels [r0, r0 + nr) into rows of `dst`, in
    /// (ky, kx, c) order to match the HWIO kernel; cells in the padding are zero.
    void im2col(const FeatureView& in, const WindowAxis& ay, const WindowAxis& ax, std::int64_t r0, std::int64_t nr, float* dst) const {
        const int oh = ay.out, ow = ax.out;
        for (std::int64_t r = r0; r < r0 + nr; ++r) {
            const int ox = int(r % ow), oy = int((r / ow) % oh), n = int(r / (std::int64_t(ow) * oh));
            const int ix0 = ox * p_.stride_w - ax.pad;
            // With densely packed pixels, a window row that lies inside the map is one run of
            // kernel_w * cin floats: copy it at once (the 3-channel stem copies 9 floats, not 3x3).
            const bool whole_rows = in.pixel_stride == cin_ && ix0 >= 0 && ix0 + p_.kernel_w <= in.w;
            for (int ky = 0; ky < p_.kernel_h; ++ky) {
                const int iy = oy * p_.stride_h - ay.pad + ky;
                if (whole_rows && iy >= 0 && iy < in.h) {
                    dst = std::copy_n(in.pixel(n, iy, ix0), std::size_t(p_.kernel_w) * cin_, dst);
                    continue;
                }
                for (int kx = 0; kx < p_.kernel_w; ++kx, dst += cin_) {
                    const int ix = ox * p_.stride_w - ax.pad + kx;
                    if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) std::fill(dst, dst + cin_, 0.0f);
                    else std::copy(in.pixel(n, iy, ix), in.pixel(n, iy, ix) + cin_, dst);
                }
            }
        }
    }

    Conv2DParams p_;
    std::string name_;
    int cin_ = 0, cout_ = 0;
    PackedMatrix weights_;    // (kh*kw*cin, cout), packed for gemm()
    // The Winograd form of a layer winograd_eligible() admits, made once (at load, or by the first input that needs it, on
    // whichever thread gets there first) and shared by copies of the layer.
    struct LazyWinograd {
        std::once_flag once;
        std::shared_ptr<const Winograd> weights;
        std::atomic<bool> made{false};  // weights is set (read without the once_flag by winograd())
        void set(std::shared_ptr<const Winograd> w) {
            weights = std::move(w);
            made.store(true, std::memory_order_release);
        }
    };
    std::shared_ptr<const Winograd> make_winograd(const float* kernel_hwio) const {
        return std::make_shared<const Winograd>(winograd_shape(), kernel_hwio, cin_, cout_, bias_, p_.padding, p_.relu);
    }
    const Winograd& winograd_form() const {
        std::call_once(winograd_->once, [&] {
            // Unpacked back to HWIO: the same floats the constructor had, so the same transformed weights.
            const std::int64_t K = weights_.rows();
            std::vector<float> kernel(static_cast<std::size_t>(K * cout_));
            for (std::int64_t k = 0; k < K; ++k)
                for (int o = 0; o < cout_; ++o) kernel[std::size_t(k * cout_ + o)] = weights_.at(k, o);
            winograd_->set(make_winograd(kernel.data()));
        });
        return *winograd_->weights;
    }
    std::shared_ptr<LazyWinograd> winograd_;  // set for the layers winograd_eligible() admits
    std::vector<float> bias_;  // cout values, zero-padded to whole panels
};

/// The definition, loop by loop, accumulating in double: the reference the fast path is tested against.
inline Tensor conv2d_reference(const Tensor& input, const Tensor& kernel, const std::vector<float>& bias, Conv2DParams p) {
    const FeatureView in = input.view();
    const int kh = int(kernel.dim(0)), kw = int(kernel.dim(1)), cin = int(kernel.dim(2)), cout = int(kernel.dim(3));
    require(in.c == cin, "conv input has the wrong number of channels", {"", "conv2d_reference", std::to_string(cin), std::to_string(in.c)});
    const WindowAxis ay = window_axis(in.h, kh, p.stride_h, p.padding), ax = window_axis(in.w, kw, p.stride_w, p.padding);
    Tensor out = Tensor::nhwc(in.n, ay.out, ax.out, cout);
    const float* w = kernel.data();
    for (int n = 0; n < in.n; ++n)
        for (int oy = 0; oy < ay.out; ++oy)
            for (int ox = 0; ox < ax.out; ++ox)
                for (int o = 0; o < cout; ++o) {
                    double acc = bias.empty() ? 0.0 : bias[std::size_t(o)];
                    for (int ky = 0; ky < kh; ++ky)
                        for (int kx = 0; kx < kw; ++kx) {
                            const int iy = oy * p.stride_h - ay.pad + ky, ix = ox * p.stride_w - ax.pad + kx;
                            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                            const float* px = in.pixel(n, iy, ix);
                            for (int c = 0; c < cin; ++c)
                                acc += double(px[c]) * w[((std::size_t(ky) * kw + kx) * cin + c) * cout + o];
                        }
                    float v = float(acc);
                    if (p.relu) v = std::max(v, 0.0f);
                    out.view().pixel(n, oy, ox)[o] = v;
                }
    return out;
}

}  // namespace photong
