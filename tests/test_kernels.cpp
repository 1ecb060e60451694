// The CUDA kernels of kernels/ run through the host SIMT executor (kernels/simt/) against their CPU
// references in include/photong/nn/, on the shapes of kernels/kernel_cases.hpp. Outputs are poisoned
// (NaN) before each run, so a value a kernel forgets to write shows; the tolerance is stated per kernel.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <photong/core/rng.hpp>
#include <photong/nn/pooling.hpp>

#include "../kernels/kernel_cases.hpp"
#include "../kernels/pooling.cuh"
#include "test_util.hpp"

namespace {

photong::Tensor random_map(int n, int h, int w, int c, std::uint64_t seed) {
    photong::Tensor t = photong::Tensor::nhwc(n, h, w, c);
    photong::Rng rng(seed);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = float(rng.uniform() * 4.0 - 1.0);
    return t;
}

}  // namespace

TEST_CASE("kernels/pooling.cuh: every InceptionV3 pool shape and ragged ones, equal to nn/pooling.hpp bit for bit; a slice in, a channel offset out") {
    // Tolerance: 0. The kernel accumulates in float in the CPU fast path's order (max is exact anyway), so
    // both give the same bits; the double-accumulating reference is within 1 ulp-ish (checked at 1e-6).
    for (const auto& pc : photong::kernels::pool_cases(false)) {
        INFO(pc.name);
        // The input is a channel slice [3, 3 + c) of a wider map, the output goes to channel offset 2 of a wider one.
        const int in_c = pc.c + 5, out_c = pc.c + 4;
        const photong::Tensor wide = random_map(pc.n, pc.h, pc.w, in_c, 7 + std::uint64_t(pc.c));
        photong::Tensor in = photong::Tensor::nhwc(pc.n, pc.h, pc.w, pc.c);
        for (int n = 0; n < pc.n; ++n)
            for (int y = 0; y < pc.h; ++y)
                for (int x = 0; x < pc.w; ++x)
                    for (int c = 0; c < pc.c; ++c) in.view().pixel(n, y, x)[c] = wide.view().pixel(n, y, x)[3 + c];
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
