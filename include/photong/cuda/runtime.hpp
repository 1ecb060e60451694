// photong/cuda/runtime.hpp — the CUDA runtime behind photong's own types: every status turned into
// photong::Error naming the call, RAII device buffers and streams. Plain C++ (g++ compiles it; link
// CUDA::cudart); only the kernels in kernels/ need nvcc. Include it only where CUDA is available
// (CMake option PHOTONG_CUDA defines PHOTONG_WITH_CUDA); nothing else in photong includes it, so
// everything CUDA compiles out without nvcc.
//
// The backend design (issue 23): a model's graph is written once as a template over a backend
// (models/inception_v3_graph.hpp; the decoder's rules are the CPU decoder's, re-expressed as launches in
// kernels/hierdec_kernels.hpp because a device loop may not read results between steps). The kernel
// backend is itself a template over an executor: kernels/cuda/executor.hpp (this file's types, cuBLAS,
// CUDA graphs) or kernels/executor_host.hpp (the same kernels through the host SIMT executor, in CI).
// Templates rather than a virtual backend object because the layer objects and maps differ in type
// (packed CPU matrices, device buffers), so nothing CUDA leaks into model code and the CPU path pays
// nothing. Pipeline::use_accelerator (kernels/pipeline_accelerator.hpp) is the one run-time switch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"

namespace photong {
namespace cuda {

/// Throws photong::Error for a failed CUDA call, naming it: check(cudaMalloc(...), "cudaMalloc").
inline void check(cudaError_t status, const char* call) {
    if (status != cudaSuccess)
        throw Error(std::string("CUDA call failed: ") + call + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")",
                    {"", call, "cudaSuccess", cudaGetErrorName(status)});
}

/// Number of usable CUDA devices; 0 (never an exception) when there is no driver or no device.
inline int device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky error of a missing driver
        return 0;
    }
    return n;
}

/// `count` values of T in device memory, freed on destruction; moves, never copies.
template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t count) : count_(count) {
        if (count_) check(cudaMalloc(reinterpret_cast<void**>(&data_), count_ * sizeof(T)), "cudaMalloc");
    }
    /// Allocates and uploads `host`.
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host.data(), host.size()); }
    ~DeviceBuffer() {
        if (data_) cudaFree(data_);
    }
    DeviceBuffer(DeviceBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), count_(std::exchange(o.count_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        std::swap(data_, o.data_), std::swap(count_, o.count_);
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return count_; }

    void upload(const T* host, std::size_t n) {
        require(n <= count_, "upload larger than the device buffer", {"", "DeviceBuffer::upload", "<= " + std::to_string(count_), std::to_string(n)});
        if (n) check(cudaMemcpy(data_, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
    }
    std::vector<T> download() const {
        std::vector<T> host(count_);
        if (count_) check(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
        return host;
    }

private:
    T* data_ = nullptr;
    std::size_t count_ = 0;
};

/// A CUDA stream, destroyed with its owner.
class Stream {
public:
    Stream() { check(cudaStreamCreate(&stream_), "cudaStreamCreate"); }
    ~Stream() {
        if (stream_) cudaStreamDestroy(stream_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    cudaStream_t get() const { return stream_; }
    void synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

private:
    cudaStream_t stream_ = nullptr;
};

}  // namespace cuda
}  // namespace photong
