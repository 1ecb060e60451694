// photong/nn/winograd.hpp — 3x3 stride-1 convolution by Winograd's minimal filtering F(m x m, 3x3).
//
// Each m x m block of outputs ("tile") comes from a t x t block of input (t = m + 2):
//   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A,
// so the 9 multiplies per output pixel and channel pair become t^2 / m^2 (4 for m = 2): t^2
// independent (tiles x cin) . (cin x cout) products, one per position xi of the
// transformed tile, run by the same packed micro-kernel as everything else (nn/gemm.hpp).
// Weights are transformed (in double) and packed once at load: U_xi = (G g G^T)[xi].
// The matrices are the standard ones of Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks" (2016): m = 2 (points 0, +-1), the one Conv2D uses, and m = 4 (points 0, +-1, +-2), measured
// per layer against the reference by bench/winograd_error (see Conv2D for why it is not used).
//
// Work is cut into blocks of tiles (and, when there are few tiles, into groups of output panels),
// each transformed into per-thread buffers that stay in L2: input transform, t^2 products,
// output transform with bias and ReLU. The arithmetic order depends only on the layer, never on
// the thread count. Rounding differs from direct convolution by a few ulps (the transforms'
// coefficients are small integers and their reciprocals); tests hold it to the same tolerances
// against PyTorch and the plain reference.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/tensor.hpp"
#include "photong/nn/gemm.hpp"
#include "photong/nn/padding.hpp"

