// photong/nn/winograd.hpp — stride-1 convolution by Winograd's minimal filtering F(mh x mw, rh x rw).
//
// Each mh x mw block of outputs ("tile") comes from a th x tw block of input (th = mh + rh - 1, likewise w):
//   Y = A_h^T [ sum_c (G_h g_c G_w^T) .* (B_h^T d_c B_w) ] A_w,
// so the rh*rw multiplies per output pixel and channel pair become th*tw / (mh*mw): th*tw independent
// (tiles x cin) . (cin x cout) products, one per position xi of the transformed tile, run by the same packed
// micro-kernel as everything else (nn/gemm.hpp). Weights are transformed (in double) and packed once at load.
// An axis with a kernel of 1 (the 1x7 and 7x1 layers) keeps its pixels: m = r = 1, all matrices [1].
//
// Each axis's matrices are built by Toom-Cook at compile time (toom_cook below) from the points 0, 1, -1, 2, -2,
// 1/2, -1/2, 3 (as many as needed) and infinity, the construction of Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks" (2016): F(2, 3) and F(4, 3) come out as their published matrices. Supported per axis:
// F(2, 3), F(4, 3), F(2, 5), F(4, 5), F(2, 7), F(3, 7) and the identity F(1, 1). More points mean larger coefficients and more
// rounding: bench/winograd_error measures every variant per layer against the double definition, and Conv2D
// takes a layer's variant from Conv2DParams::winograd_tile.
//
// Work is cut into blocks of tiles (and, when there are few tiles, into groups of output panels; BalancedTasks), each
// transformed into per-thread buffers that stay in L2: input transform, th*tw products, output transform with
// bias and ReLU. The arithmetic order depends only on the layer, never on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
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

/// One axis of F(m, r): n = m + r - 1 evaluation points. BT (n x n) transforms input, G (n x r) the kernel,
/// AT (m x n) the products back to outputs.
template <int M, int R>
struct Matrices {
    static constexpr int N = M + R - 1;
    double BT[N][N] = {}, G[N][R] = {}, AT[M][N] = {};
};

/// Toom-Cook: with finite points p_0..p_{n-2}, N_j(x) = prod_{l != j} (x - p_l) and f_j = N_j(p_j), BT's row j holds
/// N_j's coefficients (ascending), G's row j is p_j^k / f_j, AT's column j is p_j^i; the point at infinity adds BT's
/// last row (the coefficients of prod_l (x - p_l)) and unit entries in G's last row and AT's last column. BT and AT
/// then hold only integers and powers of 1/2 (exact in float); the divisions sit in G, applied in double at load.
template <int M, int R>
constexpr Matrices<M, R> toom_cook() {
    constexpr int N = M + R - 1;
    const double points[8] = {0, 1, -1, 2, -2, 0.5, -0.5, 3};
    static_assert(N - 1 <= 8, "F(m, r) needs more points than are defined");
    Matrices<M, R> x{};
    for (int j = 0; j < N; ++j) {  // j == N - 1: the point at infinity
        double poly[N] = {1};
        int degree = 0;
        double f = 1;
        for (int l = 0; l < N - 1; ++l) {
            if (l == j) continue;
            for (int k = degree + 1; k > 0; --k) poly[k] = poly[k - 1] - points[l] * poly[k];  // poly *= (x - p_l)
            poly[0] = -points[l] * poly[0];
            ++degree;
            if (j < N - 1) f *= points[j] - points[l];
        }
        for (int k = 0; k < N; ++k) x.BT[j][k] = poly[k];
        for (int k = 0; k < R; ++k) {
            double power = 1;
            for (int q = 0; q < k; ++q) power *= j < N - 1 ? points[j] : 0;
            x.G[j][k] = j < N - 1 ? power / f : (k == R - 1 ? 1 : 0);
        }
        for (int i = 0; i < M; ++i) {
            double power = 1;
            for (int q = 0; q < i; ++q) power *= j < N - 1 ? points[j] : 0;
            x.AT[i][j] = j < N - 1 ? power : (i == M - 1 ? 1 : 0);
        }
    }
    return x;
}

template <int M, int R>
inline constexpr Matrices<M, R> kMatrices = toom_cook<M, R>();

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

