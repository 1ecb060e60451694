// bench_inception — the whole InceptionV3 forward (299x299 -> 8x8x2048), batch 1, on the default
// thread pool (PHOTONG_NUM_THREADS sets its size). Weights: $PHOTONG_BENCH_WEIGHTS, else the
// default weights/inception_v3.safetensors, else the random-weight test fixture in build/fixtures.
// Reports GFLOP/s over the 11.42 GFLOP of its 94 convolutions counted as direct products and the fraction of
// the machine's FMA peak measured around the run; and the same for the products really run (effective_*: the
// Winograd layers' per-tile products, e.g. F(4x4,3x3)'s 36 per 4x4 tile instead of 9 taps per pixel, F(1x2,1x7)'s 8 per
// 2 pixels instead of 7 each). The ONNX Runtime comparison is bench/peer_ort/compare.sh (warm processes, interleaved).
#include <cstdlib>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>
#include <photong/core/rng.hpp>
#include <photong/models/inception_v3.hpp>

#include "machine_peak.hpp"

namespace {

/// The 94 convolutions' FLOPs at 299x299: as direct products (11.42 GFLOP, the usual count), or as the products
/// photong really runs ("effective": Winograd layers counted by their per-tile products, Conv2D::product_flops).
double inception_conv_flops(bool effective) {
    double total = 0;
#define PHOTONG_INCEPTION_CONV(i, b, h, w, ci, co, kh, kw, s, p)                                                     \
    {                                                                                                               \
        const int oh = photong::window_axis(h, kh, s, photong::Padding::p).out, ow = photong::window_axis(w, kw, s, photong::Padding::p).out; \
        total += photong::Conv2D::product_flops(kh, kw, s, ci, co, oh, ow, effective, photong::InceptionV3Convs::winograd_tile("conv2d_" + std::to_string(i), kh, kw)); \
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
    const double flops = inception_conv_flops(false) * double(state.range(0));
    const double effective = inception_conv_flops(true) * double(state.range(0));
    const unsigned threads = photong::default_thread_pool().size();
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    const double peak_gflops = peak.gflops();
    state.counters["peak_fraction"] = benchmark::Counter(flops * 1e-9 / peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_GFLOP/s"] = peak_gflops;
    // Winograd layers do fewer multiplies than the direct count credits: the work really done, beside it.
    state.counters["effective_GFLOP/s"] = benchmark::Counter(effective * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["effective_peak_fraction"] = benchmark::Counter(effective * 1e-9 / peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = threads;
    state.SetLabel(path);
}
BENCHMARK(BM_InceptionV3)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
