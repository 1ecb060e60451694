// kernels/cuda/preprocess.cu — the device launch of kernels/preprocess.cuh (nvcc only).
#include <cuda_runtime.h>

#include "../preprocess.cuh"

namespace photong {
namespace kernels {

/// Enqueues preprocess_rgb for `a` (device pointers) on `stream`; returns the launch's status.
cudaError_t launch_preprocess(const PreprocessArgs& a, cudaStream_t stream) {
    preprocess_rgb<<<preprocess_blocks(a), kPreprocessThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace kernels
}  // namespace photong
