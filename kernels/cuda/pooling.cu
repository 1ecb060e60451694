// kernels/cuda/pooling.cu — the device launch of kernels/pooling.cuh (nvcc only; the host SIMT executor
// launches the same kernel in tests/test_kernels.cpp).
#include <cuda_runtime.h>

#include "../pooling.cuh"

namespace photong {
namespace kernels {

/// Enqueues pool2d_nhwc for `a` (device pointers) on `stream`; returns the launch's status.
cudaError_t launch_pool2d(const PoolArgs& a, cudaStream_t stream) {
    if (pool_outputs(a) == 0) return cudaSuccess;
    pool2d_nhwc<<<pool_blocks(a), kPoolThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace kernels
}  // namespace photong
