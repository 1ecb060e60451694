// kernels/cuda/sample_events.cu — the device launches of kernels/sample_events.cuh (nvcc only).
#include <cuda_runtime.h>

#include "../sample_events.cuh"

namespace photong {
namespace kernels {

/// Enqueues sample_events for `a` (device pointers): one block per batch row.
cudaError_t launch_sample_events(const SampleArgs& a, cudaStream_t stream) {
    if (a.batch == 0) return cudaSuccess;
    sample_events<<<unsigned(a.batch), kSampleThreads, sample_shared_bytes(a.classes), stream>>>(a);
    return cudaGetLastError();
}

/// Enqueues draw_uniforms (one thread) for `a`.
cudaError_t launch_draw_uniforms(const DrawArgs& a, cudaStream_t stream) {
    draw_uniforms<<<1, 1, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace kernels
}  // namespace photong
