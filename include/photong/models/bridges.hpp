// photong/models/bridges.hpp — Photong's bridge models: InceptionV3 features -> z / arousal / valence.
//
// The paper (../shared/seeds/photong.md, "Bridging models") names three small networks on the
// (8, 8, 2048) mixed10 map and gives only their kind: an embedding generator ("a 2D convolution
// layer and multiple dense layers", trained with MSE) producing MusicVAE's 512-number z, an arousal
// generator and a valence classifier (binary classifiers giving a probability). No layer sizes or
// activations are published, so their architecture cannot be hard-coded here: it is read from the
// weight file, and the same loader serves all three.
//
// File format (safetensors, Keras naming; weights/keras_h5_to_safetensors.py writes it from a saved
// Keras Sequential or single-chain Functional model, `--bridge KIND`):
//   tensors   `<layer>/kernel` (Conv2D HWIO [kh, kw, cin, cout]; Dense [in, out]) and `<layer>/bias`
//             ([cout] / [out]; absent exactly when the layer says "use_bias": false).
//   metadata  `bridge`        "embedding" | "arousal" | "valence"
//             `input_shape`   JSON [h, w, c], e.g. [8, 8, 2048]
//             `architecture`  JSON list of layers in order, each an object with
//                 "type": "conv2d" | "dense" | "flatten" | "global_average_pooling2d" | "dropout" | "activation"
//                         | "concat_colour_features"
//                 "name" (unique; the tensors' prefix), "activation" (linear|relu|sigmoid|softmax|tanh|softplus;
//                 conv2d / dense / activation only, default linear), optional "use_bias" (default true);
//                 conv2d also "kernel_size": [kh, kw], "strides": [sh, sw], "padding": "valid" | "same", and
//                 optionally "filters"; dense optionally "units"; dropout optionally "rate" (ignored);
//                 concat_colour_features "features": a list of "brightness" | "saturation" | "colourfulness"
//                 (each at most once): appends those fields of the picture's ColourFeatures
//                 (image/colour_affect.hpp, raw, unstandardised) to the vector, in that order.
//             `model`         if present, must be "bridge".
//
// Decisions, briefly defended:
// - Architecture from metadata rather than inferred from tensor names: activations, strides,
//   padding and the flatten / pooling steps leave no trace in the tensors, and guessing them
//   would load a different network than was trained. The list mirrors Keras' own model config,
//   so the converter copies it field by field instead of reconstructing it.
// - Everything is checked at load, not at the first forward(): the shapes are propagated from
//   `input_shape` through the list, so a kernel that does not fit the map before it, a dense
//   layer on an unflattened map, a missing or stray tensor, an unknown key or layer type all
//   throw photong::Error naming the file, the layer/tensor, what was expected and what was found.
//   Unused tensors are refused (as the MusicVAE loaders do): a file holding more than its
//   architecture uses is not the model it claims to be.
// - Flatten is a reshape of our NHWC map, i.e. Keras' channels_last order (h, w, c) — the order
//   the first Dense kernel's rows were trained in. (PyTorch's NCHW flatten is (c, h, w); the
//   tests build the reference in PyTorch and permute explicitly, which is what they check.)
// - Dropout is the identity at inference. Conv2D's ReLU is fused into the convolution; any other
//   activation is applied after it over the channel axis (Keras semantics, softmax included).
// - concat_colour_features is Melody Muse's design (../shared/seeds/melody-muse.md 2.1: brightness and
//   colourfulness concatenated with the flattened image features before the dense layers). The values
//   enter raw; a model trained on z-scores folds the standardisation into the next dense layer
//   (tools/affect_heads.py), so the file carries no separate statistics. forward() then needs the
//   pictures' colour features beside the mixed10 maps, and refuses to run without them.
// - The network must end in a vector (n, k): its size is output_size(), read from the last layer.
// - Probabilities: a final sigmoid of size 1 gives p directly; a final softmax of size 2 gives
//   p(class 1) — Keras' to_categorical / sparse labels put the "high arousal" / "positive valence"
//   label (1) second. Anything else is refused by predict_probability (a linear output is a
//   logit or a regression, not a probability, and guessing would silently mis-scale the tempo).
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/colour_affect.hpp"
#include "photong/nn/conv2d.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/global_pool.hpp"
#include "photong/nn/padding.hpp"

