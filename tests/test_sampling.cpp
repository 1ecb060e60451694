// Sampling rules (models/sampling.hpp) and song forms (models/song_form.hpp).
//
// The outside references: the sampler's kept sets and draw boundaries are worked out by hand from the rule in
// the header comment (a probability vector whose sums are exact in binary), its long-run frequencies are compared
// with the filtered softmax computed here directly, and the decoders' sampled and formed decodes are checked
// draw for draw against the independent Python reference (tools/hierdec_decode.py, uniforms from
// tests/reference/rng_reference.py) by the ctest crosscheck_trained_model (tools/crosscheck_cpp.py --sampled).
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/models/music_vae_flat.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/models/sampling.hpp>
#include <photong/models/song_form.hpp>

#include "random_pipeline_weights.hpp"
#include "test_util.hpp"

using photong::EventSampler;
using photong::SamplingOptions;
using photong::SongForm;

namespace {

SamplingOptions options(float t, int k = 0, float p = 1.0f) {
    SamplingOptions s;
    s.temperature = t, s.top_k = k, s.top_p = p;
    return s;
}

// Logits whose softmax at T = 1 is exactly proportional to {8, 4, 4, 2, 1, 1} / 20 (powers of two: every sum exact).
std::vector<float> power_logits() {
    const double w[] = {8, 4, 4, 2, 1, 1};
    std::vector<float> l;
    for (double x : w) l.push_back(float(std::log2(x)) * float(std::log(2.0)));
    return l;
}

}  // namespace

TEST_CASE("sampling: greedy takes the first of equal maxima and ignores the uniform") {
    EventSampler s(options(0.0f), 5);
    const float l[] = {0.5f, 2.0f, 2.0f, -1.0f, 1.0f};
    CHECK(s.pick(l, 0.0) == 1);
    CHECK(s.pick(l, 0.999) == 1);
}

TEST_CASE("sampling: top-k and top-p keep the sets the rule gives, ties broken by class index") {
    const std::vector<float> l = power_logits();  // p = {8, 4, 4, 2, 1, 1} / 20
    // Unfiltered: boundaries at 8/20, 12/20, 16/20, 18/20, 19/20.
    EventSampler all(options(1.0f), 6);
    CHECK(all.pick(l.data(), 0.39) == 0);
    CHECK(all.pick(l.data(), 0.41) == 1);
    CHECK(all.pick(l.data(), 0.61) == 2);
    CHECK(all.pick(l.data(), 0.96) == 5);
    // top-k 2: classes 0 and 1 (1 beats 2 on index); their boundary at 8/12.
    EventSampler k2(options(1.0f, 2), 6);
    CHECK(k2.pick(l.data(), 0.66) == 0);
    CHECK(k2.pick(l.data(), 0.67) == 1);
    CHECK(k2.pick(l.data(), 0.999) == 1);
    // top-p 0.5: 8/20 = 0.4 < 0.5, 12/20 = 0.6 >= 0.5 -> {0, 1}, as top-k 2.
    EventSampler p5(options(1.0f, 0, 0.5f), 6);
    for (double u : {0.1, 0.5, 0.66, 0.67, 0.9}) CHECK(p5.pick(l.data(), u) == k2.pick(l.data(), u));
    // top-p 0.4 (as a float, just above 0.4): needs 12/20 too; top-p 0.3: class 0 alone.
    EventSampler p3(options(1.0f, 0, 0.3f), 6);
    for (double u : {0.0, 0.5, 0.999}) CHECK(p3.pick(l.data(), u) == 0);
    // top-k 4 then top-p 0.8 of the kept 18/20: 16/18 = 0.889 >= 0.8 > 12/18 -> {0, 1, 2}, boundaries 8/16, 12/16.
    EventSampler kp(options(1.0f, 4, 0.8f), 6);
    CHECK(kp.pick(l.data(), 0.49) == 0);
    CHECK(kp.pick(l.data(), 0.51) == 1);
    CHECK(kp.pick(l.data(), 0.76) == 2);
    CHECK(kp.pick(l.data(), 0.999) == 2);
    // top-k 1 is greedy whatever the temperature.
    EventSampler k1(options(3.0f, 1), 6);
    CHECK(k1.pick(l.data(), 0.999) == 0);
}

