// bench_piano — the piano generator (models/performance_rnn.hpp) decoding 1,000 events at batch 1 (the target:
// <= 50 ms on 2 cores), at 1 and 2 threads, with the shipped weights when weights/piano_performance_rnn.safetensors
// exists and otherwise a seeded random model of the same size (2 x 256 GRU: speed does not depend on the values).
// The random file is written to a private temporary file and removed at once (nothing left in /tmp).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <photong/core/parallel.hpp>
#include <photong/models/performance_rnn.hpp>

#include "random_music_vae.hpp"

namespace {

std::unique_ptr<photong::PerformanceRnn> load_model() {
    const std::string shipped = std::string(PHOTONG_SOURCE_DIR) + "/weights/piano_performance_rnn.safetensors";
    if (access(shipped.c_str(), R_OK) == 0) return std::make_unique<photong::PerformanceRnn>(shipped);
    photong::Rng rng(24);
    photong::SafetensorsWriter w;
    const std::int64_t H = 256, E = 240;
    using photong_bench::random_tensor;
    w.add("embedding/weight", random_tensor({E, E}, 0.1f, rng));
    w.add("input/weight", random_tensor({H, E + 1 + 27}, 0.06f, rng));
    w.add("input/bias", random_tensor({H}, 0.1f, rng));
    for (int k = 0; k < 2; ++k) {
        const std::string n = "gru_" + std::to_string(k);
        w.add(n + "/weight_ih", random_tensor({3 * H, H}, 0.06f, rng));
        w.add(n + "/weight_hh", random_tensor({3 * H, H}, 0.06f, rng));
        w.add(n + "/bias_ih", random_tensor({3 * H}, 0.1f, rng));
        w.add(n + "/bias_hh", random_tensor({3 * H}, 0.1f, rng));
    }
    w.add("init/weight", random_tensor({2 * H, 2048}, 0.02f, rng));
    w.add("init/bias", random_tensor({2 * H}, 0.1f, rng));
    w.add("output/weight", random_tensor({E, 2 * H}, 0.1f, rng));
    w.add("output/bias", random_tensor({E}, 0.1f, rng));
    w.set_metadata("model", "performance_rnn");
    w.set_metadata("encoding", "tan_antony_240");
    char path[] = "/tmp/photong_bench_piano_XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) std::abort();
    close(fd);
    w.write(path);
    auto model = std::make_unique<photong::PerformanceRnn>(path);
    unlink(path);
    return model;
}

void BM_PianoDecode1000(benchmark::State& state) {
    static const std::unique_ptr<photong::PerformanceRnn> model = load_model();
    const int threads = int(state.range(0));
    photong::ThreadPool pool(static_cast<unsigned>(threads));
    const_cast<photong::PerformanceRnn&>(*model).use_thread_pool(threads > 1 ? &pool : nullptr);
    photong::Tensor image({1, model->image_size()});
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = 0.3f;
    photong::PerformanceConditions c;
    c.valence = 0.7, c.arousal = 0.6, c.density = 4;
    photong::SamplingOptions s;
    s.temperature = 1.0f;
    for (auto _ : state) {
        photong::Rng rng(1);
        benchmark::DoNotOptimize(model->generate(image, c, 1000, s, &rng));
    }
    state.counters["events/s"] = benchmark::Counter(1000, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = threads;
}
BENCHMARK(BM_PianoDecode1000)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
