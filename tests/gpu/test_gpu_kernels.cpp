// The kernels of kernels/ on a real GPU (launched through kernels/cuda/launch.hpp, built by nvcc) against
// the same CPU references and tolerances as tests/test_kernels.cpp, on the full shapes of
// kernels/kernel_cases.hpp: all 94 InceptionV3 convolutions at full size, every pool with its real channels.
// Exits 77 (ctest: skipped, never passed) when no CUDA device is usable.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/cuda/runtime.hpp>
#include <photong/nn/conv2d.hpp>
#include <photong/nn/lstm.hpp>
#include <photong/nn/pooling.hpp>

#include "../../kernels/cuda/launch.hpp"
#include "../../kernels/kernel_cases.hpp"
#include "device_test_main.hpp"

namespace {

using photong::cuda::check;
using photong::cuda::DeviceBuffer;

std::vector<float> random_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
    std::vector<float> v(n);
    photong::Rng rng(seed);
    for (auto& x : v) x = float(lo + (hi - lo) * rng.uniform());
    return v;
}

}  // namespace

TEST_CASE("gpu: pooling, every InceptionV3 pool with its real channels, bit-equal to nn/pooling.hpp") {
    for (const auto& pc : photong::kernels::pool_cases(true)) {
        INFO(pc.name);
        photong::Tensor in = photong::Tensor::nhwc(pc.n, pc.h, pc.w, pc.c);
        const auto v = random_values(in.size(), 7, -1, 3);
        std::copy(v.begin(), v.end(), in.data());
        photong::Pool2DParams p{pc.average ? photong::PoolKind::Average : photong::PoolKind::Max, pc.k, pc.k, pc.stride, pc.stride,
                                pc.same ? photong::Padding::Same : photong::Padding::Valid};
        const photong::Tensor want = photong::pool2d(in, p);
        const auto ay = photong::window_axis(pc.h, pc.k, pc.stride, p.padding), ax = photong::window_axis(pc.w, pc.k, pc.stride, p.padding);
        DeviceBuffer<float> d_in(v), d_out(std::vector<float>(want.size(), std::nanf("")));
        photong::kernels::PoolArgs a;
        a.in = d_in.data(), a.in_stride = pc.c, a.n = pc.n, a.h = pc.h, a.w = pc.w, a.c = pc.c;
        a.out = d_out.data(), a.out_stride = pc.c, a.oh = ay.out, a.ow = ax.out;
        a.kh = a.kw = pc.k, a.sh = a.sw = pc.stride, a.pad_y = ay.pad, a.pad_x = ax.pad, a.average = pc.average;
        check(photong::kernels::launch_pool2d(a, nullptr), "launch_pool2d");
        check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        const auto got = d_out.download();
        long mismatches = 0;
        for (std::size_t i = 0; i < got.size(); ++i) mismatches += !(got[i] == want[i]);
        CHECK(mismatches == 0);
    }
}

TEST_CASE("gpu: all 94 InceptionV3 convolutions at full size against nn/conv2d.hpp's fast path (1e-5 of the layer's scale)") {
    double worst = 0;
    for (const auto& cc : photong::kernels::conv_cases(0)) {
        INFO(cc.name);
        photong::Tensor in = photong::Tensor::nhwc(cc.n, cc.h, cc.w, cc.cin), kernel({cc.kh, cc.kw, cc.cin, cc.cout});
        const auto vi = random_values(in.size(), 11, -1, 1), vk = random_values(kernel.size(), 5, -1, 1);
        const double scale = 1.0 / std::sqrt(double(cc.kh * cc.kw * cc.cin));
        std::copy(vi.begin(), vi.end(), in.data());
        for (std::size_t i = 0; i < kernel.size(); ++i) kernel[i] = float(vk[i] * scale);
        const auto bias = random_values(std::size_t(cc.cout), 3, -0.5, 0.5);
        photong::Conv2DParams p;
        p.kernel_h = cc.kh, p.kernel_w = cc.kw, p.stride_h = p.stride_w = cc.stride, p.relu = true;
        p.padding = cc.same ? photong::Padding::Same : photong::Padding::Valid;
        const photong::Tensor want = photong::Conv2D(kernel, bias, p, cc.name).forward(in.view(), photong::default_thread_pool());  // the CPU fast path
        const auto ay = photong::window_axis(cc.h, cc.kh, cc.stride, p.padding), ax = photong::window_axis(cc.w, cc.kw, cc.stride, p.padding);
        DeviceBuffer<float> d_in(vi), d_k(kernel.values()), d_b(bias), d_out(std::vector<float>(want.size(), std::nanf("")));
        photong::kernels::ConvArgs a;
        a.in = d_in.data(), a.in_stride = cc.cin, a.n = cc.n, a.h = cc.h, a.w = cc.w, a.cin = cc.cin;
        a.weight = d_k.data(), a.bias = d_b.data(), a.act = photong::kernels::kActRelu;
        a.out = d_out.data(), a.out_stride = cc.cout, a.oh = ay.out, a.ow = ax.out, a.cout = cc.cout;
        a.kh = cc.kh, a.kw = cc.kw, a.sh = a.sw = cc.stride, a.pad_y = ay.pad, a.pad_x = ax.pad;
        check(photong::kernels::launch_conv2d(a, nullptr), "launch_conv2d");
        check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        const auto got = d_out.download();
        double ref_max = 0, err = 0;
        for (std::size_t i = 0; i < got.size(); ++i)
            ref_max = std::max(ref_max, double(std::fabs(want[i]))), err = std::max(err, std::isnan(got[i]) ? 1e30 : double(std::fabs(got[i] - want[i])));
        CHECK(err / std::max(ref_max, 1e-30) <= 1e-5);
        worst = std::max(worst, err / std::max(ref_max, 1e-30));
    }
    MESSAGE("gpu conv2d: worst error / layer scale " << worst);
}

int main(int argc, char** argv) {
    return photong_test::run_device_tests(argc, argv, "the kernels were checked on the CPU by test_kernels");
}
