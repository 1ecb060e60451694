// bench_inception — the whole InceptionV3 forward (299x299 -> 8x8x2048), batch 1, on the default
// thread pool (PHOTONG_NUM_THREADS sets its size). Weights: $PHOTONG_BENCH_WEIGHTS, else the
// default weights/inception_v3.safetensors, else the random-weight test fixture in build/fixtures.
// Reports GFLOP/s over the 11.42 GFLOP of its 94 convolutions and the fraction of the machine's
// measured FMA peak. bench/peer_ort/compare.sh runs this and ONNX Runtime in the same run.
#include <cstdlib>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>
#include <photong/core/rng.hpp>
#include <photong/models/inception_v3.hpp>

#include "machine_peak.hpp"

namespace {

double inception_conv_flops() {
    double total = 0;
#define PHOTONG_INCEPTION_CONV(i, b, h, w, ci, co, kh, kw, s, p)                                                     \
    {                                                                                                               \
        const int oh = photong::window_axis(h, kh, s, photong::Padding::p).out, ow = photong::window_axis(w, kw, s, photong::Padding::p).out; \
        total += 2.0 * oh * ow * kh * kw * double(ci) * co;                                                         \
    }
#include "inception_v3_convs.inc"
#undef PHOTONG_INCEPTION_CONV
    return total;
}

std::string weights_path() {
    if (const char* env = std::getenv("PHOTONG_BENCH_WEIGHTS")) return env;
    const std::string real = std::string(PHOTONG_SOURCE_DIR) + "/weights/inception_v3.safetensors";
    if (std::ifstream(real).good()) return real;
    return std::string(PHOTONG_SOURCE_DIR) + "/build/fixtures/inception_v3_random.safetensors";
}

void BM_InceptionV3(benchmark::State& state) {
    // Loaded once for all repetitions, and run once before timing (as the ORT peer warms up its
    // session): the timed loop measures steady-state inference, not first-touch page faults.
    static const std::string path = weights_path();
    static const photong::InceptionV3 net(path);
    photong::Tensor x = photong::Tensor::nhwc(int(state.range(0)), 299, 299, 3);
    photong::Rng rng(1);
    for (auto& v : x.values()) v = rng.uniform() * 2 - 1;
    benchmark::DoNotOptimize(net.features(x).data());
    const photong_bench::PeakAroundRun peak(photong::default_thread_pool().size());
    for (auto _ : state) {
        photong::Tensor y = net.features(x);
        benchmark::DoNotOptimize(y.data());
    }
    const double flops = inception_conv_flops() * double(state.range(0));
    const unsigned threads = photong::default_thread_pool().size();
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    const double peak_gflops = peak.gflops();
    state.counters["peak_fraction"] = benchmark::Counter(flops * 1e-9 / peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_GFLOP/s"] = peak_gflops;
    state.counters["threads"] = threads;
    state.SetLabel(path);
}
BENCHMARK(BM_InceptionV3)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
