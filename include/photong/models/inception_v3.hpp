// photong/models/inception_v3.hpp — Keras InceptionV3 without its top: image -> 8x8x2048 features.
//
// The graph is keras.applications.inception_v3 (include_top=False) written out block by block in
// Keras' construction order, so the n-th convolution built here is Keras' `conv2d_n` (1-based,
// Keras 2.2.4 naming, which our converters normalise to) and its BatchNormalization is
// `batch_normalization_n`. Each conv's shape is checked against the file as it is read, and BN is
// folded into the conv at load. Stem: 3x3/2 valid (32), 3x3 valid (32), 3x3 same (64), maxpool
// 3/2, 1x1 (80), 3x3 valid (192), maxpool 3/2; then mixed0..mixed10 (35x35x256 ... 8x8x2048).
//
// An optional classification head (Dense layers `dense_1`..`dense_k` on the globally pooled
// features, e.g. the nsfwjs head) is loaded when the file holds one.
#pragma once

#include <array>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/preprocess.hpp"
#include "photong/nn/conv2d.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/global_pool.hpp"
#include "photong/nn/pooling.hpp"

namespace photong {

class InceptionV3 {
public:
    static constexpr int kConvCount = 94;
    static constexpr int kFeatureChannels = 2048;
    /// Called with "mixed0".."mixed10" and each block's output, for inspection and tests.
    using Observer = std::function<void(const std::string& name, const Tensor& output)>;

    explicit InceptionV3(const std::string& weights_path) : InceptionV3(SafetensorsFile(weights_path)) {}

    explicit InceptionV3(const SafetensorsFile& file) {
        const std::string model = file.metadata_or("model", "");
        if (model != "inception_v3") throw Error("weight file is not an InceptionV3 model", {file.path(), "__metadata__.model", "inception_v3", model.empty() ? "(none)" : model});
        preprocessing_ = Preprocessing::from_metadata(file.metadata(), file.path());
        Loader L{file, parse_float(file, "bn_epsilon", "0.001"), file.metadata_or("bn_scale", "false") == "true"};
        stem_ = {L.conv(3, 32, 3, 3, 2, Padding::Valid), L.conv(32, 32, 3, 3, 1, Padding::Valid), L.conv(32, 64, 3, 3, 1, Padding::Same),
                 L.conv(64, 80, 1, 1, 1, Padding::Valid), L.conv(80, 192, 3, 3, 1, Padding::Valid)};
        a_[0] = block_a(L, 192, 32);
        a_[1] = block_a(L, 256, 64);
        a_[2] = block_a(L, 288, 64);
        b_ = {L.conv(288, 384, 3, 3, 2, Padding::Valid), L.conv(288, 64, 1, 1), L.conv(64, 96, 3, 3), L.conv(96, 96, 3, 3, 2, Padding::Valid)};
        const int c7[4] = {128, 160, 160, 192};
        for (int i = 0; i < 4; ++i) c_[i] = block_c(L, c7[i]);
        d_ = block_d(L);
        e_[0] = block_e(L, 1280);
        e_[1] = block_e(L, 2048);
        load_head(file);
    }

    const Preprocessing& preprocessing() const { return preprocessing_; }

    /// Runs the layers on `pool` instead of the process-wide default pool (which has
    /// PHOTONG_NUM_THREADS or all cores). Results are bit-identical for any pool size.
    void use_thread_pool(ThreadPool& pool) { pool_ = &pool; }

    /// (n, h, w, 3) preprocessed input -> (n, h', w', 2048) mixed10 features (8x8 for 299x299).
    Tensor features(const Tensor& input, const Observer& observe = {}) const {
        require(input.rank() == 4 && input.dim(3) == 3, "InceptionV3 takes (n, h, w, 3) input",
                {"", "input", "n x h x w x 3", shape_to_string(input.shape())});
        require(input.dim(1) >= 75 && input.dim(2) >= 75, "InceptionV3 needs an input of at least 75x75",
                {"", "input", ">= 75x75", std::to_string(input.dim(1)) + "x" + std::to_string(input.dim(2))});
        Tensor x = stem_[0].forward(input, *pool_);
        x = stem_[1].forward(x, *pool_);
        x = stem_[2].forward(x, *pool_);
        x = pool2d(x, {PoolKind::Max, 3, 3, 2, 2, Padding::Valid}, *pool_);
        x = stem_[3].forward(x, *pool_);
        x = stem_[4].forward(x, *pool_);
        x = pool2d(x, {PoolKind::Max, 3, 3, 2, 2, Padding::Valid}, *pool_);
        int block = 0;
        auto emit = [&](const Tensor& t) { if (observe) observe("mixed" + std::to_string(block), t); ++block; };
        for (const auto& a : a_) { x = run_a(a, x); emit(x); }
        x = run_b(x); emit(x);
        for (const auto& c : c_) { x = run_c(c, x); emit(x); }
        x = run_d(x); emit(x);
        for (const auto& e : e_) { x = run_e(e, x); emit(x); }
        return x;
    }

