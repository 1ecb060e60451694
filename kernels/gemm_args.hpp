// kernels/gemm_args.hpp — a plain GEMM as the kernel backend asks for it (row-major, fp32, no epilogue):
//   C (m x n, row stride ldc) = A (m x k, row stride lda) . B (k x n, dense rows)
// On the device it is one cublasSgemm (kernels/cuda/executor.hpp); through the host executor it runs as
// conv2d.cuh on a 1 x m x 1 map of k channels, a 1x1 convolution being exactly this product.
#pragma once

namespace photong {
namespace kernels {

struct GemmArgs {
    const float* a = nullptr;
    const float* b = nullptr;
    float* c = nullptr;
    int m = 0, n = 0, k = 0;
    int lda = 0, ldc = 0;
};

/// The same product as a 1x1 convolution's arguments (no bias, no activation).
inline ConvArgs gemm_as_conv(const GemmArgs& g) {
    ConvArgs a;
    a.in = g.a, a.in_stride = g.lda, a.n = 1, a.h = g.m, a.w = 1, a.cin = g.k;
    a.weight = g.b, a.bias = nullptr, a.act = kActLinear;
    a.out = g.c, a.out_stride = g.ldc, a.oh = g.m, a.ow = 1, a.cout = g.n;
    a.kh = a.kw = a.sh = a.sw = 1;
    return a;
}

}  // namespace kernels
}  // namespace photong
