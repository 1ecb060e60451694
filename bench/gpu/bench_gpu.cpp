// bench_gpu — the kernel backend on a CUDA device, timed with CUDA events (Google Benchmark, manual time):
//   gpu_conv/<case>     every distinct InceptionV3 convolution at 299x299 (kernels/kernel_cases.hpp), batch 1
//   gpu_pool/<case>     every InceptionV3 pool shape with its real channels
//   gpu_features/N      all of InceptionV3 (299x299, batch N) on a resident input, nothing copied
//   gpu_decode/N        a full 16-bar decode of N codes (the recorded CUDA graph replayed, z up, events down)
//   gpu_image_to_midi   photong::Pipeline::generate on a decoded 640x480 picture with the CUDA accelerator
//                       (host clock: it includes the CPU stages, bridges, touch-up and MIDI)
// Counters: GFLOP/s (direct-convolution FLOPs, 2 per multiply-add) and peak_fraction against the device's
// fp32 FMA peak (SMs x 128 lanes x 2 x boost clock, read off the device); GB/s and bw_fraction for pools
// against 2 x memory clock x bus width. Weights: PHOTONG_GPU_WEIGHTS or the source tree's weights/.
// bench/peer_torch_gpu/peer.py times PyTorch + cuDNN on the same shapes; scripts/device_check.sh runs both.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <photong/core/rng.hpp>
#include <photong/pipeline.hpp>

#include "../../kernels/cuda/executor.hpp"
#include "../../kernels/kernel_cases.hpp"
#include "../../kernels/pipeline_accelerator.hpp"

