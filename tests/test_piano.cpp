// The piano generator (models/performance_rnn.hpp) against tools/piano_decode.py (PyTorch, one event at a time,
// EventSampler's rule with photong's Rng stream) on 20 seeded decodes of a seeded random model
// (tests/reference/gen_piano_fixture.py): conditions with and without valence/arousal, density and histogram, no
// control at all; greedy, plain, top-k and top-p sampling; batch 1-3. And the loader's and conditions' refusals.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <photong/models/performance_rnn.hpp>

#include "test_util.hpp"

namespace {

photong::PerformanceConditions conditions_from(const nlohmann::json& c) {
    photong::PerformanceConditions out;
    if (c.contains("none")) out.none = c["none"].get<bool>();
    if (c.contains("valence")) out.valence = c["valence"].get<double>(), out.arousal = c["arousal"].get<double>();
    if (c.contains("density")) out.density = c["density"].get<int>();
    if (c.contains("histogram")) {
        std::array<float, 12> h{};
        for (int k = 0; k < 12; ++k) h[std::size_t(k)] = c["histogram"][std::size_t(k)].get<float>();
        out.pitch_histogram = h;
    }
    return out;
}

}  // namespace

TEST_CASE("performance rnn: 20 seeded decodes event for event as PyTorch, logits within 1e-4") {
    const std::string path = photong_test::generated("piano_random.safetensors");
    REQUIRE_MESSAGE(photong_test::file_exists(path), "missing " << path << ": run scripts/test.sh, which generates it");
    const photong::SafetensorsFile file(path);
    const photong::PerformanceRnn model(file);
    CHECK(model.layers() == 2);
    CHECK(model.units() == 64);
    const nlohmann::json runs = nlohmann::json::parse(file.metadata_or("runs", "[]"));
    REQUIRE(runs.size() == 20);
    double worst = 0;
    long events_compared = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto& r = runs[i];
        INFO("run " << i << " " << r.dump());
        const std::string p = "run" + std::to_string(i) + "/";
        const photong::Tensor image = file.load(p + "image"), want_logits = file.load(p + "logits");
        const photong::Tensor want_events = file.load(p + "events");
        photong::SamplingOptions s;
        s.temperature = r["temperature"].get<float>(), s.top_k = r["top_k"].get<int>(), s.top_p = r["top_p"].get<float>();
        photong::Rng rng(r["seed"].get<std::uint64_t>());
        photong::Tensor logits;
        const int steps = int(want_events.dim(1));
        const auto events = model.generate(image, conditions_from(r["conditions"]), steps, s, &rng, &logits);
        for (std::int64_t b = 0; b < want_events.dim(0); ++b)
            for (int t = 0; t < steps; ++t) {
                CHECK(events[std::size_t(b)][std::size_t(t)] == int(want_events[std::size_t(b * steps + t)]));
                ++events_compared;
            }
        for (std::size_t k = 0; k < logits.size(); ++k) worst = std::max(worst, double(std::fabs(logits[k] - want_logits[k])));
    }
    CHECK(worst <= 1e-4);
    MESSAGE(events_compared << " events equal to PyTorch's; worst |logit - PyTorch| " << worst);
}

TEST_CASE("performance rnn: conditions and files it refuses, with the reason") {
    float flag = 0;
    photong::PerformanceConditions c;
    c.valence = 0.5;
    CHECK_THROWS_WITH_AS(photong::PerformanceRnn::control_vector(c, flag), doctest::Contains("valence and arousal go together"), photong::Error);
    c.arousal = 1.5;
    CHECK_THROWS_WITH_AS(photong::PerformanceRnn::control_vector(c, flag), doctest::Contains("[0, 1]"), photong::Error);
    photong::PerformanceConditions d;
    d.density = 12;
    CHECK_THROWS_WITH_AS(photong::PerformanceRnn::control_vector(d, flag), doctest::Contains("0..11"), photong::Error);
    photong::PerformanceConditions none;
    none.none = true;
    const auto v = photong::PerformanceRnn::control_vector(none, flag);
    CHECK(flag == 1.0f);
    CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; }));
    CHECK_THROWS_WITH_AS(photong::PerformanceRnn(photong_test::source("weights/hierdec_mel16_photong.safetensors")),
                         doctest::Contains("not a performance RNN"), photong::Error);
}
