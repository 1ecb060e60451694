// MusicVAE decoders on Magenta's real mel_2bar_small decoder weights (converted from
// ../shared/weights/mel_2bar_small_decoder by scripts/test.sh) against magenta.js itself
// (tests/fixtures/mel_2bar_small_reference.safetensors, made by tests/reference/magenta_js/), and the
// hierarchical decoder on seeded random weights against magenta.js's ConductorDecoder
// (tests/fixtures/hierdec_magenta_js_reference.safetensors, make_hier_reference.sh there) and numpy.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/models/latent_interpolation.hpp>
#include <photong/models/music_vae_encoder.hpp>
#include <photong/models/music_vae_flat.hpp>
#include <photong/models/music_vae_hier.hpp>

#include "test_util.hpp"

using photong::CategoricalLstmDecoder;
using photong::Tensor;

namespace {
const std::string kWeights = photong_test::generated("mel_2bar_small.safetensors");
const std::string kReference = photong_test::source("tests/fixtures/mel_2bar_small_reference.safetensors");

// SHA-256 (FIPS 180-4) of a whole file as lowercase hex; "" if it cannot be read.
std::string sha256_file(const std::string& path) {
    static const std::uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
        0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
        0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
        0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
        0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
        0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
    auto block = [&](const unsigned char* p) {
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i) w[i] = std::uint32_t(p[4 * i]) << 24 | std::uint32_t(p[4 * i + 1]) << 16 | std::uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    };
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return "";
    std::vector<unsigned char> buf(1 << 20);
    std::uint64_t total = 0;
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), file)) == buf.size()) {
        for (std::size_t i = 0; i < n; i += 64) block(buf.data() + i);
        total += n;
    }
    std::fclose(file);
    total += n;
    // Tail: the bytes past the last whole block, 0x80, zeros, the bit length big-endian.
    const std::size_t whole = n / 64 * 64;
    for (std::size_t i = 0; i < whole; i += 64) block(buf.data() + i);
    std::vector<unsigned char> tail(buf.begin() + std::ptrdiff_t(whole), buf.begin() + std::ptrdiff_t(n));
    tail.push_back(0x80);
    while (tail.size() % 64 != 56) tail.push_back(0);
    for (int i = 7; i >= 0; --i) tail.push_back(static_cast<unsigned char>((total * 8) >> (8 * i)));
    for (std::size_t i = 0; i < tail.size(); i += 64) block(tail.data() + i);
    std::string hex;
    char two[3];
    for (std::uint32_t v : h)
        for (int i = 3; i >= 0; --i) std::snprintf(two, sizeof two, "%02x", unsigned((v >> (8 * i)) & 0xff)), hex += two;
    return hex;
}
}  // namespace

TEST_CASE("music_vae flat decoder: greedy decodes equal magenta.js on the real mel_2bar_small weights") {
    REQUIRE_MESSAGE(photong_test::file_exists(kWeights), "missing " << kWeights << ": run scripts/test.sh (needs ../shared)");
    REQUIRE_MESSAGE(photong_test::file_exists(kReference), "missing " << kReference);
    const photong::SafetensorsFile weights(kWeights), ref(kReference);
    const CategoricalLstmDecoder decoder(weights);
    CHECK(decoder.z_size() == 256);
    CHECK(decoder.classes() == 90);
    const Tensor z = ref.load("z"), want = ref.load("events");
    const int steps = int(want.dim(1));
    const photong::DecodeResult got = decoder.decode(z, steps);
    int mismatched = 0;
    for (std::int64_t b = 0; b < z.dim(0); ++b)
        for (int t = 0; t < steps; ++t)
            if (got.events[std::size_t(b)][std::size_t(t)] != int(want[std::size_t(b * steps + t)])) {
                if (mismatched++ == 0) MESSAGE("first mismatch: code " << b << " step " << t << ": got " << got.events[std::size_t(b)][std::size_t(t)] << ", magenta.js " << want[std::size_t(b * steps + t)]);
            }
    CHECK(mismatched == 0);
    if (ref.contains("logits")) {
        const Tensor want_logits = ref.load("logits");
        const std::int64_t k = want_logits.dim(0);
        const Tensor ours({k, steps, 90}, std::vector<float>(got.logits.data(), got.logits.data() + k * steps * 90));
        const double err = photong_test::check_close(ours, want_logits, 1e-4, 0, "logits");
        MESSAGE("logits of " << k << " codes: max abs difference " << err);
    }
    MESSAGE(z.dim(0) << " codes x " << steps << " steps: " << mismatched << " events differ from magenta.js");
}

