// The CUDA kernels of kernels/ run through the host SIMT executor (kernels/simt/) against their CPU
// references in include/photong/nn/, on the shapes of kernels/kernel_cases.hpp. Outputs are poisoned
// (NaN) before each run, so a value a kernel forgets to write shows; the tolerance is stated per kernel.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <photong/core/rng.hpp>
#include <photong/image/decode.hpp>
#include <photong/image/preprocess.hpp>
#include <photong/nn/conv2d.hpp>
#include <photong/nn/lstm.hpp>
#include <photong/nn/pooling.hpp>

#include "../kernels/conv2d.cuh"
#include "../kernels/gemm_args.hpp"
#include "../kernels/kernel_cases.hpp"
#include "../kernels/lstm_cell.cuh"
#include "../kernels/preprocess.cuh"
#include "../kernels/pooling.cuh"
#include "test_util.hpp"

namespace {

photong::Tensor random_map(int n, int h, int w, int c, std::uint64_t seed) {
    photong::Tensor t = photong::Tensor::nhwc(n, h, w, c);
    photong::Rng rng(seed);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = float(rng.uniform() * 4.0 - 1.0);
    return t;
}

/// The values of a (possibly channel-sliced) view as a dense tensor: what the CPU references take.
photong::Tensor dense_copy(const photong::FeatureView& v) {
    photong::Tensor t = photong::Tensor::nhwc(v.n, v.h, v.w, v.c);
    for (int n = 0; n < v.n; ++n)
        for (int y = 0; y < v.h; ++y)
            for (int x = 0; x < v.w; ++x) std::copy_n(v.pixel(n, y, x), v.c, t.view().pixel(n, y, x));
    return t;
}

}  // namespace

TEST_CASE("kernels/pooling.cuh: every InceptionV3 pool shape and ragged ones, equal to nn/pooling.hpp bit for bit - a slice in, a channel offset out") {
    // Tolerance: 0. The kernel accumulates in float in the CPU fast path's order (max is exact anyway), so
    // both give the same bits; the double-accumulating reference is within 1 ulp-ish (checked at 1e-6).
    for (const auto& pc : photong::kernels::pool_cases(false)) {
        INFO(pc.name);
        // The input is a channel slice [3, 3 + c) of a wider map, the output goes to channel offset 2 of a wider one.
        const int in_c = pc.c + 5, out_c = pc.c + 4;
        const photong::Tensor wide = random_map(pc.n, pc.h, pc.w, in_c, 7 + std::uint64_t(pc.c));
        const photong::Tensor in = dense_copy(wide.view().channels(3, pc.c));
        photong::Pool2DParams p;
        p.kind = pc.average ? photong::PoolKind::Average : photong::PoolKind::Max;
        p.pool_h = p.pool_w = pc.k, p.stride_h = p.stride_w = pc.stride;
        p.padding = pc.same ? photong::Padding::Same : photong::Padding::Valid;
        const photong::Tensor fast = photong::pool2d(in, p), reference = photong::pool2d_reference(in, p);
        const photong::WindowAxis ay = photong::window_axis(pc.h, pc.k, pc.stride, p.padding), ax = photong::window_axis(pc.w, pc.k, pc.stride, p.padding);

        photong::Tensor out = photong::Tensor::nhwc(pc.n, ay.out, ax.out, out_c);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::numeric_limits<float>::quiet_NaN();  // poisoned
        photong::kernels::PoolArgs a;
        a.in = wide.data() + 3, a.in_stride = in_c, a.n = pc.n, a.h = pc.h, a.w = pc.w, a.c = pc.c;
        a.out = out.data() + 2, a.out_stride = out_c, a.oh = ay.out, a.ow = ax.out;
        a.kh = a.kw = pc.k, a.sh = a.sw = pc.stride, a.pad_y = ay.pad, a.pad_x = ax.pad, a.average = pc.average;
        photong::simt::launch(dim3(photong::kernels::pool_blocks(a)), dim3(photong::kernels::kPoolThreads), 0, photong::kernels::pool2d_nhwc, a);

        long mismatches = 0, untouched = 0;
        double worst = 0;
        for (int n = 0; n < pc.n; ++n)
            for (int y = 0; y < ay.out; ++y)
                for (int x = 0; x < ax.out; ++x)
                    for (int c = 0; c < out_c; ++c) {
                        const float got = out.view().pixel(n, y, x)[c];
                        if (c < 2 || c >= 2 + pc.c) {  // outside the slice: still poisoned
                            untouched += !std::isnan(got);
                            continue;
                        }
                        const float want = fast.view().pixel(n, y, x)[c - 2], ref = reference.view().pixel(n, y, x)[c - 2];
                        mismatches += !(got == want);
                        worst = std::max(worst, double(std::fabs(got - ref)) / std::max(1.0, double(std::fabs(ref))));
                    }
        CHECK(mismatches == 0);
        CHECK(untouched == 0);
        CHECK(worst <= 1e-6);
        MESSAGE(pc.name << ": max relative difference to the double reference " << worst);
    }
}

