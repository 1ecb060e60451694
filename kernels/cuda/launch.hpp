// kernels/cuda/launch.hpp — the device launches of kernels/*.cuh, for host C++ (g++) that links the
// photong_cuda_kernels library built by nvcc. Each enqueues its kernel on `stream` with device pointers
// and returns the launch's status (photong::cuda::check turns it into an Error).
#pragma once

#include <cuda_runtime.h>

#define PHOTONG_KERNEL_ARGS_ONLY
#include "../conv2d.cuh"
#include "../lstm_cell.cuh"
#include "../pooling.cuh"
#include "../preprocess.cuh"
#include "../sample_events.cuh"
#undef PHOTONG_KERNEL_ARGS_ONLY

namespace photong {
namespace kernels {

cudaError_t launch_pool2d(const PoolArgs& a, cudaStream_t stream);
cudaError_t launch_conv2d(const ConvArgs& a, cudaStream_t stream);
cudaError_t launch_lstm_cell(const LstmCellArgs& a, cudaStream_t stream);
cudaError_t launch_preprocess(const PreprocessArgs& a, cudaStream_t stream);
cudaError_t launch_sample_events(const SampleArgs& a, cudaStream_t stream);
cudaError_t launch_draw_uniforms(const DrawArgs& a, cudaStream_t stream);

}  // namespace kernels
}  // namespace photong
