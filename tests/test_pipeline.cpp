// tests/test_pipeline.cpp — photong::Pipeline end to end on a real photo (skimage's chelsea.png) with the
// real weights/inception_v3.safetensors and random bridges and a small random hierarchical decoder
// (tests/random_pipeline_weights.hpp; 2 x 64 units, z 512) until trained ones exist.
// Skipped (with a message) when the photo or the InceptionV3 weights are not on this machine.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <photong/pipeline.hpp>

#include "random_pipeline_weights.hpp"
#include "test_util.hpp"

namespace {

using photong::GenerateOptions;
using photong::GenerateResult;
using photong::Pipeline;
using photong::PipelineWeights;

const std::string kChelsea = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";

std::string weights_dir() {
    static const std::string dir = [] {
        const std::string d = photong_test::temp_path("pipeline_weights");
        std::system(("mkdir -p '" + d + "'").c_str());
        photong_test::write_random_pipeline_weights(d, 2026, 512, 64);
        return d;
    }();
    return dir;
}

PipelineWeights weights() {
    PipelineWeights w = PipelineWeights::in_directory(weights_dir());
    w.inception = photong_test::source("weights/inception_v3.safetensors");
    return w;
}

bool have_inputs() {
    if (!photong_test::file_exists(kChelsea)) {
        MESSAGE("skipped: " << kChelsea << " is not on this machine (python3-skimage's sample data)");
        return false;
    }
    if (!photong_test::file_exists(photong_test::source("weights/inception_v3.safetensors"))) {
        MESSAGE("skipped: weights/inception_v3.safetensors is missing (weights/fetch_default_weights.sh)");
        return false;
    }
    return true;
}

const Pipeline& pipeline() {
    static const Pipeline p(weights());
    return p;
}

const photong::Image& chelsea() {
    static const photong::Image img = photong::load_image(kChelsea);
    return img;
}

void check_same(const GenerateResult& a, const GenerateResult& b) {
    CHECK(a.events == b.events);
    CHECK(a.melody == b.melody);
    CHECK(a.chords == b.chords);
    CHECK(a.bpm == b.bpm);
    CHECK(a.valence == b.valence);
    CHECK(a.arousal == b.arousal);
    CHECK(a.key == b.key);
    CHECK(a.chosen == b.chosen);
    CHECK(a.latent.values() == b.latent.values());
    CHECK(photong::encode_midi(a.midi()) == photong::encode_midi(b.midi()));
}

std::vector<photong::Note> decoded_notes(const std::vector<int>& events) {
    return photong::melody_to_notes(events, 120, 4, 100);
}

}  // namespace

TEST_CASE("pipeline - chelsea.png end to end gives 16 bars with tempo and key from the bridges and a MIDI file") {
    if (!have_inputs()) return;
    GenerateOptions o;
    o.seed = 7;
    const GenerateResult r = pipeline().generate(chelsea(), o);

    REQUIRE(r.events.size() == 256u);
    for (int e : r.events) CHECK((e >= 0 && e < 90));
    CHECK(r.latent.shape() == std::vector<std::int64_t>{1, 512});
    CHECK(r.arousal >= 0.0);
    CHECK(r.arousal <= 1.0);
    CHECK(r.valence >= 0.0);
    CHECK(r.valence <= 1.0);
    CHECK(r.bpm >= 52.14);
    CHECK(r.bpm <= 187.86);
    CHECK(r.bpm == doctest::Approx(photong::tempo_from_arousal(r.arousal)));
    CHECK(r.key.major == (r.valence >= 0.5));
    REQUIRE_FALSE(r.melody.empty());  // the random decoder's melodies hold notes (or the test proves nothing)
    CHECK(r.key.tonic_pitch_class == r.melody.front().pitch % 12);
    for (const photong::Note& n : r.melody) CHECK(photong::is_diatonic(n.pitch, r.key));
    // The decoded notes are the chosen events' notes; the touch-up adds one tonic bar at the end.
    CHECK(r.melody.size() == decoded_notes(r.events).size() + 1);
    CHECK(r.melody.back().start_step <= 17 * 16);
    INFO("bpm " << r.bpm << ", valence " << r.valence << ", arousal " << r.arousal << ", " << r.melody.size() << " notes");

    // The MIDI: read back, type 1, three tracks, the tempo event equals the bpm.
    const std::string path = photong_test::temp_path("pipeline_chelsea.mid");
    photong::write_midi(r.midi(), path);
    const photong::MidiFile f = photong::read_midi(path);
    CHECK(f.format == 1);
    REQUIRE(f.tracks.size() == 3u);
    int tempos = 0;
    for (const photong::MidiEvent& e : f.tracks[0].events)
        if (e.kind == photong::MidiEventKind::tempo) {
            ++tempos;
            CHECK(e.value == photong::tempo_microseconds(r.bpm));
            CHECK(60e6 / e.value == doctest::Approx(r.bpm).epsilon(1e-5));
        }
    CHECK(tempos == 1);
    const std::vector<photong::Note> back = photong::notes_from_track(f, 1);
    CHECK(back.size() == r.melody.size());
}

