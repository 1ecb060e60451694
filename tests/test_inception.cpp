// InceptionV3: the whole graph on seeded random weights against torchvision's inception_v3
// (tests/reference/gen_torch_fixtures.py), block by block, at 299x299 and at batch 2 of 139x139;
// and the loader's refusals.
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <photong/models/inception_v3.hpp>

#include "test_util.hpp"

using photong::Error;
using photong::InceptionV3;
using photong::Tensor;

namespace {
const std::string kWeights = photong_test::generated("inception_v3_random.safetensors");
const std::string kIO = photong_test::generated("inception_v3_random_io.safetensors");
}  // namespace

TEST_CASE("inception_v3: every mixed block matches torchvision on random weights") {
    REQUIRE_MESSAGE(photong_test::file_exists(kWeights), "missing " << kWeights << ": run scripts/test.sh, which generates it");
    const InceptionV3 net(kWeights);
    const photong::SafetensorsFile io(kIO);
    std::map<std::string, Tensor> blocks;
    const Tensor features = net.features(io.load("input"), [&](const std::string& name, const Tensor& t) { blocks[name] = t; });
    REQUIRE(blocks.size() == 11);
    for (int k = 0; k <= 10; ++k) {
        const std::string name = "mixed" + std::to_string(k);
        // 94 float32 layers deep: accumulated rounding stays within 1e-4 absolute + 1e-4 relative
        // (activations here are O(1); values up to ~10 carry a relative part).
        const double err = photong_test::check_close(blocks[name], io.load(name), 1e-4, 1e-4, name);
        MESSAGE(name << " " << photong::shape_to_string(blocks[name].shape()) << " max abs error " << err);
    }
    CHECK(features.shape() == std::vector<std::int64_t>{1, 8, 8, 2048});
    const double err = photong_test::check_close(InceptionV3::pooled(features), io.load("pooled"), 1e-4, 1e-4, "pooled");
    MESSAGE("pooled max abs error " << err);
}

TEST_CASE("inception_v3: batch 2 at 139x139") {
    REQUIRE(photong_test::file_exists(kWeights));
    const InceptionV3 net(kWeights);
    const photong::SafetensorsFile io(kIO);
    const Tensor out = net.features(io.load("input_b2"));
    CHECK(out.shape() == std::vector<std::int64_t>{2, 3, 3, 2048});
    const double err = photong_test::check_close(out, io.load("mixed10_b2"), 1e-4, 1e-4, "mixed10_b2");
    MESSAGE("batch 2, 139x139: max abs error " << err);
}

TEST_CASE("inception_v3: the loader refuses wrong files with the tensor and shapes named") {
    REQUIRE(photong_test::file_exists(kWeights));
    const photong::SafetensorsFile good(kWeights);
    auto copy_with = [&](const std::string& path, const std::string& skip, const std::string& replace, const Tensor& with,
                         const std::string& model) {
        photong::SafetensorsWriter w;
        for (const auto& kv : good.metadata()) w.set_metadata(kv.first, kv.second);
        w.set_metadata("model", model);
        for (const auto& name : good.names()) {
            if (name == skip) continue;
            w.add(name, name == replace ? with : good.load(name));
        }
        w.write(path);
        return path;
    };
    const std::string missing = copy_with(photong_test::temp_path("missing.safetensors"), "conv2d_50/kernel", "", {}, "inception_v3");
    CHECK_THROWS_WITH_AS(InceptionV3{missing}, doctest::Contains("conv2d_50/kernel"), Error);
    const std::string wrong = copy_with(photong_test::temp_path("wrong.safetensors"), "", "batch_normalization_7/beta", Tensor({47}), "inception_v3");
    try {
        InceptionV3 net(wrong);
        FAIL("a wrong BN shape was accepted");
    } catch (const Error& e) {
        const std::string m = e.what();
        CHECK(m.find("batch_normalization_7/beta") != std::string::npos);
        CHECK(m.find("48") != std::string::npos);
        CHECK(m.find("47") != std::string::npos);
        CHECK(m.find(wrong) != std::string::npos);
    }
    const std::string other = copy_with(photong_test::temp_path("other.safetensors"), "", "", {}, "music_vae");
    CHECK_THROWS_WITH_AS(InceptionV3{other}, doctest::Contains("not an InceptionV3"), Error);
    const InceptionV3 net(kWeights);
    CHECK_THROWS_WITH_AS(net.features(Tensor::nhwc(1, 299, 299, 4)), doctest::Contains("299x299x4"), Error);
    CHECK_THROWS_WITH_AS(net.features(Tensor::nhwc(1, 60, 60, 3)), doctest::Contains("75x75"), Error);
    CHECK_FALSE(net.has_head());
    CHECK_THROWS_AS(net.classify(Tensor({1, 2048})), Error);
}