TEST_CASE("kernels/conv2d.cuh: all 94 InceptionV3 convolutions (sides cut to 8) and ragged ones, against nn/conv2d.hpp's reference") {
    // Tolerance: |got - reference| <= 1e-5 x max |reference| of the layer. The kernel sums K = kh*kw*cin products in
    // float in k order and the reference in double; K is at most 3*3*448 = 4032 here.
    double worst_all = 0;
    std::string worst_name;
    for (const auto& cc : photong::kernels::conv_cases(8)) {
        INFO(cc.name);
        const int in_c = cc.cin + 3, out_c = cc.cout + 5;
        const photong::Tensor wide = random_map(cc.n, cc.h, cc.w, in_c, 11 + std::uint64_t(cc.cin));
        const photong::Tensor in = dense_copy(wide.view().channels(1, cc.cin));
        photong::Tensor kernel({cc.kh, cc.kw, cc.cin, cc.cout});
        photong::Rng rng(5 + std::uint64_t(cc.cout));
        const double scale = 1.0 / std::sqrt(double(cc.kh * cc.kw * cc.cin));
        for (std::size_t i = 0; i < kernel.size(); ++i) kernel[i] = float((rng.uniform() * 2 - 1) * scale);
        std::vector<float> bias(std::size_t(cc.cout));
        for (auto& b : bias) b = float(rng.uniform() - 0.5);
        photong::Conv2DParams p;
        p.kernel_h = cc.kh, p.kernel_w = cc.kw, p.stride_h = p.stride_w = cc.stride;
        p.padding = cc.same ? photong::Padding::Same : photong::Padding::Valid;
        p.relu = true;
        const photong::Tensor reference = photong::conv2d_reference(in, kernel, bias, p);
        const photong::WindowAxis ay = photong::window_axis(cc.h, cc.kh, cc.stride, p.padding), ax = photong::window_axis(cc.w, cc.kw, cc.stride, p.padding);

        photong::Tensor out = photong::Tensor::nhwc(cc.n, ay.out, ax.out, out_c);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::numeric_limits<float>::quiet_NaN();
        photong::kernels::ConvArgs a;
        a.in = wide.data() + 1, a.in_stride = in_c, a.n = cc.n, a.h = cc.h, a.w = cc.w, a.cin = cc.cin;
        a.weight = kernel.data(), a.bias = bias.data(), a.act = photong::kernels::kActRelu;
        a.out = out.data() + 4, a.out_stride = out_c, a.oh = ay.out, a.ow = ax.out, a.cout = cc.cout;
        a.kh = cc.kh, a.kw = cc.kw, a.sh = a.sw = cc.stride, a.pad_y = ay.pad, a.pad_x = ax.pad;
        photong::simt::launch(photong::kernels::conv_grid(a), dim3(photong::kernels::kConvThreads), 0, photong::kernels::conv2d_implicit_gemm, a);

        double ref_max = 0, err = 0;
        long untouched = 0, nan = 0;
        for (int n = 0; n < cc.n; ++n)
            for (int y = 0; y < ay.out; ++y)
                for (int x = 0; x < ax.out; ++x)
                    for (int c = 0; c < out_c; ++c) {
                        const float got = out.view().pixel(n, y, x)[c];
                        if (c < 4 || c >= 4 + cc.cout) {
                            untouched += !std::isnan(got);
                            continue;
                        }
                        const float ref = reference.view().pixel(n, y, x)[c - 4];
                        nan += std::isnan(got);
                        ref_max = std::max(ref_max, double(std::fabs(ref)));
                        err = std::max(err, double(std::fabs(got - ref)));
                    }
        CHECK(nan == 0);
        CHECK(untouched == 0);
        const double rel = err / std::max(ref_max, 1e-30);
        CHECK(rel <= 1e-5);
        if (rel > worst_all) worst_all = rel, worst_name = cc.name;
    }
    MESSAGE("conv2d: worst |got - reference| / max |reference| over all cases " << worst_all << " (" << worst_name << ")");
}