/// G of F(m, r) as a runtime table (the weight transform's loops take any axis).
inline std::vector<double> kernel_transform(int m, int r) {
    auto table = [](const auto& mx) {
        std::vector<double> g;
        for (const auto& row : mx.G) g.insert(g.end(), std::begin(row), std::end(row));
        return g;
    };
    if (m == 1 && r == 1) return table(kMatrices<1, 1>);
    if (m == 2 && r == 3) return table(kMatrices<2, 3>);
    if (m == 4 && r == 3) return table(kMatrices<4, 3>);
    if (m == 2 && r == 5) return table(kMatrices<2, 5>);
    if (m == 4 && r == 5) return table(kMatrices<4, 5>);
    if (m == 2 && r == 7) return table(kMatrices<2, 7>);
    if (m == 3 && r == 7) return table(kMatrices<3, 7>);
    throw Error("no Winograd transform F(" + std::to_string(m) + ", " + std::to_string(r) + ")");
}

}  // namespace winograd_detail

/// The shape of a Winograd convolution: output tiles of mh x mw for a kernel of rh x rw.
struct WinogradShape {
    int mh = 2, mw = 2, rh = 3, rw = 3;

    int tile_h() const { return mh + rh - 1; }
    int tile_w() const { return mw + rw - 1; }
    int positions() const { return tile_h() * tile_w(); }
    /// Output tiles for an output map of (n, h, w).
    std::int64_t tiles(int n, int h, int w) const { return std::int64_t(n) * ((h + mh - 1) / mh) * ((w + mw - 1) / mw); }
    bool operator==(const WinogradShape& o) const { return mh == o.mh && mw == o.mw && rh == o.rh && rw == o.rw; }
    /// "F(2x2,3x3)", "F(1x2,1x7)".
    std::string name() const {
        return "F(" + std::to_string(mh) + "x" + std::to_string(mw) + "," + std::to_string(rh) + "x" + std::to_string(rw) + ")";
    }

    /// The shape for a kh x kw kernel with output tiles of `tile` pixels along each axis the kernel spans, if that
    /// variant exists: per axis F(2,3), F(4,3), F(2,5), F(4,5), F(2,7), F(3,7) (so 3x3, 1x3, 3x1 and 5x5 with tile 2 or
    /// 4; 1x7 and 7x1 with 2 or 3); false otherwise (1x1 kernels have nothing to save).
    static bool for_kernel(int kh, int kw, int tile, WinogradShape& out) {
        auto axis = [&](int r) { return r == 1 ? 1 : tile; };
        auto supported = [](int m, int r) {
            return (m == 1 && r == 1) || ((m == 2 || m == 4) && (r == 3 || r == 5)) || ((m == 2 || m == 3) && r == 7);
        };
        if ((kh == 1 && kw == 1) || !supported(axis(kh), kh) || !supported(axis(kw), kw)) return false;
        out = WinogradShape{axis(kh), axis(kw), kh, kw};
        return true;
    }
};

/// A stride-1 convolution (BN folded, bias, optional ReLU) computed as Winograd F(mh x mw, rh x rw).
class WinogradConv {
public:
    /// Tiles per task: at most this many (at least 12, in whole micro-kernels). Few tiles keep a task's transformed
    /// input and products in L2 (F(4x4): 36 positions of both); measured on InceptionV3's Winograd layers (2-core
    /// AVX-512 EPYC, same run): 12 tiles 14% faster than 48 at batch 1 and 10% at batch 8; per-panel passes over the
    /// products gained nothing more.
    static constexpr int kTileBlock = (12 + gemm_detail::kRows - 1) / gemm_detail::kRows * gemm_detail::kRows;

