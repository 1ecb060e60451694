// Bridge models (photong/models/bridges.hpp) against PyTorch (tests/reference/gen_bridge_fixtures.py:
// seeded random embedding / arousal / valence networks, NCHW in torch with Keras' flatten order made
// explicit), the Keras .h5 -> keras_h5_to_safetensors.py --bridge -> C++ path, and malformed files.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <photong/core/parallel.hpp>
#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/models/bridges.hpp>

#include "test_util.hpp"

using photong::BridgeKind;
using photong::BridgeModel;
using photong::Error;
using photong::SafetensorsFile;
using photong::Tensor;

namespace {

std::string fixture(const std::string& name) { return photong_test::generated("bridges/" + name + ".safetensors"); }

void require_fixture(const std::string& path) {
    REQUIRE_MESSAGE(photong_test::file_exists(path), "missing " << path << ": run scripts/test.sh, which generates it");
}

/// Tolerance 1e-5 relative to the output's scale: |got - want| <= 1e-5 * (max |want| + |want|). A purely
/// element-wise relative bound is meaningless for outputs near zero after long float32 sums (PyTorch's own
/// float32 forward of the embedding net is 4e-6 from the float64 reference on outputs of size 4.6).
double compare_to_reference(const Tensor& got, const Tensor& want, const std::string& label) {
    double scale = 0;
    for (std::size_t i = 0; i < want.size(); ++i) scale = std::max(scale, double(std::fabs(want[i])));
    return photong_test::check_close(got, want, 1e-5 * scale, 1e-5, label);
}

/// Loads `weights`, runs the fixture's features, compares to PyTorch's float64 output.
void check_against_torch(const std::string& weights, const std::string& io, BridgeKind kind, std::int64_t out_size) {
    require_fixture(weights);
    require_fixture(io);
    const BridgeModel model(weights);
    CHECK(model.kind() == kind);
    CHECK(model.output_size() == out_size);
    CHECK(photong::shape_to_string(model.input_shape()) == "8x8x2048");
    const SafetensorsFile ref(io);
    const Tensor y = model.forward(ref.load("features"));
    const double err = compare_to_reference(y, ref.load("output"), weights);
    MESSAGE(weights << ": max abs error " << err);
}

Tensor random_tensor(std::vector<std::int64_t> shape, std::uint64_t seed, float scale = 0.5f) {
    Tensor t(std::move(shape));
    photong::Rng rng(seed);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = float(rng.uniform() * 2.0 - 1.0) * scale;
    return t;
}

/// A small valid bridge on a 4x4x8 map: conv 3x3 valid 8->2 relu, flatten (2x2x2 = 8), dense 8->1 sigmoid.
struct SmallBridge {
    nlohmann::json arch = nlohmann::json::parse(R"([
        {"type": "conv2d", "name": "c", "activation": "relu", "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid"},
        {"type": "flatten", "name": "f"},
        {"type": "dense", "name": "d", "activation": "sigmoid"}])");
    std::map<std::string, Tensor> tensors = {{"c/kernel", random_tensor({3, 3, 8, 2}, 1)}, {"c/bias", random_tensor({2}, 2)},
                                             {"d/kernel", random_tensor({8, 1}, 3)}, {"d/bias", random_tensor({1}, 4)}};
    std::map<std::string, std::string> meta = {{"model", "bridge"}, {"bridge", "arousal"}, {"input_shape", "[4, 4, 8]"}};

    std::string write(const std::string& name) const {
        photong::SafetensorsWriter w;
        for (const auto& kv : meta) w.set_metadata(kv.first, kv.second);
        w.set_metadata("architecture", arch.dump());
        for (const auto& kv : tensors) w.add(kv.first, kv.second);
        const std::string path = photong_test::temp_path("bridge_" + name + ".safetensors");
        w.write(path);
        return path;
    }
};