namespace photong {

enum class BridgeKind { Embedding, Arousal, Valence };

inline const char* bridge_kind_name(BridgeKind k) {
    switch (k) {
        case BridgeKind::Embedding: return "embedding";
        case BridgeKind::Arousal: return "arousal";
        case BridgeKind::Valence: return "valence";
    }
    return "?";
}

class BridgeModel {
public:
    enum class LayerType { Conv2D, Dense, Flatten, GlobalAveragePooling2D, Dropout, Activation, ConcatColourFeatures };

    explicit BridgeModel(const std::string& path) : BridgeModel(SafetensorsFile(path)) {}

    explicit BridgeModel(const SafetensorsFile& file) : path_(file.path()) {
        const std::string model = file.metadata_or("model", "bridge");
        if (model != "bridge")
            throw Error("weight file is not a bridge model (converters: --bridge KIND)", {path_, "__metadata__.model", "bridge", model});
        const std::string kind = file.metadata_or("bridge", "");
        if (kind == "embedding") kind_ = BridgeKind::Embedding;
        else if (kind == "arousal") kind_ = BridgeKind::Arousal;
        else if (kind == "valence") kind_ = BridgeKind::Valence;
        else
            throw Error("bridge metadata `bridge` must name the model (converters: --bridge KIND)",
                        {path_, "__metadata__.bridge", "embedding|arousal|valence", kind.empty() ? "(none)" : kind});
        parse_input_shape(file.metadata_or("input_shape", ""));
        build(file);
    }

    BridgeKind kind() const { return kind_; }
    const std::string& path() const { return path_; }
    /// Expected (h, w, c) of one feature map, from `input_shape`.
    const std::vector<std::int64_t>& input_shape() const { return input_shape_; }
    /// Length of the output vector (the last layer's width).
    std::int64_t output_size() const { return output_size_; }
    /// The activation that produced the output (the last non-dropout layer's).
    Activation output_activation() const { return output_activation_; }
    std::size_t layer_count() const { return layers_.size(); }
    /// True when the architecture has a concat_colour_features layer: forward() then needs `colour`.
    bool uses_colour_features() const { return uses_colour_; }

    /// Runs the convolutions on `pool` instead of the process-wide default (results identical).
    void use_thread_pool(ThreadPool& pool) { pool_ = &pool; }

    /// features (n, h, w, c) NHWC, the shape `input_shape` names -> (n, output_size()). `colour` holds
    /// one ColourFeatures per example (colour_features() of each picture) when uses_colour_features(),
    /// and is ignored otherwise.
    Tensor forward(const Tensor& features, const std::vector<ColourFeatures>& colour = {}) const {
        const std::vector<std::int64_t>& s = features.shape();
        const bool ok = s.size() == 4 && s[0] >= 1 && s[1] == input_shape_[0] && s[2] == input_shape_[1] && s[3] == input_shape_[2];
        require(ok, "bridge input has the wrong shape",
                {path_, "input", "n x " + shape_to_string(input_shape_), shape_to_string(s)});
        if (uses_colour_)
            require(colour.size() == std::size_t(s[0]),
                    "this bridge also takes the pictures' colour features (concat_colour_features): give one per example",
                    {path_, "colour", std::to_string(s[0]) + " ColourFeatures", std::to_string(colour.size())});
        Tensor x = features;
        for (const Layer& l : layers_) {
            switch (l.type) {
                case LayerType::Conv2D: {
                    x = l.conv.forward(x.view(), *pool_);
                    if (l.activation != Activation::Relu)  // ReLU is fused into the convolution
                        apply_activation(x.data(), std::int64_t(x.size()) / x.dim(3), x.dim(3), l.activation);
                    break;
                }
                case LayerType::Dense: x = l.dense.forward(x); break;
                case LayerType::Flatten: x = x.reshaped({x.dim(0), std::int64_t(x.size()) / x.dim(0)}); break;
                case LayerType::GlobalAveragePooling2D: x = global_average_pool(x); break;
                case LayerType::Dropout: break;
                case LayerType::ConcatColourFeatures: x = append_colour(x, l.colour_fields, colour); break;
                case LayerType::Activation: {
                    const std::int64_t last = x.dim(x.rank() - 1);
                    apply_activation(x.data(), std::int64_t(x.size()) / last, last, l.activation);
                    break;
                }
            }
        }
        return x;
    }

private:
    struct Layer {
        LayerType type = LayerType::Dropout;
        std::string name;
        Activation activation = Activation::Linear;
        Conv2D conv;
        Dense dense;
        std::vector<ColourField> colour_fields;  // concat_colour_features only
    };