namespace photong {

namespace winograd_detail {

template <int M>
struct Matrices;

template <>
struct Matrices<2> {  // F(2x2, 3x3), points 0, 1, -1
    static constexpr double BT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    static constexpr double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static constexpr double AT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

template <>
struct Matrices<4> {  // F(4x4, 3x3), points 0, 1, -1, 2, -2 and infinity (Lavin & Gray's)
    static constexpr double BT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                        {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    static constexpr double G[6][3] = {{1.0 / 4, 0, 0},          {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                       {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    static constexpr double AT[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};

/// sum_j coef[j] * v[j * stride]. With the coefficient table constant and the loops unrolled the
/// branches fold away, leaving only the adds, subtracts and multiplies the matrix really has: the
/// sum starts from the first +1 term (so no add to zero), then subtracts the -1 terms, then
/// multiplies in any other coefficient.
template <int N, class T>
inline T combine(const double (&coef)[N], const T* v, int stride) {
    using namespace Eigen::internal;
    T acc = pset1<T>(0.0f);
    bool started = false;
    PHOTONG_UNROLL for (int j = 0; j < N; ++j)
        if (coef[j] == 1) {
            acc = started ? padd(acc, v[j * stride]) : v[j * stride];
            started = true;
        }
    PHOTONG_UNROLL for (int j = 0; j < N; ++j)
        if (coef[j] == -1) acc = psub(acc, v[j * stride]);
    PHOTONG_UNROLL for (int j = 0; j < N; ++j)
        if (coef[j] != 0 && coef[j] != 1 && coef[j] != -1) acc = pmadd(pset1<T>(float(coef[j])), v[j * stride], acc);
    return acc;
}

}  // namespace winograd_detail

/// A 3x3, stride-1 convolution (BN folded, bias, optional ReLU) computed as F(M x M, 3x3).
template <int M>
class Winograd3x3 {
public:
    static constexpr int kTile = M + 2;          ///< input tile side
    static constexpr int kPositions = kTile * kTile;
    static constexpr int kTileBlock = 4 * gemm_detail::kRows;  ///< tiles per task: whole micro-kernels

    Winograd3x3() = default;
    /// kernel: (3, 3, cin, cout) HWIO; bias_padded: cout values padded to whole panels.
    Winograd3x3(const float* kernel, int cin, int cout, const std::vector<float>& bias_padded, Padding padding, bool relu)
        : cin_(cin), cout_(cout), padding_(padding), relu_(relu), bias_(bias_padded) {
        using Mx = winograd_detail::Matrices<M>;
        std::vector<float> u(std::size_t(kPositions) * cin * cout);
        for (int ci = 0; ci < cin; ++ci)
            for (int co = 0; co < cout; ++co) {
                double t[kTile][3];
                for (int i = 0; i < kTile; ++i)  // t = G g
                    for (int x = 0; x < 3; ++x) {
                        t[i][x] = 0;
                        for (int k = 0; k < 3; ++k) t[i][x] += Mx::G[i][k] * kernel[((std::size_t(k) * 3 + x) * cin + ci) * cout + co];
                    }
                for (int i = 0; i < kTile; ++i)  // (G g) G^T
                    for (int j = 0; j < kTile; ++j) {
                        double v = 0;
                        for (int k = 0; k < 3; ++k) v += t[i][k] * Mx::G[j][k];
                        u[((std::size_t(i) * kTile + j) * cin + ci) * cout + co] = float(v);
                    }
            }
        for (int xi = 0; xi < kPositions; ++xi)
            u_[std::size_t(xi)] = PackedMatrix(u.data() + std::size_t(xi) * cin * cout, cin, cout);
    }

    /// From weights already transformed and packed (u[xi] = (G g G^T)[xi] as a cin x cout matrix, as
    /// transformed() gives them): what a packed-weights cache stores, so loading does no transform.
    Winograd3x3(std::array<PackedMatrix, kPositions> u, int cin, int cout, std::vector<float> bias_padded, Padding padding, bool relu)
        : cin_(cin), cout_(cout), padding_(padding), relu_(relu), bias_(std::move(bias_padded)), u_(std::move(u)) {
        for (const PackedMatrix& m : u_)
            require(m.rows() == cin && m.cols() == cout, "Winograd weights do not match the layer",
                    {"", "", std::to_string(cin) + "x" + std::to_string(cout), std::to_string(m.rows()) + "x" + std::to_string(m.cols())});
        require(std::int64_t(bias_.size()) == u_[0].panels() * PackedMatrix::kPanel, "Winograd bias is not padded to whole panels",
                {"", "", std::to_string(u_[0].panels() * PackedMatrix::kPanel), std::to_string(bias_.size())});
    }

    /// The transformed weights at tile position xi (0 .. kPositions-1).
    const PackedMatrix& transformed(int xi) const { return u_[std::size_t(xi)]; }

    /// Output tiles for an output map of (n, h, w).
    static std::int64_t tiles(int n, int h, int w) { return std::int64_t(n) * ((h + M - 1) / M) * ((w + M - 1) / M); }

    /// out (n, oh, ow, cout) = relu?(conv3x3(in) + bias); shapes were checked by the caller.
    void forward(const FeatureView& in, const FeatureView& out, ThreadPool& pool) const {
        const int pad = padding_ == Padding::Same ? 1 : 0;
        const int th = (out.h + M - 1) / M, tw = (out.w + M - 1) / M;
        const std::int64_t total = tiles(out.n, out.h, out.w), panels = u_[0].panels();
        const std::int64_t blocks = (total + kTileBlock - 1) / kTileBlock;
        const std::int64_t splits = std::min<std::int64_t>(std::max<std::int64_t>(1, 16 / blocks), panels);
        const std::int64_t per_task = (panels + splits - 1) / splits, col_tasks = (panels + per_task - 1) / per_task;
        const std::int64_t width = panels * PackedMatrix::kPanel;  // row stride of the product buffers

        pool.for_each(blocks * col_tasks, [&](std::int64_t task) {
            const std::int64_t t0 = (task / col_tasks) * kTileBlock, nt = std::min<std::int64_t>(kTileBlock, total - t0);
            const std::int64_t j0 = (task % col_tasks) * per_task, j1 = std::min(panels, j0 + per_task);
            thread_local std::vector<float> v, m, zeros;
            v.resize(std::size_t(kPositions * nt * cin_));
            m.resize(std::size_t(kPositions * nt * width));
            if (zeros.size() < std::size_t(cin_)) zeros.assign(std::size_t(cin_), 0.0f);
            for (std::int64_t t = 0; t < nt; ++t) {
                const std::int64_t q = t0 + t;
                const int n = int(q / (std::int64_t(th) * tw)), ty = int((q / tw) % th), tx = int(q % tw);
                const float* d[kPositions];
                for (int y = 0; y < kTile; ++y)
                    for (int x = 0; x < kTile; ++x) {
                        const int iy = M * ty - pad + y, ix = M * tx - pad + x;
                        d[y * kTile + x] = (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) ? zeros.data() : in.pixel(n, iy, ix);
                    }
                input_transform(d, v.data() + t * cin_, nt * cin_);
            }
            for (int xi = 0; xi < kPositions; ++xi)
                gemm(v.data() + std::size_t(xi) * nt * cin_, cin_, nt, u_[std::size_t(xi)], j0, j1, nullptr, false,
                     m.data() + std::size_t(xi) * nt * width, width);
            const std::int64_t c0 = j0 * PackedMatrix::kPanel, c1 = std::min<std::int64_t>(cout_, j1 * PackedMatrix::kPanel);
            for (std::int64_t t = 0; t < nt; ++t) {
                const std::int64_t q = t0 + t;
                const int n = int(q / (std::int64_t(th) * tw)), ty = int((q / tw) % th), tx = int(q % tw);
                float* y[M * M];
                for (int k = 0; k < M * M; ++k) {
                    const int oy = M * ty + k / M, ox = M * tx + k % M;
                    y[k] = (oy < out.h && ox < out.w) ? out.pixel(n, oy, ox) : nullptr;
                }
                output_transform(m.data() + t * width, nt * width, c0, c1, y);
            }
        });
    }

private:
    using Packet = gemm_detail::Packet;
    static constexpr int kLanes = gemm_detail::kLanes;

    /// V[xi] = (B^T d B)[xi] for one tile, all channels; V[xi] rows are `xi_stride` floats apart.
    void input_transform(const float* const* d, float* v, std::int64_t xi_stride) const {
        std::int64_t c = 0;
        for (; c + kLanes <= cin_; c += kLanes) {
            Packet p[kPositions];
            for (int i = 0; i < kPositions; ++i) p[i] = Eigen::internal::ploadu<Packet>(d[i] + c);
            transform_input(p, v + c, xi_stride);
        }
        for (; c < cin_; ++c) {
            float p[kPositions];
            for (int i = 0; i < kPositions; ++i) p[i] = d[i][c];
            transform_input(p, v + c, xi_stride);
        }
    }
    template <class T>
    static void transform_input(const T* p, float* v, std::int64_t xi_stride) {
        using Mx = winograd_detail::Matrices<M>;
        T r[kPositions];
        PHOTONG_UNROLL for (int i = 0; i < kTile; ++i)  // rows: B^T d
            PHOTONG_UNROLL for (int x = 0; x < kTile; ++x) r[i * kTile + x] = winograd_detail::combine(Mx::BT[i], p + x, kTile);
        PHOTONG_UNROLL for (int i = 0; i < kTile; ++i)  // columns: (B^T d) B
            PHOTONG_UNROLL for (int j = 0; j < kTile; ++j) store(v + (i * kTile + j) * xi_stride, winograd_detail::combine(Mx::BT[j], r + i * kTile, 1));
    }

    /// Y = A^T Mt A + bias (and ReLU) for one tile, channels [c0, c1); y[k] is output pixel k of
    /// the M x M block (row-major), or nullptr where it falls outside the map.
    void output_transform(const float* m, std::int64_t xi_stride, std::int64_t c0, std::int64_t c1, float* const* y) const {
        std::int64_t c = c0;
        for (; c + kLanes <= c1; c += kLanes) {
            Packet p[kPositions];
            for (int i = 0; i < kPositions; ++i) p[i] = Eigen::internal::ploadu<Packet>(m + i * xi_stride + c);
            transform_output(p, Eigen::internal::ploadu<Packet>(bias_.data() + c), c, y);
        }
        for (; c < c1; ++c) {
            float p[kPositions];
            for (int i = 0; i < kPositions; ++i) p[i] = m[i * xi_stride + c];
            transform_output(p, bias_[std::size_t(c)], c, y);
        }
    }
    template <class T>
    void transform_output(const T* p, const T& bias, std::int64_t c, float* const* y) const {
        using Mx = winograd_detail::Matrices<M>;
        T r[M * kTile];
        PHOTONG_UNROLL for (int i = 0; i < M; ++i)  // rows: A^T Mt
            PHOTONG_UNROLL for (int x = 0; x < kTile; ++x) r[i * kTile + x] = winograd_detail::combine(Mx::AT[i], p + x, kTile);
        PHOTONG_UNROLL for (int i = 0; i < M; ++i)  // columns: (A^T Mt) A, then bias and ReLU
            PHOTONG_UNROLL for (int j = 0; j < M; ++j) {
                float* to = y[i * M + j];
                if (!to) continue;
                T o = Eigen::internal::padd(winograd_detail::combine(Mx::AT[j], r + i * kTile, 1), bias);
                if (relu_) o = Eigen::internal::pmax(o, Eigen::internal::pset1<T>(0.0f));
                store(to + c, o);
            }
    }
    // One template for packets and scalars: where Eigen has no SIMD for the target (s390x without
    // -march=z13, for one) Packet is float itself, and two overloads would be ambiguous.
    template <class T>
    static void store(float* to, const T& p) {
        if constexpr (std::is_same<T, float>::value) *to = p;
        else Eigen::internal::pstoreu(to, p);
    }

    int cin_ = 0, cout_ = 0;
    Padding padding_ = Padding::Same;
    bool relu_ = false;
    std::vector<float> bias_;                     // padded to whole panels
    std::array<PackedMatrix, kPositions> u_;      // transformed weights, one (cin x cout) matrix per position
};

}  // namespace photong