    /// A decoded image -> (1, 8, 8, 2048), preprocessed as the weights require.
    Tensor features(const Image& image, const Observer& observe = {}) const { return features(preprocessing_.apply(image), observe); }

    /// The 2048-number image descriptor: the global average of the feature map.
    static Tensor pooled(const Tensor& feature_map) { return global_average_pool(feature_map); }

    bool has_head() const { return !head_.empty(); }
    const std::vector<std::string>& class_names() const { return classes_; }
    /// Runs the classification head on pooled features (n, 2048) -> (n, classes).
    Tensor classify(const Tensor& pooled_features) const {
        require(has_head(), "this InceptionV3 weight file has no classification head");
        Tensor y = pooled_features;
        for (const auto& d : head_) y = d.forward(y);
        return y;
    }

private:
    // Each block keeps the 1x1 convolutions that open it from the block's input fused into one
    // (`heads`, see Conv2D::concat_outputs); the comment gives the order of their channels.
    struct BlockA { Conv2D heads /* b1 64 | b5_1 48 | d1 64 */, b5_2, d2, d3, pool; };
    struct BlockB { Conv2D b3, d1, d2, d3; };
    struct BlockC { Conv2D heads /* b1 192 | s1 c7 | d1 c7 */, s2, s3, d2, d3, d4, d5, pool; };
    struct BlockD { Conv2D heads /* b3_1 192 | s1 192 */, b3_2, s2, s3, s4; };
    struct BlockE { Conv2D heads /* b1 320 | b3 384 | d1 448 */, b3a, b3b, d2, d3a, d3b, pool; };

    /// Reads conv2d_n + batch_normalization_n in Keras order, checking shapes as it goes.
    struct Loader {
        const SafetensorsFile& file;
        float epsilon;
        bool bn_scale;
        int index = 0;
        Conv2D conv(int cin, int cout, int kh, int kw, int stride = 1, Padding padding = Padding::Same) {
            ++index;
            const std::string conv_name = "conv2d_" + std::to_string(index), bn = "batch_normalization_" + std::to_string(index);
            Tensor kernel = file.load_weight(conv_name + "/kernel", {kh, kw, cin, cout});
            std::vector<float> bias;
            if (file.contains(conv_name + "/bias")) bias = file.load_weight(conv_name + "/bias", {cout}).values();
            auto vec = [&](const std::string& n) { return file.load_weight(bn + "/" + n, {cout}).values(); };
            fold_batchnorm(kernel, bias, bn_scale ? vec("gamma") : std::vector<float>{}, vec("beta"), vec("moving_mean"),
                           vec("moving_variance"), epsilon, conv_name);
            return Conv2D(kernel, std::move(bias), {kh, kw, stride, stride, padding, true}, conv_name);
        }
    };

    static float parse_float(const SafetensorsFile& f, const std::string& key, const std::string& fallback) {
        const std::string s = f.metadata_or(key, fallback);
        std::istringstream is(s);
        is.imbue(std::locale::classic());
        float v = 0;
        if (!(is >> v) || !(v >= 0.0f)) throw Error("metadata value is not a non-negative number", {f.path(), key, "a number", s});
        return v;
    }

