// kernels/lstm_cell.cuh — the fused LSTMBlockCell update (TF/MusicVAE semantics, as include/photong/nn/lstm.hpp):
//   [i j f o] = gates_x + gates_h   (the input half x.W_x + bias, and the recurrent half h.W_h, each from a GEMM)
//   c = sigmoid(f + forget_bias) * c + sigmoid(i) * tanh(j),   h = sigmoid(o) * tanh(c)
// One thread per (batch row, unit): the four gate columns of a unit are u apart, so a warp reads four
// coalesced runs. The GEMMs are kernels/conv2d.cuh run as 1x1 convolutions (M = batch rows, K = input or
// units, N = 4 units) here, cuBLAS on the device.
#pragma once

#include <cmath>

#include "simt/portability.cuh"

namespace photong {
namespace kernels {

struct LstmCellArgs {
    const float* gates_x = nullptr;  ///< (batch, 4u): x.W_x + bias
    const float* gates_h = nullptr;  ///< (batch, 4u): h_prev.W_h
    float* c = nullptr;              ///< (batch, u), updated in place
    float* h = nullptr;              ///< (batch, u), written
    int batch = 0, units = 0;
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
    const float gi = a.gates_x[row + k] + a.gates_h[row + k];
    const float gj = a.gates_x[row + u + k] + a.gates_h[row + u + k];
    const float gf = a.gates_x[row + 2 * u + k] + a.gates_h[row + 2 * u + k];
    const float go = a.gates_x[row + 3 * u + k] + a.gates_h[row + 3 * u + k];
    const float c = sigmoid_f(gf + a.forget_bias) * a.c[t] + sigmoid_f(gi) * tanhf(gj);
    a.c[t] = c;
    a.h[t] = sigmoid_f(go) * tanhf(c);
}
#endif

}  // namespace kernels
}  // namespace photong
