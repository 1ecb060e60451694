// kernels/cuda/lstm_cell.cu — the device launch of kernels/lstm_cell.cuh (nvcc only).
#include <cuda_runtime.h>

#include "../lstm_cell.cuh"

namespace photong {
namespace kernels {

/// Enqueues lstm_cell_fused for `a` (device pointers) on `stream`; returns the launch's status.
cudaError_t launch_lstm_cell(const LstmCellArgs& a, cudaStream_t stream) {
    if ((long long)a.batch * a.units == 0) return cudaSuccess;
    lstm_cell_fused<<<lstm_cell_blocks(a), kLstmThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace kernels
}  // namespace photong