TEST_CASE("music_vae flat decoder: wrong latent size, bad temperature, seeded sampling") {
    REQUIRE(photong_test::file_exists(kWeights));
    const photong::SafetensorsFile weights(kWeights);
    const CategoricalLstmDecoder decoder(weights);
    CHECK_THROWS_WITH_AS(decoder.decode(Tensor({1, 512}), 32), doctest::Contains("1x512"), photong::Error);
    CHECK_THROWS_AS(decoder.decode(Tensor({1, 256}), 0), photong::Error);
    CHECK_THROWS_AS(decoder.decode(Tensor({1, 256}), 8, 0.5f, nullptr), photong::Error);
    photong::Rng a(9), b(9);
    const Tensor z({3, 256}, 0.3f);
    CHECK(decoder.decode(z, 32, 0.5f, &a).events == decoder.decode(z, 32, 0.5f, &b).events);
}

TEST_CASE("music_vae hierarchical decoder: hierdec-mel_16bar shapes against an independent numpy decoder") {
    // tests/reference/gen_hierdec_fixture.py: seeded random weights with magenta's names and the
    // real sizes (z 512, conductor and core 2 x 1024, 90 classes), decoded greedily in float64.
    const std::string w = photong_test::generated("hierdec_random.safetensors"), io = photong_test::generated("hierdec_random_io.safetensors");
    REQUIRE_MESSAGE(photong_test::file_exists(w), "missing " << w << ": run scripts/test.sh, which generates it");
    const photong::SafetensorsFile weights(w), ref(io);
    const photong::HierarchicalLstmDecoder decoder(weights);
    CHECK(decoder.z_size() == 512);
    const Tensor z = ref.load("z"), want = ref.load("events"), want_logits = ref.load("logits"), margin = ref.load("min_margin");
    const photong::DecodeResult got = decoder.decode(z, 16, 16);
    const std::int64_t steps = want.dim(1), classes = want_logits.dim(2);
    for (std::int64_t b = 0; b < z.dim(0); ++b) {
        // Greedy decoding feeds each choice back, so compare up to the first differing event; a
        // difference is only acceptable where the reference's top two logits nearly tie.
        std::int64_t same = 0;
        while (same < steps && got.events[std::size_t(b)][std::size_t(same)] == int(want[std::size_t(b * steps + same)])) ++same;
        MESSAGE("code " << b << ": " << same << " of " << steps << " events equal (smallest reference margin " << margin[std::size_t(b)] << ")");
        CHECK((same == steps || margin[std::size_t(b)] < 1e-4f));
        const std::int64_t n = same * classes;
        const Tensor ours({n}, std::vector<float>(got.logits.data() + b * steps * classes, got.logits.data() + b * steps * classes + n));
        const Tensor theirs({n}, std::vector<float>(want_logits.data() + b * steps * classes, want_logits.data() + b * steps * classes + n));
        const double err = photong_test::check_close(ours, theirs, 1e-4, 1e-4, "logits of code " + std::to_string(b));
        MESSAGE("code " << b << ": logits over the equal steps within " << err);
    }
    CHECK_THROWS_AS(decoder.decode(Tensor({1, 256}), 16, 16), photong::Error);
}

