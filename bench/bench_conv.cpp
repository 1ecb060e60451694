// bench_conv — every distinct convolution shape of InceptionV3 at 299x299 (bench/inception_v3_convs.inc),
// batch 1, random weights, on the default thread pool; layers with a Winograd variant (nn/winograd.hpp) as InceptionV3
// runs them (InceptionV3Convs::winograd_tile), as every other variant, and as the direct product; and the fused 1x1
// convolutions that open each block (models/
// inception_v3_graph.hpp's `heads`), as the network runs them, beside their parts. GFLOP/s counts the direct
// algorithm's FLOPs, effective_GFLOP/s the products really run (Conv2D::product_flops: fewer for Winograd).
// Both are also given as fractions of this machine's FMA peak (bench/machine_peak.hpp), measured around the run
// for the same number of threads.
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>
#include <photong/core/rng.hpp>
#include <photong/models/inception_v3_graph.hpp>
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

/// tile: Conv2DParams::winograd_tile (0: the direct product).
void BM_Conv(benchmark::State& state, ConvShape s, int tile) {
    const bool allow_winograd = tile > 0;
    photong::Rng rng(s.index);
    photong::Tensor kernel({s.kh, s.kw, s.cin, s.cout});
    for (auto& v : kernel.values()) v = rng.uniform() - 0.5f;
    photong::Conv2DParams params{s.kh, s.kw, s.stride, s.stride, s.padding, true, allow_winograd};
    if (allow_winograd) params.winograd_tile = tile;
    const photong::Conv2D conv(kernel, {}, params);
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
    const double effective = photong::Conv2D::product_flops(s.kh, s.kw, s.stride, s.cin, s.cout, o[1], o[2], allow_winograd, allow_winograd ? tile : 2);
    const unsigned threads = photong::default_thread_pool().size();
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    const double peak_gflops = peak.gflops();
    state.counters["peak_fraction"] = benchmark::Counter(flops * 1e-9 / peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_GFLOP/s"] = peak_gflops;
    state.counters["effective_GFLOP/s"] = benchmark::Counter(effective * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["effective_peak_fraction"] = benchmark::Counter(effective * 1e-9 / peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = threads;
    state.SetLabel(conv.uses_winograd(x.view()) ? "winograd " + conv.winograd_shape().name() : "direct");
}

const bool registered = [] {
    std::set<std::tuple<int, int, int, int, int, int, int, int>> seen;
    for (const ConvShape& s : inception_convs()) {
        if (!seen.insert({s.h, s.w, s.cin, s.cout, s.kh, s.kw, s.stride, int(s.padding)}).second) continue;
        const std::string name = "conv2d_" + std::to_string(s.index) + "/" + s.block + "/" + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
                                 std::to_string(s.cin) + "->" + std::to_string(s.cout) + "/" + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
                                 "s" + std::to_string(s.stride);
        const int tile = photong::InceptionV3Convs::winograd_tile("conv2d_" + std::to_string(s.index), s.kh, s.kw);
        benchmark::RegisterBenchmark(name.c_str(), BM_Conv, s, tile)->Unit(benchmark::kMicrosecond)->UseRealTime();
        // Layers with a Winograd variant: time the other variants and the direct product beside what the network runs.
        if (!photong::Conv2D::winograd_window(s.kh, s.kw, s.stride, s.stride, s.cin, tile)) continue;
        for (int other : {2, 3, 4}) {
            photong::WinogradShape shape;
            if (other != tile && photong::WinogradShape::for_kernel(s.kh, s.kw, other, shape))
                benchmark::RegisterBenchmark((name + "/" + shape.name()).c_str(), BM_Conv, s, other)->Unit(benchmark::kMicrosecond)->UseRealTime();
        }
        benchmark::RegisterBenchmark((name + "/direct").c_str(), BM_Conv, s, 0)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    // The fused opening 1x1s, as they run (one product per block; index 0: not a file layer).
    const ConvShape heads[] = {{0, "block_a heads", 35, 35, 192, 176, 1, 1, 1, photong::Padding::Same},
                               {0, "block_a heads", 35, 35, 256, 176, 1, 1, 1, photong::Padding::Same},
                               {0, "block_a heads", 35, 35, 288, 176, 1, 1, 1, photong::Padding::Same},
                               {0, "block_c heads", 17, 17, 768, 448, 1, 1, 1, photong::Padding::Same},
                               {0, "block_c heads", 17, 17, 768, 512, 1, 1, 1, photong::Padding::Same},
                               {0, "block_c heads", 17, 17, 768, 576, 1, 1, 1, photong::Padding::Same},
                               {0, "block_d heads", 17, 17, 768, 384, 1, 1, 1, photong::Padding::Same},
                               {0, "block_e heads", 8, 8, 1280, 1152, 1, 1, 1, photong::Padding::Same},
                               {0, "block_e heads", 8, 8, 2048, 1152, 1, 1, 1, photong::Padding::Same}};
    for (const ConvShape& s : heads) {
        const std::string name = std::string("fused/") + s.block + "/" + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
                                 std::to_string(s.cin) + "->" + std::to_string(s.cout) + "/1x1s1";
        benchmark::RegisterBenchmark(name.c_str(), BM_Conv, s, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    return true;
}();

}  // namespace

BENCHMARK_MAIN();
