// kernels/preprocess.cuh — the network input made on the device from the decoded 8-bit RGB picture:
// bilinear resize (TF's half-pixel or align-corners convention) and the value scaling
// v / divisor + offset, before or after the resize as the weights' preprocessing says. The CPU
// reference is include/photong/image/preprocess.hpp (Preprocessing::apply) with image/resize.hpp.
//
// One thread per output value (y, x, channel): it finds its two source rows and columns with the same
// float arithmetic as resize_taps (floor, ceil, clamped; weight src - floor(src)), blends top, bottom,
// then vertically, in TF's order. Only the picture's bytes cross to the device (a quarter of the floats).
#pragma once

#include <cmath>
#include <cstdint>

#include "simt/portability.cuh"

namespace photong {
namespace kernels {

struct PreprocessArgs {
    const std::uint8_t* rgb = nullptr;  ///< (h, w, 3) bytes
    float* out = nullptr;               ///< (size, size, 3)
    int h = 0, w = 0, size = 299;
    int align_corners = 0;              ///< 1: src = d (in-1)/(out-1); 0: half-pixel centres
    float divisor = 127.5f, offset = -1.0f;
    int scale_before_resize = 0;
};

constexpr unsigned kPreprocessThreads = 256;
inline unsigned preprocess_blocks(const PreprocessArgs& a) { return unsigned(((long long)a.size * a.size * 3 + kPreprocessThreads - 1) / kPreprocessThreads); }

/// Source taps along one axis: lower and upper cells and the weight of the upper (resize_taps' arithmetic).
__device__ __forceinline__ void resize_tap(int d, int in, int out, int align, int& lo, int& hi, float& frac) {
    const bool a = align && out > 1;
    const float scale = a ? float(in - 1) / float(out - 1) : float(in) / float(out);
    const float src = align ? float(d) * scale : (float(d) + 0.5f) * scale - 0.5f;
    const float fl = floorf(src);
    lo = int(fl) < 0 ? 0 : int(fl);
    const int up = int(ceilf(src));
    hi = up > in - 1 ? in - 1 : up;
    frac = src - fl;
}

#ifndef PHOTONG_KERNEL_ARGS_ONLY  // kernels/cuda/launch.hpp wants the arguments, not the kernel
__global__ void preprocess_rgb(PreprocessArgs a) {
    const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)a.size * a.size * 3) return;
    const int k = int(t % 3), x = int(t / 3 % a.size), y = int(t / 3 / a.size);
    auto value = [&](int yy, int xx) {
        const float v = float(a.rgb[((long long)yy * a.w + xx) * 3 + k]);
        return a.scale_before_resize ? v / a.divisor + a.offset : v;
    };
    float v;
    if (a.h == a.size && a.w == a.size) {
        v = value(y, x);
    } else {
        int y0, y1, x0, x1;
        float fy, fx;
        resize_tap(y, a.h, a.size, a.align_corners, y0, y1, fy);
        resize_tap(x, a.w, a.size, a.align_corners, x0, x1, fx);
        const float tl = value(y0, x0), tr = value(y0, x1), bl = value(y1, x0), br = value(y1, x1);
        const float top = tl + (tr - tl) * fx, bottom = bl + (br - bl) * fx;
        v = top + (bottom - top) * fy;
    }
    a.out[t] = a.scale_before_resize ? v : v / a.divisor + a.offset;
}
#endif

}  // namespace kernels
}  // namespace photong
