// bench_memory — peak memory of the CPU pipeline (issue 7: weights + at most 64 MB of working memory).
// Measured from the kernel's own accounting in /proc/self/status: VmRSS after the five weight files
// are loaded (the weights, as float tensors, plus the program), then VmHWM — the peak — over one
// generate() after "5" was written to /proc/self/clear_refs, which resets the peak to the current RSS.
// The counters: weights_MiB (the loaded tensors' float bytes, counted from the files), loaded_MiB (RSS
// growth while loading), first_call_MiB (RSS growth over a first, untimed generate(): InceptionV3's packed layers
// are a mapped cache file whose pages come in when a layer first reads them), working_MiB (peak during a later
// generate() minus RSS before it: activations, scratch, thread stacks touched) and its target, and process_peak_MiB:
// the whole process's peak resident set (VmHWM) over loading and all the runs, the figure a user sees.
// Time is reported too but is not the point here.
// Linux only (it reads /proc); elsewhere it skips. Arg = variations (1 and 8).
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <benchmark/benchmark.h>
#include <photong/pipeline.hpp>

namespace {

/// A "Vm..." field of /proc/self/status in KiB, or -1 when unreadable.
long proc_status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
    return -1;
}

/// Hands freed heap back to the kernel (glibc), so memory an earlier run freed but kept mapped
/// cannot hide this run's working set from the peak.
void release_free_heap() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    return bool(out.flush());
}

/// Float bytes of every tensor in the weight files (F16 files load as F32: twice their size).
double weight_mib(const photong::PipelineWeights& w) {
    double bytes = 0;
    for (const std::string* p : {&w.inception, &w.embedding, &w.arousal, &w.valence, &w.melody}) {
        const photong::SafetensorsFile f(*p);
        for (const std::string& n : f.names()) bytes += 4.0 * double(f.info(n).count());
    }
    return bytes / (1 << 20);
}

void BM_PeakMemory(benchmark::State& state) {
    const std::string dir = std::getenv("PHOTONG_BENCH_WEIGHTS_DIR") ? std::getenv("PHOTONG_BENCH_WEIGHTS_DIR")
                                                                      : std::string(PHOTONG_SOURCE_DIR) + "/weights";
    const photong::PipelineWeights w = photong::PipelineWeights::in_directory(dir);
    for (const std::string* p : {&w.inception, &w.embedding, &w.arousal, &w.valence, &w.melody})
        if (!std::ifstream(*p).good()) return state.SkipWithError(("missing " + *p).c_str());
    const char* image_path = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
    if (!std::ifstream(image_path).good()) return state.SkipWithError("missing skimage's chelsea.png (python3-skimage)");
    if (proc_status_kib("VmHWM") < 0 || !reset_peak_rss()) return state.SkipWithError("needs Linux's /proc/self/status and clear_refs");

    const photong::Image image = photong::load_image(image_path);
    photong::default_thread_pool();  // start the pool's threads before measuring
    release_free_heap();
    const long before_load = proc_status_kib("VmRSS");
    reset_peak_rss();  // from here VmHWM is the process's peak over loading and running
    const photong::Pipeline pipeline(w);
    const long after_load = proc_status_kib("VmRSS");
    long process_peak_kib = proc_status_kib("VmHWM");  // loading's own peak (temporaries freed before it ends)
    photong::GenerateOptions opt;
    opt.seed = 1;
    opt.variations = int(state.range(0));
    release_free_heap();
    const long before_first = proc_status_kib("VmRSS");
    benchmark::DoNotOptimize(pipeline.generate(image, opt).midi());
    const long first_call_kib = proc_status_kib("VmRSS") - before_first;
    process_peak_kib = std::max(process_peak_kib, proc_status_kib("VmHWM"));
    long working_kib = 0;
    for (auto _ : state) {
        release_free_heap();
        const long start = proc_status_kib("VmRSS");
        reset_peak_rss();
        benchmark::DoNotOptimize(pipeline.generate(image, opt).midi());
        const long peak = proc_status_kib("VmHWM");
        working_kib = std::max(working_kib, peak - start);
        process_peak_kib = std::max(process_peak_kib, peak);
    }
    state.counters["weights_MiB"] = weight_mib(w);
    state.counters["loaded_MiB"] = double(after_load - before_load) / 1024;
    state.counters["first_call_MiB"] = double(first_call_kib) / 1024;
    state.counters["working_MiB"] = double(working_kib) / 1024;
    state.counters["working_target_MiB"] = 64;
    state.counters["process_peak_MiB"] = double(process_peak_kib) / 1024;
}
BENCHMARK(BM_PeakMemory)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
