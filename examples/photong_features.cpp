// photong-features — an image file to Photong's 8x8x2048 InceptionV3 feature map.
//
//   photong-features [--weights FILE] [--threads N] IMAGE
//
// Prints the image and feature shapes, a checksum of the features (sum and L2 norm, to compare
// runs and machines), the time taken, and, when the weights carry a classification head (the
// default nsfwjs weights do), the class probabilities with the top class first.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>

#include <photong/photong.hpp>

#include "cli_args.hpp"

#ifndef PHOTONG_DEFAULT_WEIGHTS
#define PHOTONG_DEFAULT_WEIGHTS "weights/inception_v3.safetensors"
#endif

static int usage(const std::string& problem = "") {
    if (!problem.empty()) std::fprintf(stderr, "photong-features: %s\n", problem.c_str());
    std::fprintf(stderr, "usage: photong-features [--weights FILE] [--threads N] [--no-verify-weights] IMAGE\n"
                         "  --weights FILE       InceptionV3 safetensors (default: $PHOTONG_WEIGHTS or %s)\n"
                         "  --threads N          threads, 1..1023, including the calling one (default: PHOTONG_NUM_THREADS or all cores)\n"
                         "  --no-verify-weights  do not check FILE against the NAME.sha256 beside it\n", PHOTONG_DEFAULT_WEIGHTS);
    return 2;
}

int main(int argc, char** argv) {
    std::string weights = std::getenv("PHOTONG_WEIGHTS") ? std::getenv("PHOTONG_WEIGHTS") : PHOTONG_DEFAULT_WEIGHTS;
    std::string image_path;
    bool verify = true;
    unsigned threads = 0;  // 0: the default pool
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--weights" && i + 1 < argc) weights = argv[++i];
        else if (a == "--weights") return usage("--weights needs a file");
        else if (a == "--threads" && i + 1 < argc) {
            const std::string v = argv[++i];
            std::uint64_t n = 0;
            if (!photong_cli::parse_u64(v, n) || n < 1 || n > 1023) return usage("--threads must be a whole number 1..1023, got '" + v + "'");
            threads = unsigned(n);
        } else if (a == "--threads") return usage("--threads needs a number");
        else if (a == "--no-verify-weights") verify = false;
        else if (a == "-h" || a == "--help") return usage();
        else if (!a.empty() && a[0] == '-') return usage("unknown option '" + a + "'");
        else if (!image_path.empty()) return usage("one image only, got '" + image_path + "' and '" + a + "'");
        else image_path = a;
    }
    if (image_path.empty()) return usage("an IMAGE is required");
    try {
        photong::require_regular_file(image_path, "image file");
        if (verify) photong::verify_weights_checksum(weights);
        using clock = std::chrono::steady_clock;
        auto t0 = clock::now();
        photong::InceptionV3 net(weights);
        std::unique_ptr<photong::ThreadPool> pool;
        if (threads) {
            pool = std::make_unique<photong::ThreadPool>(threads);
            net.use_thread_pool(*pool);
        }
        auto t1 = clock::now();
        const photong::Image image = photong::load_image(image_path);
        const photong::Tensor input = net.preprocessing().apply(image);
        auto t2 = clock::now();
        const photong::Tensor features = net.features(input);
        auto t3 = clock::now();
        const auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };

        double sum = 0, sq = 0;
        for (float v : features.values()) { sum += v; sq += double(v) * v; }
        std::printf("image     %s (%dx%d)\n", image_path.c_str(), image.width, image.height);
        std::printf("input     %s\n", photong::shape_to_string(input.shape()).c_str());
        std::printf("features  %s  sum %.6f  l2 %.6f\n", photong::shape_to_string(features.shape()).c_str(), sum, std::sqrt(sq));
        std::printf("time      load weights %.0f ms, decode+resize %.1f ms, InceptionV3 %.1f ms (%u threads)\n",
                    ms(t0, t1), ms(t1, t2), ms(t2, t3), pool ? pool->size() : photong::default_thread_pool().size());
        if (net.has_head()) {
            const photong::Tensor probs = net.classify(photong::InceptionV3::pooled(features));
            std::vector<std::size_t> order(probs.size());
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return probs[a] > probs[b]; });
            const auto& names = net.class_names();
            for (std::size_t k = 0; k < order.size(); ++k)
                std::printf("%s %-8s %.6f\n", k == 0 ? "top class" : "         ",
                            order[k] < names.size() ? names[order[k]].c_str() : std::to_string(order[k]).c_str(), probs[order[k]]);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
