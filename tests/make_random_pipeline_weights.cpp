// make_random_pipeline_weights DIR [--seed S] [--z N] [--units U] — writes seeded random bridge and
// melody-decoder files under DIR with PipelineWeights' default names (not InceptionV3: link the real
// weights/inception_v3.safetensors next to them). For the `example_photong` ctest until trained weights exist.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <photong/core/error.hpp>

#include "random_pipeline_weights.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: make_random_pipeline_weights DIR [--seed S] [--z N] [--units U]\n");
        return 2;
    }
    std::uint64_t seed = 2026;
    long long z = 512, units = 64;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const long long v = std::atoll(argv[i + 1]);
        if (a == "--seed") seed = std::uint64_t(v);
        else if (a == "--z" && v > 0) z = v;
        else if (a == "--units" && v > 0) units = v;
        else {
            std::fprintf(stderr, "make_random_pipeline_weights: bad argument '%s'\n", a.c_str());
            return 2;
        }
    }
    try {
        photong_test::write_random_pipeline_weights(argv[1], seed, z, units);
    } catch (const photong::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