namespace {

using Exec = photong::kernels::CudaExecutor;

std::string weights_dir() {
    const char* env = std::getenv("PHOTONG_GPU_WEIGHTS");
    return env && *env ? env : std::string(PHOTONG_SOURCE_DIR) + "/weights";
}

Exec& executor() {
    static Exec exec;
    return exec;
}

struct DevicePeaks {
    double fp32_gflops = 0, bandwidth_gbs = 0;
};
DevicePeaks device_peaks() {
    int sms = 0, clock_khz = 0, mem_khz = 0, bus_bits = 0;
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
    cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
    return {double(sms) * 128 * 2 * clock_khz * 1e-6, 2.0 * mem_khz * 1e3 * bus_bits / 8 * 1e-9};
}

/// Times `work` (enqueued on the executor's stream) with CUDA events, once per benchmark iteration.
template <class Work>
void time_with_events(benchmark::State& state, Work&& work) {
    cudaEvent_t start, stop;
    photong::cuda::check(cudaEventCreate(&start), "cudaEventCreate");
    photong::cuda::check(cudaEventCreate(&stop), "cudaEventCreate");
    work();  // warm-up: module load, graph recording, cuBLAS heuristics
    executor().synchronize();
    for (auto _ : state) {
        photong::cuda::check(cudaEventRecord(start, executor().stream()), "cudaEventRecord");
        work();
        photong::cuda::check(cudaEventRecord(stop, executor().stream()), "cudaEventRecord");
        photong::cuda::check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        photong::cuda::check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        state.SetIterationTime(ms * 1e-3);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
}

photong::kernels::CudaExecutor::Buffer<float> random_buffer(std::size_t n, std::uint64_t seed) {
    std::vector<float> v(n);
    photong::Rng rng(seed);
    for (float& x : v) x = rng.uniform() * 2 - 1;
    auto b = executor().alloc<float>(n);
    executor().upload(b, v.data(), n);
    return b;
}

void BM_conv(benchmark::State& state, photong::kernels::ConvCase cc) {
    const auto ay = photong::window_axis(cc.h, cc.kh, cc.stride, cc.same ? photong::Padding::Same : photong::Padding::Valid);
    const auto ax = photong::window_axis(cc.w, cc.kw, cc.stride, cc.same ? photong::Padding::Same : photong::Padding::Valid);
    auto in = random_buffer(std::size_t(cc.n) * cc.h * cc.w * cc.cin, 1), w = random_buffer(std::size_t(cc.kh) * cc.kw * cc.cin * cc.cout, 2);
    auto bias = random_buffer(std::size_t(cc.cout), 3), out = executor().alloc<float>(std::size_t(cc.n) * ay.out * ax.out * cc.cout);
    photong::kernels::ConvArgs a;
    a.in = in.data(), a.in_stride = cc.cin, a.n = cc.n, a.h = cc.h, a.w = cc.w, a.cin = cc.cin;
    a.weight = w.data(), a.bias = bias.data(), a.act = photong::kernels::kActRelu;
    a.out = out.data(), a.out_stride = cc.cout, a.oh = ay.out, a.ow = ax.out, a.cout = cc.cout;
    a.kh = cc.kh, a.kw = cc.kw, a.sh = a.sw = cc.stride, a.pad_y = ay.pad, a.pad_x = ax.pad;
    time_with_events(state, [&] { executor().conv2d(a); });
    const double flops = 2.0 * cc.n * ay.out * ax.out * double(cc.kh) * cc.kw * cc.cin * cc.cout;
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_fraction"] = benchmark::Counter(flops * 1e-9 / device_peaks().fp32_gflops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_pool(benchmark::State& state, photong::kernels::PoolCase pc) {
    const auto pad = pc.same ? photong::Padding::Same : photong::Padding::Valid;
    const auto ay = photong::window_axis(pc.h, pc.k, pc.stride, pad), ax = photong::window_axis(pc.w, pc.k, pc.stride, pad);
    auto in = random_buffer(std::size_t(pc.n) * pc.h * pc.w * pc.c, 4), out = executor().alloc<float>(std::size_t(pc.n) * ay.out * ax.out * pc.c);
    photong::kernels::PoolArgs a;
    a.in = in.data(), a.in_stride = pc.c, a.n = pc.n, a.h = pc.h, a.w = pc.w, a.c = pc.c;
    a.out = out.data(), a.out_stride = pc.c, a.oh = ay.out, a.ow = ax.out;
    a.kh = a.kw = pc.k, a.sh = a.sw = pc.stride, a.pad_y = ay.pad, a.pad_x = ax.pad, a.average = pc.average;
    time_with_events(state, [&] { executor().pool2d(a); });
    const double bytes = 4.0 * (double(in.size()) + double(out.size()));
    state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["bw_fraction"] = benchmark::Counter(bytes * 1e-9 / device_peaks().bandwidth_gbs, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_features(benchmark::State& state) {
    static photong::kernels::KernelInceptionV3<Exec> net(photong::SafetensorsFile(weights_dir() + "/inception_v3.safetensors"), executor());
    const int n = int(state.range(0));
    photong::Tensor input = photong::Tensor::nhwc(n, 299, 299, 3);
    photong::Rng rng(9);
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = rng.uniform() * 2 - 1;
    net.features(input);  // uploads the input into the arena's first map
    time_with_events(state, [&] { net.run_resident(n, 299, 299); });
    const double flops = 11.42e9 * n;  // bench/KERNELS.md: the 94 convolutions at 299x299
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_fraction"] = benchmark::Counter(flops * 1e-9 / device_peaks().fp32_gflops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_decode(benchmark::State& state) {
    static const photong::SafetensorsFile file(weights_dir() + "/hierdec_mel16_photong.safetensors");
    static photong::kernels::KernelHierarchicalDecoder<Exec> decoder(file, executor());
    const int n = int(state.range(0));
    photong::Tensor z({n, decoder.z_size()});
    photong::Rng zrng(3);
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = float(zrng.normal());
    const photong::SamplingOptions sampling = photong::recommended_sampling(file);
    const photong::SongForm form = photong::recommended_form(file);
    photong::Rng rng(1);
    time_with_events(state, [&] { benchmark::DoNotOptimize(decoder.decode(z, 16, 16, sampling, &rng, form)); });
    state.counters["steps/s"] = benchmark::Counter(256.0 * n, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_image_to_midi(benchmark::State& state) {
    const photong::PipelineWeights w = photong::PipelineWeights::in_directory(weights_dir());
    static photong::Pipeline pipeline(w);
    static const bool accelerated = (pipeline.use_accelerator(photong::kernels::make_accelerator<Exec>(w)), true);
    (void)accelerated;
    photong::Image image;
    image.width = 640, image.height = 480;
    image.rgb.resize(std::size_t(image.width) * image.height * 3);
    photong::Rng rng(11);
    for (auto& b : image.rgb) b = std::uint8_t(rng.below(256));
    photong::GenerateOptions options;
    options.seed = 1;
    pipeline.generate(image, options);  // warm-up
    for (auto _ : state) benchmark::DoNotOptimize(photong::encode_midi(pipeline.generate(image, options).midi()));
}

const bool registered = [] {
    for (const auto& cc : photong::kernels::conv_cases(0))
        benchmark::RegisterBenchmark(("gpu_conv/" + cc.name).c_str(), BM_conv, cc)->UseManualTime()->Unit(benchmark::kMicrosecond);
    for (const auto& pc : photong::kernels::pool_cases(true))
        benchmark::RegisterBenchmark(("gpu_pool/" + pc.name).c_str(), BM_pool, pc)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("gpu_features", BM_features)->Arg(1)->Arg(8)->Arg(64)->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("gpu_decode", BM_decode)->Arg(1)->Arg(8)->Arg(64)->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("gpu_image_to_midi", BM_image_to_midi)->UseRealTime()->Unit(benchmark::kMillisecond);
    return true;
}();

}  // namespace

int main(int argc, char** argv) {
    if (photong::cuda::device_count() == 0) {
        std::printf("skipped: no CUDA device\n");
        return 77;
    }
    const DevicePeaks p = device_peaks();
    cudaDeviceProp prop{};
    photong::cuda::check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    std::printf("device: %s, %d SMs; fp32 FMA peak %.1f TFLOP/s, memory %.0f GB/s (from its attributes)\n", prop.name, prop.multiProcessorCount,
                p.fp32_gflops * 1e-3, p.bandwidth_gbs);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
