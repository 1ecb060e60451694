// photong/nn/pooling.hpp — max and average pooling over NHWC maps, Keras semantics.
//
// 'same' max pooling ignores padded cells (as if they were -inf). 'same' average pooling divides
// by the number of real input cells under the window, not by the window area: Keras'
// AveragePooling2D (TF's avg_pool) excludes padding, unlike PyTorch's default count_include_pad.
// pool2d_reference is the direct definition; pool2d is the same arithmetic arranged so the inner
// loop runs over contiguous channels, with runs of output pixels spread over the thread pool.
#pragma once

#include <algorithm>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/tensor.hpp"
#include "photong/nn/padding.hpp"

namespace photong {

enum class PoolKind { Max, Average };

struct Pool2DParams {
    PoolKind kind = PoolKind::Max;
    int pool_h = 3, pool_w = 3;
    int stride_h = 1, stride_w = 1;
    Padding padding = Padding::Valid;
};

inline std::vector<int> pool2d_output_shape(const FeatureView& in, const Pool2DParams& p) {
    const WindowAxis y = window_axis(in.h, p.pool_h, p.stride_h, p.padding, "pool2d");
    const WindowAxis x = window_axis(in.w, p.pool_w, p.stride_w, p.padding, "pool2d");
    return {in.n, y.out, x.out, in.c};
}

namespace pooling_detail {

using Packet = typename Eigen::internal::packet_traits<float>::type;
constexpr int kLanes = Eigen::internal::unpacket_traits<Packet>::size;
constexpr int kPackets = 4;  // channels per chunk: kPackets * kLanes, accumulated in registers

/// acc = max(acc, v) (Eigen's pmax and std::max agree, NaN included) or acc + v.
template <bool Max, class T>
inline T step(const T& acc, const T& v) {
    using namespace Eigen::internal;
    if constexpr (Max) {
        if constexpr (std::is_same<T, float>::value) return std::max(acc, v);
        else return pmax(acc, v);
    } else {
        if constexpr (std::is_same<T, float>::value) return acc + v;
        else return padd(acc, v);
    }
}

/// One output pixel: the window rows [y0, y1) x columns [x0, x1) of `in`, max or mean, cells in row-major order.
template <bool Max>
inline void pool_pixel(const FeatureView& in, int n, int y0, int y1, int x0, int x1, float* o) {
    using namespace Eigen::internal;
    const float start = Max ? -std::numeric_limits<float>::infinity() : 0.0f, cells = float((y1 - y0) * (x1 - x0));
    const int C = in.c;
    int c0 = 0;
    for (; c0 + kPackets * kLanes <= C; c0 += kPackets * kLanes) {
        Packet acc[kPackets];
        for (int k = 0; k < kPackets; ++k) acc[k] = pset1<Packet>(start);
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) {
                const float* px = in.pixel(n, y, x) + c0;
                for (int k = 0; k < kPackets; ++k) acc[k] = step<Max>(acc[k], ploadu<Packet>(px + k * kLanes));
            }
        for (int k = 0; k < kPackets; ++k) pstoreu(o + c0 + k * kLanes, Max ? acc[k] : pdiv(acc[k], pset1<Packet>(cells)));
    }
    for (; kLanes > 1 && c0 + kLanes <= C; c0 += kLanes) {  // 288 channels: 4 chunks of 64, then 2 packets
        Packet acc = pset1<Packet>(start);
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) acc = step<Max>(acc, ploadu<Packet>(in.pixel(n, y, x) + c0));
        pstoreu(o + c0, Max ? acc : pdiv(acc, pset1<Packet>(cells)));
    }
    for (int c = c0; c < C; ++c) {
        float acc = start;
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) acc = step<Max>(acc, in.pixel(n, y, x)[c]);
        o[c] = Max ? acc : acc / cells;
    }
}

}  // namespace pooling_detail

/// Pools `in` into `out` (either may be a channel slice of a wider map). Each output pixel's channels are taken
/// kPackets vectors at a time, accumulated in registers over the window (not read and written back once per window
/// cell); tasks are runs of 16 output pixels. The arithmetic is pool2d_reference's order in float: the same bits for
/// any thread count.
inline void pool2d(const FeatureView& in, const FeatureView& out, const Pool2DParams& p, ThreadPool& pool = default_thread_pool()) {
    const std::vector<int> want = pool2d_output_shape(in, p);
    require(out.shape() == want, "pool output view has the wrong shape", {"", "pool2d", shape_to_string(want), shape_to_string(out.shape())});
    const WindowAxis ay = window_axis(in.h, p.pool_h, p.stride_h, p.padding), ax = window_axis(in.w, p.pool_w, p.stride_w, p.padding);
    constexpr std::int64_t kPixelsPerTask = 16;
    const std::int64_t pixels = out.pixels();
    pool.for_each((pixels + kPixelsPerTask - 1) / kPixelsPerTask, [&](std::int64_t task) {
        for (std::int64_t q = task * kPixelsPerTask; q < std::min(pixels, (task + 1) * kPixelsPerTask); ++q) {
            const int ox = int(q % out.w), oy = int((q / out.w) % out.h), n = int(q / (std::int64_t(out.w) * out.h));
            const int y0 = std::max(0, oy * p.stride_h - ay.pad), y1 = std::min(in.h, oy * p.stride_h - ay.pad + p.pool_h);
            const int x0 = std::max(0, ox * p.stride_w - ax.pad), x1 = std::min(in.w, ox * p.stride_w - ax.pad + p.pool_w);
            if (p.kind == PoolKind::Max) pooling_detail::pool_pixel<true>(in, n, y0, y1, x0, x1, out.pixel(n, oy, ox));
            else pooling_detail::pool_pixel<false>(in, n, y0, y1, x0, x1, out.pixel(n, oy, ox));
        }
    });
}

inline Tensor pool2d(const Tensor& in, const Pool2DParams& p, ThreadPool& pool = default_thread_pool()) {
    const auto s = pool2d_output_shape(in.view(), p);
    Tensor out = Tensor::nhwc(s[0], s[1], s[2], s[3]);
    pool2d(in.view(), out.view(), p, pool);
    return out;
}

/// The definition, one output value at a time, accumulating in double.
inline Tensor pool2d_reference(const Tensor& input, const Pool2DParams& p) {
    const FeatureView in = input.view();
    const WindowAxis ay = window_axis(in.h, p.pool_h, p.stride_h, p.padding), ax = window_axis(in.w, p.pool_w, p.stride_w, p.padding);
    Tensor out = Tensor::nhwc(in.n, ay.out, ax.out, in.c);
    const FeatureView ov = out.view();
    for (int n = 0; n < in.n; ++n)
        for (int oy = 0; oy < ay.out; ++oy)
            for (int ox = 0; ox < ax.out; ++ox)
                for (int c = 0; c < in.c; ++c) {
                    double best = -std::numeric_limits<double>::infinity(), sum = 0.0;
                    int count = 0;
                    for (int ky = 0; ky < p.pool_h; ++ky)
                        for (int kx = 0; kx < p.pool_w; ++kx) {
                            const int y = oy * p.stride_h - ay.pad + ky, x = ox * p.stride_w - ax.pad + kx;
                            if (y < 0 || y >= in.h || x < 0 || x >= in.w) continue;  // padding never counts
                            const double v = in.pixel(n, y, x)[c];
                            best = std::max(best, v);
                            sum += v;
                            ++count;
                        }
                    ov.pixel(n, oy, ox)[c] = float(p.kind == PoolKind::Max ? best : sum / count);
                }
    return out;
}

}  // namespace photong