TEST_CASE("sampling: long-run frequencies follow the filtered softmax at temperature T") {
    std::vector<float> l(20);
    photong::Rng g(3);
    for (float& x : l) x = float(g.normal());
    const float T = 0.8f;
    const int k = 7;
    const float top_p = 0.75f;
    // The filtered distribution, computed here from the definition.
    std::vector<double> p(l.size());
    double m = -1e30;
    for (float x : l) m = std::max(m, double(x));
    for (std::size_t i = 0; i < l.size(); ++i) p[i] = std::exp((l[i] - m) / T);
    std::vector<std::size_t> order(l.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
    double top = 0;
    for (int i = 0; i < k; ++i) top += p[order[std::size_t(i)]];
    std::vector<double> want(l.size(), 0.0);
    double run = 0;
    for (int i = 0; i < k; ++i) {
        want[order[std::size_t(i)]] = p[order[std::size_t(i)]];
        run += p[order[std::size_t(i)]];
        if (run >= top_p * top) break;
    }
    double sum = 0;
    for (double w : want) sum += w;
    EventSampler s(options(T, k, top_p), std::int64_t(l.size()));
    const int n = 200000;
    std::vector<int> count(l.size(), 0);
    photong::Rng rng(11);
    for (int i = 0; i < n; ++i) ++count[std::size_t(s.pick(l.data(), rng.uniform_double()))];
    int kept = 0;
    for (std::size_t i = 0; i < l.size(); ++i) {
        const double q = want[i] / sum, sd = std::sqrt(q * (1 - q) / n);
        INFO("class " << i << ": frequency " << double(count[i]) / n << ", filtered softmax " << q);
        CHECK(std::abs(double(count[i]) / n - q) <= 5 * sd + 1e-12);
        kept += want[i] > 0;
    }
    CHECK(kept >= 2);
    CHECK(kept <= k);
}

TEST_CASE("sampling: options are checked, naming the field") {
    CHECK_THROWS_WITH_AS(EventSampler(options(-1.0f), 4), doctest::Contains("temperature"), photong::Error);
    CHECK_THROWS_WITH_AS(EventSampler(options(1.0f, -1), 4), doctest::Contains("top_k"), photong::Error);
    CHECK_THROWS_WITH_AS(EventSampler(options(1.0f, 0, 0.0f), 4), doctest::Contains("top_p"), photong::Error);
    CHECK_THROWS_WITH_AS(EventSampler(options(1.0f, 0, 1.5f), 4), doctest::Contains("top_p"), photong::Error);
    CHECK_THROWS_WITH_AS(EventSampler(options(1.0f, 0, std::nanf("")), 4), doctest::Contains("top_p"), photong::Error);
}

TEST_CASE("song form: parse, name and the bar each bar replays") {
    CHECK(SongForm::parse("none").empty());
    CHECK(SongForm::parse("").empty());
    const SongForm aaba = SongForm::parse("AABA");
    CHECK(aaba.vary_ending);
    CHECK(aaba.name() == "AABA");
    CHECK(aaba.sources(16) == std::vector<int>{0, 1, 2, 3, 0, 1, 2, 7, 8, 9, 10, 11, 0, 1, 2, 15});
    const SongForm abab = SongForm::parse("ABAB!");
    CHECK_FALSE(abab.vary_ending);
    CHECK(abab.name() == "ABAB!");
    CHECK(abab.sources(8) == std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3});
    CHECK(SongForm::parse("AA").sources(2) == std::vector<int>{0, 0});  // one-bar phrases: nothing left to vary
    CHECK(SongForm::parse("ABCD").sources(16) == SongForm().sources(16));
    for (const char* bad : {"AbA", "A1", "!", "A B", "AA!!"})
        CHECK_THROWS_WITH_AS(SongForm::parse(bad), doctest::Contains("form"), photong::Error);
    CHECK_THROWS_WITH_AS(SongForm::parse("ABC").sources(16), doctest::Contains("divide"), photong::Error);
}

