// kernels/pipeline_accelerator.hpp — photong::Pipeline's features and decode on the kernel backend:
//
//   #include "kernels/cuda/executor.hpp"          // or kernels/executor_host.hpp
//   #include "kernels/pipeline_accelerator.hpp"
//   photong::Pipeline pipeline(weights);
//   pipeline.use_accelerator(photong::kernels::make_accelerator<photong::kernels::CudaExecutor>(weights));
//   photong::GenerateResult r = pipeline.generate("photo.jpg");   // InceptionV3 and the decode on the GPU
//
// The accelerator owns its executor (a CUDA stream and cuBLAS handle, or nothing on the host) and both
// models' uploaded weights; a mutex serialises generate() calls from several threads through it.
#pragma once

#ifndef PHOTONG_KERNEL_EXECUTOR
#error "include kernels/executor_host.hpp or kernels/cuda/executor.hpp before kernels/pipeline_accelerator.hpp"
#endif

#include <memory>
#include <mutex>
#include <string>

#include "photong/pipeline.hpp"
#include "hierdec_kernels.hpp"
#include "inception_v3_kernels.hpp"

namespace photong {
namespace kernels {

template <class Exec>
class KernelAccelerator final : public PipelineAccelerator {
public:
    /// Loads (and checks, as the CPU models do) weights.inception and weights.melody onto a new executor.
    explicit KernelAccelerator(const PipelineWeights& weights)
        : exec_(std::make_unique<Exec>()),
          inception_(SafetensorsFile(weights.inception), *exec_),
          decoder_(SafetensorsFile(weights.melody), *exec_) {}

    std::string name() const override { return Exec::name(); }
    Tensor features(const Image& image) override {
        const std::lock_guard<std::mutex> lock(mutex_);
        return inception_.features(image);
    }
    DecodeResult decode(const Tensor& z, int bars, int steps_per_bar, const SamplingOptions& sampling, Rng* rng, const SongForm& form) override {
        const std::lock_guard<std::mutex> lock(mutex_);
        return decoder_.decode(z, bars, steps_per_bar, sampling, rng, form);
    }

private:
    std::unique_ptr<Exec> exec_;  // first: the models keep a reference to it
    KernelInceptionV3<Exec> inception_;
    KernelHierarchicalDecoder<Exec> decoder_;
    std::mutex mutex_;
};

/// A Pipeline accelerator over executor Exec, for Pipeline::use_accelerator.
template <class Exec>
std::shared_ptr<PipelineAccelerator> make_accelerator(const PipelineWeights& weights) {
    return std::make_shared<KernelAccelerator<Exec>>(weights);
}

}  // namespace kernels
}  // namespace photong
