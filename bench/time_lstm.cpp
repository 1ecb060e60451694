// time_lstm — bench_lstm's two workloads in one warm process that times them on request, for the interleaved
// PyTorch comparison (bench/peer_torch/interleave.py runs it beside torch_lstm_peer.py --serve).
//
// usage: time_lstm step|decode [--batch B] [--threads T] [--reps R]
//   step    one step of two stacked 1024-unit LSTMBlockCells, layer 0 fed a 1024-wide input (BM_LstmStackStep)
//   decode  a 16 x 16 hierarchical decode at hierdec-mel_16bar sizes, temperature 0.5 (BM_HierarchicalDecode16Bars)
// Random weights, as bench_lstm makes them. After one warm-up prints "ready"; then for every "run" line on stdin it
// runs the workload R times (default: 20 steps, 1 decode) and prints the mean milliseconds of one; "quit" ends it.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <photong/core/parallel.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/nn/lstm.hpp>

#include "random_music_vae.hpp"
#include "warm_timer.hpp"

namespace {

constexpr std::int64_t kUnits = 1024, kZ = 512, kClasses = 90;

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || (std::string(argv[1]) != "step" && std::string(argv[1]) != "decode")) {
        std::fprintf(stderr, "usage: time_lstm step|decode [--batch B] [--threads T] [--reps R]\n");
        return 2;
    }
    const std::string what = argv[1];
    int batch = 1, threads = 2, reps = what == "step" ? 20 : 1;
    if (!photong_bench::parse_int_options(argc, argv, 2, "time_lstm", {{"--batch", &batch}, {"--threads", &threads}, {"--reps", &reps}}, {1, 1, 1}))
        return 2;
    try {
        photong::ThreadPool pool(static_cast<unsigned>(threads));
        photong::Rng rng(1);
        if (what == "step") {
            std::vector<photong::LstmCell> layers;
            for (int k = 0; k < 2; ++k) {
                layers.emplace_back(photong_bench::random_tensor({2 * kUnits, 4 * kUnits}, 0.03f, rng),
                                    photong_bench::random_tensor({4 * kUnits}, 0.1f, rng), kUnits, 1.0f, "cell_" + std::to_string(k));
                layers.back().use_thread_pool(&pool);
            }
            photong::Tensor x = photong_bench::random_tensor({batch, kUnits}, 1.0f, rng), gates({batch, 4 * kUnits});
            std::vector<photong::Tensor> c(2, photong::Tensor({batch, kUnits})), h(2, photong::Tensor({batch, kUnits}));
            return photong_bench::serve_timings(1, reps, [&] {
                layers[0].step(x.data(), batch, c[0].data(), h[0].data(), gates.data());
                layers[1].step(h[0].data(), batch, c[1].data(), h[1].data(), gates.data());
            });
        }
        // The decoder through a private temporary file, removed once loaded (as bench_lstm does).
        char path[] = "/tmp/photong_time_lstm_XXXXXX";
        const int fd = mkstemp(path);
        if (fd < 0) throw std::runtime_error("cannot create a temporary file");
        close(fd);
        photong_bench::write_random_hierdec(path, kZ, kUnits, kClasses);
        std::unique_ptr<photong::HierarchicalLstmDecoder> decoder;
        try {
            decoder = std::make_unique<photong::HierarchicalLstmDecoder>(photong::SafetensorsFile(path));
        } catch (...) {
            unlink(path);
            throw;
        }
        unlink(path);
        decoder->use_thread_pool(&pool);
        const photong::Tensor z = photong_bench::random_tensor({batch, kZ}, 1.0f, rng);
        return photong_bench::serve_timings(1, reps, [&] {
            photong::Rng sampler(42);
            const photong::DecodeResult r = decoder->decode(z, 16, 16, 0.5f, &sampler);
            volatile int first = r.events[0][0];  // the result is used
            (void)first;
        });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "time_lstm: %s\n", e.what());
        return 1;
    }
}
