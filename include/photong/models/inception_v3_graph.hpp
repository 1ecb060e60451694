// photong/models/inception_v3_graph.hpp — InceptionV3's graph, written once for every backend.
//
// The layers (InceptionLayers<Conv>) and the wiring (inception_forward) are templates over a backend:
// the CPU one (models/inception_v3.hpp: Conv2D with packed and Winograd weights, Tensors in host memory)
// and the kernel one (kernels/inception_v3_kernels.hpp: weights uploaded once, maps in device memory,
// kernels/*.cuh launched on a GPU or through the host SIMT executor). Why a template and not a virtual
// backend object: the two backends' layer objects and maps are different types (a packed CPU matrix is
// not a device pointer), and the graph runs ~130 layer calls per picture, so the choice is made once, at
// compile time, with no cuda type in model code and no cost on the CPU path.
//
// A backend B provides:
//   using Conv, Map;                        a convolution layer (BN folded) and an owned NHWC map
//   Conv make_conv(ConvSpec)                the layer from its host weights (at load: upload, pack, ...)
//   Map new_map(int n, int h, int w, int c) an uninitialised map
//   FeatureView view(const Map&)            its view (data may be a device address: never read here)
//   void conv(const Conv&, FeatureView in, FeatureView out)   out may be a channel slice of a wider map
//   void pool(const Pool2DParams&, FeatureView in, FeatureView out)
//   void copy_channels(FeatureView from, FeatureView to)
// Conv has params(), in_channels(), out_channels() as Conv2D does.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/nn/conv2d.hpp"
#include "photong/nn/padding.hpp"
#include "photong/nn/pooling.hpp"

namespace photong {

/// One convolution as read from the file: HWIO kernel with BatchNormalization folded in, bias, window.
struct ConvSpec {
    Tensor kernel;
    std::vector<float> bias;
    Conv2DParams params;
    std::string name;
};

/// One convolution computing the outputs of several that read the same input with the same window
/// (their output channels side by side, in the order given): InceptionV3's blocks open with up to three
/// 1x1 convolutions of one map, and one wide product streams that map once.
inline ConvSpec fuse_outputs(const std::vector<const ConvSpec*>& specs, std::string name) {
    require(!specs.empty(), "fuse_outputs needs at least one convolution", {"", name});
    const ConvSpec& first = *specs.front();
    std::int64_t cout = 0;
    for (const ConvSpec* s : specs) {
        const Conv2DParams &a = s->params, &b = first.params;
        const bool same = s->kernel.dim(0) == first.kernel.dim(0) && s->kernel.dim(1) == first.kernel.dim(1) &&
                          s->kernel.dim(2) == first.kernel.dim(2) && a.stride_h == b.stride_h && a.stride_w == b.stride_w &&
                          a.padding == b.padding && a.relu == b.relu;
        require(same, "convolutions fused by fuse_outputs must share input channels, window, strides, padding and activation",
                {"", name + " <- " + s->name});
        cout += s->kernel.dim(3);
    }
    const std::int64_t K = first.kernel.dim(0) * first.kernel.dim(1) * first.kernel.dim(2);
    ConvSpec fused{Tensor({first.kernel.dim(0), first.kernel.dim(1), first.kernel.dim(2), cout}), {}, first.params, std::move(name)};
    for (std::int64_t k = 0; k < K; ++k) {
        float* row = fused.kernel.data() + k * cout;
        for (const ConvSpec* s : specs) {
            const std::int64_t n = s->kernel.dim(3);
            std::copy_n(s->kernel.data() + k * n, n, row);
            row += n;
        }
    }
    for (const ConvSpec* s : specs) fused.bias.insert(fused.bias.end(), s->bias.begin(), s->bias.end());
    return fused;
}

namespace InceptionV3Convs {
constexpr int kFileConvs = 94;  ///< conv2d_1 .. conv2d_94 in the weight file
constexpr int kLayers = 75;     ///< layers after fusing each block's opening 1x1s (InceptionLayers::for_each_conv)
/// The Winograd output tile (Conv2DParams::winograd_tile) of a kh x kw layer, the fastest variant bench/winograd_error
/// measured on InceptionV3's real weights and inputs (2-core AVX-512 EPYC, 2 threads, against F(2, r)): F(4x4, 3x3)
/// 1.2-1.4x faster on the stem and 35x35 layers, F(4x4, 5x5) 1.85x, F(1x3, 1x7) and F(3x1, 7x1) 1.3x, F(1x4, 1x3) and
/// F(4x1, 3x1) 1.1-1.25x. Each stays inside the layer tests' tolerance (1e-4 + 1e-5 |reference|) on every output; the
/// largest error relative to a layer's range is 5.7e-6 (F(4x4, 3x3)), 8.4e-6 (F(1x3, 1x7)), 2.0e-6 (F(4x4, 5x5)),
/// against ~1e-6 for F(2, r) and the direct product. The 8x8 stage's 3x3 layers (conv2d_82, conv2d_91) take F(2x2):
/// 16 tiles there, not F(4x4)'s 4 (448->384, one thread: direct 1.18 ms, F(2x2) 0.82, F(4x4) 0.84 at batch 1; per
/// picture at batch 8 1.08, 0.57, 0.67). `layer` is the file's name ("conv2d_82"); the packed-weights cache checks
/// every cached layer against this rule, so a cache written under another rule is rebuilt.
inline int winograd_tile(const std::string& layer, int kh, int kw) {
    if (layer == "conv2d_82" || layer == "conv2d_91") return 2;
    return kh == 7 || kw == 7 ? 3 : 4;
}
}  // namespace InceptionV3Convs

/// The 94 convolutions of Keras' InceptionV3 (include_top=False), as a backend's Conv objects. Each block
/// keeps the 1x1 convolutions that open it from the block's input fused into one (`heads`; the comment
/// gives the order of their channels).
template <class Conv>
struct InceptionLayers {
    struct BlockA { Conv heads /* b1 64 | b5_1 48 | d1 64 */, b5_2, d2, d3, pool; };
    struct BlockB { Conv b3, d1, d2, d3; };
    struct BlockC { Conv heads /* b1 192 | s1 c7 | d1 c7 */, s2, s3, d2, d3, d4, d5, pool; };
    struct BlockD { Conv heads /* b3_1 192 | s1 192 */, b3_2, s2, s3, s4; };
    struct BlockE { Conv heads /* b1 320 | b3 384 | d1 448 */, b3a, b3b, d2, d3a, d3b, pool; };