/// Expects loading the variant to throw an Error whose message and context fields contain the given pieces.
void expect_load_error(const SmallBridge& b, const std::string& name, const std::string& message, const std::string& tensor,
                       const std::string& expected, const std::string& found) {
    const std::string path = b.write(name);
    INFO(name);
    try {
        BridgeModel m(path);
        FAIL("loaded a malformed bridge file");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.context().file == path);
        CHECK(e.message().find(message) != std::string::npos);
        CHECK(e.context().tensor.find(tensor) != std::string::npos);
        CHECK(e.context().expected.find(expected) != std::string::npos);
        CHECK(e.context().found.find(found) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("bridges: embedding generator against PyTorch (conv 3x3 valid, flatten, dropout, dense 256 relu, dense 512)") {
    check_against_torch(fixture("embedding"), fixture("embedding_io"), BridgeKind::Embedding, 512);
}

TEST_CASE("bridges: arousal model against PyTorch (conv 1x1, global average pool, dense 1 sigmoid)") {
    check_against_torch(fixture("arousal"), fixture("arousal_io"), BridgeKind::Arousal, 1);
}

TEST_CASE("bridges: valence model against PyTorch (conv 3x3 same, flatten, dense 2 softmax)") {
    check_against_torch(fixture("valence"), fixture("valence_io"), BridgeKind::Valence, 2);
}

TEST_CASE("bridges: a head that also takes the colour features (concat_colour_features) against PyTorch") {
    const std::string weights = fixture("arousal_colour"), io = fixture("arousal_colour_io");
    require_fixture(weights);
    require_fixture(io);
    const BridgeModel model(weights);
    CHECK(model.uses_colour_features());
    CHECK(model.output_size() == 1);
    CHECK(model.output_activation() == photong::Activation::Sigmoid);
    const SafetensorsFile ref(io);
    const Tensor features = ref.load("features"), c = ref.load("colour");
    std::vector<photong::ColourFeatures> colour(3);
    for (std::size_t i = 0; i < 3; ++i) colour[i] = {c[3 * i], c[3 * i + 1], c[3 * i + 2]};
    const Tensor y = model.forward(features, colour);
    MESSAGE("max abs error " << compare_to_reference(y, ref.load("output"), weights));
    const std::vector<float> p = photong::predict_probability(model, features, colour);
    for (std::size_t i = 0; i < 3; ++i) CHECK(p[i] == y[i]);
    // The colour part matters: another picture colour, another probability.
    std::vector<photong::ColourFeatures> other = colour;
    other[0].saturation = 1 - other[0].saturation;
    CHECK(model.forward(features, other)[0] != y[0]);
    // Without the colour features it refuses, naming what it needs.
    try {
        model.forward(features);
        FAIL("ran a colour head without colour features");
    } catch (const Error& e) {
        CHECK(e.context().file == weights);
        CHECK(e.context().tensor == "colour");
        CHECK(e.context().expected == "3 ColourFeatures");
        CHECK(e.context().found == "0");
    }
    // A head without the layer ignores them.
    const BridgeModel plain(fixture("arousal"));
    CHECK_FALSE(plain.uses_colour_features());
    const Tensor a = plain.forward(features), b = plain.forward(features, colour);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
}

TEST_CASE("bridges: Keras .h5 converted by keras_h5_to_safetensors --bridge gives the same network") {
    check_against_torch(fixture("embedding_from_h5"), fixture("embedding_io"), BridgeKind::Embedding, 512);
    check_against_torch(fixture("valence_from_h5"), fixture("valence_io"), BridgeKind::Valence, 2);
}

TEST_CASE("bridges: predict_latent, predict_probability, Bridges and thread pools") {
    for (const char* k : {"embedding", "arousal", "valence"}) require_fixture(fixture(k));
    const photong::Bridges b(fixture("embedding"), fixture("arousal"), fixture("valence"));
    const SafetensorsFile emb_io(fixture("embedding_io")), ar_io(fixture("arousal_io")), val_io(fixture("valence_io"));
    const Tensor features = emb_io.load("features");

    const Tensor z = photong::predict_latent(b.embedding, features);
    CHECK(photong::shape_to_string(z.shape()) == "3x512");
    compare_to_reference(z, emb_io.load("output"), "predict_latent");

    // sigmoid x 1: p is the output; softmax x 2: p is the second column (class 1).
    const std::vector<float> pa = photong::predict_probability(b.arousal, features), pv = photong::predict_probability(b.valence, features);
    const Tensor ya = ar_io.load("output"), yv = val_io.load("output");
    REQUIRE(pa.size() == 3);
    REQUIRE(pv.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(pa[i] == doctest::Approx(ya[i]).epsilon(1e-5));
        CHECK(pv[i] == doctest::Approx(yv[2 * i + 1]).epsilon(1e-5));
        CHECK(pv[i] > 0.0f);
        CHECK(pv[i] < 1.0f);
    }
    CHECK_THROWS_AS(photong::predict_probability(b.embedding, features), Error);
    CHECK_THROWS_AS(photong::predict_latent(b.arousal, features), Error);
    CHECK_THROWS_AS(photong::Bridges(fixture("embedding"), fixture("valence"), fixture("arousal")), Error);

    // A one-thread pool gives bit-identical results; one example alone gives the batch's first row
    // (to rounding: Eigen's product kernels differ between one row and several).
    photong::ThreadPool one(1);
    BridgeModel single(fixture("embedding"));
    single.use_thread_pool(one);
    const Tensor z1 = single.forward(features);
    REQUIRE(z1.size() == z.size());
    std::size_t differ = 0;
    for (std::size_t j = 0; j < z.size(); ++j) differ += z1[j] != z[j];
    CHECK(differ == 0);
    const Tensor first = single.forward(Tensor({1, 8, 8, 2048}, std::vector<float>(features.data(), features.data() + 8 * 8 * 2048)));
    const Tensor want({1, 512}, std::vector<float>(z.data(), z.data() + 512));
    photong_test::check_close(first, want, 1e-5, 1e-5, "one example vs the batch's first row");
}

TEST_CASE("bridges: a small hand-built bridge loads and matches the reference layers") {
    const SmallBridge b;
    const BridgeModel m(b.write("ok"));
    CHECK(m.output_size() == 1);
    CHECK(m.layer_count() == 3);
    const Tensor x = random_tensor({2, 4, 4, 8}, 5, 1.0f);
    photong::Conv2DParams p;
    p.padding = photong::Padding::Valid;
    p.relu = true;
    const Tensor conv = photong::conv2d_reference(x, b.tensors.at("c/kernel"), b.tensors.at("c/bias").values(), p);
    const Tensor want = photong::dense_reference(conv.reshaped({2, 8}), b.tensors.at("d/kernel"), b.tensors.at("d/bias").values(),
                                                 photong::Activation::Sigmoid);
    photong_test::check_close(m.forward(x), want, 1e-6, 1e-5, "small bridge");
}

TEST_CASE("bridges: malformed files are refused naming file, layer or tensor, expected and found") {
    {
        SmallBridge b;
        b.arch[1]["type"] = "lstm";
        expect_load_error(b, "unknown_type", "unknown bridge layer type", "f", "flatten", "lstm");
    }
    {
        SmallBridge b;
        b.tensors["c/kernel"] = random_tensor({3, 3, 4, 2}, 9);
        expect_load_error(b, "wrong_kernel", "wrong shape", "c/kernel", "3x3x8xfilters", "3x3x4x2");
    }
    {
        SmallBridge b;
        b.tensors["d/kernel"] = random_tensor({9, 1}, 9);
        expect_load_error(b, "wrong_dense_kernel", "wrong shape", "d/kernel", "8xunits", "9x1");
    }
    {
        SmallBridge b;
        b.tensors["e/kernel"] = random_tensor({1, 1}, 9);
        expect_load_error(b, "stray_tensor", "not used", "e/kernel", "", "extra");
    }
    {
        SmallBridge b;
        b.tensors.erase("d/bias");
        expect_load_error(b, "missing_bias", "missing", "d/bias", "[1]", "(none)");
    }
    {
        SmallBridge b;
        b.arch[2]["use_bias"] = false;
        expect_load_error(b, "bias_not_declared", "use_bias", "d/bias", "no bias", "1");
    }
    {
        SmallBridge b;
        b.arch.erase(1);  // dense straight on the 2x2x2 map
        expect_load_error(b, "no_flatten", "dense needs a vector", "d", "a vector", "2x2x2");
    }
    {
        SmallBridge b;
        b.arch[0]["stride"] = {1, 1};
        expect_load_error(b, "unknown_field", "unknown field", "c", "", "stride");
    }
    {
        SmallBridge b;
        b.arch[0]["padding"] = "causal";
        expect_load_error(b, "bad_padding", "padding", "c", "valid|same", "causal");
    }
    {
        SmallBridge b;
        b.arch[2]["activation"] = "gelu";
        expect_load_error(b, "bad_activation", "unknown activation", "d", "sigmoid", "gelu");
    }
    {
        SmallBridge b;
        b.arch[2]["units"] = 3;
        expect_load_error(b, "units_mismatch", "does not match its kernel", "d", "1", "3");
    }
    {
        SmallBridge b;
        b.arch.erase(2);
        b.tensors.erase("d/kernel");
        b.tensors.erase("d/bias");
        b.arch.erase(1);  // ends in a map
        expect_load_error(b, "ends_in_map", "must end in a vector", "c", "a vector", "2x2x2");
    }
    {
        SmallBridge b;
        b.meta.erase("bridge");
        expect_load_error(b, "no_kind", "--bridge", "__metadata__.bridge", "embedding|arousal|valence", "(none)");
    }
    {
        SmallBridge b;
        b.meta["model"] = "keras";
        expect_load_error(b, "model_keras", "not a bridge model", "__metadata__.model", "bridge", "keras");
    }
    {
        SmallBridge b;
        b.meta["input_shape"] = "[4, 4]";
        expect_load_error(b, "bad_input_shape", "input_shape", "__metadata__.input_shape", "[h, w, c]", "[4, 4]");
    }
    {
        SmallBridge b;  // the colour layer on the map, before flatten
        b.arch.insert(b.arch.begin() + 1, nlohmann::json::parse(R"({"type": "concat_colour_features", "name": "cf", "features": ["brightness"]})"));
        expect_load_error(b, "colour_on_map", "concat_colour_features needs a vector", "cf", "a vector", "2x2x2");
    }
    for (const auto& bad : std::vector<std::pair<std::string, std::string>>{
             {"[]", "non-empty list"}, {"[\"warmth\"]", "unknown colour feature"}, {"[\"saturation\", \"saturation\"]", "listed twice"},
             {"\"brightness\"", "non-empty list"}}) {
        SmallBridge b;
        b.arch.insert(b.arch.begin() + 2, nlohmann::json::parse(R"({"type": "concat_colour_features", "name": "cf"})"));
        b.arch[2]["features"] = nlohmann::json::parse(bad.first);
        b.tensors["d/kernel"] = random_tensor({9, 1}, 3);
        expect_load_error(b, "colour_features_" + std::to_string(bad.first.size()), bad.second, "cf", "brightness|saturation|colourfulness", "");
    }
    {
        SmallBridge b;  // the dense kernel must count the appended features
        b.arch.insert(b.arch.begin() + 2, nlohmann::json::parse(R"({"type": "concat_colour_features", "name": "cf", "features": ["brightness", "colourfulness"]})"));
        expect_load_error(b, "colour_width", "wrong shape", "d/kernel", "10xunits", "8x1");
    }
    {
        SmallBridge b;
        b.meta["input_shape"] = "[2, 2, 8]";  // the 3x3 valid window does not fit
        expect_load_error(b, "window_too_big", "smaller than the window", "c", ">= 3", "2");
    }
}

TEST_CASE("bridges: wrong feature-map shapes are refused at forward") {
    const SmallBridge b;
    const std::string path = b.write("shape");
    const BridgeModel m(path);
    for (const std::vector<std::int64_t>& s : std::vector<std::vector<std::int64_t>>{{1, 4, 4, 7}, {1, 5, 4, 8}, {4, 4, 8}, {0, 4, 4, 8}}) {
        INFO(photong::shape_to_string(s));
        try {
            m.forward(Tensor(s));
            FAIL("accepted a wrong feature-map shape");
        } catch (const Error& e) {
            CHECK(e.context().file == path);
            CHECK(e.context().expected == "n x 4x4x8");
            CHECK(e.context().found == photong::shape_to_string(s));
        }
    }
}