TEST_CASE("pipeline - deterministic for a seed and different for another and path equals Image") {
    if (!have_inputs()) return;
    GenerateOptions o;
    o.seed = 11;
    const GenerateResult a = pipeline().generate(chelsea(), o);
    const GenerateResult b = pipeline().generate(kChelsea, o);
    check_same(a, b);
    o.seed = 12;
    const GenerateResult c = pipeline().generate(chelsea(), o);
    CHECK(c.latent.values() == a.latent.values());  // z does not depend on the seed
    CHECK(c.bpm == a.bpm);
    CHECK(c.events != a.events);
    // Greedy decoding ignores the seed's sampling.
    o.temperature = 0;
    o.seed = 1;
    const GenerateResult g1 = pipeline().generate(chelsea(), o);
    o.seed = 2;
    const GenerateResult g2 = pipeline().generate(chelsea(), o);
    CHECK(g1.events == g2.events);
}

TEST_CASE("pipeline - variations decode K copies of z in one batch and return the best by the metric") {
    if (!have_inputs()) return;
    const int K = 5;
    // The batch the pipeline decodes, redone here: K rows of z, one Rng(seed).
    const GenerateResult first = [&] {
        GenerateOptions o;
        o.seed = 3, o.variations = K, o.rank = GenerateOptions::Rank::First;
        return pipeline().generate(chelsea(), o);
    }();
    CHECK(first.chosen == 0);
    REQUIRE(first.candidates.size() == std::size_t(K));
    const photong::SafetensorsFile file(weights().melody);
    const photong::HierarchicalLstmDecoder decoder(file);
    photong::Tensor batch({K, 512});
    for (int k = 0; k < K; ++k) std::copy_n(first.latent.data(), 512, batch.data() + k * 512);
    photong::Rng rng(3);
    const photong::DecodeResult d = decoder.decode(batch, 16, 16, 0.5f, &rng);
    CHECK(d.events[0] == first.events);

    for (auto rank : {GenerateOptions::Rank::PitchEntropy, GenerateOptions::Rank::GrooveConsistency, GenerateOptions::Rank::PitchClassEntropy}) {
        INFO("rank " << photong::rank_name(rank));
        GenerateOptions o;
        o.seed = 3, o.variations = K, o.rank = rank;
        const GenerateResult r = pipeline().generate(chelsea(), o);
        photong::MetricOptions mo;
        mo.num_bars = 16;
        std::vector<double> scores;
        for (int k = 0; k < K; ++k) {
            const auto notes = decoded_notes(d.events[std::size_t(k)]);
            const photong::SymbolicMetrics m = photong::symbolic_metrics(notes, mo);
            const double s = rank == GenerateOptions::Rank::PitchEntropy ? m.pitch_entropy
                             : rank == GenerateOptions::Rank::GrooveConsistency ? m.groove_consistency
                                                                                 : photong::pitch_class_entropy(notes);
            scores.push_back(s);
            CHECK(r.candidates[std::size_t(k)].pitch_entropy == m.pitch_entropy);
        }
        int best = 0;
        for (int k = 1; k < K; ++k)
            if (scores[std::size_t(k)] > scores[std::size_t(best)]) best = k;  // ties to the lowest index
        CHECK(r.chosen == best);
        CHECK(r.events == d.events[std::size_t(best)]);
        for (double s : scores) CHECK(s <= scores[std::size_t(r.chosen)]);
    }
    // The candidates differ (sampling), or the ranking test is vacuous.
    bool differ = false;
    for (int k = 1; k < K; ++k) differ = differ || d.events[std::size_t(k)] != d.events[0];
    CHECK(differ);
}