    std::array<Conv, 5> stem;
    BlockA a[3];
    BlockB b;
    BlockC c[4];
    BlockD d;
    BlockE e[2];

    /// Calls f(conv) for every layer, always in the same order (the stem, then each block's members as
    /// declared): the order a packed-weights cache stores them in.
    template <class F>
    void for_each_conv(F&& f) {
        for (Conv& layer : stem) f(layer);
        for (BlockA& x : a) for (Conv* p : {&x.heads, &x.b5_2, &x.d2, &x.d3, &x.pool}) f(*p);
        for (Conv* p : {&b.b3, &b.d1, &b.d2, &b.d3}) f(*p);
        for (BlockC& x : c) for (Conv* p : {&x.heads, &x.s2, &x.s3, &x.d2, &x.d3, &x.d4, &x.d5, &x.pool}) f(*p);
        for (Conv* p : {&d.heads, &d.b3_2, &d.s2, &d.s3, &d.s4}) f(*p);
        for (BlockE& x : e) for (Conv* p : {&x.heads, &x.b3a, &x.b3b, &x.d2, &x.d3a, &x.d3b, &x.pool}) f(*p);
    }
    template <class F>
    void for_each_conv(F&& f) const {
        const_cast<InceptionLayers*>(this)->for_each_conv([&](Conv& c) { f(static_cast<const Conv&>(c)); });
    }