TEST_CASE("music_vae hierarchical decoder: greedy decodes equal magenta.js's ConductorDecoder on the same random weights") {
    // tests/reference/magenta_js/make_hier_reference.sh served build/fixtures/hierdec_random.safetensors to
    // magenta.js 1.23.1 (pure-JS tfjs CPU backend) and recorded its greedy 16 x 16-step decodes.
    const std::string w = photong_test::generated("hierdec_random.safetensors");
    const std::string r = photong_test::source("tests/fixtures/hierdec_magenta_js_reference.safetensors");
    REQUIRE_MESSAGE(photong_test::file_exists(w), "missing " << w << ": run scripts/test.sh, which generates it");
    REQUIRE_MESSAGE(photong_test::file_exists(r), "missing " << r);
    const photong::SafetensorsFile weights(w), ref(r);
    // The reference belongs to one exact weights file: a changed generator means a stale reference.
    const std::string want_sha = ref.metadata_at("weights_sha256"), got_sha = sha256_file(w);
    REQUIRE_MESSAGE(got_sha == want_sha, w << " has sha256 " << got_sha << ", the magenta.js reference was made from " << want_sha
                                           << ": rerun tests/reference/magenta_js/make_hier_reference.sh (needs node and npm)");
    const photong::HierarchicalLstmDecoder decoder(weights);
    const Tensor z = ref.load("z"), want = ref.load("events"), margin = ref.load("min_margin");
    const std::int64_t steps = want.dim(1), classes = decoder.classes();
    REQUIRE(steps == 256);
    const photong::DecodeResult got = decoder.decode(z, 16, 16);
    int equal_codes = 0;
    std::vector<std::int64_t> same(std::size_t(z.dim(0)), 0);
    for (std::int64_t b = 0; b < z.dim(0); ++b) {
        // Greedy decoding feeds each choice back, so compare up to the first differing event; a difference is
        // only acceptable where magenta.js's top two logits nearly tie.
        std::int64_t& s = same[std::size_t(b)];
        while (s < steps && got.events[std::size_t(b)][std::size_t(s)] == int(want[std::size_t(b * steps + s)])) ++s;
        equal_codes += s == steps;
        MESSAGE("code " << b << ": " << s << " of " << steps << " events equal magenta.js (smallest magenta.js margin " << margin[std::size_t(b)] << ")");
        CHECK((s == steps || margin[std::size_t(b)] < 1e-4f));
    }
    const Tensor want_logits = ref.load("logits");
    for (std::int64_t b = 0; b < want_logits.dim(0); ++b) {
        const std::int64_t n = same[std::size_t(b)] * classes, offset = b * steps * classes;
        const Tensor ours({n}, std::vector<float>(got.logits.data() + offset, got.logits.data() + offset + n));
        const Tensor theirs({n}, std::vector<float>(want_logits.data() + offset, want_logits.data() + offset + n));
        const double err = photong_test::check_close(ours, theirs, 1e-4, 0, "logits of code " + std::to_string(b));
        MESSAGE("code " << b << ": logits of the " << same[std::size_t(b)] << " equal steps within " << err << " of magenta.js");
    }
    MESSAGE(equal_codes << " of " << z.dim(0) << " codes x " << steps << " steps identical to magenta.js " << ref.metadata_or("magenta_js_version", "?"));
}

TEST_CASE("music_vae bidirectional encoder: hierdec-mel_16bar shapes against an independent numpy encoder") {
    // tests/reference/gen_encoder_fixture.py: 2 bidirectional layers of 2048 units, 90 classes,
    // z 512, two 256-step sequences, mu and sigma computed in float64.
    const std::string w = photong_test::generated("encoder_random.safetensors"), io = photong_test::generated("encoder_random_io.safetensors");
    REQUIRE_MESSAGE(photong_test::file_exists(w), "missing " << w << ": run scripts/test.sh, which generates it");
    const photong::SafetensorsFile weights(w), ref(io);
    const photong::BidirectionalLstmEncoder encoder(weights);
    CHECK(encoder.layers() == 2);
    CHECK(encoder.units() == 2048);
    CHECK(encoder.classes() == 90);
    CHECK(encoder.z_size() == 512);
    const Tensor events = ref.load("events");
    const std::int64_t B = events.dim(0), T = events.dim(1);
    std::vector<std::vector<int>> sequences(static_cast<std::size_t>(B), std::vector<int>(static_cast<std::size_t>(T)));
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T; ++t) sequences[std::size_t(b)][std::size_t(t)] = int(events[std::size_t(b * T + t)]);
    const photong::LatentDistribution got = encoder.distribution(sequences);
    // 256 steps of float32 recurrences against float64: 1e-4 absolute on O(1) values.
    const double mu_err = photong_test::check_close(got.mu, ref.load("mu"), 1e-4, 1e-4, "mu");
    const double sigma_err = photong_test::check_close(got.sigma, ref.load("sigma"), 1e-4, 1e-4, "sigma");
    MESSAGE(B << " sequences of " << T << " steps: mu within " << mu_err << ", sigma within " << sigma_err);
    // The dense-input path (a product instead of the one-hot gather) gives the same code.
    Tensor one_hot({B, T, 90});
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T; ++t) one_hot[std::size_t((b * T + t) * 90 + sequences[std::size_t(b)][std::size_t(t)])] = 1.0f;
    photong_test::check_close(encoder.distribution(one_hot).mu, got.mu, 1e-6, 1e-6, "mu from dense one-hot input");
    // Bad input: an event outside the classes, sequences of different lengths.
    auto bad = sequences;
    bad[1][7] = 90;
    CHECK_THROWS_WITH_AS(encoder.encode(bad), doctest::Contains("sequence 1 step 7"), photong::Error);
    bad = sequences;
    bad[0].pop_back();
    CHECK_THROWS_WITH_AS(encoder.encode(bad), doctest::Contains("different lengths"), photong::Error);
    CHECK_THROWS_AS(encoder.distribution(Tensor({1, 4, 89})), photong::Error);
}