TEST_CASE("hierarchical decoder: sampling options and forms keep the draws of the temperature-only decode") {
    const std::string path = photong_test::temp_path("sampling_hierdec.safetensors");
    photong_test::write_random_hierdec(path, 21, 16, 12, 90);
    const photong::SafetensorsFile file(path);
    const photong::HierarchicalLstmDecoder d(file);
    photong::Tensor z({3, 16});
    photong::Rng zr(5);
    for (float& v : z.values()) v = float(zr.normal());
    auto decode = [&](const SamplingOptions& s, const std::string& form) {
        photong::Rng rng(77);
        return d.decode(z, 16, 16, s, &rng, SongForm::parse(form)).events;
    };
    photong::Rng old(77);
    const auto plain = d.decode(z, 16, 16, 1.0f, &old).events;
    CHECK(decode(options(1.0f), "none") == plain);            // unfiltered = the sampler photong always had
    CHECK(decode(options(1.0f, 0, 1.0f), "ABCD") == plain);   // a form without repeats changes nothing
    const auto aaba = decode(options(1.0f), "AABA");
    CHECK(aaba == decode(options(1.0f), "AABA"));              // deterministic
    CHECK(aaba != plain);
    for (std::size_t b = 0; b < 3; ++b)                         // phrase A (bars 0-3) is decoded before any repeat
        CHECK(std::vector<int>(aaba[b].begin(), aaba[b].begin() + 64) == std::vector<int>(plain[b].begin(), plain[b].begin() + 64));
    // Greedy and exact: a repeated bar starting from the same previous event as its source is the same bar.
    const auto exact = decode(options(0.0f), "AAAA!");
    int same_start = 0;
    for (std::size_t b = 0; b < 3; ++b)
        for (int bar = 4; bar < 16; ++bar) {
            const int src = bar % 4;
            const int prev = exact[b][std::size_t(bar * 16 - 1)], src_prev = src == 0 ? -1 : exact[b][std::size_t(src * 16 - 1)];
            if (prev != src_prev) continue;
            ++same_start;
            CHECK(std::vector<int>(exact[b].begin() + bar * 16, exact[b].begin() + bar * 16 + 16) ==
                  std::vector<int>(exact[b].begin() + src * 16, exact[b].begin() + src * 16 + 16));
        }
    MESSAGE(same_start << " repeated bars start from their source's previous event");
    CHECK(same_start > 0);
    CHECK_THROWS_WITH_AS(decode(options(1.0f), "ABC"), doctest::Contains("divide"), photong::Error);
}

TEST_CASE("recommended sampling and form: metadata read, malformed values refused naming the key") {
    auto write = [](const std::string& name, const std::map<std::string, std::string>& meta) {
        const std::string path = photong_test::temp_path(name);
        photong_test::write_random_hierdec(path, 3, 8, 6, 90, "0.9", meta);
        return path;
    };
    const photong::SafetensorsFile good(write("meta_good.safetensors", {{"sampling_top_k", "12"}, {"sampling_top_p", "0.95"}, {"song_form", "AABA"}}));
    const SamplingOptions s = photong::recommended_sampling(good);
    CHECK(s.temperature == doctest::Approx(0.9f));
    CHECK(s.top_k == 12);
    CHECK(s.top_p == doctest::Approx(0.95f));
    CHECK(photong::recommended_form(good).name() == "AABA");
    const photong::SafetensorsFile none(write("meta_none.safetensors", {}));
    CHECK(photong::recommended_sampling(none).top_k == 0);
    CHECK(photong::recommended_sampling(none).top_p == 1.0f);
    CHECK(photong::recommended_form(none).empty());
    for (const auto& bad : std::vector<std::pair<std::string, std::string>>{
             {"sampling_top_k", "-3"}, {"sampling_top_k", "2x"}, {"sampling_top_p", "0"}, {"sampling_top_p", "1.5"}, {"song_form", "AxBA"}}) {
        const photong::SafetensorsFile f(write("meta_bad.safetensors", {{bad.first, bad.second}}));
        INFO(bad.first << " = " << bad.second);
        if (bad.first == "song_form") CHECK_THROWS_WITH_AS((void)photong::recommended_form(f), doctest::Contains("song_form"), photong::Error);
        else CHECK_THROWS_WITH_AS((void)photong::recommended_sampling(f), doctest::Contains(bad.first.c_str()), photong::Error);
    }
}