TEST_CASE("inception_v3: the benchmarks' conv table (bench/inception_v3_convs.inc) matches the weights") {
    REQUIRE(photong_test::file_exists(kWeights));
    const photong::SafetensorsFile f(kWeights);
    int rows = 0;
#define PHOTONG_INCEPTION_CONV(i, b, h, w, ci, co, kh, kw, s, p)                                                         \
    CHECK_MESSAGE((f.info("conv2d_" #i "/kernel").shape == std::vector<std::int64_t>({kh, kw, ci, co})), "conv2d_" #i); \
    ++rows;
#include "../bench/inception_v3_convs.inc"
#undef PHOTONG_INCEPTION_CONV
    CHECK(rows == InceptionV3::kConvCount);
}

TEST_CASE("inception_v3: bit-identical features for 1 and 3 threads") {
    REQUIRE(photong_test::file_exists(kWeights));
    InceptionV3 net(kWeights);
    const photong::SafetensorsFile io(kIO);
    const Tensor input = io.load("input_b2");
    photong::ThreadPool one(1), three(3);
    net.use_thread_pool(one);
    const Tensor a = net.features(input);
    net.use_thread_pool(three);
    const Tensor b = net.features(input);
    CHECK(a.values() == b.values());
}

TEST_CASE("map arena: buffers come back for maps of the same size, at most twice the working set is kept") {
    photong::MapArena arena;
    float* first = nullptr;
    {
        const photong::MapArena::Map a = arena.take(1, 10, 10, 8), b = arena.take(1, 10, 10, 8);
        first = a.data.get();
        CHECK(a.data.get() != b.data.get());
        CHECK(a.view().pixel_stride == 8);
        CHECK(arena.peak_live_bytes() == 2 * 800 * sizeof(float));
    }
    CHECK(arena.free_bytes() == 2 * 800 * sizeof(float));
    {
        const photong::MapArena::Map c = arena.take(1, 10, 10, 6);  // 600 floats: fits a free 800-float buffer
        CHECK(arena.free_bytes() == 800 * sizeof(float));
        const photong::MapArena::Map d = arena.take(1, 10, 10, 2);  // 200: no free buffer within twice its size
        CHECK(arena.free_bytes() == 800 * sizeof(float));
        (void)first;
    }
    // Many more bytes returned at once than were ever live at once are not all kept.
    CHECK(arena.free_bytes() <= 2 * arena.peak_live_bytes());
    arena.release();
    CHECK(arena.free_bytes() == 0);
}

TEST_CASE("inception_v3: repeated and concurrent calls give the same bits (maps reused from the arena)") {
    REQUIRE(photong_test::file_exists(kWeights));
    const InceptionV3 net(kWeights);
    const photong::SafetensorsFile io(kIO);
    const Tensor x = io.load("input_b2");
    const Tensor first = net.features(x);
    std::vector<Tensor> again(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) threads.emplace_back([&, i] { again[std::size_t(i)] = net.features(x); });
    for (std::thread& t : threads) t.join();
    for (const Tensor& t : again) CHECK(t.values() == first.values());
    net.release_maps();
    CHECK(net.features(x).values() == first.values());
    photong_test::check_close(first, io.load("mixed10_b2"), 1e-4, 1e-4, "mixed10_b2 after reuse");
}