TEST_CASE("music_vae encoder: a checkpoint without encoder kernels is a clear error naming the tensor") {
    // Magenta's mel_2bar_small release ships the decoder only.
    REQUIRE(photong_test::file_exists(kWeights));
    const photong::SafetensorsFile weights(kWeights);
    CHECK_THROWS_WITH_AS(photong::BidirectionalLstmEncoder{weights}, doctest::Contains("encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel"),
                         photong::Error);
}

TEST_CASE("latent interpolation: linear and spherical paths between two codes") {
    using photong::Interpolation;
    const Tensor a({4}, std::vector<float>{1, 0, 0, 0}), b({4}, std::vector<float>{0, 2, 0, 0});
    // Endpoints are the codes themselves; the spherical midpoint of orthogonal codes is
    // sin(pi/4) (a + b), the linear one (a + b) / 2.
    const Tensor path = photong::interpolate(a, b, 3);
    CHECK(path.shape() == std::vector<std::int64_t>{3, 4});
    for (int k = 0; k < 4; ++k) {
        CHECK(path[std::size_t(k)] == doctest::Approx(a[std::size_t(k)]).epsilon(1e-7));
        CHECK(path[std::size_t(8 + k)] == doctest::Approx(b[std::size_t(k)]).epsilon(1e-7));
    }
    CHECK(path[4] == doctest::Approx(std::sqrt(0.5)).epsilon(1e-6));
    CHECK(path[5] == doctest::Approx(2 * std::sqrt(0.5)).epsilon(1e-6));
    const Tensor line = photong::interpolate(a, b, 3, Interpolation::Linear);
    CHECK(line[4] == doctest::Approx(0.5));
    CHECK(line[5] == doctest::Approx(1.0));
    // Between codes of equal norm the spherical path keeps that norm; the straight line does not.
    photong::Rng rng(3);
    Tensor p({512}), q({512});
    for (auto& v : p.values()) v = float(rng.normal());
    for (auto& v : q.values()) v = float(rng.normal());
    double np2 = 0, nq2 = 0;
    for (std::size_t i = 0; i < 512; ++i) np2 += double(p[i]) * p[i], nq2 += double(q[i]) * q[i];
    for (auto& v : q.values()) v = float(v * std::sqrt(np2 / nq2));
    const Tensor mid = photong::interpolate_at(p, q, 0.5), mid_line = photong::interpolate_at(p, q, 0.5, Interpolation::Linear);
    double nm = 0, nl = 0;
    for (std::size_t i = 0; i < 512; ++i) nm += double(mid[i]) * mid[i], nl += double(mid_line[i]) * mid_line[i];
    CHECK(std::sqrt(nm) == doctest::Approx(std::sqrt(np2)).epsilon(1e-5));
    CHECK(std::sqrt(nl) < 0.8 * std::sqrt(np2));  // two independent Gaussian codes are near-orthogonal
    // Parallel codes fall back to the straight line; bad input is refused.
    const Tensor twice({4}, std::vector<float>{2, 0, 0, 0});
    CHECK(photong::interpolate_at(a, twice, 0.5)[0] == doctest::Approx(1.5));
    CHECK_THROWS_AS(photong::interpolate(a, Tensor({5}), 3), photong::Error);
    CHECK_THROWS_AS(photong::interpolate(a, b, 1), photong::Error);
    CHECK_THROWS_AS(photong::interpolate_at(Tensor({4}), b, 0.5), photong::Error);
}

TEST_CASE("music_vae: unknown variables in a model's scope are refused, naming the variable") {
    REQUIRE(photong_test::file_exists(kWeights));
    const photong::SafetensorsFile real(kWeights);
    // The real decoder plus one stray variable: a layer after a gap in the numbering, which a
    // loader counting cells from 0 would silently ignore.
    photong::SafetensorsWriter w;
    for (const std::string& name : real.names()) w.add(name, real.load(name));
    w.add("decoder/multi_rnn_cell/cell_3/lstm_cell/kernel", Tensor({4, 8}));
    const std::string path = photong_test::temp_path("mel_2bar_small_extra.safetensors");
    w.write(path);
    const photong::SafetensorsFile extra(path);
    CHECK_THROWS_WITH_AS(CategoricalLstmDecoder{extra}, doctest::Contains("decoder/multi_rnn_cell/cell_3/lstm_cell/kernel"), photong::Error);
    // Names under other scopes (here the encoder's) are not the decoder's business.
    CHECK_NOTHROW(CategoricalLstmDecoder{real});
}