    // The loaders read convolutions strictly in Keras order (each statement one conv2d_n).
    static BlockA block_a(Loader& L, int cin, int pool_features) {
        const Conv2D b1 = L.conv(cin, 64, 1, 1), b5_1 = L.conv(cin, 48, 1, 1);
        BlockA a;
        a.b5_2 = L.conv(48, 64, 5, 5);
        const Conv2D d1 = L.conv(cin, 64, 1, 1);
        a.d2 = L.conv(64, 96, 3, 3);
        a.d3 = L.conv(96, 96, 3, 3);
        a.pool = L.conv(cin, pool_features, 1, 1);
        a.heads = Conv2D::concat_outputs({&b1, &b5_1, &d1}, "block_a heads");
        return a;
    }
    static BlockC block_c(Loader& L, int c7) {
        const Conv2D b1 = L.conv(768, 192, 1, 1), s1 = L.conv(768, c7, 1, 1);
        BlockC c;
        c.s2 = L.conv(c7, c7, 1, 7);
        c.s3 = L.conv(c7, 192, 7, 1);
        const Conv2D d1 = L.conv(768, c7, 1, 1);
        c.d2 = L.conv(c7, c7, 7, 1);
        c.d3 = L.conv(c7, c7, 1, 7);
        c.d4 = L.conv(c7, c7, 7, 1);
        c.d5 = L.conv(c7, 192, 1, 7);
        c.pool = L.conv(768, 192, 1, 1);
        c.heads = Conv2D::concat_outputs({&b1, &s1, &d1}, "block_c heads");
        return c;
    }
    static BlockD block_d(Loader& L) {
        const Conv2D b3_1 = L.conv(768, 192, 1, 1);
        BlockD d;
        d.b3_2 = L.conv(192, 320, 3, 3, 2, Padding::Valid);
        const Conv2D s1 = L.conv(768, 192, 1, 1);
        d.s2 = L.conv(192, 192, 1, 7);
        d.s3 = L.conv(192, 192, 7, 1);
        d.s4 = L.conv(192, 192, 3, 3, 2, Padding::Valid);
        d.heads = Conv2D::concat_outputs({&b3_1, &s1}, "block_d heads");
        return d;
    }
    static BlockE block_e(Loader& L, int cin) {
        const Conv2D b1 = L.conv(cin, 320, 1, 1), b3 = L.conv(cin, 384, 1, 1);
        BlockE e;
        e.b3a = L.conv(384, 384, 1, 3);
        e.b3b = L.conv(384, 384, 3, 1);
        const Conv2D d1 = L.conv(cin, 448, 1, 1);
        e.d2 = L.conv(448, 384, 3, 3);
        e.d3a = L.conv(384, 384, 1, 3);
        e.d3b = L.conv(384, 384, 3, 1);
        e.pool = L.conv(cin, 192, 1, 1);
        e.heads = Conv2D::concat_outputs({&b1, &b3, &d1}, "block_e heads");
        return e;
    }

    void load_head(const SafetensorsFile& file) {
        std::vector<std::string> acts;
        {
            std::istringstream is(file.metadata_or("head_activations", ""));
            for (std::string a; std::getline(is, a, ',');) acts.push_back(a);
        }
        std::int64_t width = kFeatureChannels;
        for (int k = 1; file.contains("dense_" + std::to_string(k) + "/kernel"); ++k) {
            const std::string name = "dense_" + std::to_string(k);
            const TensorInfo& ti = file.info(name + "/kernel");
            if (ti.shape.size() != 2 || ti.shape[0] != width)
                throw Error("head layer does not follow the previous one", {file.path(), name + "/kernel", std::to_string(width) + " x units", shape_to_string(ti.shape)});
            const std::int64_t units = ti.shape[1];
            if (std::size_t(k) > acts.size()) throw Error("metadata head_activations lists too few activations", {file.path(), name});
            head_.emplace_back(file.load_weight(name + "/kernel"), file.load_weight(name + "/bias", {units}).values(), parse_activation(acts[std::size_t(k - 1)]), name);
            width = units;
        }
        std::istringstream is(file.metadata_or("classes", ""));
        for (std::string c; std::getline(is, c, ',');) classes_.push_back(c);
        if (has_head() && !classes_.empty() && std::int64_t(classes_.size()) != width)
            throw Error("metadata classes does not match the head's output size", {file.path(), "classes", std::to_string(width), std::to_string(classes_.size())});
    }

    static Tensor new_map(const Tensor& like_nhw, int h, int w, int c) { return Tensor::nhwc(int(like_nhw.dim(0)), h, w, c); }
    Tensor avg_pool_same(const Tensor& x) const { return pool2d(x, {PoolKind::Average, 3, 3, 1, 1, Padding::Same}, *pool_); }
    /// Copies a channel slice into its slot of a concatenation.
    static void copy_channels(const FeatureView& from, const FeatureView& to) {
        for (std::int64_t p = 0; p < from.pixels(); ++p)
            std::copy_n(from.data + p * from.pixel_stride, from.c, to.data + p * to.pixel_stride);
    }