    WinogradConv() = default;
    /// kernel: (rh, rw, cin, cout) HWIO, the shape's window; bias_padded: cout values padded to whole panels.
    WinogradConv(WinogradShape shape, const float* kernel, int cin, int cout, const std::vector<float>& bias_padded, Padding padding, bool relu)
        : shape_(shape), cin_(cin), cout_(cout), padding_(padding), relu_(relu), bias_(bias_padded) {
        const std::vector<double> gh = winograd_detail::kernel_transform(shape.mh, shape.rh), gw = winograd_detail::kernel_transform(shape.mw, shape.rw);
        const int th = shape.tile_h(), tw = shape.tile_w(), rh = shape.rh, rw = shape.rw;
        std::vector<float> u(std::size_t(shape.positions()) * cin * cout);
        std::vector<double> t(std::size_t(th) * rw);
        for (int ci = 0; ci < cin; ++ci)
            for (int co = 0; co < cout; ++co) {
                for (int i = 0; i < th; ++i)  // t = G_h g
                    for (int x = 0; x < rw; ++x) {
                        double s = 0;
                        for (int k = 0; k < rh; ++k) s += gh[std::size_t(i * rh + k)] * kernel[((std::size_t(k) * rw + x) * cin + ci) * cout + co];
                        t[std::size_t(i * rw + x)] = s;
                    }
                for (int i = 0; i < th; ++i)  // (G_h g) G_w^T
                    for (int j = 0; j < tw; ++j) {
                        double s = 0;
                        for (int k = 0; k < rw; ++k) s += t[std::size_t(i * rw + k)] * gw[std::size_t(j * rw + k)];
                        u[((std::size_t(i) * tw + j) * cin + ci) * cout + co] = float(s);
                    }
            }
        for (int xi = 0; xi < shape.positions(); ++xi) u_.emplace_back(u.data() + std::size_t(xi) * cin * cout, cin, cout);
    }

    /// From weights already transformed and packed (u[xi] = (G_h g G_w^T)[xi] as a cin x cout matrix, as
    /// transformed() gives them): what a packed-weights cache stores, so loading does no transform.
    WinogradConv(WinogradShape shape, std::vector<PackedMatrix> u, int cin, int cout, std::vector<float> bias_padded, Padding padding, bool relu)
        : shape_(shape), cin_(cin), cout_(cout), padding_(padding), relu_(relu), bias_(std::move(bias_padded)), u_(std::move(u)) {
        require(int(u_.size()) == shape.positions(), "Winograd weights have the wrong number of positions",
                {"", shape.name(), std::to_string(shape.positions()), std::to_string(u_.size())});
        for (const PackedMatrix& m : u_)
            require(m.rows() == cin && m.cols() == cout, "Winograd weights do not match the layer",
                    {"", shape.name(), std::to_string(cin) + "x" + std::to_string(cout), std::to_string(m.rows()) + "x" + std::to_string(m.cols())});
        require(std::int64_t(bias_.size()) == u_[0].panels() * PackedMatrix::kPanel, "Winograd bias is not padded to whole panels",
                {"", shape.name(), std::to_string(u_[0].panels() * PackedMatrix::kPanel), std::to_string(bias_.size())});
    }

    const WinogradShape& shape() const { return shape_; }
    int positions() const { return shape_.positions(); }
    /// The transformed weights at tile position xi (0 .. positions()-1).
    const PackedMatrix& transformed(int xi) const { return u_[std::size_t(xi)]; }

    /// out (n, oh, ow, cout) = relu?(conv(in) + bias); shapes were checked by the caller.
    void forward(const FeatureView& in, const FeatureView& out, ThreadPool& pool) const {
        const WinogradShape& s = shape_;
        if (s == WinogradShape{2, 2, 3, 3}) return run<2, 2, 3, 3>(in, out, pool);
        if (s == WinogradShape{4, 4, 3, 3}) return run<4, 4, 3, 3>(in, out, pool);
        if (s == WinogradShape{2, 2, 5, 5}) return run<2, 2, 5, 5>(in, out, pool);
        if (s == WinogradShape{1, 2, 1, 7}) return run<1, 2, 1, 7>(in, out, pool);
        if (s == WinogradShape{2, 1, 7, 1}) return run<2, 1, 7, 1>(in, out, pool);
        if (s == WinogradShape{1, 2, 1, 3}) return run<1, 2, 1, 3>(in, out, pool);
        if (s == WinogradShape{2, 1, 3, 1}) return run<2, 1, 3, 1>(in, out, pool);
        if (s == WinogradShape{4, 4, 5, 5}) return run<4, 4, 5, 5>(in, out, pool);
        if (s == WinogradShape{1, 3, 1, 7}) return run<1, 3, 1, 7>(in, out, pool);
        if (s == WinogradShape{3, 1, 7, 1}) return run<3, 1, 7, 1>(in, out, pool);
        if (s == WinogradShape{1, 4, 1, 3}) return run<1, 4, 1, 3>(in, out, pool);
        if (s == WinogradShape{4, 1, 3, 1}) return run<4, 1, 3, 1>(in, out, pool);
        throw Error("Winograd variant has no kernel", {"", s.name()});
    }

private:
    using Packet = gemm_detail::Packet;
    static constexpr int kLanes = gemm_detail::kLanes;
    static constexpr std::int64_t kPanel = PackedMatrix::kPanel;

