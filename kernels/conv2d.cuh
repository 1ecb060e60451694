// kernels/conv2d.cuh — 2-D convolution as an implicit GEMM on NHWC maps, with the folded
// BatchNormalization bias and the ReLU (or tanh) in the epilogue, written straight into the output's channel
// offset of a concatenated map. The CPU reference is include/photong/nn/conv2d.hpp.
//
// GEMM view: M = n·oh·ow output pixels, N = cout, K = kh·kw·cin. A[m, k] is the input value under
// window cell k of output pixel m (gathered on the fly: no im2col buffer; padding reads 0), B[k, n] the
// HWIO kernel read as a K x N row-major matrix, C[m, n] the output pixel m's channel n. A block of 256
// threads computes a 64 x 64 tile of C, each thread a 4 x 4 patch, over K in steps of 16 staged in
// shared memory. Loads run along channels (A) and output channels (B), the contiguous axes, so they
// coalesce. Ragged edges (M, N or K not multiples of the tile) are bounds-checked. Accumulation is
// float in k order; the CPU path sums in another order, so results agree to float rounding, not bits.
#pragma once

#include <cmath>

#include "simt/portability.cuh"

namespace photong {
namespace kernels {

struct ConvArgs {
    const float* in = nullptr;      ///< (n, h, w, cin), pixel stride in_stride floats
    const float* weight = nullptr;  ///< HWIO [kh, kw, cin, cout], dense
    const float* bias = nullptr;    ///< [cout] (BatchNormalization folded in) or null
    float* out = nullptr;           ///< (n, oh, ow, cout), pixel stride out_stride floats
    int n = 0, h = 0, w = 0, cin = 0, in_stride = 0;
    int oh = 0, ow = 0, cout = 0, out_stride = 0;
    int kh = 1, kw = 1, sh = 1, sw = 1, pad_y = 0, pad_x = 0;
    int act = 0;                    ///< epilogue activation: kActLinear, kActRelu or kActTanh
};

/// The epilogue activations (InceptionV3 uses ReLU; the decoders' initial-state layers tanh).
constexpr int kActLinear = 0, kActRelu = 1, kActTanh = 2;

constexpr int kConvTileM = 64, kConvTileN = 64, kConvTileK = 16;
constexpr unsigned kConvThreads = 256;
inline dim3 conv_grid(const ConvArgs& a) {
    const long long m = (long long)a.n * a.oh * a.ow;
    return dim3(unsigned((m + kConvTileM - 1) / kConvTileM), unsigned((a.cout + kConvTileN - 1) / kConvTileN));
}

#ifndef PHOTONG_KERNEL_ARGS_ONLY  // kernels/cuda/launch.hpp wants the arguments, not the kernel
__global__ void conv2d_implicit_gemm(ConvArgs a) {
    __shared__ float tile_a[kConvTileK][kConvTileM];  // A^T: k x m
    __shared__ float tile_b[kConvTileK][kConvTileN];
    const int M = a.n * a.oh * a.ow, N = a.cout, K = a.kh * a.kw * a.cin;
    const int m0 = int(blockIdx.x) * kConvTileM, n0 = int(blockIdx.y) * kConvTileN;
    const int t = int(threadIdx.x), tm = t / 16, tn = t % 16;
    float acc[4][4] = {{0.0f}};
    for (int k0 = 0; k0 < K; k0 += kConvTileK) {
        for (int e = t; e < kConvTileK * kConvTileM; e += int(kConvThreads)) {
            const int kk = e % kConvTileK, mm = e / kConvTileK, k = k0 + kk, m = m0 + mm;
            float v = 0.0f;
            if (k < K && m < M) {
                const int ci = k % a.cin, cell = k / a.cin, kx = cell % a.kw, ky = cell / a.kw;
                const int ox = m % a.ow, rest = m / a.ow, oy = rest % a.oh, img = rest / a.oh;
                const int iy = oy * a.sh - a.pad_y + ky, ix = ox * a.sw - a.pad_x + kx;
                if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) v = a.in[((long long)(img * a.h + iy) * a.w + ix) * a.in_stride + ci];
            }
            tile_a[kk][mm] = v;
        }
        for (int e = t; e < kConvTileK * kConvTileN; e += int(kConvThreads)) {
            const int nn = e % kConvTileN, kk = e / kConvTileN, k = k0 + kk, col = n0 + nn;
            tile_b[kk][nn] = (k < K && col < N) ? a.weight[(long long)k * N + col] : 0.0f;
        }
        __syncthreads();
        for (int kk = 0; kk < kConvTileK; ++kk) {
            float av[4], bv[4];
            for (int i = 0; i < 4; ++i) av[i] = tile_a[kk][tm * 4 + i];
            for (int j = 0; j < 4; ++j) bv[j] = tile_b[kk][tn * 4 + j];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + tm * 4 + i;
        if (m >= M) continue;
        for (int j = 0; j < 4; ++j) {
            const int col = n0 + tn * 4 + j;
            if (col >= N) continue;
            float v = acc[i][j] + (a.bias ? a.bias[col] : 0.0f);
            if (a.act == kActRelu && v < 0.0f) v = 0.0f;
            if (a.act == kActTanh) v = tanhf(v);
            a.out[(long long)m * a.out_stride + col] = v;
        }
    }
}
#endif

}  // namespace kernels
}  // namespace photong