namespace {

/// out (rows, n) = in (rows, k) . w (k, n) [+ bias], through kernels/conv2d.cuh as a 1x1 convolution (the host
/// stand-in for the device's cuBLAS GEMM).
void gemm_through_conv(const float* in, int rows, int k, const float* w, int n, const float* bias, float* out) {
    photong::kernels::GemmArgs g;
    g.a = in, g.lda = k, g.b = w, g.c = out, g.ldc = n, g.m = rows, g.n = n, g.k = k;
    photong::kernels::ConvArgs a = photong::kernels::gemm_as_conv(g);  // the host executor's cuBLAS stand-in, plus a bias
    a.bias = bias;
    photong::simt::launch(photong::kernels::conv_grid(a), dim3(photong::kernels::kConvThreads), 0, photong::kernels::conv2d_implicit_gemm, a);
}

}  // namespace

TEST_CASE("kernels/lstm_cell.cuh: 6 steps of an LSTM (GEMMs through conv2d.cuh, the fused cell) against lstm_step_reference") {
    // Tolerance: 1e-5 absolute on h and c (both O(1)); the kernel works in float, the reference in double.
    // Even steps: dense input, x.W_x + b from one GEMM. Odd steps: the decoder's way, input [one-hot | dense],
    // the one-hot row gathered from the kernel table in the cell, the bias added there, and c, h living
    // inside a wider state row (stride 2u + 3), as MusicVAE's c0 h0 c1 h1 layout needs.
    struct Case { int batch, input, units; };
    for (const Case cs : {Case{1, 90, 256}, Case{3, 37, 128}, Case{2, 160, 512}}) {
        INFO("batch " << cs.batch << ", input " << cs.input << ", units " << cs.units);
        const int u = cs.units, in = cs.input, B = cs.batch, hot_width = 10, stride = 2 * u + 3;
        photong::Tensor kernel({in + u, 4 * u}), bias({4 * u});
        photong::Rng rng(3 + std::uint64_t(u));
        for (std::size_t i = 0; i < kernel.size(); ++i) kernel[i] = float((rng.uniform() * 2 - 1) / std::sqrt(double(in + u)));
        for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = float(rng.uniform() - 0.5);
        std::vector<float> c_ref(std::size_t(B * u), 0.0f), h_ref(c_ref), state(std::size_t(B * stride), 0.0f);
        std::vector<float> gx(std::size_t(B * 4 * u)), gh(gx);
        std::vector<int> hot(static_cast<std::size_t>(B));
        double worst = 0;
        for (int step = 0; step < 6; ++step) {
            const bool one_hot = step % 2 == 1;
            std::vector<float> x(std::size_t(B * in));
            for (auto& v : x) v = float(rng.uniform() * 2 - 1);
            if (one_hot)
                for (int b = 0; b < B; ++b) {
                    hot[std::size_t(b)] = b == 0 ? -1 : int(rng.below(hot_width));  // -1: an all-zero one-hot part
                    std::fill_n(x.data() + b * in, hot_width, 0.0f);
                    if (hot[std::size_t(b)] >= 0) x[std::size_t(b * in + hot[std::size_t(b)])] = 1.0f;
                }
            photong::lstm_step_reference(kernel, bias, in, 1.0f, x.data(), B, c_ref.data(), h_ref.data());
            std::vector<float> h(std::size_t(B * u));
            for (int b = 0; b < B; ++b) std::copy_n(state.data() + b * stride + 1 + u, u, h.data() + b * u);
            std::fill(gx.begin(), gx.end(), std::nanf("")), std::fill(gh.begin(), gh.end(), std::nanf(""));
            photong::kernels::LstmCellArgs a;
            if (one_hot) {
                std::vector<float> dense(std::size_t(B * (in - hot_width)));
                for (int b = 0; b < B; ++b) std::copy_n(x.data() + b * in + hot_width, in - hot_width, dense.data() + b * (in - hot_width));
                gemm_through_conv(dense.data(), B, in - hot_width, kernel.data() + std::size_t(hot_width) * 4 * u, 4 * u, nullptr, gx.data());
                a.bias = bias.data(), a.table = kernel.data(), a.row_index = hot.data();
            } else {
                gemm_through_conv(x.data(), B, in, kernel.data(), 4 * u, bias.data(), gx.data());  // x . W_x + b
            }
            gemm_through_conv(h.data(), B, u, kernel.data() + std::size_t(in) * 4 * u, 4 * u, nullptr, gh.data());  // h . W_h
            a.gates_x = gx.data(), a.gates_h = gh.data(), a.batch = B, a.units = u;
            a.c = state.data() + 1, a.h = state.data() + 1 + u, a.state_stride = stride;
            photong::simt::launch(dim3(photong::kernels::lstm_cell_blocks(a)), dim3(photong::kernels::kLstmThreads), 0, photong::kernels::lstm_cell_fused, a);
            for (int b = 0; b < B; ++b)
                for (int k = 0; k < u; ++k) {
                    const std::size_t r = std::size_t(b * u + k), s = std::size_t(b * stride + 1 + k);
                    worst = std::max({worst, double(std::fabs(state[s + std::size_t(u)] - h_ref[r])), double(std::fabs(state[s] - c_ref[r]))});
                }
            for (int b = 0; b < B; ++b) {  // the state row's other floats untouched
                CHECK(state[std::size_t(b * stride)] == 0.0f);
                CHECK(state[std::size_t(b * stride + 1 + 2 * u)] == 0.0f);
            }
        }
        CHECK(worst <= 1e-5);
        MESSAGE("lstm batch " << B << " input " << in << " units " << u << ": worst |h, c - reference| over 6 steps " << worst);
    }
}

