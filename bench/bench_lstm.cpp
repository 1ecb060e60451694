// bench_lstm — the LSTM work of MusicVAE's decoder at `hierdec-mel_16bar` sizes (random weights):
// one step of a 2 x 1024 LSTM stack, and a whole 16-bar hierarchical decode, at batch 1 and 8.
// A batch-1 step is bound by streaming the weights from memory, so besides time each benchmark
// reports the weight bytes it streams per second and the fraction of this machine's measured read
// bandwidth (bench/machine_peak.hpp) that is. Run on the default thread pool (PHOTONG_NUM_THREADS).
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>
#include <photong/models/music_vae_hier.hpp>
#include <photong/models/sampling.hpp>
#include <photong/nn/lstm.hpp>

#include "machine_peak.hpp"
#include "random_music_vae.hpp"

#include <unistd.h>  // mkstemp, close, unlink

namespace {

constexpr std::int64_t kUnits = 1024, kZ = 512, kClasses = 90;

/// Times the loop itself (Google Benchmark's rate counters would print the fraction "per second").
class Stopwatch {
public:
    Stopwatch() : t0_(std::chrono::steady_clock::now()) {}
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

private:
    std::chrono::steady_clock::time_point t0_;
};

void report_bandwidth(benchmark::State& state, double bytes_per_iteration, double seconds) {
    const unsigned threads = photong::default_thread_pool().size();
    const double gbs = bytes_per_iteration * double(state.iterations()) / seconds * 1e-9;
    state.counters["weights_GB/s"] = gbs;
    state.counters["bw_fraction"] = gbs / photong_bench::machine_read_bandwidth_gbs(threads);
    state.counters["threads"] = threads;
}

/// One step of two stacked LSTMBlockCells of 1024 units (the conductor's and core decoder's
/// stacks), layer 0 fed a 1024-wide input.
void BM_LstmStackStep(benchmark::State& state) {
    const std::int64_t batch = state.range(0);
    photong::Rng rng(1);
    std::vector<photong::LstmCell> layers;
    for (int k = 0; k < 2; ++k) {
        layers.emplace_back(photong_bench::random_tensor({2 * kUnits, 4 * kUnits}, 0.03f, rng), photong_bench::random_tensor({4 * kUnits}, 0.1f, rng),
                            kUnits, 1.0f, "cell_" + std::to_string(k));
        layers.back().use_thread_pool(&photong::default_thread_pool());
    }
    photong::Tensor x = photong_bench::random_tensor({batch, kUnits}, 1.0f, rng), gates({batch, 4 * kUnits});
    std::vector<photong::Tensor> c(2, photong::Tensor({batch, kUnits})), h(2, photong::Tensor({batch, kUnits}));
    const Stopwatch clock;
    for (auto _ : state) {
        layers[0].step(x.data(), batch, c[0].data(), h[0].data(), gates.data());
        layers[1].step(h[0].data(), batch, c[1].data(), h[1].data(), gates.data());
        benchmark::DoNotOptimize(h[1].data());
    }
    report_bandwidth(state, double(layers[0].weight_bytes() + layers[1].weight_bytes()), clock.seconds());
}

/// Weight bytes one 16 x 16 hierarchical decode streams: the conductor's initial-state layer
/// once and its stack per bar; per bar the core's initial-state layer and the latent share of its
/// first layer; per step the core's recurrent rows of layer 0, all of layer 1, and the projection.
double hierdec_bytes(int bars, int steps) {
    const double u = kUnits, g = 4 * kUnits, f = sizeof(float);
    const double conductor = kZ * g + bars * ((1 + u) * g + 2 * u * g);
    const double per_bar = u * g + u * g;
    const double per_step = u * g + 2 * u * g + u * kClasses;
    return f * (conductor + bars * (per_bar + steps * per_step));
}

void BM_HierarchicalDecode16Bars(benchmark::State& state) {
    // Written to a private temporary file, loaded once and removed at once: nothing is left in /tmp.
    static const std::unique_ptr<const photong::HierarchicalLstmDecoder> loaded = [] {
        char path[] = "/tmp/photong_bench_hierdec_XXXXXX";
        const int fd = mkstemp(path);
        if (fd < 0) std::abort();
        close(fd);
        photong_bench::write_random_hierdec(path, kZ, kUnits, kClasses);
        auto d = std::make_unique<const photong::HierarchicalLstmDecoder>(photong::SafetensorsFile(path));
        unlink(path);
        return d;
    }();
    const photong::HierarchicalLstmDecoder& decoder = *loaded;
    const std::int64_t batch = state.range(0);
    photong::Rng rng(7);
    photong::Tensor z = photong_bench::random_tensor({batch, kZ}, 1.0f, rng);
    const Stopwatch clock;
    for (auto _ : state) {
        photong::Rng sampler(42);
        const photong::DecodeResult r = decoder.decode(z, 16, 16, 0.5f, &sampler);
        benchmark::DoNotOptimize(r.events.data());
    }
    report_bandwidth(state, hierdec_bytes(16, 16), clock.seconds());
}

/// The event draw alone (sampling.hpp) on the decoder's 90 classes: plain temperature (an exp per class) against
/// top-k + top-p (also a sort of the 90 probabilities per event). One decode draws 256 x batch events.
void BM_EventSampler(benchmark::State& state) {
    photong::SamplingOptions s;
    s.temperature = 1.0f;
    if (state.range(0)) s.top_k = 20, s.top_p = 0.9f;
    photong::EventSampler sampler(s, kClasses);
    photong::Rng rng(3);
    const photong::Tensor logits = photong_bench::random_tensor({256, kClasses}, 2.0f, rng);
    std::int64_t picks = 0;
    for (auto _ : state) {
        for (std::int64_t t = 0; t < 256; ++t) benchmark::DoNotOptimize(sampler.pick(logits.data() + t * kClasses, rng.uniform_double()));
        picks += 256;
    }
    state.counters["seconds_per_event"] = benchmark::Counter(double(picks), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_EventSampler)->ArgName("top_k20_top_p09")->Arg(0)->Arg(1);
BENCHMARK(BM_LstmStackStep)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_HierarchicalDecode16Bars)->ArgName("batch")->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
