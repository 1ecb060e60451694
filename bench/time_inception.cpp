// time_inception — one warm InceptionV3 that times single inferences on request, for the interleaved peer
// comparison (bench/peer_ort/interleave.py runs it beside ONNX Runtime's time_ort.js --serve).
//
// usage: time_inception WEIGHTS.safetensors [--batch B] [--threads T] [--warmup N]
// Loads the weights (through the packed-weights cache, as the photong command does), runs N warm-up
// inferences, prints "ready", then for every line "run" on stdin times one features() call and prints its
// milliseconds; "quit" or the end of stdin ends it. The input is B pictures of 299x299x3 in [-1, 1) drawn
// with the same generator as time_ort.js, so both peers see the same numbers.
#include <cstdint>
#include <cstdio>

#include <photong/core/parallel.hpp>
#include <photong/core/process_memory.hpp>
#include <photong/models/inception_v3.hpp>

#include "warm_timer.hpp"

int main(int argc, char** argv) {
    photong::keep_freed_memory();  // as the photong command does
    if (argc < 2) {
        std::fprintf(stderr, "usage: time_inception WEIGHTS.safetensors [--batch B] [--threads T] [--warmup N]\n");
        return 2;
    }
    int batch = 1, threads = 2, warmup = 3;
    if (!photong_bench::parse_int_options(argc, argv, 2, "time_inception", {{"--batch", &batch}, {"--threads", &threads}, {"--warmup", &warmup}},
                                          {1, 1, 0}))
        return 2;
    try {
        photong::ThreadPool pool(static_cast<unsigned>(threads));
        photong::InceptionV3::LoadOptions options;
        options.pool = &pool;
        photong::InceptionV3 net(argv[1], options);
        net.use_thread_pool(pool);
        // time_ort.js's generator: s = s * 1103515245 + 12345 (mod 2^32), value s / 2^32 * 2 - 1, NCHW order.
        photong::Tensor x = photong::Tensor::nhwc(batch, 299, 299, 3);
        std::uint32_t s = 12345;
        for (int n = 0; n < batch; ++n)
            for (int c = 0; c < 3; ++c)
                for (int y = 0; y < 299; ++y)
                    for (int xx = 0; xx < 299; ++xx) {
                        s = s * 1103515245u + 12345u;
                        x.view().pixel(n, y, xx)[c] = float(double(s) / 4294967296.0 * 2 - 1);
                    }
        return photong_bench::serve_timings(warmup, 1, [&] {
            const photong::Tensor y = net.features(x);
            volatile float first = y.data()[0];  // the result is used, so the call cannot be dropped
            (void)first;
        });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "time_inception: %s\n", e.what());
        return 1;
    }
}
