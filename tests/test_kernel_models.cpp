// The kernel backend's models through the host SIMT executor (kernels/executor_host.hpp), against the CPU
// path: the whole InceptionV3 on the shipped weights, block by block, and (below) whole decodes of the
// melody model. Every CUDA thread of every launch runs as a fiber, so the sizes are kept small enough for
// CI (a 75x75 picture: every layer and block still runs, down to 1x1 maps); the GPU test
// (tests/gpu/test_gpu_models.cpp) runs the same comparisons at full size.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <photong/image/decode.hpp>
#include <photong/models/inception_v3.hpp>

#include "../kernels/executor_host.hpp"
#include "../kernels/inception_v3_kernels.hpp"
#include "test_util.hpp"

namespace {

/// Worst |a - b| over a block, divided by the block's largest |b|: the error relative to the layer's scale.
double scaled_error(const photong::Tensor& a, const photong::Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    double worst = 0, scale = 0;
    long nan = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        nan += std::isnan(a[i]);
        worst = std::max(worst, double(std::fabs(a[i] - b[i])));
        scale = std::max(scale, double(std::fabs(b[i])));
    }
    CHECK(nan == 0);
    return scale > 0 ? worst / scale : worst;
}

}  // namespace

TEST_CASE("kernel backend: the whole InceptionV3 (shipped weights, a 75x75 photo) through the host executor, every block against the CPU path") {
    // Tolerance: 1e-5 of each block's largest value. Both paths are fp32 but sum in different orders, and
    // the CPU path runs its 3x3 stride-1 layers as Winograd F(2x2, 3x3) (relative error ~1e-6 per layer);
    // 94 layers deep the differences stay near 1e-6 of the block's scale (measured: 1.3e-6 worst, printed below).
    const std::string weights = photong_test::source("weights/inception_v3.safetensors");
    const std::string photo = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
    if (!photong_test::file_exists(photo)) return;
    const photong::SafetensorsFile file(weights);
    const photong::InceptionV3 cpu(file);
    photong::kernels::HostExecutor exec;
    photong::kernels::KernelInceptionV3<photong::kernels::HostExecutor> gpu_model(file, exec);
    const photong::Tensor input = photong::Preprocessing::keras_inception(75).apply(photong::load_image(photo));

    std::map<std::string, photong::Tensor> want, got;
    const photong::Tensor want_out = cpu.features(input, [&](const std::string& n, const photong::Tensor& t) { want[n] = t; });
    const photong::Tensor got_out = gpu_model.features(input, [&](const std::string& n, const photong::Tensor& t) { got[n] = t; });
    REQUIRE(got.size() == 11);
    double worst = 0;
    for (const auto& [name, t] : want) {
        INFO(name);
        const double e = scaled_error(got[name], t);
        CHECK(e <= 1e-5);
        worst = std::max(worst, e);
        MESSAGE(name << " " << photong::shape_to_string(t.shape()) << ": max |kernel - cpu| / max |cpu| = " << e);
    }
    CHECK(scaled_error(got_out, want_out) <= 1e-5);
    MESSAGE("InceptionV3 through the host executor: worst block error " << worst << " of the block's scale");

    // A second run reuses the arena (no allocation) and gives the same bits.
    const photong::Tensor again = gpu_model.features(input);
    CHECK(std::equal(again.data(), again.data() + again.size(), got_out.data()));
}

TEST_CASE("kernel backend: a photo at full size, resized and scaled on the device (preprocess.cuh), through all of InceptionV3 against the CPU pipeline") {
    const std::string photo = "/usr/lib/python3/dist-packages/skimage/data/coffee.png";
    if (!photong_test::file_exists(photo)) return;
    const photong::SafetensorsFile file(photong_test::source("weights/inception_v3.safetensors"));
    const photong::InceptionV3 cpu(file);
    photong::kernels::HostExecutor exec;
    photong::kernels::KernelInceptionV3<photong::kernels::HostExecutor> gpu_model(file, exec);
    const photong::Image image = photong::load_image(photo);
    const photong::Tensor want = cpu.features(image), got = gpu_model.features(image);
    REQUIRE(got.shape() == std::vector<std::int64_t>{1, 8, 8, 2048});
    const double e = scaled_error(got, want);
    CHECK(e <= 1e-5);
    MESSAGE("InceptionV3 at 299x299 from the picture's bytes: max |kernel - cpu| / max |cpu| = " << e);
}