    template <int MH, int MW, int RH, int RW>
    void run(const FeatureView& in, const FeatureView& out, ThreadPool& pool) const {
        constexpr int TH = MH + RH - 1, TW = MW + RW - 1, P = TH * TW;
        const int pad_y = window_axis(in.h, RH, 1, padding_).pad, pad_x = window_axis(in.w, RW, 1, padding_).pad;
        const int th = (out.h + MH - 1) / MH, tw = (out.w + MW - 1) / MW;
        const std::int64_t total = shape_.tiles(out.n, out.h, out.w), panels = u_[0].panels();
        const BalancedTasks grid(total, kTileBlock, panels, pool.size());
        const std::int64_t width = panels * kPanel;  // row stride of the product buffers

        pool.for_each(grid.count(), [&](std::int64_t task) {
            std::int64_t t0 = 0, t1 = 0, j0 = 0, j1 = 0;
            grid.ranges(task, t0, t1, j0, j1);
            const std::int64_t nt = t1 - t0;
            thread_local std::vector<float> v, m, zeros;
            thread_local std::vector<const float*> rows;
            v.resize(std::size_t(P * nt * cin_));
            m.resize(std::size_t(P * nt * width));
            rows.resize(std::size_t(P * nt));
            if (zeros.size() < std::size_t(cin_)) zeros.assign(std::size_t(cin_), 0.0f);
            for (std::int64_t t = 0; t < nt; ++t) {
                const std::int64_t q = t0 + t;
                const int n = int(q / (std::int64_t(th) * tw)), ty = int((q / tw) % th), tx = int(q % tw);
                const float* d[P];
                for (int y = 0; y < TH; ++y)
                    for (int x = 0; x < TW; ++x) {
                        const int iy = MH * ty - pad_y + y, ix = MW * tx - pad_x + x;
                        d[y * TW + x] = (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) ? zeros.data() : in.pixel(n, iy, ix);
                    }
                input_transform<MH, MW, RH, RW>(d, v.data() + t * cin_, nt * cin_);
            }
            for (std::int64_t r = 0; r < P * nt; ++r) rows[std::size_t(r)] = v.data() + r * cin_;
            for (int xi = 0; xi < P; ++xi)
                gemm(IndirectRows{rows.data() + std::size_t(xi) * nt, nt, cin_}, nt, u_[std::size_t(xi)], j0, j1, nullptr, false,
                     m.data() + std::size_t(xi) * nt * width, width);
            const std::int64_t c0 = j0 * kPanel, c1 = std::min<std::int64_t>(cout_, j1 * kPanel);
            for (std::int64_t t = 0; t < nt; ++t) {
                const std::int64_t q = t0 + t;
                const int n = int(q / (std::int64_t(th) * tw)), ty = int((q / tw) % th), tx = int(q % tw);
                float* y[MH * MW];
                for (int k = 0; k < MH * MW; ++k) {
                    const int oy = MH * ty + k / MW, ox = MW * tx + k % MW;
                    y[k] = (oy < out.h && ox < out.w) ? out.pixel(n, oy, ox) : nullptr;
                }
                output_transform<MH, MW, RH, RW>(m.data() + t * width + c0, nt * width, c0, c1, y);
            }
        });
    }