TEST_CASE("pipeline - concurrent generate() from two threads equals sequential") {
    if (!have_inputs()) return;
    GenerateOptions a, b;
    a.seed = 21;
    b.seed = 22, b.variations = 3, b.rank = GenerateOptions::Rank::GrooveConsistency;
    const GenerateResult sa = pipeline().generate(chelsea(), a), sb = pipeline().generate(chelsea(), b);
    GenerateResult ca, cb;
    std::string ea, eb;
    std::thread ta([&] { try { ca = pipeline().generate(chelsea(), a); } catch (const std::exception& e) { ea = e.what(); } });
    std::thread tb([&] { try { cb = pipeline().generate(kChelsea, b); } catch (const std::exception& e) { eb = e.what(); } });
    ta.join();
    tb.join();
    REQUIRE(ea.empty());
    REQUIRE(eb.empty());
    check_same(sa, ca);
    check_same(sb, cb);
}

TEST_CASE("pipeline - colour affect instead of the bridges") {
    if (!have_inputs()) return;
    PipelineWeights w = weights();
    w.arousal.clear();
    w.valence.clear();
    const Pipeline p(w);
    CHECK_FALSE(p.has_affect_bridges());
    GenerateOptions o;
    o.seed = 5;
    CHECK_THROWS_AS(p.generate(chelsea(), o), photong::Error);  // no bridges, no colour_affect
    o.colour_affect = true;
    const GenerateResult r = p.generate(chelsea(), o);
    const photong::ValenceArousal va = photong::valdez_mehrabian(photong::colour_features(chelsea()));
    CHECK(r.colour_affect);
    CHECK(r.valence == va.valence);
    CHECK(r.arousal == va.arousal);
    CHECK(r.key.major == (va.valence >= 0.5));
    CHECK(r.bpm == doctest::Approx(photong::tempo_from_arousal(va.arousal)));
    // Same latent and events as with the bridges (affect only touches tempo and key).
    const GenerateResult rb = pipeline().generate(chelsea(), [] { GenerateOptions g; g.seed = 5; return g; }());
    CHECK(r.events == rb.events);
}

