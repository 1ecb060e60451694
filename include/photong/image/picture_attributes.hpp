// photong/image/picture_attributes.hpp — a picture's own measurable attributes, the inputs of the image -> latent
// map's attribute terms (image_latent_map.hpp): brightness and edge density.
//
// Definitions (one for the C++ library and the Python tools: tools/eval_image_dependence.py picture_attributes,
// which tests/reference/check_image_latent_map.py holds this header to):
//   - the picture is first brought to kPictureAttributeSize x kPictureAttributeSize with photong's bilinear
//     align-corners resize (resize.hpp) of its 0..1 values (x / 255), the same view of it InceptionV3 gets with the
//     default weights, so that attributes do not depend on the file's resolution (edge density would);
//   - luminance L = 0.2125 R + 0.7154 G + 0.0721 B (Rec. 709 weights, as skimage.color.rgb2gray);
//   - brightness = mean of L over the pixels, in [0, 1];
//   - edge density = the share of interior pixels (not the one-pixel border) whose Sobel gradient magnitude
//     sqrt((gx^2 + gy^2) / 2), gx and gy the 3x3 Sobel kernels divided by 4 (skimage.filters.sobel's scaling:
//     1 for a step from 0 to 1), exceeds kEdgeThreshold = 0.1: how much of the picture is edges and texture.
// Sums in double, so that the value does not depend on the summation order beyond double rounding.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/preprocess.hpp"

namespace photong {

/// The side of the square view the attributes are measured on (InceptionV3's input size).
inline constexpr int kPictureAttributeSize = 299;
/// Sobel magnitude (on 0..1 luminance) above which a pixel counts as an edge.
inline constexpr double kEdgeThreshold = 0.1;

/// A picture's attributes (definitions in the header comment).
struct PictureAttributes {
    double brightness = 0;    ///< mean Rec. 709 luminance, 0..1
    double edge_density = 0;  ///< share of interior pixels with Sobel magnitude > kEdgeThreshold, 0..1
};

/// Attributes of an 8-bit RGB image (what load_image returns). Throws photong::Error on an empty or inconsistent
/// image (Preprocessing::apply's check).
inline PictureAttributes picture_attributes(const Image& image) {
    const int S = kPictureAttributeSize;
    // x / 255 then the align-corners resize: exactly the nsfwjs preprocessing (preprocess.hpp) at this size.
    const Tensor view = Preprocessing::nsfwjs(S).apply(image);
    const float* v = view.data();
    std::vector<double> lum(std::size_t(S) * S);
    double sum = 0;
    for (std::size_t i = 0; i < lum.size(); ++i) {
        lum[i] = 0.2125 * v[3 * i] + 0.7154 * v[3 * i + 1] + 0.0721 * v[3 * i + 2];
        sum += lum[i];
    }
    PictureAttributes a;
    a.brightness = sum / double(lum.size());
    auto L = [&](int y, int x) { return lum[std::size_t(y) * S + x]; };
    std::size_t edges = 0;
    for (int y = 1; y < S - 1; ++y)
        for (int x = 1; x < S - 1; ++x) {
            // gx: right minus left columns, weights 1 2 1; gy: bottom minus top rows; both / 4.
            const double gx = (L(y - 1, x + 1) + 2 * L(y, x + 1) + L(y + 1, x + 1) - L(y - 1, x - 1) - 2 * L(y, x - 1) - L(y + 1, x - 1)) / 4;
            const double gy = (L(y + 1, x - 1) + 2 * L(y + 1, x) + L(y + 1, x + 1) - L(y - 1, x - 1) - 2 * L(y - 1, x) - L(y - 1, x + 1)) / 4;
            edges += std::sqrt((gx * gx + gy * gy) / 2) > kEdgeThreshold;
        }
    a.edge_density = double(edges) / (double(S - 2) * double(S - 2));
    return a;
}

}  // namespace photong
