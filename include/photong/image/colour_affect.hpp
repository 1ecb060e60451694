// photong/image/colour_affect.hpp — a colour-only valence/arousal baseline: mean HSV brightness and
// saturation, Hasler & Süsstrunk colourfulness, and Valdez & Mehrabian's pleasure and arousal.
//
// Facts used (as given in the project's issue):
//   Valdez & Mehrabian (1994), "Effects of color on emotions", J. Exp. Psychol. General 123(4):
//       pleasure = 0.69 * brightness + 0.22 * saturation
//       arousal  = -0.31 * brightness + 0.60 * saturation
//     on standardised (z-scored) brightness and saturation.
//   Hasler & Süsstrunk (2003), "Measuring colourfulness in natural images", SPIE 5007:
//       rg = R - G,  yb = 0.5 * (R + G) - B   (R, G, B in 0..255)
//       M  = sqrt(sigma_rg^2 + sigma_yb^2) + 0.3 * sqrt(mu_rg^2 + mu_yb^2)
//     sigma and mu the standard deviation and mean over the pixels.
//
// Decisions (none of the seed papers fixes them; Melody Muse, ../shared/seeds/melody-muse.md 2.1,
// feeds "brightness and colorfulness" to its CNN but takes both from EmoSet's annotation files —
// "extracting features related to brightness and colorfulness using JSON annotation files" — and
// does not say how they are computed, so there is nothing there to follow):
//   - brightness = mean over pixels of HSV value V = max(R, G, B) / 255; saturation = mean of HSV
//     saturation S = (max - min) / max, 0 where max = 0 (black). Both in [0, 1]. This is exactly
//     skimage.color.rgb2hsv's V and S channels (it sets S to 0 where max - min = 0, black included), which
//     tests/reference/colour_affect_reference.py uses as the independent reference.
//   - sigma is the population standard deviation (divide by the pixel count, numpy's default),
//     as in Hasler & Süsstrunk's formula over all pixels. Everything is accumulated in double.
//   - Standardisation needs a mean and standard deviation of brightness and saturation over some
//     set of images. `colour_stats(features)` computes them (population std) over the caller's set;
//     the default `ColourStats{}` is the uninformed choice mean 0.5, std 1/sqrt(12) = 0.288675 —
//     the moments of a variable uniform on [0, 1] — so the scores are defined without a data set.
//   - [0, 1] mapping: valence = logistic(pleasure), arousal01 = logistic(arousal) with logistic(x)
//     = 1 / (1 + e^-x) of the raw scores on z-scores. 0.5 for an image at the set's mean; monotone;
//     no clipping; independent of the other images (min-max over a set would change an image's
//     value when the set changes). These feed photong's touch-up (tempo_from_arousal,
//     major_from_valence), which take values in [0, 1].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/decode.hpp"