    /// V[xi] = (B_h^T d B_w)[xi] for one tile, all channels; V[xi] rows are `xi_stride` floats apart.
    template <int MH, int MW, int RH, int RW>
    void input_transform(const float* const* d, float* v, std::int64_t xi_stride) const {
        constexpr int P = (MH + RH - 1) * (MW + RW - 1);
        std::int64_t c = 0;
        for (; c + kLanes <= cin_; c += kLanes) {
            Packet p[P];
            for (int i = 0; i < P; ++i) p[i] = Eigen::internal::ploadu<Packet>(d[i] + c);
            transform_input<MH, MW, RH, RW>(p, v + c, xi_stride);
        }
        for (; c < cin_; ++c) {
            float p[P];
            for (int i = 0; i < P; ++i) p[i] = d[i][c];
            transform_input<MH, MW, RH, RW>(p, v + c, xi_stride);
        }
    }
    template <int MH, int MW, int RH, int RW, class T>
    static void transform_input(const T* p, float* v, std::int64_t xi_stride) {
        constexpr int TH = MH + RH - 1, TW = MW + RW - 1;
        constexpr const auto& H = winograd_detail::kMatrices<MH, RH>;
        constexpr const auto& W = winograd_detail::kMatrices<MW, RW>;
        T r[TH * TW];
        PHOTONG_UNROLL for (int i = 0; i < TH; ++i)  // columns: B_h^T d
            PHOTONG_UNROLL for (int x = 0; x < TW; ++x) r[i * TW + x] = winograd_detail::combine(H.BT[i], p + x, TW);
        PHOTONG_UNROLL for (int i = 0; i < TH; ++i)  // rows: (B_h^T d) B_w
            PHOTONG_UNROLL for (int j = 0; j < TW; ++j) store(v + (i * TW + j) * xi_stride, winograd_detail::combine(W.BT[j], r + i * TW, 1));
    }

    /// Y = A_h^T Mt A_w + bias (and ReLU) for one tile, channels [c0, c1) (m points at channel c0 of position 0);
    /// y[k] is output pixel k of the MH x MW block (row-major), or nullptr where it falls outside the map.
    template <int MH, int MW, int RH, int RW>
    void output_transform(const float* m, std::int64_t xi_stride, std::int64_t c0, std::int64_t c1, float* const* y) const {
        constexpr int P = (MH + RH - 1) * (MW + RW - 1);
        std::int64_t c = c0;
        for (; c + kLanes <= c1; c += kLanes) {
            Packet p[P];
            for (int i = 0; i < P; ++i) p[i] = Eigen::internal::ploadu<Packet>(m + i * xi_stride + (c - c0));
            transform_output<MH, MW, RH, RW>(p, Eigen::internal::ploadu<Packet>(bias_.data() + c), c, y);
        }
        for (; c < c1; ++c) {
            float p[P];
            for (int i = 0; i < P; ++i) p[i] = m[i * xi_stride + (c - c0)];
            transform_output<MH, MW, RH, RW>(p, bias_[std::size_t(c)], c, y);
        }
    }
    template <int MH, int MW, int RH, int RW, class T>
    void transform_output(const T* p, const T& bias, std::int64_t c, float* const* y) const {
        constexpr int TW = MW + RW - 1;
        constexpr const auto& H = winograd_detail::kMatrices<MH, RH>;
        constexpr const auto& W = winograd_detail::kMatrices<MW, RW>;
        T r[MH * TW];
        PHOTONG_UNROLL for (int i = 0; i < MH; ++i)  // columns: A_h^T Mt
            PHOTONG_UNROLL for (int x = 0; x < TW; ++x) r[i * TW + x] = winograd_detail::combine(H.AT[i], p + x, TW);
        PHOTONG_UNROLL for (int i = 0; i < MH; ++i)  // rows: (A_h^T Mt) A_w, then bias and ReLU
            PHOTONG_UNROLL for (int j = 0; j < MW; ++j) {
                float* to = y[i * MW + j];
                if (!to) continue;
                T o = Eigen::internal::padd(winograd_detail::combine(W.AT[j], r + i * TW, 1), bias);
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

    WinogradShape shape_;
    int cin_ = 0, cout_ = 0;
    Padding padding_ = Padding::Same;
    bool relu_ = false;
    std::vector<float> bias_;       // padded to whole panels
    std::vector<PackedMatrix> u_;   // transformed weights, one (cin x cout) matrix per position
};

}  // namespace photong
