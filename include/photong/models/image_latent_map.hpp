// photong/models/image_latent_map.hpp — the image -> latent map that makes the melody a function of the picture
// (issue 21; weights/BRIDGES.md "The image -> latent map" defends it):
//
//   z = spread · whiten · (f - feature_mean)  +  sum_k gains[k] · (a_k - attribute_mean[k]) / attribute_std[k] · dir_k
//
// f is the picture's pooled InceptionV3 features (2048), whiten the PCA whitening of a reference set of
// photographs' top d components, spread a fixed [Z, d] Gaussian / sqrt(d) made orthogonal to the attribute
// directions (so each coordinate of z has about unit variance over photographs, like a prior draw, and content does
// not move the attributes' directions); a_k are the picture's attributes (picture_attributes.hpp: brightness, edge
// density) and dir_k the unit MusicVAE attribute vectors of the melody model's encoder they drive (register,
// density). Fitted by tools/fit_image_latent_map.py, which must be rerun when the melody model changes: the file
// names the melody model it was made for (`melody_steps_trained`), and Pipeline refuses another.
//
// File (safetensors, F32): feature_mean [2048], whiten [d, 2048], spread [Z, d], attribute_directions [2, Z],
// attribute_mean [2], attribute_std [2], gains [2]; metadata `mapping` (JSON pairs, picture attribute -> music
// attribute, in the order brightness, edge_density), `melody_steps_trained`.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/picture_attributes.hpp"

namespace photong {

class ImageLatentMap {
public:
    static constexpr std::int64_t kFeatures = 2048;
    static constexpr int kAttributes = 2;  // brightness, edge density (PictureAttributes' order)

    /// Loads and checks a map file; throws photong::Error naming the file, the tensor and the shapes.
    explicit ImageLatentMap(const std::string& path) : path_(path) {
        SafetensorsFile f(path);
        require(f.contains("whiten") && f.contains("spread"), "not an image -> latent map file (no whiten/spread tensors)",
                {path, "whiten", "[d, 2048]", "(missing)"});
        whiten_ = f.load_weight("whiten");
        require(whiten_.shape().size() == 2 && whiten_.shape()[1] == kFeatures && whiten_.shape()[0] >= 1,
                "image latent map: whiten must be [d, 2048]", {path, "whiten", "[d, 2048]", shape_to_string(whiten_.shape())});
        const std::int64_t d = whiten_.shape()[0];
        spread_ = f.load_weight("spread");
        require(spread_.shape().size() == 2 && spread_.shape()[1] == d && spread_.shape()[0] >= 1,
                "image latent map: spread must be [Z, d]", {path, "spread", "[Z, " + std::to_string(d) + "]", shape_to_string(spread_.shape())});
        z_size_ = spread_.shape()[0];
        feature_mean_ = f.load_weight("feature_mean", {kFeatures});
        directions_ = f.load_weight("attribute_directions", {kAttributes, z_size_});
        attribute_mean_ = f.load_weight("attribute_mean", {kAttributes});
        attribute_std_ = f.load_weight("attribute_std", {kAttributes});
        gains_ = f.load_weight("gains", {kAttributes});
        for (int k = 0; k < kAttributes; ++k)
            require(attribute_std_.data()[k] > 0, "image latent map: attribute_std must be positive",
                    {path, "attribute_std", "> 0", std::to_string(attribute_std_.data()[k])});
        mapping_ = f.metadata_or("mapping", "");
        melody_steps_trained_ = f.metadata_or("melody_steps_trained", "");
    }

    const std::string& path() const { return path_; }
    std::int64_t z_size() const { return z_size_; }
    std::int64_t components() const { return whiten_.shape()[0]; }
    /// The `mapping` metadata (JSON pairs: picture attribute -> music attribute).
    const std::string& mapping() const { return mapping_; }
    /// The `steps_trained` of the melody model the attribute directions came from ("" when the file does not say).
    const std::string& melody_steps_trained() const { return melody_steps_trained_; }

    /// z (1, Z) for pooled features (1, 2048) or (2048) and the picture's attributes. Sums in double.
    Tensor latent(const Tensor& pooled, const PictureAttributes& a) const {
        require(pooled.size() == std::size_t(kFeatures), "image latent map: pooled features must have 2048 values",
                {path_, "pooled", "[1, 2048]", shape_to_string(pooled.shape())});
        const std::int64_t d = components();
        std::vector<double> centred(kFeatures), w(std::size_t(d), 0.0);
        for (std::int64_t i = 0; i < kFeatures; ++i) centred[std::size_t(i)] = double(pooled.data()[i]) - feature_mean_.data()[i];
        for (std::int64_t j = 0; j < d; ++j) {
            const float* row = whiten_.data() + j * kFeatures;
            double s = 0;
            for (std::int64_t i = 0; i < kFeatures; ++i) s += double(row[i]) * centred[std::size_t(i)];
            w[std::size_t(j)] = s;
        }
        const double attr[kAttributes] = {a.brightness, a.edge_density};
        double coeff[kAttributes];
        for (int k = 0; k < kAttributes; ++k)
            coeff[k] = double(gains_.data()[k]) * (attr[k] - attribute_mean_.data()[k]) / attribute_std_.data()[k];
        Tensor z({1, z_size_});
        for (std::int64_t r = 0; r < z_size_; ++r) {
            const float* row = spread_.data() + r * d;
            double s = 0;
            for (std::int64_t j = 0; j < d; ++j) s += double(row[j]) * w[std::size_t(j)];
            for (int k = 0; k < kAttributes; ++k) s += coeff[k] * directions_.data()[k * z_size_ + r];
            z.data()[r] = float(s);
        }
        return z;
    }

private:
    std::string path_, mapping_, melody_steps_trained_;
    std::int64_t z_size_ = 0;
    Tensor whiten_, spread_, feature_mean_, directions_, attribute_mean_, attribute_std_, gains_;
};

}  // namespace photong
