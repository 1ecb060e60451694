// The piano generator (models/performance_rnn.hpp) against tools/piano_decode.py (PyTorch, one event at a time,
// EventSampler's rule with photong's Rng stream) on 20 seeded decodes of a seeded random model
// (tests/reference/gen_piano_fixture.py): conditions with and without valence/arousal, density and histogram, no
// control at all; greedy, plain, top-k and top-p sampling; batch 1-3. And the loader's and conditions' refusals.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <photong/models/performance_rnn.hpp>
#include <photong/music/midi.hpp>
#include <photong/pipeline.hpp>

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

namespace {

/// Runs the fixture's 20 decodes through `model` and compares them with PyTorch's.
void check_runs(const photong::PerformanceRnn& model, const photong::SafetensorsFile& file) {
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

}  // namespace

TEST_CASE("performance rnn: 20 seeded decodes of a random model event for event as PyTorch, logits within 1e-4") {
    const std::string path = photong_test::generated("piano_random.safetensors");
    REQUIRE_MESSAGE(photong_test::file_exists(path), "missing " << path << ": run scripts/test.sh, which generates it");
    const photong::SafetensorsFile file(path);
    const photong::PerformanceRnn model(file);
    CHECK(model.layers() == 2);
    CHECK(model.units() == 64);
    check_runs(model, file);
}

TEST_CASE("performance rnn: 20 seeded decodes of the shipped trained model event for event as PyTorch") {
    const std::string weights = photong_test::source("weights/piano_performance_rnn.safetensors"), runs = photong_test::generated("piano_trained_runs.safetensors");
    if (!photong_test::file_exists(weights)) return;  // before the first trained model is shipped
    REQUIRE_MESSAGE(photong_test::file_exists(runs), "missing " << runs << ": run scripts/test.sh, which generates it");
    check_runs(photong::PerformanceRnn(weights), photong::SafetensorsFile(runs));
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

TEST_CASE("pipeline: --generator piano through Pipeline::generate (the shipped pipeline files, the fixture's piano model)") {
    const std::string piano = photong_test::generated("piano_random.safetensors");
    const std::string photo = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
    if (!photong_test::file_exists(piano) || !photong_test::file_exists(photo)) return;
    photong::PipelineWeights w = photong::PipelineWeights::in_directory(photong_test::source("weights"));
    w.piano = piano;
    w.verify_checksums = false;  // the fixture has no .sha256 beside it
    const photong::Pipeline pipeline(w);
    REQUIRE(pipeline.has_piano());
    photong::GenerateOptions o;
    o.generator = photong::GenerateOptions::Generator::Piano;
    o.seconds = 8;
    o.seed = 3;
    const photong::GenerateResult a = pipeline.generate(photo, o), b = pipeline.generate(photo, o);
    CHECK(a.generator == photong::GenerateOptions::Generator::Piano);
    CHECK(a.events.size() == std::size_t(photong::piano_steps_for(8)));
    CHECK(photong::encode_midi(a.midi()) == photong::encode_midi(b.midi()));  // deterministic for a seed
    for (const auto& n : a.performance) CHECK(n.start_s < 8.0);
    CHECK(a.melody.size() == a.performance.size());
    const photong::PianoPlan plan = photong::piano_plan(a.valence, a.arousal, a.picture);
    CHECK(a.key == plan.key);
    o.seed = 4;
    CHECK(pipeline.generate(photo, o).events != a.events);
    o.seconds = 0.5;
    CHECK_THROWS_WITH_AS(pipeline.generate(photo, o), doctest::Contains("1..600 seconds"), photong::Error);
    photong::PipelineWeights no_piano = photong::PipelineWeights::in_directory(photong_test::source("weights"));
    no_piano.piano.clear();
    const photong::Pipeline melody_only(no_piano);
    o.seconds = 8;
    CHECK_THROWS_WITH_AS(melody_only.generate(photo, o), doctest::Contains("needs its weights file"), photong::Error);
}

TEST_CASE("piano_plan: denser for higher arousal, major for valence >= 0.5, tonic rising with brightness") {
    photong::PictureAttributes dark{0.1, 0.1}, bright{0.9, 0.1};
    CHECK(photong::piano_plan(0.8, 0.9, dark).conditions.density.value() > photong::piano_plan(0.8, 0.1, dark).conditions.density.value());
    CHECK(photong::piano_plan(0.8, 0.5, dark).key.major);
    CHECK_FALSE(photong::piano_plan(0.2, 0.5, dark).key.major);
    CHECK(photong::piano_plan(0.8, 0.5, bright).key.tonic_pitch_class > photong::piano_plan(0.8, 0.5, dark).key.tonic_pitch_class);
    const auto h = photong::piano_plan(0.8, 0.5, dark).conditions.pitch_histogram.value();
    CHECK(h[std::size_t(photong::piano_plan(0.8, 0.5, dark).key.tonic_pitch_class)] == *std::max_element(h.begin(), h.end()));
}