namespace photong {

/// Per-image colour features.
struct ColourFeatures {
    double brightness = 0;     ///< mean HSV value V = max(R,G,B)/255 over the pixels, 0..1
    double saturation = 0;     ///< mean HSV saturation (max-min)/max (0 for black pixels), 0..1
    double colourfulness = 0;  ///< Hasler & Süsstrunk M on 0..255 RGB (0 for any grey image)
};

/// One field of ColourFeatures, by name (a bridge's concat_colour_features layer lists them).
enum class ColourField { Brightness, Saturation, Colourfulness };

inline double colour_field(const ColourFeatures& f, ColourField which) {
    switch (which) {
        case ColourField::Brightness: return f.brightness;
        case ColourField::Saturation: return f.saturation;
        case ColourField::Colourfulness: return f.colourfulness;
    }
    return 0;
}

/// Mean and standard deviation of brightness and saturation over a set of images, for the z-scores.
/// The defaults are the moments of a uniform variable on [0, 1] (mean 1/2, std 1/sqrt(12)).
struct ColourStats {
    double mean_brightness = 0.5;
    double std_brightness = 0.28867513459481287;  // 1 / sqrt(12)
    double mean_saturation = 0.5;
    double std_saturation = 0.28867513459481287;
};

/// Valdez & Mehrabian scores: raw (linear in the z-scores, unbounded) and mapped to [0, 1].
struct ValenceArousal {
    double pleasure = 0;        ///< 0.69 z_brightness + 0.22 z_saturation
    double arousal_raw = 0;     ///< -0.31 z_brightness + 0.60 z_saturation
    double valence = 0.5;       ///< logistic(pleasure), in (0, 1)
    double arousal = 0.5;       ///< logistic(arousal_raw), in (0, 1)
};

namespace colour_detail {

/// Features of `n` interleaved RGB pixels with values 0..255, read through `at(i)` (i = 3*pixel + channel).
template <class At>
ColourFeatures features(std::size_t n, At at) {
    require(n > 0, "image has no pixels");
    double sum_v = 0, sum_s = 0, sum_rg = 0, sum_yb = 0;
    for (std::size_t p = 0; p < n; ++p) {
        const double r = at(3 * p), g = at(3 * p + 1), b = at(3 * p + 2);
        const double mx = std::max(r, std::max(g, b)), mn = std::min(r, std::min(g, b));
        sum_v += mx / 255.0;
        sum_s += mx > 0 ? (mx - mn) / mx : 0.0;
        sum_rg += r - g;
        sum_yb += 0.5 * (r + g) - b;
    }
    const double count = double(n);
    const double mu_rg = sum_rg / count, mu_yb = sum_yb / count;
    double var_rg = 0, var_yb = 0;  // second pass: population variances about the means
    for (std::size_t p = 0; p < n; ++p) {
        const double r = at(3 * p), g = at(3 * p + 1), b = at(3 * p + 2);
        const double drg = (r - g) - mu_rg, dyb = (0.5 * (r + g) - b) - mu_yb;
        var_rg += drg * drg;
        var_yb += dyb * dyb;
    }
    var_rg /= count;
    var_yb /= count;
    ColourFeatures f;
    f.brightness = sum_v / count;
    f.saturation = sum_s / count;
    f.colourfulness = std::sqrt(var_rg + var_yb) + 0.3 * std::sqrt(mu_rg * mu_rg + mu_yb * mu_yb);
    return f;
}

inline double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace colour_detail

/// Colour features of an 8-bit RGB image (what load_image returns).
inline ColourFeatures colour_features(const Image& image) {
    require(image.width > 0 && image.height > 0, "image has zero size",
            {"", "image", "width and height >= 1", std::to_string(image.width) + "x" + std::to_string(image.height)});
    const std::size_t n = std::size_t(image.width) * std::size_t(image.height);
    require(image.rgb.size() == 3 * n, "image pixel data does not match its size",
            {"", "image", std::to_string(3 * n) + " bytes", std::to_string(image.rgb.size()) + " bytes"});
    const std::uint8_t* px = image.rgb.data();
    return colour_detail::features(n, [px](std::size_t i) { return double(px[i]); });
}

/// Colour features of an RGB tensor of shape [H, W, 3] or [1, H, W, 3] (NHWC) with values 0..255
/// (not preprocessed: undo a model's scaling first). Throws photong::Error on another shape or on a
/// value outside [0, 255] or not finite.
inline ColourFeatures colour_features(const Tensor& image) {
    const auto& s = image.shape();
    const bool hwc = s.size() == 3 && s[2] == 3;
    const bool nhwc = s.size() == 4 && s[0] == 1 && s[3] == 3;
    require(hwc || nhwc, "colour_features needs an RGB image tensor", {"", "image", "[H, W, 3] or [1, H, W, 3]", shape_to_string(s)});
    const float* v = image.data();
    for (std::size_t i = 0; i < image.size(); ++i)
        require(std::isfinite(v[i]) && v[i] >= 0.0f && v[i] <= 255.0f, "image tensor value outside 0..255",
                {"", "image", "0..255", std::to_string(v[i]) + " at index " + std::to_string(i)});
    return colour_detail::features(image.size() / 3, [v](std::size_t i) { return double(v[i]); });
}

/// Mean and population standard deviation of brightness and saturation over `set` (at least one
/// image; a set whose values are all equal gives std 0, which valdez_mehrabian refuses).
inline ColourStats colour_stats(const std::vector<ColourFeatures>& set) {
    require(!set.empty(), "colour_stats needs at least one image");
    const double n = double(set.size());
    double mb = 0, ms = 0;
    for (const auto& f : set) mb += f.brightness, ms += f.saturation;
    mb /= n, ms /= n;
    double vb = 0, vs = 0;
    for (const auto& f : set) vb += (f.brightness - mb) * (f.brightness - mb), vs += (f.saturation - ms) * (f.saturation - ms);
    ColourStats st;
    st.mean_brightness = mb;
    st.std_brightness = std::sqrt(vb / n);
    st.mean_saturation = ms;
    st.std_saturation = std::sqrt(vs / n);
    return st;
}

/// Valdez & Mehrabian's pleasure and arousal on brightness and saturation standardised with
/// `stats`, and their logistic [0, 1] mappings. Throws photong::Error when a std is not > 0.
inline ValenceArousal valdez_mehrabian(const ColourFeatures& f, const ColourStats& stats = {}) {
    require(std::isfinite(stats.std_brightness) && stats.std_brightness > 0, "brightness standard deviation must be > 0",
            {"", "ColourStats::std_brightness", "> 0", std::to_string(stats.std_brightness)});
    require(std::isfinite(stats.std_saturation) && stats.std_saturation > 0, "saturation standard deviation must be > 0",
            {"", "ColourStats::std_saturation", "> 0", std::to_string(stats.std_saturation)});
    const double zb = (f.brightness - stats.mean_brightness) / stats.std_brightness;
    const double zs = (f.saturation - stats.mean_saturation) / stats.std_saturation;
    ValenceArousal va;
    va.pleasure = 0.69 * zb + 0.22 * zs;
    va.arousal_raw = -0.31 * zb + 0.60 * zs;
    va.valence = colour_detail::logistic(va.pleasure);
    va.arousal = colour_detail::logistic(va.arousal_raw);
    return va;
}

}  // namespace photong