TEST_CASE("pipeline - the user's valence and arousal replace the picture's, either alone or both without bridges") {
    if (!have_inputs()) return;
    using S = GenerateResult::AffectSource;
    GenerateOptions o;
    o.seed = 5;
    const GenerateResult plain = pipeline().generate(chelsea(), o);
    CHECK(plain.valence_source == S::Bridge);
    CHECK(plain.arousal_source == S::Bridge);
    o.arousal = 0.9;
    const GenerateResult fast = pipeline().generate(chelsea(), o);
    CHECK(fast.arousal == 0.9);
    CHECK(fast.arousal_source == S::User);
    CHECK(fast.bpm == doctest::Approx(photong::tempo_from_arousal(0.9)));
    CHECK(fast.valence == plain.valence);  // the other one still comes from the bridge
    CHECK(fast.valence_source == S::Bridge);
    CHECK(fast.events == plain.events);    // affect only touches tempo and key
    o.arousal.reset();
    for (double v : {0.2, 0.8}) {
        o.valence = v;
        const GenerateResult r = pipeline().generate(chelsea(), o);
        CHECK(r.valence == v);
        CHECK(r.valence_source == S::User);
        CHECK(r.key.major == (v >= 0.5));
        CHECK(r.arousal == plain.arousal);
    }
    // Both given: the affect bridges are not needed; colour_affect does not override the user's values.
    PipelineWeights w = weights();
    w.arousal.clear();
    w.valence.clear();
    const Pipeline bare(w);
    o.valence = 0.3, o.arousal = 0.1, o.colour_affect = true;
    const GenerateResult r = bare.generate(chelsea(), o);
    CHECK(r.valence == 0.3);
    CHECK(r.arousal == 0.1);
    CHECK(r.events == plain.events);
    o.colour_affect = false;
    o.valence.reset();
    CHECK_THROWS_AS(bare.generate(chelsea(), o), photong::Error);  // valence needs its bridge or colour_affect
    o.colour_affect = true;
    CHECK(bare.generate(chelsea(), o).valence_source == S::Colour);
    // Out of range or not a number: refused, naming the option.
    for (double bad : {-0.01, 1.01, std::nan("")}) {
        GenerateOptions b;
        b.valence = bad;
        try {
            pipeline().generate(chelsea(), b);
            FAIL("accepted valence " << bad);
        } catch (const photong::Error& e) {
            CHECK(e.context().tensor == "GenerateOptions::valence");
            CHECK(e.context().expected == "0..1");
        }
    }
}

TEST_CASE("pipeline - bad input (missing files or swapped kinds or latent size mismatch or bad options) throws") {
    if (!have_inputs()) return;
    auto throws_with = [](const PipelineWeights& w, const std::string& fragment) {
        try {
            Pipeline p(w);
            FAIL("no error; expected one mentioning '" << fragment << "'");
        } catch (const photong::Error& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find(fragment) != std::string::npos);
        }
    };
    PipelineWeights w = weights();
    w.embedding = weights_dir() + "/no_such_file.safetensors";
    throws_with(w, "no_such_file");
    w = weights();
    w.melody = "";
    throws_with(w, "melody");

    // Kinds swapped.
    w = weights();
    std::swap(w.embedding, w.arousal);
    throws_with(w, "another bridge");
    w = weights();
    std::swap(w.arousal, w.valence);
    throws_with(w, "another bridge");
    w = weights();
    w.melody = weights().embedding;
    throws_with(w, "hierarchical");
    w = weights();
    w.inception = weights().valence;
    throws_with(w, "InceptionV3");
    w = weights();
    w.embedding = weights().inception;
    throws_with(w, "bridge");

    // The embedding bridge gives 256 numbers, the decoder wants 512.
    const std::string small = photong_test::temp_path("pipeline_embedding_256.safetensors");
    photong_test::write_random_bridge(small, photong::BridgeKind::Embedding, 9, 256);
    w = weights();
    w.embedding = small;
    throws_with(w, "latent size");

    // Options and images.
    GenerateOptions o;
    o.variations = 0;
    CHECK_THROWS_AS(pipeline().generate(chelsea(), o), photong::Error);
    o.variations = 1;
    o.temperature = -1;
    CHECK_THROWS_AS(pipeline().generate(chelsea(), o), photong::Error);
    o.temperature = NAN;
    CHECK_THROWS_AS(pipeline().generate(chelsea(), o), photong::Error);
    CHECK_THROWS_AS(pipeline().generate(std::string("/nonexistent/photo.png"), GenerateOptions{}), photong::Error);
    CHECK_THROWS_AS(pipeline().generate(weights().melody, GenerateOptions{}), photong::Error);  // not an image
}