    static Tensor append_colour(const Tensor& x, const std::vector<ColourField>& fields, const std::vector<ColourFeatures>& colour) {
        const std::int64_t n = x.dim(0), k = x.dim(1), m = std::int64_t(fields.size());
        Tensor y({n, k + m});
        for (std::int64_t i = 0; i < n; ++i) {
            std::copy(x.data() + i * k, x.data() + (i + 1) * k, y.data() + i * (k + m));
            for (std::int64_t j = 0; j < m; ++j) y[std::size_t(i * (k + m) + k + j)] = float(colour_field(colour[std::size_t(i)], fields[std::size_t(j)]));
        }
        return y;
    }

    [[noreturn]] void fail(const std::string& what, const std::string& where, const std::string& expected = "",
                           const std::string& found = "") const {
        throw Error(what, {path_, where, expected, found});
    }

    void parse_input_shape(const std::string& text) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception&) {
            fail("bridge metadata `input_shape` is not JSON", "__metadata__.input_shape", "[h, w, c]", text.empty() ? "(none)" : text);
        }
        bool ok = j.is_array() && j.size() == 3;
        if (ok)
            for (const auto& d : j) ok = ok && d.is_number_integer() && d.get<std::int64_t>() >= 1 && d.get<std::int64_t>() <= (1 << 20);
        if (!ok) fail("bridge metadata `input_shape` must be three positive integers", "__metadata__.input_shape", "[h, w, c]", text);
        for (const auto& d : j) input_shape_.push_back(d.get<std::int64_t>());
    }

    /// Integer pair field such as "kernel_size": [3, 3].
    std::vector<int> pair(const nlohmann::json& l, const char* key, const std::string& where) const {
        auto it = l.find(key);
        if (it == l.end()) fail(std::string("conv2d layer lacks \"") + key + "\"", where, "[a, b]", "(none)");
        bool ok = it->is_array() && it->size() == 2;
        if (ok)
            for (const auto& v : *it) ok = ok && v.is_number_integer() && v.get<std::int64_t>() >= 1 && v.get<std::int64_t>() <= 4096;
        if (!ok) fail(std::string("conv2d \"") + key + "\" must be two positive integers", where, "[a, b]", it->dump());
        return {(*it)[0].get<int>(), (*it)[1].get<int>()};
    }

    std::string string_field(const nlohmann::json& l, const char* key, const std::string& where, const std::string& fallback) const {
        auto it = l.find(key);
        if (it == l.end()) return fallback;
        if (!it->is_string()) fail(std::string("layer field \"") + key + "\" must be a string", where, "a string", it->dump());
        return it->get<std::string>();
    }

    bool use_bias(const nlohmann::json& l, const std::string& where) const {
        auto it = l.find("use_bias");
        if (it == l.end()) return true;
        if (!it->is_boolean()) fail("layer field \"use_bias\" must be true or false", where, "true|false", it->dump());
        return it->get<bool>();
    }

    /// The optional declared width ("filters" / "units") must match the kernel.
    void check_width(const nlohmann::json& l, const char* key, std::int64_t width, const std::string& where) const {
        auto it = l.find(key);
        if (it == l.end()) return;
        if (!it->is_number_integer() || it->get<std::int64_t>() != width)
            fail(std::string("layer's \"") + key + "\" does not match its kernel", where, std::to_string(width), it->dump());
    }

    std::vector<float> load_bias(const SafetensorsFile& file, const std::string& name, bool bias, std::int64_t width,
                                 std::set<std::string>& used) const {
        const std::string b = name + "/bias";
        if (!bias) {
            if (file.contains(b)) fail("tensor present for a layer with \"use_bias\": false", b, "no bias", shape_to_string(file.info(b).shape));
            return {};
        }
        if (!file.contains(b)) fail("tensor missing from bridge weight file", b, "[" + std::to_string(width) + "]", "(none)");
        used.insert(b);
        return file.load_weight(b, {width}).values();
    }

    const TensorInfo& kernel_info(const SafetensorsFile& file, const std::string& name, std::size_t rank, const std::string& expected) const {
        const std::string k = name + "/kernel";
        if (!file.contains(k)) fail("tensor missing from bridge weight file", k, expected, "(none)");
        const TensorInfo& ti = file.info(k);
        if (ti.shape.size() != rank) fail("tensor has the wrong shape", k, expected, shape_to_string(ti.shape));
        return ti;
    }

    void build(const SafetensorsFile& file) {
        const std::string text = file.metadata_or("architecture", "");
        nlohmann::json arch;
        try {
            arch = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            fail(std::string("bridge metadata `architecture` is not JSON: ") + e.what(), "__metadata__.architecture",
                 "a JSON list of layers", text.empty() ? "(none)" : text.substr(0, 80));
        }
        if (!arch.is_array() || arch.empty())
            fail("bridge metadata `architecture` must be a non-empty list of layers", "__metadata__.architecture", "[{...}, ...]", text.substr(0, 80));

        // Shape of one example as it flows: (h, w, c) while a map, (k) once a vector.
        std::vector<std::int64_t> shape = input_shape_;
        std::set<std::string> names, used;
        static const std::set<std::string> common = {"type", "name"};
        for (std::size_t i = 0; i < arch.size(); ++i) {
            const nlohmann::json& l = arch[i];
            const std::string at = "architecture[" + std::to_string(i) + "]";
            if (!l.is_object()) fail("bridge layer is not an object", at, "{\"type\": ..., \"name\": ...}", l.dump());
            const std::string type = string_field(l, "type", at, "");
            Layer layer;
            layer.name = string_field(l, "name", at, "");
            if (layer.name.empty() || layer.name.find('/') != std::string::npos)
                fail("bridge layer needs a non-empty \"name\" without '/'", at, "a layer name", layer.name.empty() ? "(none)" : layer.name);
            if (!names.insert(layer.name).second) fail("two bridge layers share a name", layer.name, "unique names", layer.name);
            const std::string where = layer.name + " (" + at + ")";

            std::set<std::string> allowed = common;
            if (type == "conv2d") {
                allowed.insert({"activation", "kernel_size", "strides", "padding", "use_bias", "filters"});
                layer.type = LayerType::Conv2D;
                if (shape.size() != 3) fail("conv2d needs a feature map, but the previous layer gives a vector", where, "h x w x c", shape_to_string(shape));
                const std::vector<int> k = pair(l, "kernel_size", where), st = pair(l, "strides", where);
                Padding padding = Padding::Valid;
                const std::string pad = string_field(l, "padding", where, "");
                if (pad == "same") padding = Padding::Same;
                else if (pad != "valid") fail("conv2d \"padding\" must be valid or same", where, "valid|same", pad.empty() ? "(none)" : pad);
                layer.activation = activation(l, where);
                const std::string expected = std::to_string(k[0]) + "x" + std::to_string(k[1]) + "x" + std::to_string(shape[2]) + "xfilters";
                const TensorInfo& ti = kernel_info(file, layer.name, 4, expected);
                if (ti.shape[0] != k[0] || ti.shape[1] != k[1] || ti.shape[2] != shape[2] || ti.shape[3] < 1)
                    fail("tensor has the wrong shape", layer.name + "/kernel", expected, shape_to_string(ti.shape));
                const std::int64_t cout = ti.shape[3];
                check_width(l, "filters", cout, where);
                used.insert(layer.name + "/kernel");
                std::vector<float> bias = load_bias(file, layer.name, use_bias(l, where), cout, used);
                Conv2DParams p;
                p.stride_h = st[0];
                p.stride_w = st[1];
                p.padding = padding;
                p.relu = layer.activation == Activation::Relu;
                layer.conv = Conv2D(file.load_weight(layer.name + "/kernel"), std::move(bias), p, layer.name);
                WindowAxis ay, ax;
                try {
                    ay = window_axis(int(shape[0]), k[0], st[0], padding, layer.name);
                    ax = window_axis(int(shape[1]), k[1], st[1], padding, layer.name);
                } catch (const Error& e) {  // add the file to the context
                    fail(e.message(), where, e.context().expected, e.context().found);
                }
                shape = {ay.out, ax.out, cout};
            } else if (type == "dense") {
                allowed.insert({"activation", "use_bias", "units"});
                layer.type = LayerType::Dense;
                if (shape.size() != 1)
                    fail("dense needs a vector: put flatten or global_average_pooling2d before it", where, "a vector", shape_to_string(shape));
                layer.activation = activation(l, where);
                const std::string expected = std::to_string(shape[0]) + "xunits";
                const TensorInfo& ti = kernel_info(file, layer.name, 2, expected);
                if (ti.shape[0] != shape[0] || ti.shape[1] < 1) fail("tensor has the wrong shape", layer.name + "/kernel", expected, shape_to_string(ti.shape));
                const std::int64_t units = ti.shape[1];
                check_width(l, "units", units, where);
                used.insert(layer.name + "/kernel");
                std::vector<float> bias = load_bias(file, layer.name, use_bias(l, where), units, used);
                layer.dense = Dense(file.load_weight(layer.name + "/kernel"), std::move(bias), layer.activation, layer.name);
                shape = {units};
            } else if (type == "flatten") {
                layer.type = LayerType::Flatten;
                std::int64_t n = 1;
                for (auto d : shape) n *= d;
                shape = {n};
            } else if (type == "global_average_pooling2d") {
                layer.type = LayerType::GlobalAveragePooling2D;
                if (shape.size() != 3) fail("global_average_pooling2d needs a feature map", where, "h x w x c", shape_to_string(shape));
                shape = {shape[2]};
            } else if (type == "concat_colour_features") {
                allowed.insert("features");
                layer.type = LayerType::ConcatColourFeatures;
                if (shape.size() != 1)
                    fail("concat_colour_features needs a vector: put flatten or global_average_pooling2d before it", where, "a vector", shape_to_string(shape));
                layer.colour_fields = colour_fields(l, where);
                uses_colour_ = true;
                shape = {shape[0] + std::int64_t(layer.colour_fields.size())};
            } else if (type == "dropout") {
                allowed.insert("rate");
                layer.type = LayerType::Dropout;
            } else if (type == "activation") {
                allowed.insert("activation");
                layer.type = LayerType::Activation;
                layer.activation = activation(l, where);
            } else {
                fail("unknown bridge layer type", where, "conv2d|dense|flatten|global_average_pooling2d|dropout|activation|concat_colour_features",
                     type.empty() ? "(none)" : type);
            }
            for (auto it = l.begin(); it != l.end(); ++it)
                if (!allowed.count(it.key())) fail("unknown field in " + type + " layer", where, "one of the documented fields", it.key());
            if (layer.type != LayerType::Dropout)
                output_activation_ = layer.type == LayerType::Flatten || layer.type == LayerType::GlobalAveragePooling2D ||
                                             layer.type == LayerType::ConcatColourFeatures
                                         ? Activation::Linear : layer.activation;
            layers_.push_back(std::move(layer));
        }
        if (shape.size() != 1)
            fail("a bridge must end in a vector (flatten / pooling, then dense)", layers_.back().name, "a vector", shape_to_string(shape));
        output_size_ = shape[0];
        for (const std::string& name : file.names())
            if (!used.count(name)) fail("tensor in bridge weight file is not used by its architecture", name, "only the layers' kernels and biases", "an extra tensor");
    }

    /// concat_colour_features' "features": a non-empty list of distinct field names.
    std::vector<ColourField> colour_fields(const nlohmann::json& l, const std::string& where) const {
        auto it = l.find("features");
        const char* expected = "a list of brightness|saturation|colourfulness, each at most once";
        if (it == l.end()) fail("concat_colour_features lacks \"features\"", where, expected, "(none)");
        if (!it->is_array() || it->empty()) fail("concat_colour_features \"features\" must be a non-empty list", where, expected, it->dump());
        std::vector<ColourField> out;
        for (const auto& v : *it) {
            const std::string name = v.is_string() ? v.get<std::string>() : v.dump();
            ColourField f;
            if (name == "brightness") f = ColourField::Brightness;
            else if (name == "saturation") f = ColourField::Saturation;
            else if (name == "colourfulness") f = ColourField::Colourfulness;
            else fail("unknown colour feature", where, expected, name);
            if (std::find(out.begin(), out.end(), f) != out.end()) fail("colour feature listed twice", where, expected, name);
            out.push_back(f);
        }
        return out;
    }

    Activation activation(const nlohmann::json& l, const std::string& where) const {
        const std::string a = string_field(l, "activation", where, "linear");
        try {
            return parse_activation(a);
        } catch (const Error&) {
            fail("unknown activation", where, "linear|relu|softmax|sigmoid|tanh|softplus", a);
        }
    }

    std::string path_;
    BridgeKind kind_ = BridgeKind::Embedding;
    std::vector<std::int64_t> input_shape_;
    std::vector<Layer> layers_;
    std::int64_t output_size_ = 0;
    Activation output_activation_ = Activation::Linear;
    bool uses_colour_ = false;
    ThreadPool* pool_ = &default_thread_pool();
};

