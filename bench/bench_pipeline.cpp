// bench_pipeline — Photong end to end on the CPU: an image file in memory (decoded once) -> InceptionV3
// features -> bridges -> hierarchical MusicVAE decode at the melody file's default temperature -> touch-up ->
// MIDI bytes, with the shipped weights in weights/ (or $PHOTONG_BENCH_WEIGHTS_DIR). Arg = variations decoded as one batch
// (1 and 8; photong --variations K). Stages are timed too, so the split is visible: features, decode.
// Skips (an error state, no numbers) when any of the five weight files is missing.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <photong/pipeline.hpp>

namespace {

std::string weights_dir() {
    if (const char* env = std::getenv("PHOTONG_BENCH_WEIGHTS_DIR")) return env;
    return std::string(PHOTONG_SOURCE_DIR) + "/weights";
}

const char* kImage = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";

void BM_ImageToMidi(benchmark::State& state) {
    const photong::PipelineWeights w = photong::PipelineWeights::in_directory(weights_dir());
    for (const std::string* p : {&w.inception, &w.embedding, &w.arousal, &w.valence, &w.melody})
        if (!std::ifstream(*p).good()) return state.SkipWithError(("missing " + *p).c_str());
    if (!std::ifstream(kImage).good()) return state.SkipWithError("missing skimage's chelsea.png (python3-skimage)");
    static const std::unique_ptr<photong::Pipeline> pipeline = std::make_unique<photong::Pipeline>(w);
    static const photong::Image image = photong::load_image(kImage);
    photong::GenerateOptions opt;
    opt.seed = 1;
    opt.variations = int(state.range(0));
    opt.rank = opt.variations > 1 ? photong::GenerateOptions::Rank::PitchEntropy : photong::GenerateOptions::Rank::First;
    using clock = std::chrono::steady_clock;
    clock::time_point stage_start;
    std::string stage;
    double features_s = 0, decode_s = 0;
    opt.progress = [&](const char* s) {  // a stage's time runs until the next stage begins
        const clock::time_point now = clock::now();
        if (stage == "features") features_s += std::chrono::duration<double>(now - stage_start).count();
        if (stage == "decode") decode_s += std::chrono::duration<double>(now - stage_start).count();
        stage = s, stage_start = now;
    };
    benchmark::DoNotOptimize(pipeline->generate(image, opt).melody.data());  // warm-up: page in every weight
    features_s = decode_s = 0;
    for (auto _ : state) {
        stage.clear();
        const photong::GenerateResult r = pipeline->generate(image, opt);
        const std::vector<std::uint8_t> bytes = photong::encode_midi(r.midi());
        benchmark::DoNotOptimize(bytes.data());
    }
    state.counters["features_ms"] = benchmark::Counter(features_s * 1e3, benchmark::Counter::kAvgIterations);
    state.counters["decode_ms"] = benchmark::Counter(decode_s * 1e3, benchmark::Counter::kAvgIterations);
    state.counters["threads"] = photong::default_thread_pool().size();
}
BENCHMARK(BM_ImageToMidi)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
