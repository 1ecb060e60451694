// kernels/lstm_cell.cuh — the fused LSTMBlockCell update (TF/MusicVAE semantics, as include/photong/nn/lstm.hpp):
//   [i j f o] = gates_x + gates_h + bias + table[row_index]   (each term optional but gates_x)
//   c = sigmoid(f + forget_bias) * c + sigmoid(i) * tanh(j),   h = sigmoid(o) * tanh(c)
// gates_x and gates_h are GEMM outputs (the input half x.W_x and the recurrent half h.W_h: cuBLAS on the
// device, kernels/conv2d.cuh as a 1x1 convolution through the host executor); `table` is the input kernel
// W_x itself, of which row row_index[b] is the product of a one-hot input (a decoder's previous event), so
// the gather happens here instead of a product with a one-hot vector. c and h may live inside a wider state
// row (MusicVAE's tanh(dense(z)) splits into c0, h0, c1, h1 side by side), hence state_stride.
// One thread per (batch row, unit): the four gate columns of a unit are u apart, so a warp reads four
// coalesced runs.
#pragma once

#include <cmath>

#include "simt/portability.cuh"

namespace photong {
namespace kernels {

struct LstmCellArgs {
    const float* gates_x = nullptr;   ///< (batch, 4u), row stride 4u
    const float* gates_h = nullptr;   ///< (batch, 4u) or null
    const float* bias = nullptr;      ///< (4u) or null
    const float* table = nullptr;     ///< (rows, 4u) or null: row row_index[b] is added to batch row b
    const int* row_index = nullptr;   ///< (batch): a table row, or -1 for none
    float* c = nullptr;               ///< (batch, u) at row stride state_stride, updated in place
    float* h = nullptr;               ///< (batch, u) at row stride state_stride, written
    int batch = 0, units = 0;
    int state_stride = 0;             ///< floats between batch rows of c and h; 0 means units
    float forget_bias = 1.0f;
};

constexpr unsigned kLstmThreads = 256;
inline unsigned lstm_cell_blocks(const LstmCellArgs& a) { return unsigned(((long long)a.batch * a.units + kLstmThreads - 1) / kLstmThreads); }

__device__ __forceinline__ float sigmoid_f(float v) { return 1.0f / (1.0f + expf(-v)); }

#ifndef PHOTONG_KERNEL_ARGS_ONLY  // kernels/cuda/launch.hpp wants the arguments, not the kernel
__global__ void lstm_cell_fused(LstmCellArgs a) {
    const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)a.batch * a.units) return;
    const int b = int(t / a.units), k = int(t % a.units), u = a.units;
    const long long row = (long long)b * 4 * u;
    const int hot = a.table && a.row_index ? a.row_index[b] : -1;
    float g[4];
    for (int q = 0; q < 4; ++q) {
        const int col = q * u + k;
        float v = a.gates_x[row + col];
        if (a.gates_h) v += a.gates_h[row + col];
        if (a.bias) v += a.bias[col];
        if (hot >= 0) v += a.table[(long long)hot * 4 * u + col];
        g[q] = v;
    }
    const long long s = (long long)b * (a.state_stride ? a.state_stride : u) + k;
    const float c = sigmoid_f(g[2] + a.forget_bias) * a.c[s] + sigmoid_f(g[0]) * tanhf(g[1]);
    a.c[s] = c;
    a.h[s] = sigmoid_f(g[3]) * tanhf(c);
}
#endif

}  // namespace kernels
}  // namespace photong
