// photong/models/latent_sliders.hpp — Vis2Mus's brightness and contrast transforms on the melody's latent code z
// (../shared/seeds/vis2mus.md §2.2, issue 21):
//   brightness  x -> x + a * max(x) / 2
//   contrast    x -> mean(x) + (x - mean(x)) * (1 + a)
// applied to z taken as one channel (max and mean over its values). Of the two maps tried by
// tools/latent_sliders.py (z, and the conductor's 16 bar embeddings as 256 channels), z is the one where both act
// monotonically on our melody model: over 50 prior codes, median |Spearman rho| between a in -0.7..0.7 and the
// decoded note count / mean pitch is 0.90 / 1.00 for brightness and 0.90 / 0.90 for contrast (on the conductor's map,
// contrast gives 0.59 / 0.70). Measured direction with weights/hierdec_mel16_photong.safetensors: brightness
// a > 0 gives fewer and lower notes, contrast a > 0 more notes (weights/BRIDGES.md). a = 0 leaves z bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "photong/core/error.hpp"
#include "photong/core/tensor.hpp"

namespace photong {

/// Throws photong::Error unless a is finite and in [-1, 1] (`what` names the option).
inline void check_slider(float a, const char* what) {
    require(std::isfinite(a) && a >= -1.0f && a <= 1.0f, std::string(what) + " must be in [-1, 1]", {"", what, "-1..1", std::to_string(a)});
}

/// Vis2Mus brightness on z (any shape, one channel): z + a * max(z) / 2. No change at all for a = 0.
inline void latent_brightness(Tensor& z, float a) {
    check_slider(a, "brightness");
    if (a == 0.0f || z.size() == 0) return;
    const float* begin = z.data();
    const double shift = double(a) * double(*std::max_element(begin, begin + z.size())) / 2.0;
    for (std::size_t i = 0; i < z.size(); ++i) z.data()[i] = float(double(z.data()[i]) + shift);
}

/// Vis2Mus contrast on z (one channel): mean + (z - mean) * (1 + a), the mean in double. No change for a = 0.
inline void latent_contrast(Tensor& z, float a) {
    check_slider(a, "contrast");
    if (a == 0.0f || z.size() == 0) return;
    double mean = 0;
    for (std::size_t i = 0; i < z.size(); ++i) mean += z.data()[i];
    mean /= double(z.size());
    for (std::size_t i = 0; i < z.size(); ++i) z.data()[i] = float(mean + (double(z.data()[i]) - mean) * (1.0 + double(a)));
}

}  // namespace photong
