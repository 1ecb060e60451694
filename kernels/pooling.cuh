// kernels/pooling.cuh — max and average pooling over NHWC maps on the device, Keras semantics: 'same'
// padding never counts (max ignores padded cells, average divides by the real cells under the window),
// as include/photong/nn/pooling.hpp, its CPU reference, does.
//
// One thread per output value (n, y, x, c), channels fastest, so a warp reads 32 neighbouring channels
// of one pixel: coalesced. The input and the output are views with their own pixel strides, so a pool
// reads a channel slice and writes straight into its channel offset of a concatenated map (the
// InceptionV3 reduction blocks' max-pool branch). The sum is accumulated in float in the window's
// row-major order, the CPU fast path's order, so both give the same bits.
#pragma once

#include <cmath>

#include "simt/portability.cuh"

namespace photong {
namespace kernels {

struct PoolArgs {
    const float* in = nullptr;  ///< (n, h, w, c) with pixel stride in_stride floats
    float* out = nullptr;       ///< (n, oh, ow, c) with pixel stride out_stride floats
    int n = 0, h = 0, w = 0, c = 0, in_stride = 0;
    int oh = 0, ow = 0, out_stride = 0;
    int kh = 3, kw = 3, sh = 1, sw = 1, pad_y = 0, pad_x = 0;  ///< pad: cells before the first input cell
    int average = 0;                                            ///< 0 max, 1 average
};

/// Threads per block, and blocks for `a`'s outputs.
constexpr unsigned kPoolThreads = 256;
inline long long pool_outputs(const PoolArgs& a) { return (long long)a.n * a.oh * a.ow * a.c; }
inline unsigned pool_blocks(const PoolArgs& a) { return unsigned((pool_outputs(a) + kPoolThreads - 1) / kPoolThreads); }

#ifndef PHOTONG_KERNEL_ARGS_ONLY  // kernels/cuda/launch.hpp wants the arguments, not the kernel
__global__ void pool2d_nhwc(PoolArgs a) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)a.n * a.oh * a.ow * a.c) return;
    const int c = int(i % a.c);
    long long rest = i / a.c;
    const int ox = int(rest % a.ow);
    rest /= a.ow;
    const int oy = int(rest % a.oh);
    const int n = int(rest / a.oh);
    const int y0 = oy * a.sh - a.pad_y, x0 = ox * a.sw - a.pad_x;
    const int ya = y0 < 0 ? 0 : y0, yb = y0 + a.kh > a.h ? a.h : y0 + a.kh;
    const int xa = x0 < 0 ? 0 : x0, xb = x0 + a.kw > a.w ? a.w : x0 + a.kw;
    float acc = a.average ? 0.0f : -INFINITY;  // as the CPU path: a window of -inf stays -inf
    for (int y = ya; y < yb; ++y)
        for (int x = xa; x < xb; ++x) {
            const float v = a.in[((long long)(n * a.h + y) * a.w + x) * a.in_stride + c];
            acc = a.average ? acc + v : (v > acc ? v : acc);
        }
    if (a.average) acc /= float((yb - ya) * (xb - xa));
    a.out[((long long)(n * a.oh + oy) * a.ow + ox) * a.out_stride + c] = acc;
}
#endif

}  // namespace kernels
}  // namespace photong
