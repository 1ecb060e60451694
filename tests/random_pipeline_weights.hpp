// tests/random_pipeline_weights.hpp — seeded random stand-ins for Photong's untrained weights: the three
// bridges (photong's bridge format, models/bridges.hpp) and a small MusicVAE hierarchical decoder with
// magenta's variable names (sizes chosen here; the loaders read them from the file). Used by
// tests/test_pipeline.cpp and by make_random_pipeline_weights (the `example_photong` ctest) until trained
// bridges and melody weights exist. The values are uniform in [-scale, scale) from photong::Rng, so the
// files are the same on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/models/bridges.hpp>

#include "../bench/random_music_vae.hpp"

namespace photong_test {

// The random tensors and LSTM stacks are bench/random_music_vae.hpp's, so both make identical layers.
using photong_bench::add_lstm_stack;
using photong_bench::random_tensor;

/// A bridge on the (8, 8, 2048) map. embedding: conv2d 1x1 (2048 -> 8, relu), flatten, dense -> `z`
/// (linear). arousal: global_average_pooling2d, dense -> 1 sigmoid. valence: the same, dense -> 2 softmax
/// (both probability forms predict_probability accepts).
inline void write_random_bridge(const std::string& path, photong::BridgeKind kind, std::uint64_t seed, std::int64_t z = 512) {
    photong::Rng rng(seed);
    photong::SafetensorsWriter w;
    std::string arch;
    if (kind == photong::BridgeKind::Embedding) {
        const std::int64_t filters = 8;
        w.add("conv/kernel", random_tensor({1, 1, 2048, filters}, 0.05f, rng));
        w.add("conv/bias", random_tensor({filters}, 0.05f, rng));
        w.add("dense/kernel", random_tensor({8 * 8 * filters, z}, 1.0f / std::sqrt(float(8 * 8 * filters)) * 3.0f, rng));
        w.add("dense/bias", random_tensor({z}, 0.1f, rng));
        arch = R"([{"type":"conv2d","name":"conv","kernel_size":[1,1],"strides":[1,1],"padding":"valid","activation":"relu"},)"
               R"({"type":"flatten","name":"flatten"},{"type":"dense","name":"dense","activation":"linear"}])";
    } else {
        const std::int64_t out = kind == photong::BridgeKind::Arousal ? 1 : 2;
        w.add("dense/kernel", random_tensor({2048, out}, 0.05f, rng));
        w.add("dense/bias", random_tensor({out}, 0.1f, rng));
        arch = std::string(R"([{"type":"global_average_pooling2d","name":"pool"},{"type":"dense","name":"dense","activation":")") +
               (out == 1 ? "sigmoid" : "softmax") + R"("}])";
    }
    w.set_metadata("model", "bridge");
    w.set_metadata("bridge", photong::bridge_kind_name(kind));
    w.set_metadata("input_shape", "[8, 8, 2048]");
    w.set_metadata("architecture", arch);
    w.set_metadata("source", "random (tests/random_pipeline_weights.hpp)");
    w.write(path);
}

/// A hierdec-mel_16bar-shaped decoder: conductor and core decoder 2 x `units`, latent `z`, 90 classes.
/// The output projection is scaled up so that sampled melodies hold notes, not only holds.
/// `sampling_temperature`, when not empty, goes into the metadata (recommended_temperature reads it).
inline void write_random_hierdec(const std::string& path, std::uint64_t seed, std::int64_t z = 512, std::int64_t units = 64,
                                 std::int64_t classes = 90, const std::string& sampling_temperature = "",
                                 const std::map<std::string, std::string>& metadata = {}) {
    photong::Rng rng(seed);
    photong::SafetensorsWriter w;
    const std::string hl = "decoder/hierarchical_level_0", cd = "core_decoder/decoder";
    w.add(hl + "/initial_state/kernel", random_tensor({z, 4 * units}, 1.0f / std::sqrt(float(z)) * 2.0f, rng));
    w.add(hl + "/initial_state/bias", random_tensor({4 * units}, 0.1f, rng));
    add_lstm_stack(w, hl, 1, units, 2, rng);
    w.add(cd + "/z_to_initial_state/kernel", random_tensor({units, 4 * units}, 0.5f, rng));
    w.add(cd + "/z_to_initial_state/bias", random_tensor({4 * units}, 0.1f, rng));
    add_lstm_stack(w, cd + "/multi_rnn_cell", classes + units, units, 2, rng);
    w.add(cd + "/output_projection/kernel", random_tensor({units, classes}, 1.0f, rng));
    w.add(cd + "/output_projection/bias", random_tensor({classes}, 0.5f, rng));
    w.set_metadata("source", "random (tests/random_pipeline_weights.hpp)");
    if (!sampling_temperature.empty()) w.set_metadata("sampling_temperature", sampling_temperature);
    for (const auto& kv : metadata) w.set_metadata(kv.first, kv.second);
    w.write(path);
}

/// All four non-InceptionV3 files of PipelineWeights::in_directory(dir), seeded from `seed`.
inline void write_random_pipeline_weights(const std::string& dir, std::uint64_t seed = 2026, std::int64_t z = 512, std::int64_t units = 64) {
    const std::string d = dir + "/";
    write_random_bridge(d + "bridge_embedding.safetensors", photong::BridgeKind::Embedding, seed + 1, z);
    write_random_bridge(d + "bridge_arousal.safetensors", photong::BridgeKind::Arousal, seed + 2);
    write_random_bridge(d + "bridge_valence.safetensors", photong::BridgeKind::Valence, seed + 3);
    write_random_hierdec(d + "hierdec_mel16_photong.safetensors", seed + 4, z, units);
}

}  // namespace photong_test
