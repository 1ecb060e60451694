// photong/nn/dense.hpp — fully connected layer (Keras Dense) and the activations it uses.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "photong/core/error.hpp"
#include "photong/core/tensor.hpp"

namespace photong {

enum class Activation { Linear, Relu, Softmax, Sigmoid, Tanh, Softplus };

inline Activation parse_activation(const std::string& s) {
    if (s == "linear") return Activation::Linear;
    if (s == "relu") return Activation::Relu;
    if (s == "softmax") return Activation::Softmax;
    if (s == "sigmoid") return Activation::Sigmoid;
    if (s == "tanh") return Activation::Tanh;
    if (s == "softplus") return Activation::Softplus;
    throw Error("unknown activation", {"", "", "linear|relu|softmax|sigmoid|tanh|softplus", s});
}

/// Applies an activation in place to each row of a (rows, cols) row-major block.
inline void apply_activation(float* data, std::int64_t rows, std::int64_t cols, Activation a) {
    for (std::int64_t r = 0; r < rows; ++r) {
        float* x = data + r * cols;
        switch (a) {
            case Activation::Linear: break;
            case Activation::Relu: for (std::int64_t j = 0; j < cols; ++j) x[j] = std::max(x[j], 0.0f); break;
            case Activation::Sigmoid: for (std::int64_t j = 0; j < cols; ++j) x[j] = 1.0f / (1.0f + std::exp(-x[j])); break;
            case Activation::Tanh: for (std::int64_t j = 0; j < cols; ++j) x[j] = std::tanh(x[j]); break;
            // log(1 + e^x) written so that neither e^x overflows nor small values lose their digits.
            case Activation::Softplus:
                for (std::int64_t j = 0; j < cols; ++j) x[j] = std::max(x[j], 0.0f) + std::log1p(std::exp(-std::abs(x[j])));
                break;
            case Activation::Softmax: {
                // Subtracting the row maximum keeps exp() from overflowing; the result is unchanged.
                const float m = *std::max_element(x, x + cols);
                double sum = 0.0;
                for (std::int64_t j = 0; j < cols; ++j) sum += (x[j] = std::exp(x[j] - m));
                for (std::int64_t j = 0; j < cols; ++j) x[j] = float(x[j] / sum);
                break;
            }
        }
    }
}

class Dense {
public:
    Dense() = default;
    /// kernel: (in, out) as Keras stores it; bias: out values or empty.
    Dense(const Tensor& kernel, std::vector<float> bias, Activation act, std::string name = "dense")
        : act_(act), name_(std::move(name)) {
        require(kernel.rank() == 2, "dense kernel must be rank 2 (in, out)", {"", name_, "rank 2", shape_to_string(kernel.shape())});
        in_ = kernel.dim(0);
        out_ = kernel.dim(1);
        if (bias.empty()) bias.assign(std::size_t(out_), 0.0f);
        require(std::int64_t(bias.size()) == out_, "dense bias does not match output size", {"", name_, std::to_string(out_), std::to_string(bias.size())});
        weights_ = kernel.values();
        bias_ = std::move(bias);
    }
    std::int64_t in_features() const { return in_; }
    std::int64_t out_features() const { return out_; }

    /// (batch, in) -> (batch, out).
    Tensor forward(const Tensor& x) const {
        require(x.rank() == 2 && x.dim(1) == in_, "dense input has the wrong shape",
                {"", name_, "batch x " + std::to_string(in_), shape_to_string(x.shape())});
        Tensor y({x.dim(0), out_});
        forward(x.data(), x.dim(0), y.data());
        return y;
    }

    /// x (batch, in) -> y (batch, out), both row-major and caller-owned (for loops that must not
    /// allocate per step).
    void forward(const float* x, std::int64_t batch, float* y) const {
        using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        Eigen::Map<RowMatrix> Y(y, batch, out_);
        Y.noalias() = Eigen::Map<const RowMatrix>(x, batch, in_) * Eigen::Map<const RowMatrix>(weights_.data(), in_, out_);
        Y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias_.data(), out_);
        apply_activation(y, batch, out_, act_);
    }

private:
    Activation act_ = Activation::Linear;
    std::string name_;
    std::int64_t in_ = 0, out_ = 0;
    std::vector<float> weights_, bias_;
};

/// The definition, accumulating in double.
inline Tensor dense_reference(const Tensor& x, const Tensor& kernel, const std::vector<float>& bias, Activation act) {
    const std::int64_t B = x.dim(0), I = kernel.dim(0), O = kernel.dim(1);
    require(x.dim(1) == I, "dense input has the wrong shape", {"", "dense_reference", std::to_string(I), std::to_string(x.dim(1))});
    Tensor y({B, O});
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t o = 0; o < O; ++o) {
            double acc = bias.empty() ? 0.0 : bias[std::size_t(o)];
            for (std::int64_t i = 0; i < I; ++i) acc += double(x[std::size_t(b * I + i)]) * kernel[std::size_t(i * O + o)];
            y[std::size_t(b * O + o)] = float(acc);
        }
    apply_activation(y.data(), B, O, act);
    return y;
}

}  // namespace photong