TEST_CASE("pipeline - the melody file's sampling_temperature is the default temperature - an option overrides it") {
    if (!have_inputs()) return;
    CHECK(pipeline().default_temperature() == doctest::Approx(photong::kPhotongTemperature));
    const GenerateResult plain = pipeline().generate(chelsea(), GenerateOptions{});
    CHECK(plain.temperature == photong::kPhotongTemperature);

    const std::string hot = photong_test::temp_path("pipeline_hierdec_t125.safetensors");
    photong_test::write_random_hierdec(hot, 2026 + 4, 512, 64, 90, "1.25");  // the same weights as weights_dir()'s
    PipelineWeights w = weights();
    w.melody = hot;
    const Pipeline p(w);
    CHECK(p.default_temperature() == 1.25f);
    GenerateOptions o;
    o.seed = 3;
    const GenerateResult by_default = p.generate(chelsea(), o);
    CHECK(by_default.temperature == 1.25f);
    o.temperature = 1.25f;
    check_same(by_default, pipeline().generate(chelsea(), o));  // same weights, explicit 1.25: same melody
    o.temperature = 0.5f;
    const GenerateResult overridden = p.generate(chelsea(), o);
    CHECK(overridden.temperature == 0.5f);
    check_same(overridden, pipeline().generate(chelsea(), o));

    for (const char* bad : {"abc", "0", "-1", "nan", "11", "1.0x"}) {
        const std::string path = photong_test::temp_path("pipeline_hierdec_bad_t.safetensors");
        photong_test::write_random_hierdec(path, 5, 512, 64, 90, bad);
        w.melody = path;
        try {
            Pipeline q(w);
            FAIL("sampling_temperature '" << bad << "' was accepted");
        } catch (const photong::Error& e) {
            CHECK(std::string(e.what()).find("sampling_temperature") != std::string::npos);
        }
    }
}

TEST_CASE("pipeline - the melody file's top-k, top-p and song form are the defaults - options override each") {
    if (!have_inputs()) return;
    CHECK(pipeline().default_sampling().top_k == 0);
    CHECK(pipeline().default_sampling().top_p == 1.0f);
    CHECK(pipeline().default_form().empty());

    const std::string tuned = photong_test::temp_path("pipeline_hierdec_tuned.safetensors");
    photong_test::write_random_hierdec(tuned, 2026 + 4, 512, 64, 90, "0.9",  // the same weights as weights_dir()'s
                                       {{"sampling_top_k", "20"}, {"sampling_top_p", "0.9"}, {"song_form", "AABA"}});
    PipelineWeights w = weights();
    w.melody = tuned;
    const Pipeline p(w);
    CHECK(p.default_sampling().top_k == 20);
    CHECK(p.default_form().name() == "AABA");
    GenerateOptions o;
    o.seed = 4;
    const GenerateResult by_default = p.generate(chelsea(), o);
    CHECK(by_default.sampling.top_k == 20);
    CHECK(by_default.sampling.top_p == 0.9f);
    CHECK(by_default.form.name() == "AABA");
    // The same settings given as options to the plain file's pipeline: the same melody.
    o.temperature = 0.9f, o.top_k = 20, o.top_p = 0.9f, o.form = photong::SongForm::parse("AABA");
    check_same(by_default, pipeline().generate(chelsea(), o));
    // Each option overrides the file.
    o.top_k = 0, o.top_p = 1.0f, o.form = photong::SongForm{};
    const GenerateResult plain = p.generate(chelsea(), o);
    CHECK(plain.form.empty());
    check_same(plain, pipeline().generate(chelsea(), o));
    CHECK(plain.events != by_default.events);
    // Bad options, named.
    o.top_p = 0.0f;
    CHECK_THROWS_WITH_AS(p.generate(chelsea(), o), doctest::Contains("top_p"), photong::Error);
    o.top_p = 1.0f, o.form = photong::SongForm::parse("ABC");
    CHECK_THROWS_WITH_AS(p.generate(chelsea(), o), doctest::Contains("divide"), photong::Error);
}
