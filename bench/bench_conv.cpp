// bench_conv — every distinct convolution shape of InceptionV3 at 299x299 (bench/inception_v3_convs.inc),
// batch 1, random weights, on the default thread pool; 3x3 stride-1 shapes twice, as Winograd
// (the default) and as the direct product. GFLOP/s always counts the direct algorithm's FLOPs. Reports GFLOP/s and the fraction of this
// machine's measured FMA peak (bench/machine_peak.hpp) for the same number of threads.
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>
#include <photong/core/rng.hpp>
#include <photong/nn/conv2d.hpp>

#include "machine_peak.hpp"

namespace {

struct ConvShape {
    int index;
    const char* block;
    int h, w, cin, cout, kh, kw, stride;
    photong::Padding padding;
};

const std::vector<ConvShape>& inception_convs() {
    using photong::Padding;
    static const std::vector<ConvShape> all = {
#define PHOTONG_INCEPTION_CONV(i, b, h, w, ci, co, kh, kw, s, p) {i, b, h, w, ci, co, kh, kw, s, Padding::p},
#include "inception_v3_convs.inc"
#undef PHOTONG_INCEPTION_CONV
    };
    return all;
}

void BM_Conv(benchmark::State& state, ConvShape s, bool allow_winograd) {
    photong::Rng rng(s.index);
    photong::Tensor kernel({s.kh, s.kw, s.cin, s.cout});
    for (auto& v : kernel.values()) v = rng.uniform() - 0.5f;
    const photong::Conv2D conv(kernel, {}, {s.kh, s.kw, s.stride, s.stride, s.padding, true, allow_winograd});
    photong::Tensor x = photong::Tensor::nhwc(1, s.h, s.w, s.cin);
    for (auto& v : x.values()) v = rng.uniform();
    const auto o = conv.output_shape(x.view());
    photong::Tensor y = photong::Tensor::nhwc(o[0], o[1], o[2], o[3]);
    const photong_bench::PeakAroundRun peak(photong::default_thread_pool().size());
    for (auto _ : state) {
        conv.forward(x.view(), y.view());
        benchmark::DoNotOptimize(y.data());
    }
    const double flops = 2.0 * o[1] * o[2] * double(s.kh) * s.kw * s.cin * s.cout;
    const unsigned threads = photong::default_thread_pool().size();
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    const double peak_gflops = peak.gflops();
    state.counters["peak_fraction"] = benchmark::Counter(flops * 1e-9 / peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_GFLOP/s"] = peak_gflops;
    state.counters["threads"] = threads;
    state.SetLabel(conv.uses_winograd(x.view()) ? "winograd F(2x2,3x3)" : "direct");
}

const bool registered = [] {
    std::set<std::tuple<int, int, int, int, int, int, int, int>> seen;
    for (const ConvShape& s : inception_convs()) {
        if (!seen.insert({s.h, s.w, s.cin, s.cout, s.kh, s.kw, s.stride, int(s.padding)}).second) continue;
        const std::string name = "conv2d_" + std::to_string(s.index) + "/" + s.block + "/" + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
                                 std::to_string(s.cin) + "->" + std::to_string(s.cout) + "/" + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
                                 "s" + std::to_string(s.stride);
        benchmark::RegisterBenchmark(name.c_str(), BM_Conv, s, true)->Unit(benchmark::kMicrosecond)->UseRealTime();
        // 3x3 stride-1 layers run as Winograd by default: time the direct product beside it.
        if (s.kh == 3 && s.kw == 3 && s.stride == 1 && s.cin >= 16)
            benchmark::RegisterBenchmark((name + "/direct").c_str(), BM_Conv, s, false)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    return true;
}();

}  // namespace

BENCHMARK_MAIN();
