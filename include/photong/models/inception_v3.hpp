// photong/models/inception_v3.hpp — Keras InceptionV3 without its top: image -> 8x8x2048 features.
//
// The graph (models/inception_v3_graph.hpp, shared with the kernel backend) is
// keras.applications.inception_v3 (include_top=False) written out block by block in Keras'
// construction order, so the n-th convolution built there is Keras' `conv2d_n` (1-based, Keras 2.2.4
// naming, which our converters normalise to) and its BatchNormalization is `batch_normalization_n`. Each conv's shape is checked against the file as it is read, and BN is
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
#include "photong/models/inception_v3_graph.hpp"
#include "photong/models/map_arena.hpp"
#include "photong/models/packed_weights_cache.hpp"
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

    /// How a file is loaded: by the constructor taking these, the one Pipeline uses.
    struct LoadOptions {
        /// Where packed layers are cached (models/packed_weights_cache.hpp); "" or "off": built from the file every time.
        std::string cache_dir = PackedWeightsCache::default_dir();
        /// Check the file against NAME.sha256 beside it (verify_weights_checksum), once per cache build.
        bool verify_checksum = false;
        /// Packs and checks on this pool (null: default_thread_pool()).
        ThreadPool* pool = nullptr;
    };

    /// Builds the layers from the file (folded and packed on default_thread_pool()), with no cache.
    explicit InceptionV3(const std::string& weights_path) : InceptionV3(SafetensorsFile(weights_path)) {}

    explicit InceptionV3(const SafetensorsFile& file) {
        check_model(file);
        layers_ = InceptionLayers<Conv2D>::load(
            file, bn_epsilon(file), bn_scale(file), [](ConvSpec s) { return Conv2D(s.kernel, std::move(s.bias), s.params, std::move(s.name)); },
            &default_thread_pool());
        load_head(file);
    }

    /// Loads with a packed-weights cache: mapped from it when valid, else built and saved (cache_report() says which).
    InceptionV3(const std::string& weights_path, const LoadOptions& options) {
        const SafetensorsFile file(weights_path);
        check_model(file);
        ThreadPool& pool = options.pool ? *options.pool : default_thread_pool();
        layers_ = PackedWeightsCache(options.cache_dir).load_inception(file, bn_epsilon(file), bn_scale(file), options.verify_checksum, pool, cache_report_);
        load_head(file);
    }

    /// What the packed-weights cache did on this load (Outcome::Off for the constructors without one).
    const PackedCacheReport& cache_report() const { return cache_report_; }

    /// The BatchNormalization epsilon of a weight file (`__metadata__.bn_epsilon`, Keras' 0.001 when absent).
    static float bn_epsilon(const SafetensorsFile& f) { return parse_float(f, "bn_epsilon", "0.001"); }
    /// Whether the file's BatchNormalization layers have a gamma (`__metadata__.bn_scale`; Keras' InceptionV3 has none).
    static bool bn_scale(const SafetensorsFile& f) { return f.metadata_or("bn_scale", "false") == "true"; }

    const Preprocessing& preprocessing() const { return preprocessing_; }
    /// The layers, BatchNormalization folded (for tools that examine single layers: bench/winograd_error).
    const InceptionLayers<Conv2D>& layers() const { return layers_; }

    /// Runs the layers on `pool` instead of the process-wide default pool (which has
    /// PHOTONG_NUM_THREADS or all cores). Results are bit-identical for any pool size.
    void use_thread_pool(ThreadPool& pool) { pool_ = &pool; }

    /// (n, h, w, 3) preprocessed input -> (n, h', w', 2048) mixed10 features (8x8 for 299x299).
    Tensor features(const Tensor& input, const Observer& observe = {}) const {
        require(input.rank() == 4 && input.dim(3) == 3, "InceptionV3 takes (n, h, w, 3) input",
                {"", "input", "n x h x w x 3", shape_to_string(input.shape())});
        require(input.dim(1) >= 75 && input.dim(2) >= 75, "InceptionV3 needs an input of at least 75x75",
                {"", "input", ">= 75x75", std::to_string(input.dim(1)) + "x" + std::to_string(input.dim(2))});
        CpuBackend backend{pool_, maps_.get()};
        // The input is read in place (never written); every other map comes from the arena and goes back to it.
        const MapArena::Map in{std::shared_ptr<float>(const_cast<float*>(input.data()), [](float*) {}), int(input.dim(0)), int(input.dim(1)),
                               int(input.dim(2)), 3};
        const MapArena::Map out = inception_forward(backend, layers_, in, [&](const std::string& name, const MapArena::Map& m) {
            if (observe) observe(name, to_tensor(m));
        });
        return to_tensor(out);
    }

    /// Frees the buffers kept for intermediate maps between calls (at most one working set: ~26 MB per picture of
    /// the largest batch run so far); the next call allocates them again.
    void release_maps() const { maps_->release(); }

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
    /// The CPU side of inception_v3_graph.hpp: Conv2D layers, Tensors in host memory, the thread pool.
    struct CpuBackend {
        using Conv = Conv2D;
        using Map = MapArena::Map;
        ThreadPool* threads;
        MapArena* arena;
        Map new_map(int n, int h, int w, int c) const { return arena->take(n, h, w, c); }
        FeatureView view(const Map& m) const { return m.view(); }
        void conv(const Conv2D& c, const FeatureView& in, const FeatureView& out) const { c.forward(in, out, *threads); }
        void pool(const Pool2DParams& p, const FeatureView& in, const FeatureView& out) const { pool2d(in, out, p, *threads); }
        void copy_channels(const FeatureView& from, const FeatureView& to) const {
            constexpr std::int64_t kPixels = 64;  // per task
            threads->for_each((from.pixels() + kPixels - 1) / kPixels, [&](std::int64_t t) {
                for (std::int64_t p = t * kPixels; p < std::min<std::int64_t>(from.pixels(), (t + 1) * kPixels); ++p)
                    std::copy_n(from.data + p * from.pixel_stride, from.c, to.data + p * to.pixel_stride);
            });
        }
    };

    void check_model(const SafetensorsFile& file) {
        const std::string model = file.metadata_or("model", "");
        if (model != "inception_v3") throw Error("weight file is not an InceptionV3 model", {file.path(), "__metadata__.model", "inception_v3", model.empty() ? "(none)" : model});
        preprocessing_ = Preprocessing::from_metadata(file.metadata(), file.path());
    }

    static Tensor to_tensor(const MapArena::Map& m) {
        Tensor t = Tensor::nhwc(m.n, m.h, m.w, m.c);
        std::copy_n(m.data.get(), t.size(), t.data());
        return t;
    }

    static float parse_float(const SafetensorsFile& f, const std::string& key, const std::string& fallback) {
        const std::string s = f.metadata_or(key, fallback);
        std::istringstream is(s);
        is.imbue(std::locale::classic());
        float v = 0;
        if (!(is >> v) || !(v >= 0.0f)) throw Error("metadata value is not a non-negative number", {f.path(), key, "a number", s});
        return v;
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

    Preprocessing preprocessing_;
    ThreadPool* pool_ = &default_thread_pool();
    InceptionLayers<Conv2D> layers_;
    std::vector<Dense> head_;
    std::vector<std::string> classes_;
    PackedCacheReport cache_report_;
    std::unique_ptr<MapArena> maps_ = std::make_unique<MapArena>();  // a pointer: the maps' deleters keep its address
};

}  // namespace photong
