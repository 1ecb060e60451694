// fuzz/fuzz_weight_models.cpp — every model loader on an arbitrary safetensors file: what the
// converters (weights/*.py, tools/*.py) write and the C++ side parses beyond the container —
// metadata (bridge architecture JSON, input_shape, preprocessing, bn_epsilon, classes,
// sampling_temperature) and tensor names and shapes. A model that loads is run once on a small
// input, so that shapes the loader accepted are also shapes the forward pass can use.
#include <string>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/models/bridges.hpp>
#include <photong/models/inception_v3.hpp>
#include <photong/models/music_vae_encoder.hpp>
#include <photong/models/music_vae_flat.hpp>
#include <photong/models/music_vae_hier.hpp>

#include "fuzz_common.hpp"

using photong_fuzz::expect_only_photong_errors;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    expect_only_photong_errors([&] {
        const photong::SafetensorsFile file("<fuzz input>", std::vector<unsigned char>(data, data + size));
        expect_only_photong_errors([&] { (void)photong::recommended_temperature(file); });
        expect_only_photong_errors([&] {
            const photong::BridgeModel bridge(file);
            // Run it when its input is small enough to be cheap (a real bridge's is 8x8x2048).
            const auto& s = bridge.input_shape();
            if (std::uint64_t(s[0]) * std::uint64_t(s[1]) * std::uint64_t(s[2]) <= (std::uint64_t(1) << 16)) {
                photong::Tensor features({1, s[0], s[1], s[2]});
                photong::Rng rng(1);
                for (std::size_t i = 0; i < std::size_t(features.size()); ++i) features.data()[i] = rng.uniform() - 0.5f;
                (void)bridge.forward(features);
            }
        });
        expect_only_photong_errors([&] {
            photong::HierarchicalLstmDecoder dec(file);
            dec.use_thread_pool(nullptr);
            photong::Rng rng(2);
            (void)dec.decode(photong::Tensor({1, dec.z_size()}), 2, 2, 1.0f, &rng);
        });
        expect_only_photong_errors([&] {
            photong::CategoricalLstmDecoder dec(file);
            dec.use_thread_pool(nullptr);
            (void)dec.decode(photong::Tensor({1, dec.z_size()}), 4);
        });
        expect_only_photong_errors([&] {
            photong::BidirectionalLstmEncoder enc(file);
            enc.use_thread_pool(nullptr);
            (void)enc.distribution({{0, 1, 0}});
        });
        expect_only_photong_errors([&] { const photong::InceptionV3 net(file); });
    });
    return 0;
}