    /// Reads conv2d_n + batch_normalization_n for n = 1..94 in Keras order (checking every shape, folding
    /// BN with `epsilon`; gamma only when `bn_scale`) and makes each layer with make(ConvSpec) -> Conv.
    /// The file is read in order on this thread; with a `pool`, the layers are then made on it, several at
    /// once (make must then be safe to call concurrently: the CPU's packing is, a device upload may not be).
    template <class Make>
    static InceptionLayers load(const SafetensorsFile& file, float epsilon, bool bn_scale, Make&& make, ThreadPool* pool = nullptr) {
        int index = 0;
        auto spec = [&](int cin, int cout, int kh, int kw, int stride = 1, Padding padding = Padding::Same) {
            ++index;
            const std::string conv = "conv2d_" + std::to_string(index), bn = "batch_normalization_" + std::to_string(index);
            ConvSpec s{file.load_weight(conv + "/kernel", {kh, kw, cin, cout}), {}, {kh, kw, stride, stride, padding, true}, conv};
            s.params.winograd_tile = InceptionV3Convs::winograd_tile(conv, kh, kw);
            if (file.contains(conv + "/bias")) s.bias = file.load_weight(conv + "/bias", {cout}).values();
            auto vec = [&](const std::string& n) { return file.load_weight(bn + "/" + n, {cout}).values(); };
            fold_batchnorm(s.kernel, s.bias, bn_scale ? vec("gamma") : std::vector<float>{}, vec("beta"), vec("moving_mean"), vec("moving_variance"),
                           epsilon, conv);
            return s;
        };
        // Every layer is first described (its spec and where it goes), then made: in order, or on the pool.
        std::vector<std::pair<ConvSpec, Conv*>> jobs;
        jobs.reserve(InceptionV3Convs::kLayers);
        auto one = [&](Conv* to, int cin, int cout, int kh, int kw, int stride = 1, Padding padding = Padding::Same) {
            jobs.emplace_back(spec(cin, cout, kh, kw, stride, padding), to);
        };
        auto fused = [&](Conv* to, const std::vector<const ConvSpec*>& specs, const char* name) { jobs.emplace_back(fuse_outputs(specs, name), to); };
        InceptionLayers L;
        // Each statement reads the next conv2d_n: the order below is the file's numbering.
        one(&L.stem[0], 3, 32, 3, 3, 2, Padding::Valid);
        one(&L.stem[1], 32, 32, 3, 3, 1, Padding::Valid);
        one(&L.stem[2], 32, 64, 3, 3, 1, Padding::Same);
        one(&L.stem[3], 64, 80, 1, 1, 1, Padding::Valid);
        one(&L.stem[4], 80, 192, 3, 3, 1, Padding::Valid);
        const int cin_a[3] = {192, 256, 288}, pool_a[3] = {32, 64, 64};
        for (int i = 0; i < 3; ++i) {
            const ConvSpec b1 = spec(cin_a[i], 64, 1, 1), b5_1 = spec(cin_a[i], 48, 1, 1);
            one(&L.a[i].b5_2, 48, 64, 5, 5);
            const ConvSpec d1 = spec(cin_a[i], 64, 1, 1);
            one(&L.a[i].d2, 64, 96, 3, 3);
            one(&L.a[i].d3, 96, 96, 3, 3);
            one(&L.a[i].pool, cin_a[i], pool_a[i], 1, 1);
            fused(&L.a[i].heads, {&b1, &b5_1, &d1}, "block_a heads");
        }
        one(&L.b.b3, 288, 384, 3, 3, 2, Padding::Valid);
        one(&L.b.d1, 288, 64, 1, 1);
        one(&L.b.d2, 64, 96, 3, 3);
        one(&L.b.d3, 96, 96, 3, 3, 2, Padding::Valid);
        const int c7s[4] = {128, 160, 160, 192};
        for (int i = 0; i < 4; ++i) {
            const int c7 = c7s[i];
            const ConvSpec b1 = spec(768, 192, 1, 1), s1 = spec(768, c7, 1, 1);
            one(&L.c[i].s2, c7, c7, 1, 7);
            one(&L.c[i].s3, c7, 192, 7, 1);
            const ConvSpec d1 = spec(768, c7, 1, 1);
            one(&L.c[i].d2, c7, c7, 7, 1);
            one(&L.c[i].d3, c7, c7, 1, 7);
            one(&L.c[i].d4, c7, c7, 7, 1);
            one(&L.c[i].d5, c7, 192, 1, 7);
            one(&L.c[i].pool, 768, 192, 1, 1);
            fused(&L.c[i].heads, {&b1, &s1, &d1}, "block_c heads");
        }
        {
            const ConvSpec b3_1 = spec(768, 192, 1, 1);
            one(&L.d.b3_2, 192, 320, 3, 3, 2, Padding::Valid);
            const ConvSpec s1 = spec(768, 192, 1, 1);
            one(&L.d.s2, 192, 192, 1, 7);
            one(&L.d.s3, 192, 192, 7, 1);
            one(&L.d.s4, 192, 192, 3, 3, 2, Padding::Valid);
            fused(&L.d.heads, {&b3_1, &s1}, "block_d heads");
        }
        const int cin_e[2] = {1280, 2048};
        for (int i = 0; i < 2; ++i) {
            const ConvSpec b1 = spec(cin_e[i], 320, 1, 1), b3 = spec(cin_e[i], 384, 1, 1);
            one(&L.e[i].b3a, 384, 384, 1, 3);
            one(&L.e[i].b3b, 384, 384, 3, 1);
            const ConvSpec d1 = spec(cin_e[i], 448, 1, 1);
            one(&L.e[i].d2, 448, 384, 3, 3);
            one(&L.e[i].d3a, 384, 384, 1, 3);
            one(&L.e[i].d3b, 384, 384, 3, 1);
            one(&L.e[i].pool, cin_e[i], 192, 1, 1);
            fused(&L.e[i].heads, {&b1, &b3, &d1}, "block_e heads");
        }
        auto build = [&](std::int64_t i) {
            auto& job = jobs[std::size_t(i)];
            *job.second = make(std::move(job.first));
            job.first = ConvSpec{};  // its unpacked kernel is no longer needed
        };
        if (pool) pool->for_each(std::int64_t(jobs.size()), build);
        else for (std::int64_t i = 0; i < std::int64_t(jobs.size()); ++i) build(i);
        return L;
    }
};

namespace inception_detail {

template <class B, class Conv>
typename B::Map conv(B& be, const Conv& c, const FeatureView& in) {
    require(in.c == c.in_channels(), "conv input has the wrong number of channels", {"", c.name(), std::to_string(c.in_channels()), std::to_string(in.c)});
    const Conv2DParams& p = c.params();
    const WindowAxis y = window_axis(in.h, p.kernel_h, p.stride_h, p.padding, c.name()), x = window_axis(in.w, p.kernel_w, p.stride_w, p.padding, c.name());
    typename B::Map out = be.new_map(in.n, y.out, x.out, c.out_channels());
    be.conv(c, in, be.view(out));
    return out;
}

template <class B>
typename B::Map pool(B& be, const Pool2DParams& p, const FeatureView& in) {
    const std::vector<int> s = pool2d_output_shape(in, p);
    typename B::Map out = be.new_map(s[0], s[1], s[2], s[3]);
    be.pool(p, in, be.view(out));
    return out;
}

inline Pool2DParams max_3x3_2() { return {PoolKind::Max, 3, 3, 2, 2, Padding::Valid}; }
inline Pool2DParams avg_3x3_same() { return {PoolKind::Average, 3, 3, 1, 1, Padding::Same}; }
inline int reduced(int side) { return (side - 3) / 2 + 1; }

}  // namespace inception_detail

/// (n, h, w, 3) preprocessed input -> (n, h', w', 2048) mixed10 features; observe(name, map) is called with
/// "mixed0".."mixed10" and each block's output.
template <class B, class Observe>
typename B::Map inception_forward(B& be, const InceptionLayers<typename B::Conv>& L, const typename B::Map& input, Observe&& observe) {
    using namespace inception_detail;
    using Map = typename B::Map;
    Map x = conv(be, L.stem[0], be.view(input));
    x = conv(be, L.stem[1], be.view(x));
    x = conv(be, L.stem[2], be.view(x));
    x = pool(be, max_3x3_2(), be.view(x));
    x = conv(be, L.stem[3], be.view(x));
    x = conv(be, L.stem[4], be.view(x));
    x = pool(be, max_3x3_2(), be.view(x));
    int block = 0;
    auto emit = [&](const Map& m) { observe("mixed" + std::to_string(block++), m); };
    for (const auto& a : L.a) {
        const FeatureView v = be.view(x);
        const int pf = a.pool.out_channels();
        Map out = be.new_map(v.n, v.h, v.w, 64 + 64 + 96 + pf);
        const FeatureView o = be.view(out);
        const Map heads = conv(be, a.heads, v);
        const FeatureView h = be.view(heads);
        be.copy_channels(h.channels(0, 64), o.channels(0, 64));
        be.conv(a.b5_2, h.channels(64, 48), o.channels(64, 64));
        be.conv(a.d3, be.view(conv(be, a.d2, h.channels(112, 64))), o.channels(128, 96));
        be.conv(a.pool, be.view(pool(be, avg_3x3_same(), v)), o.channels(224, pf));
        x = std::move(out);
        emit(x);
    }
    {
        const FeatureView v = be.view(x);
        Map out = be.new_map(v.n, reduced(v.h), reduced(v.w), 384 + 96 + v.c);
        const FeatureView o = be.view(out);
        be.conv(L.b.b3, v, o.channels(0, 384));
        be.conv(L.b.d3, be.view(conv(be, L.b.d2, be.view(conv(be, L.b.d1, v)))), o.channels(384, 96));
        be.pool(max_3x3_2(), v, o.channels(480, v.c));
        x = std::move(out);
        emit(x);
    }
    for (const auto& c : L.c) {
        const FeatureView v = be.view(x);
        const int c7 = c.s2.in_channels();
        Map out = be.new_map(v.n, v.h, v.w, 768);
        const FeatureView o = be.view(out);
        const Map heads = conv(be, c.heads, v);
        const FeatureView h = be.view(heads);
        be.copy_channels(h.channels(0, 192), o.channels(0, 192));
        be.conv(c.s3, be.view(conv(be, c.s2, h.channels(192, c7))), o.channels(192, 192));
        const Map d2 = conv(be, c.d2, h.channels(192 + c7, c7));
        const Map d3 = conv(be, c.d3, be.view(d2));
        be.conv(c.d5, be.view(conv(be, c.d4, be.view(d3))), o.channels(384, 192));
        be.conv(c.pool, be.view(pool(be, avg_3x3_same(), v)), o.channels(576, 192));
        x = std::move(out);
        emit(x);
    }
    {
        const FeatureView v = be.view(x);
        Map out = be.new_map(v.n, reduced(v.h), reduced(v.w), 320 + 192 + v.c);
        const FeatureView o = be.view(out);
        const Map heads = conv(be, L.d.heads, v);
        const FeatureView h = be.view(heads);
        be.conv(L.d.b3_2, h.channels(0, 192), o.channels(0, 320));
        const Map s2 = conv(be, L.d.s2, h.channels(192, 192));
        be.conv(L.d.s4, be.view(conv(be, L.d.s3, be.view(s2))), o.channels(320, 192));
        be.pool(max_3x3_2(), v, o.channels(512, v.c));
        x = std::move(out);
        emit(x);
    }
    for (const auto& e : L.e) {
        const FeatureView v = be.view(x);
        Map out = be.new_map(v.n, v.h, v.w, 2048);
        const FeatureView o = be.view(out);
        const Map heads = conv(be, e.heads, v);
        const FeatureView h = be.view(heads);
        be.copy_channels(h.channels(0, 320), o.channels(0, 320));
        be.conv(e.b3a, h.channels(320, 384), o.channels(320, 384));
        be.conv(e.b3b, h.channels(320, 384), o.channels(704, 384));
        const Map u = conv(be, e.d2, h.channels(704, 448));
        be.conv(e.d3a, be.view(u), o.channels(1088, 384));
        be.conv(e.d3b, be.view(u), o.channels(1472, 384));
        be.conv(e.pool, be.view(pool(be, avg_3x3_same(), v)), o.channels(1856, 192));
        x = std::move(out);
        emit(x);
    }
    return x;
}

}  // namespace photong
