// photong/models/latent_interpolation.hpp — paths between two latent codes, for morphing one
// melody into another.
//
// Magenta's MusicVAE TrainedModel.interpolate (music_vae/trained_model.py) decodes codes at
// np.linspace(0, 1, n) along a spherical path:
//   omega = arccos(<a/|a|, b/|b|>),  slerp(t) = sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b,
// which keeps intermediate codes at the norms a Gaussian prior makes typical (a straight line
// between two typical codes passes through atypically short ones). Linear interpolation is kept
// as the plain alternative. Computed in double; rows of the result are float32 codes.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "photong/core/error.hpp"
#include "photong/core/tensor.hpp"

namespace photong {

enum class Interpolation { Linear, Spherical };

/// The code at fraction t in [0, 1] of the way from a to b (both flat, same size).
inline Tensor interpolate_at(const Tensor& a, const Tensor& b, double t, Interpolation kind = Interpolation::Spherical) {
    require(a.size() == b.size() && a.size() > 0, "interpolation needs two codes of one size", {"", "b", std::to_string(a.size()) + " values",
            std::to_string(b.size()) + " values"});
    require(std::isfinite(t), "interpolation fraction must be finite", {"", "t"});
    double wa = 1.0 - t, wb = t;
    if (kind == Interpolation::Spherical) {
        double dot = 0, na = 0, nb = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            dot += double(a[i]) * b[i];
            na += double(a[i]) * a[i];
            nb += double(b[i]) * b[i];
        }
        require(na > 0 && nb > 0, "spherical interpolation needs two nonzero codes", {"", na > 0 ? "b" : "a", "a nonzero vector", "all zeros"});
        const double cosine = std::max(-1.0, std::min(1.0, dot / std::sqrt(na * nb)));
        const double omega = std::acos(cosine), so = std::sin(omega);
        // Parallel or opposite codes leave no unique great circle: fall back to the straight line
        // there (|sin omega| < 1e-6 means the codes agree in direction to a micro-radian).
        if (so > 1e-6) {
            wa = std::sin((1.0 - t) * omega) / so;
            wb = std::sin(t * omega) / so;
        }
    }
    Tensor out(a.shape());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = float(wa * a[i] + wb * b[i]);
    return out;
}

/// n codes (n, z) evenly spaced from a (row 0) to b (row n - 1), as MusicVAE's interpolate uses.
inline Tensor interpolate(const Tensor& a, const Tensor& b, int n, Interpolation kind = Interpolation::Spherical) {
    require(n >= 2, "interpolation needs at least 2 codes", {"", "n", ">= 2", std::to_string(n)});
    const std::int64_t z = std::int64_t(a.size());
    Tensor out({n, z});
    for (int k = 0; k < n; ++k) {
        const Tensor row = interpolate_at(a, b, double(k) / (n - 1), kind);
        std::copy_n(row.data(), z, out.data() + k * z);
    }
    return out;
}

}  // namespace photong
