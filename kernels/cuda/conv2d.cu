// kernels/cuda/conv2d.cu — the device launch of kernels/conv2d.cuh (nvcc only).
#include <cuda_runtime.h>

#include "../conv2d.cuh"

namespace photong {
namespace kernels {

/// Enqueues conv2d_implicit_gemm for `a` (device pointers) on `stream`; returns the launch's status.
cudaError_t launch_conv2d(const ConvArgs& a, cudaStream_t stream) {
    if ((long long)a.n * a.oh * a.ow == 0 || a.cout == 0) return cudaSuccess;
    conv2d_implicit_gemm<<<conv_grid(a), kConvThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace kernels
}  // namespace photong