TEST_CASE("kernels/preprocess.cuh: resize and scaling of real photos, both conventions, against Preprocessing::apply") {
    // Tolerance: 1e-6 absolute on values in [-1, 1] (the same float arithmetic; the compilers may contract
    // a*b+c into FMA differently in the two code paths).
    const std::string dir = "/usr/lib/python3/dist-packages/skimage/data/";
    if (!photong_test::file_exists(dir + "chelsea.png")) return;
    double worst = 0;
    for (const std::string name : {"chelsea.png", "coffee.png", "rocket.jpg"})
        for (const photong::Preprocessing pre : {photong::Preprocessing::keras_inception(299), photong::Preprocessing::nsfwjs(299),
                                                 photong::Preprocessing::nsfwjs(37), photong::Preprocessing::keras_inception(1)}) {
            const photong::Image img = photong::load_image(dir + name);
            INFO(name << " size " << pre.size << " align " << (pre.resize == photong::ResizeMode::AlignCorners));
            const photong::Tensor want = pre.apply(img);
            std::vector<float> out(std::size_t(pre.size) * pre.size * 3, std::nanf(""));
            photong::kernels::PreprocessArgs a;
            a.rgb = img.rgb.data(), a.h = img.height, a.w = img.width, a.out = out.data(), a.size = pre.size;
            a.align_corners = pre.resize == photong::ResizeMode::AlignCorners, a.divisor = pre.divisor, a.offset = pre.offset;
            a.scale_before_resize = pre.scale_before_resize;
            photong::simt::launch(dim3(photong::kernels::preprocess_blocks(a)), dim3(photong::kernels::kPreprocessThreads), 0,
                                  photong::kernels::preprocess_rgb, a);
            REQUIRE(want.size() == out.size());
            double err = 0;
            for (std::size_t i = 0; i < out.size(); ++i) err = std::max(err, std::isnan(out[i]) ? 1e9 : double(std::fabs(out[i] - want[i])));
            CHECK(err <= 1e-6);
            worst = std::max(worst, err);
        }
    MESSAGE("preprocess: worst |got - Preprocessing::apply| " << worst);
}
