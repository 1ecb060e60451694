// photong/core/tensor.hpp — an owning float tensor and a strided NHWC view of one.
//
// Layout is NHWC everywhere on the CPU path (the Keras/TF order the weights come in), so that a
// 1x1 convolution is a plain row-major matrix product and channel concatenation is a strided write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "photong/core/error.hpp"

namespace photong {

/// A batch of images or feature maps: (n, h, w, c) floats where consecutive pixels are
/// `pixel_stride` floats apart (pixel_stride >= c). A stride larger than c lets a layer read
/// one slice of a wider map, or write straight into its slot of a channel concatenation.
struct FeatureView {
    float* data = nullptr;
    int n = 0, h = 0, w = 0, c = 0;
    std::ptrdiff_t pixel_stride = 0;  ///< floats from pixel (i, y, x) to pixel (i, y, x + 1)

    std::ptrdiff_t pixels() const { return std::ptrdiff_t(n) * h * w; }
    float* pixel(int i, int y, int x) const { return data + ((std::ptrdiff_t(i) * h + y) * w + x) * pixel_stride; }
    /// Channels [offset, offset + count) of the same pixels.
    FeatureView channels(int offset, int count) const {
        require(offset >= 0 && count >= 0 && offset + count <= c, "channel slice out of range",
                {"", "", "channels within 0.." + std::to_string(c),
                 std::to_string(offset) + "+" + std::to_string(count)});
        FeatureView v = *this;
        v.data += offset;
        v.c = count;
        return v;
    }
    std::vector<int> shape() const { return {n, h, w, c}; }
};

/// Dense, owning float tensor with an arbitrary shape (row-major, last index fastest).
class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::vector<std::int64_t> shape, float fill = 0.0f) : shape_(std::move(shape)) {
        data_.assign(count_of(shape_), fill);
    }
    Tensor(std::vector<std::int64_t> shape, std::vector<float> values) : shape_(std::move(shape)), data_(std::move(values)) {
        require(data_.size() == count_of(shape_), "tensor data does not match its shape",
                {"", "", std::to_string(count_of(shape_)) + " values", std::to_string(data_.size()) + " values"});
    }
    /// An NHWC feature map.
    static Tensor nhwc(int n, int h, int w, int c) { return Tensor({n, h, w, c}); }

    const std::vector<std::int64_t>& shape() const { return shape_; }
    std::int64_t dim(std::size_t i) const { return shape_.at(i); }
    std::size_t rank() const { return shape_.size(); }
    std::size_t size() const { return data_.size(); }
    float* data() { return data_.data(); }
    const float* data() const { return data_.data(); }
    float& operator[](std::size_t i) { return data_[i]; }
    float operator[](std::size_t i) const { return data_[i]; }
    std::vector<float>& values() { return data_; }
    const std::vector<float>& values() const { return data_; }

    /// Same data, new shape with the same element count.
    Tensor reshaped(std::vector<std::int64_t> shape) const {
        require(count_of(shape) == data_.size(), "reshape changes the element count",
                {"", "", shape_to_string(shape_), shape_to_string(shape)});
        return Tensor(std::move(shape), data_);
    }

    /// View of a rank-4 (n, h, w, c) tensor.
    FeatureView view() {
        require(rank() == 4, "an NHWC view needs a rank-4 tensor", {"", "", "rank 4", shape_to_string(shape_)});
        return FeatureView{data(), int(shape_[0]), int(shape_[1]), int(shape_[2]), int(shape_[3]), std::ptrdiff_t(shape_[3])};
    }
    FeatureView view() const { return const_cast<Tensor*>(this)->view(); }

    static std::size_t count_of(const std::vector<std::int64_t>& shape) {
        std::size_t n = 1;
        for (auto d : shape) {
            require(d >= 0, "negative dimension in shape", {"", "", "dimensions >= 0", shape_to_string(shape)});
            n *= std::size_t(d);
        }
        return n;
    }

private:
    std::vector<std::int64_t> shape_;
    std::vector<float> data_;
};

/// The transpose of a matrix (rank 2): PyTorch's (out, in) weights as the (in, out) right-hand side our products take.
inline Tensor transposed(const Tensor& w) {
    require(w.rank() == 2, "transposed() takes a matrix", {"", "transposed", "rank 2", shape_to_string(w.shape())});
    Tensor t({w.dim(1), w.dim(0)});
    for (std::int64_t r = 0; r < w.dim(0); ++r)
        for (std::int64_t c = 0; c < w.dim(1); ++c) t[std::size_t(c * w.dim(0) + r)] = w[std::size_t(r * w.dim(1) + c)];
    return t;
}

}  // namespace photong
