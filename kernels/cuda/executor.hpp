// kernels/cuda/executor.hpp — the CUDA executor: the kernel backend's models (kernels/inception_v3_kernels.hpp,
// kernels/hierdec_kernels.hpp) on a GPU. Host C++ (g++ compiles it); link photong_cuda_kernels (the .cu
// launches, built by nvcc), CUDA::cudart and CUDA::cublas. The interface is the host executor's
// (kernels/executor_host.hpp says what each call does); here:
//   - buffers are device memory (photong::cuda::DeviceBuffer), filled with 0xFF bytes when allocated (a
//     float NaN), so an unwritten output shows in the tests as it does through the host executor;
//   - every launch goes to one stream; every CUDA and cuBLAS status becomes photong::Error naming the call;
//   - gemm is cublasSgemm in full fp32 (CUBLAS_DEFAULT_MATH: no TF32), row-major by the usual transpose:
//     C^T = B^T A^T in cuBLAS' column-major terms;
//   - run(graph, enqueue) records enqueue's launches once as a CUDA graph (stream capture, cuBLAS given a
//     fixed workspace so that it allocates nothing while captured) and replays it on later calls.
#pragma once

#define PHOTONG_KERNEL_EXECUTOR 1

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "photong/cuda/runtime.hpp"
#include "launch.hpp"
#include "../gemm_args.hpp"

namespace photong {
namespace kernels {

/// Throws photong::Error for a failed cuBLAS call, naming it.
inline void check_cublas(cublasStatus_t status, const char* call) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error(std::string("cuBLAS call failed: ") + call + ": " + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")",
                    {"", call, "CUBLAS_STATUS_SUCCESS", cublasGetStatusName(status)});
}

class CudaExecutor {
public:
    template <class T>
    using Buffer = cuda::DeviceBuffer<T>;

    /// A recorded CUDA graph, destroyed with its owner.
    class Graph {
    public:
        Graph() = default;
        ~Graph() {
            if (exec_) cudaGraphExecDestroy(exec_);
        }
        Graph(Graph&& o) noexcept : exec_(std::exchange(o.exec_, nullptr)) {}
        Graph& operator=(Graph&& o) noexcept {
            std::swap(exec_, o.exec_);
            return *this;
        }
        Graph(const Graph&) = delete;
        Graph& operator=(const Graph&) = delete;

    private:
        friend class CudaExecutor;
        cudaGraphExec_t exec_ = nullptr;
    };

    static constexpr const char* name() { return "CUDA"; }

    /// Uses device `device` (throws photong::Error when there is none); creates the stream and the cuBLAS handle.
    explicit CudaExecutor(int device = 0) {
        require(cuda::device_count() > device, "no such CUDA device", {"", "CudaExecutor", "device < " + std::to_string(cuda::device_count()), std::to_string(device)});
        cuda::check(cudaSetDevice(device), "cudaSetDevice");
        check_cublas(cublasCreate(&blas_), "cublasCreate");
        check_cublas(cublasSetStream(blas_, stream_.get()), "cublasSetStream");
        check_cublas(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        check_cublas(cublasSetWorkspace(blas_, workspace_.data(), workspace_.size()), "cublasSetWorkspace");
    }
    ~CudaExecutor() {
        if (blas_) cublasDestroy(blas_);
    }
    CudaExecutor(const CudaExecutor&) = delete;
    CudaExecutor& operator=(const CudaExecutor&) = delete;

    cudaStream_t stream() const { return stream_.get(); }

    template <class T>
    Buffer<T> alloc(std::size_t count) const {
        Buffer<T> b(count);
        if (count) cuda::check(cudaMemsetAsync(b.data(), 0xFF, count * sizeof(T), stream_.get()), "cudaMemsetAsync");
        return b;
    }
    template <class T>
    void upload(Buffer<T>& to, const T* from, std::size_t count, std::size_t offset = 0) const {
        require(offset + count <= to.size(), "upload larger than the buffer", {"", "CudaExecutor::upload", "<= " + std::to_string(to.size()),
                                                                               std::to_string(offset + count)});
        if (count) cuda::check(cudaMemcpyAsync(to.data() + offset, from, count * sizeof(T), cudaMemcpyHostToDevice, stream_.get()), "cudaMemcpyAsync (host to device)");
        synchronize();  // `from` may be a temporary of the caller's
    }
    template <class T>
    std::vector<T> download(const Buffer<T>& from, std::size_t count, std::size_t offset = 0) const {
        require(offset + count <= from.size(), "download larger than the buffer", {"", "CudaExecutor::download", "<= " + std::to_string(from.size()),
                                                                                   std::to_string(offset + count)});
        std::vector<T> out(count);
        if (count) cuda::check(cudaMemcpyAsync(out.data(), from.data() + offset, count * sizeof(T), cudaMemcpyDeviceToHost, stream_.get()), "cudaMemcpyAsync (device to host)");
        synchronize();
        return out;
    }

    void conv2d(const ConvArgs& a) const { cuda::check(launch_conv2d(a, stream_.get()), "launch_conv2d"); }
    void pool2d(const PoolArgs& a) const { cuda::check(launch_pool2d(a, stream_.get()), "launch_pool2d"); }
    void lstm_cell(const LstmCellArgs& a) const {
        if (a.batch * a.units == 0) return;
        cuda::check(launch_lstm_cell(a, stream_.get()), "launch_lstm_cell");
    }
    void preprocess(const PreprocessArgs& a) const { cuda::check(launch_preprocess(a, stream_.get()), "launch_preprocess"); }
    void sample_events(const SampleArgs& a) const { cuda::check(launch_sample_events(a, stream_.get()), "launch_sample_events"); }
    void draw_uniforms(const DrawArgs& a) const { cuda::check(launch_draw_uniforms(a, stream_.get()), "launch_draw_uniforms"); }

    /// C (m x n, ldc) = A (m x k, lda) . B (k x n, dense), fp32, through cublasSgemm.
    void gemm(const GemmArgs& g) const {
        if (g.m == 0 || g.n == 0) return;
        const float one = 1.0f, zero = 0.0f;
        check_cublas(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, g.n, g.m, g.k, &one, g.b, g.n, g.a, g.lda, &zero, g.c, g.ldc), "cublasSgemm");
    }

    /// Records enqueue()'s work as a CUDA graph on the first call for `graph`, then replays it.
    template <class Enqueue>
    void run(Graph& graph, Enqueue&& enqueue) const {
        if (!graph.exec_) {
            cuda::check(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
            cudaGraph_t recorded = nullptr;
            try {
                enqueue();
            } catch (...) {
                cudaStreamEndCapture(stream_.get(), &recorded);  // leave the stream usable
                if (recorded) cudaGraphDestroy(recorded);
                throw;
            }
            cuda::check(cudaStreamEndCapture(stream_.get(), &recorded), "cudaStreamEndCapture");
            const cudaError_t made = cudaGraphInstantiate(&graph.exec_, recorded, 0);
            cudaGraphDestroy(recorded);
            cuda::check(made, "cudaGraphInstantiate");
        }
        cuda::check(cudaGraphLaunch(graph.exec_, stream_.get()), "cudaGraphLaunch");
    }

    void synchronize() const { cuda::check(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize"); }

private:
    cuda::Stream stream_;
    cuda::DeviceBuffer<unsigned char> workspace_{std::size_t(32) << 20};
    cublasHandle_t blas_ = nullptr;
};

}  // namespace kernels
}  // namespace photong