/// The embedding generator's output: (n, h, w, c) features -> (n, output_size()) latent codes z
/// (512 for Photong's hierdec-mel_16bar decoder; the decoder checks the size it needs).
/// `colour` as for forward().
inline Tensor predict_latent(const BridgeModel& model, const Tensor& features, const std::vector<ColourFeatures>& colour = {}) {
    require(model.kind() == BridgeKind::Embedding, "predict_latent needs the embedding bridge",
            {model.path(), "__metadata__.bridge", "embedding", bridge_kind_name(model.kind())});
    return model.forward(features, colour);
}

/// One probability per example: a sigmoid output of size 1 is p itself; a softmax output of
/// size 2 gives p(class 1) (high arousal / positive valence). Anything else is refused.
/// `colour`: one ColourFeatures per example, needed when model.uses_colour_features().
inline std::vector<float> predict_probability(const BridgeModel& model, const Tensor& features,
                                              const std::vector<ColourFeatures>& colour = {}) {
    const std::int64_t k = model.output_size();
    const Activation a = model.output_activation();
    const bool sigmoid1 = k == 1 && a == Activation::Sigmoid, softmax2 = k == 2 && a == Activation::Softmax;
    require(sigmoid1 || softmax2, "predict_probability needs a bridge ending in sigmoid (1 output) or softmax (2 outputs)",
            {model.path(), "output", "sigmoid x 1 or softmax x 2", std::to_string(k) + " outputs"});
    const Tensor y = model.forward(features, colour);
    std::vector<float> p(std::size_t(y.dim(0)));
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = y[i * std::size_t(k) + std::size_t(k - 1)];
    return p;
}

/// Photong's three bridges, each checked to be the kind its slot needs.
struct Bridges {
    BridgeModel embedding, arousal, valence;

    Bridges(const std::string& embedding_path, const std::string& arousal_path, const std::string& valence_path)
        : embedding(embedding_path), arousal(arousal_path), valence(valence_path) {
        check(embedding, BridgeKind::Embedding);
        check(arousal, BridgeKind::Arousal);
        check(valence, BridgeKind::Valence);
    }

    void use_thread_pool(ThreadPool& pool) {
        embedding.use_thread_pool(pool);
        arousal.use_thread_pool(pool);
        valence.use_thread_pool(pool);
    }

private:
    static void check(const BridgeModel& m, BridgeKind want) {
        require(m.kind() == want, "bridge weight file is for another bridge",
                {m.path(), "__metadata__.bridge", bridge_kind_name(want), bridge_kind_name(m.kind())});
    }
};

}  // namespace photong
