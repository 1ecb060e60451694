// The colour valence/arousal baseline (photong/image/colour_affect.hpp): hand-computed features of
// tiny synthetic images (grey, black and white, pure red, red and blue), the Valdez & Mehrabian
// scores with default and computed statistics, the Tensor overload, bad input, and two of
// scikit-image's sample photos against tests/fixtures/colour_affect_reference.txt, written by
// tests/reference/colour_affect_reference.py from skimage.color.rgb2hsv and numpy (1e-5 relative).
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <photong/image/colour_affect.hpp>

#include "test_util.hpp"

using photong::ColourFeatures;
using photong::ColourStats;
using photong::Image;

namespace {

/// A w x h image from a list of pixels (r, g, b), row-major.
Image make_image(int w, int h, const std::vector<std::array<int, 3>>& pixels) {
    Image img;
    img.width = w, img.height = h;
    for (const auto& p : pixels)
        for (int c : p) img.rgb.push_back(std::uint8_t(c));
    return img;
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

doctest::Approx close(double v) { return doctest::Approx(v).epsilon(1e-12); }

}  // namespace

TEST_CASE("colour features - uniform grey, black and white") {
    // Grey 128 everywhere: V = 128/255, S = 0 (max = min); rg = 0, yb = 0.5 (128 + 128) - 128 = 0 for
    // every pixel, so sigma = mu = 0 and M = 0.
    const auto f = photong::colour_features(make_image(2, 2, {{128, 128, 128}, {128, 128, 128}, {128, 128, 128}, {128, 128, 128}}));
    CHECK(f.brightness == close(128.0 / 255.0));
    CHECK(f.saturation == 0.0);
    CHECK(f.colourfulness == 0.0);
    // Black and white: V = 0 and 1 -> mean 0.5; S = 0 for both (black: max = 0, defined as 0); both
    // on the grey axis: M = 0.
    const auto bw = photong::colour_features(make_image(2, 1, {{0, 0, 0}, {255, 255, 255}}));
    CHECK(bw.brightness == close(0.5));
    CHECK(bw.saturation == 0.0);
    CHECK(bw.colourfulness == 0.0);
}

TEST_CASE("colour features - pure red, red and blue, one orange") {
    // Pure red: V = 1, S = (255 - 0)/255 = 1. rg = 255, yb = 0.5 * 255 - 0 = 127.5 at every pixel:
    // sigma = 0, M = 0.3 * sqrt(255^2 + 127.5^2) = 0.3 * 127.5 * sqrt(5) = 85.529600...
    const auto red = photong::colour_features(make_image(3, 1, {{255, 0, 0}, {255, 0, 0}, {255, 0, 0}}));
    CHECK(red.brightness == close(1.0));
    CHECK(red.saturation == close(1.0));
    CHECK(red.colourfulness == close(0.3 * 127.5 * std::sqrt(5.0)));
    CHECK(red.colourfulness == doctest::Approx(85.5296001).epsilon(1e-8));
    // Half red (255, 0, 0), half blue (0, 0, 255): V = 1, S = 1 for both.
    // rg: 255 and 0 -> mu = 127.5, sigma = 127.5. yb: 127.5 and -255 -> mu = -63.75, sigma = 191.25.
    // M = sqrt(127.5^2 + 191.25^2) + 0.3 sqrt(127.5^2 + 63.75^2)
    //   = 127.5 sqrt(1 + 1.5^2) + 0.3 * 63.75 sqrt(2^2 + 1) = 229.8538938... + 42.7648001... = 272.6186939...
    const auto rb = photong::colour_features(make_image(2, 2, {{255, 0, 0}, {0, 0, 255}, {0, 0, 255}, {255, 0, 0}}));
    CHECK(rb.brightness == close(1.0));
    CHECK(rb.saturation == close(1.0));
    CHECK(rb.colourfulness == close(127.5 * std::sqrt(3.25) + 0.3 * 63.75 * std::sqrt(5.0)));
    CHECK(rb.colourfulness == doctest::Approx(272.6186939).epsilon(1e-9));
    // One orange pixel (200, 100, 50): V = 200/255, S = (200 - 50)/200 = 0.75; rg = 100,
    // yb = 150 - 50 = 100: M = 0.3 sqrt(100^2 + 100^2) = 30 sqrt(2).
    const auto o = photong::colour_features(make_image(1, 1, {{200, 100, 50}}));
    CHECK(o.brightness == close(200.0 / 255.0));
    CHECK(o.saturation == close(0.75));
    CHECK(o.colourfulness == close(30.0 * std::sqrt(2.0)));
}

TEST_CASE("colour features - Tensor overload agrees with Image, bad input throws") {
    const Image img = make_image(2, 2, {{255, 0, 0}, {0, 0, 255}, {10, 200, 30}, {90, 90, 91}});
    std::vector<float> values(img.rgb.begin(), img.rgb.end());
    const auto a = photong::colour_features(img);
    const auto b = photong::colour_features(photong::Tensor({2, 2, 3}, values));
    const auto c = photong::colour_features(photong::Tensor({1, 2, 2, 3}, values));
    CHECK(a.brightness == b.brightness);
    CHECK(a.saturation == b.saturation);
    CHECK(a.colourfulness == b.colourfulness);
    CHECK(a.colourfulness == c.colourfulness);
    CHECK_THROWS_AS(photong::colour_features(photong::Tensor({2, 2, 4})), photong::Error);
    CHECK_THROWS_AS(photong::colour_features(photong::Tensor({2, 1, 2, 3})), photong::Error);
    CHECK_THROWS_AS(photong::colour_features(photong::Tensor({1, 1, 3}, std::vector<float>{256.f, 0.f, 0.f})), photong::Error);
    CHECK_THROWS_AS(photong::colour_features(photong::Tensor({1, 1, 3}, std::vector<float>{-1.f, 0.f, 0.f})), photong::Error);
    CHECK_THROWS_AS(photong::colour_features(photong::Tensor({1, 1, 3}, std::vector<float>{NAN, 0.f, 0.f})), photong::Error);
    CHECK_THROWS_AS(photong::colour_features(Image{}), photong::Error);
    Image bad = img;
    bad.height = 3;  // 2 x 3 pixels need 18 bytes, it has 12
    CHECK_THROWS_AS(photong::colour_features(bad), photong::Error);
}

TEST_CASE("Valdez and Mehrabian - default statistics, computed statistics") {
    // Pure red with the default statistics (mean 0.5, std 1/sqrt(12)): zB = zS = 0.5 sqrt(12) = sqrt(3).
    // pleasure = (0.69 + 0.22) sqrt(3) = 1.576166..., arousal = (-0.31 + 0.60) sqrt(3) = 0.502294...
    ColourFeatures red;
    red.brightness = 1, red.saturation = 1;
    const auto va = photong::valdez_mehrabian(red);
    CHECK(va.pleasure == close(0.91 * std::sqrt(3.0)));
    CHECK(va.arousal_raw == close(0.29 * std::sqrt(3.0)));
    CHECK(va.valence == close(logistic(0.91 * std::sqrt(3.0))));
    CHECK(va.arousal == close(logistic(0.29 * std::sqrt(3.0))));
    // An image at the mean scores 0 and maps to 0.5.
    ColourFeatures mid;
    mid.brightness = 0.5, mid.saturation = 0.5;
    CHECK(photong::valdez_mehrabian(mid).pleasure == 0.0);
    CHECK(photong::valdez_mehrabian(mid).valence == 0.5);
    CHECK(photong::valdez_mehrabian(mid).arousal == 0.5);
    // Dark and dull vs bright: brightness raises pleasure and lowers arousal; saturation raises both.
    ColourFeatures bright = mid, saturated = mid;
    bright.brightness = 0.9, saturated.saturation = 0.9;
    CHECK(photong::valdez_mehrabian(bright).valence > 0.5);
    CHECK(photong::valdez_mehrabian(bright).arousal < 0.5);
    CHECK(photong::valdez_mehrabian(saturated).valence > 0.5);
    CHECK(photong::valdez_mehrabian(saturated).arousal > 0.5);
    // Statistics of {(B 0.2, S 0.1), (B 0.6, S 0.5)}: means 0.4 and 0.3, population stds 0.2 and 0.2.
    ColourFeatures f1, f2;
    f1.brightness = 0.2, f1.saturation = 0.1, f2.brightness = 0.6, f2.saturation = 0.5;
    const ColourStats st = photong::colour_stats({f1, f2});
    CHECK(st.mean_brightness == close(0.4));
    CHECK(st.std_brightness == close(0.2));
    CHECK(st.mean_saturation == close(0.3));
    CHECK(st.std_saturation == close(0.2));
    // f1: zB = zS = -1: pleasure = -0.91, arousal = -0.29.
    const auto v1 = photong::valdez_mehrabian(f1, st);
    CHECK(v1.pleasure == close(-0.91));
    CHECK(v1.arousal_raw == close(-0.29));
    CHECK(v1.valence == close(logistic(-0.91)));
    // Errors: no images; zero spread (one image, or all alike) is refused when scoring.
    CHECK_THROWS_AS(photong::colour_stats({}), photong::Error);
    CHECK_THROWS_AS(photong::valdez_mehrabian(f1, photong::colour_stats({f1})), photong::Error);
}

TEST_CASE("colour affect - scikit-image photos against skimage.color.rgb2hsv and numpy") {
    const std::string fixture = photong_test::source("tests/fixtures/colour_affect_reference.txt");
    std::ifstream in(fixture);
    REQUIRE_MESSAGE(in.good(), "missing " << fixture << ": run tests/reference/colour_affect_reference.py");
    std::map<std::string, std::string> ref;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.find(' ');
        ref[line.substr(0, sp)] = line.substr(sp + 1);
    }
    auto num = [&](const std::string& key) {
        if (!ref.count(key)) FAIL("fixture has no " << key);
        return std::stod(ref.at(key));
    };
    auto near = [](double v) { return doctest::Approx(v).epsilon(1e-5).scale(0); };  // 1e-5 relative
    std::vector<ColourFeatures> set;
    for (const std::string name : {"chelsea", "coffee"}) {
        const std::string path = ref[name + ".path"];
        if (!photong_test::file_exists(path)) {
            MESSAGE("skipped " << name << ": " << path << " is not on this machine (python3-skimage's sample data)");
            return;
        }
        const Image img = photong::load_image(path);
        REQUIRE(img.width == int(num(name + ".width")));
        REQUIRE(img.height == int(num(name + ".height")));
        const ColourFeatures f = photong::colour_features(img);
        MESSAGE(name << ": brightness " << f.brightness << ", saturation " << f.saturation << ", colourfulness " << f.colourfulness);
        CHECK(f.brightness == near(num(name + ".brightness")));
        CHECK(f.saturation == near(num(name + ".saturation")));
        CHECK(f.colourfulness == near(num(name + ".colourfulness")));
        const auto va = photong::valdez_mehrabian(f);
        CHECK(va.pleasure == near(num(name + ".default.pleasure")));
        CHECK(va.arousal_raw == near(num(name + ".default.arousal_raw")));
        CHECK(va.valence == near(num(name + ".default.valence")));
        CHECK(va.arousal == near(num(name + ".default.arousal")));
        set.push_back(f);
    }
    const ColourStats st = photong::colour_stats(set);
    CHECK(st.mean_brightness == near(num("set.mean_brightness")));
    CHECK(st.std_brightness == near(num("set.std_brightness")));
    CHECK(st.mean_saturation == near(num("set.mean_saturation")));
    CHECK(st.std_saturation == near(num("set.std_saturation")));
    const char* names[2] = {"chelsea", "coffee"};
    for (int i = 0; i < 2; ++i) {
        const std::string n = names[i];
        const auto va = photong::valdez_mehrabian(set[std::size_t(i)], st);
        MESSAGE(n << " (set statistics): pleasure " << va.pleasure << ", arousal " << va.arousal_raw << ", valence01 " << va.valence
                  << ", arousal01 " << va.arousal);
        CHECK(va.pleasure == near(num(n + ".set.pleasure")));
        CHECK(va.arousal_raw == near(num(n + ".set.arousal_raw")));
        CHECK(va.valence == near(num(n + ".set.valence")));
        CHECK(va.arousal == near(num(n + ".set.arousal")));
    }
}