    Tensor run_a(const BlockA& a, const Tensor& x) const {
        const int H = int(x.dim(1)), W = int(x.dim(2)), pf = a.pool.out_channels();
        Tensor out = new_map(x, H, W, 64 + 64 + 96 + pf);
        const FeatureView o = out.view();
        const Tensor heads = a.heads.forward(x, *pool_);
        const FeatureView h = heads.view();
        copy_channels(h.channels(0, 64), o.channels(0, 64));
        a.b5_2.forward(h.channels(64, 48), o.channels(64, 64), *pool_);
        a.d3.forward(a.d2.forward(h.channels(112, 64), *pool_).view(), o.channels(128, 96), *pool_);
        a.pool.forward(avg_pool_same(x).view(), o.channels(224, pf), *pool_);
        return out;
    }
    Tensor run_b(const Tensor& x) const {
        const int H = (int(x.dim(1)) - 3) / 2 + 1, W = (int(x.dim(2)) - 3) / 2 + 1, C = int(x.dim(3));
        Tensor out = new_map(x, H, W, 384 + 96 + C);
        const FeatureView o = out.view();
        b_.b3.forward(x.view(), o.channels(0, 384), *pool_);
        b_.d3.forward(b_.d2.forward(b_.d1.forward(x, *pool_), *pool_).view(), o.channels(384, 96), *pool_);
        pool2d(x.view(), o.channels(480, C), {PoolKind::Max, 3, 3, 2, 2, Padding::Valid}, *pool_);
        return out;
    }
    Tensor run_c(const BlockC& c, const Tensor& x) const {
        const int c7 = c.s2.in_channels();
        Tensor out = new_map(x, int(x.dim(1)), int(x.dim(2)), 768);
        const FeatureView o = out.view();
        const Tensor heads = c.heads.forward(x, *pool_);
        const FeatureView h = heads.view();
        copy_channels(h.channels(0, 192), o.channels(0, 192));
        c.s3.forward(c.s2.forward(h.channels(192, c7), *pool_).view(), o.channels(192, 192), *pool_);
        c.d5.forward(c.d4.forward(c.d3.forward(c.d2.forward(h.channels(192 + c7, c7), *pool_), *pool_), *pool_).view(), o.channels(384, 192), *pool_);
        c.pool.forward(avg_pool_same(x).view(), o.channels(576, 192), *pool_);
        return out;
    }
    Tensor run_d(const Tensor& x) const {
        const int H = (int(x.dim(1)) - 3) / 2 + 1, W = (int(x.dim(2)) - 3) / 2 + 1, C = int(x.dim(3));
        Tensor out = new_map(x, H, W, 320 + 192 + C);
        const FeatureView o = out.view();
        const Tensor heads = d_.heads.forward(x, *pool_);
        const FeatureView h = heads.view();
        d_.b3_2.forward(h.channels(0, 192), o.channels(0, 320), *pool_);
        d_.s4.forward(d_.s3.forward(d_.s2.forward(h.channels(192, 192), *pool_), *pool_).view(), o.channels(320, 192), *pool_);
        pool2d(x.view(), o.channels(512, C), {PoolKind::Max, 3, 3, 2, 2, Padding::Valid}, *pool_);
        return out;
    }
    Tensor run_e(const BlockE& e, const Tensor& x) const {
        Tensor out = new_map(x, int(x.dim(1)), int(x.dim(2)), 2048);
        const FeatureView o = out.view();
        const Tensor heads = e.heads.forward(x, *pool_);
        const FeatureView h = heads.view();
        copy_channels(h.channels(0, 320), o.channels(0, 320));
        e.b3a.forward(h.channels(320, 384), o.channels(320, 384), *pool_);
        e.b3b.forward(h.channels(320, 384), o.channels(704, 384), *pool_);
        const Tensor u = e.d2.forward(h.channels(704, 448), *pool_);
        e.d3a.forward(u.view(), o.channels(1088, 384), *pool_);
        e.d3b.forward(u.view(), o.channels(1472, 384), *pool_);
        e.pool.forward(avg_pool_same(x).view(), o.channels(1856, 192), *pool_);
        return out;
    }

    Preprocessing preprocessing_;
    ThreadPool* pool_ = &default_thread_pool();
    std::array<Conv2D, 5> stem_;
    BlockA a_[3];
    BlockB b_;
    BlockC c_[4];
    BlockD d_;
    BlockE e_[2];
    std::vector<Dense> head_;
    std::vector<std::string> classes_;
};

}  // namespace photong
