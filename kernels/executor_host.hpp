// kernels/executor_host.hpp — the host executor: the kernels of kernels/ run on the CPU through the SIMT
// executor (kernels/simt/host_simt.hpp), every CUDA thread a fiber with real barriers. It is the test
// bench of the kernel backend (the whole InceptionV3 and a whole decode run through it in CI, no GPU
// needed) and its porting story: a platform without CUDA runs the same kernel sources.
//
// The executor interface, shared with kernels/cuda/executor.hpp (CudaExecutor), is what the kernel
// backend's models (kernels/inception_v3_kernels.hpp, kernels/hierdec_kernels.hpp) are written against:
//   Buffer<T>                 owned memory of the executor (host vectors here, device memory there)
//   alloc<T>(n)               an uninitialised buffer: here filled with NaN / 0xCD bytes, so a value
//                             a kernel forgets to write shows in every test
//   upload(buf, ptr, n), download(buf) -> std::vector<T>
//   conv2d, pool2d, lstm_cell, preprocess, sample_events, draw_uniforms   one kernel launch each
//   gemm(GemmArgs)            C = A . B: cuBLAS on the device; its stand-in here is conv2d.cuh as a 1x1
//                             convolution (our own GEMM kernel, run through the SIMT executor)
//   Graph, run(Graph&, enqueue)   CUDA graph capture on the device (record once, replay); here a plain call
//   synchronize()
#pragma once

#define PHOTONG_KERNEL_EXECUTOR 1

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "photong/core/error.hpp"

#include "conv2d.cuh"
#include "lstm_cell.cuh"
#include "pooling.cuh"
#include "preprocess.cuh"
#include "sample_events.cuh"
#include "gemm_args.hpp"

namespace photong {
namespace kernels {

/// `count` values of T in host memory, standing in for device memory.
template <class T>
class HostBuffer {
public:
    HostBuffer() = default;
    explicit HostBuffer(std::size_t count) : values_(count) {
        if constexpr (std::is_floating_point_v<T>) {
            for (T& v : values_) v = std::numeric_limits<T>::quiet_NaN();
        } else {
            if (count) std::memset(static_cast<void*>(values_.data()), 0xCD, count * sizeof(T));
        }
    }
    T* data() { return values_.data(); }
    const T* data() const { return values_.data(); }
    std::size_t size() const { return values_.size(); }

private:
    std::vector<T> values_;
};

class HostExecutor {
public:
    template <class T>
    using Buffer = HostBuffer<T>;
    struct Graph {};  ///< nothing to record: the host runs each launch as it comes

    static constexpr const char* name() { return "host SIMT executor"; }

    template <class T>
    Buffer<T> alloc(std::size_t count) const { return Buffer<T>(count); }
    template <class T>
    void upload(Buffer<T>& to, const T* from, std::size_t count, std::size_t offset = 0) const {
        require(offset + count <= to.size(), "upload larger than the buffer", {"", "HostExecutor::upload", "<= " + std::to_string(to.size()),
                                                                               std::to_string(offset + count)});
        if (count) std::memcpy(static_cast<void*>(to.data() + offset), from, count * sizeof(T));
    }
    template <class T>
    std::vector<T> download(const Buffer<T>& from, std::size_t count, std::size_t offset = 0) const {
        require(offset + count <= from.size(), "download larger than the buffer", {"", "HostExecutor::download", "<= " + std::to_string(from.size()),
                                                                                   std::to_string(offset + count)});
        return std::vector<T>(from.data() + offset, from.data() + offset + count);
    }

    void conv2d(const ConvArgs& a) const {
        if ((long long)a.n * a.oh * a.ow == 0 || a.cout == 0) return;
        simt::launch(conv_grid(a), dim3(kConvThreads), 0, conv2d_implicit_gemm, a);
    }
    void pool2d(const PoolArgs& a) const {
        if (pool_outputs(a) == 0) return;
        simt::launch(dim3(pool_blocks(a)), dim3(kPoolThreads), 0, pool2d_nhwc, a);
    }
    void lstm_cell(const LstmCellArgs& a) const {
        if (a.batch * a.units == 0) return;
        simt::launch(dim3(lstm_cell_blocks(a)), dim3(kLstmThreads), 0, lstm_cell_fused, a);
    }
    void preprocess(const PreprocessArgs& a) const { simt::launch(dim3(preprocess_blocks(a)), dim3(kPreprocessThreads), 0, preprocess_rgb, a); }
    void sample_events(const SampleArgs& a) const {
        simt::launch(dim3(unsigned(a.batch)), dim3(kSampleThreads), std::size_t(sample_shared_bytes(a.classes)), kernels::sample_events, a);
    }
    void draw_uniforms(const DrawArgs& a) const { simt::launch(dim3(1), dim3(1), 0, kernels::draw_uniforms, a); }

    /// The cuBLAS stand-in: C (m x n, row stride ldc) = A (m x k, row stride lda) . B (k x n, dense).
    void gemm(const GemmArgs& g) const { conv2d(gemm_as_conv(g)); }

    template <class Enqueue>
    void run(Graph&, Enqueue&& enqueue) const { enqueue(); }
    void synchronize() const {}
};

}  // namespace kernels
}  // namespace photong
