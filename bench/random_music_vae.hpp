// bench/random_music_vae.hpp — MusicVAE weight files with magenta's names and chosen sizes, filled
// from our seeded Rng, for timing (the speed of an LSTM does not depend on its weights' values).
#pragma once

#include <cmath>
#include <string>

#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>

namespace photong_bench {

inline photong::Tensor random_tensor(std::vector<std::int64_t> shape, float scale, photong::Rng& rng) {
    photong::Tensor t(std::move(shape));
    for (auto& v : t.values()) v = (2.0f * rng.uniform() - 1.0f) * scale;
    return t;
}

/// Adds `<stack>/cell_K/lstm_cell/{kernel,bias}` for `layers` cells of `units`.
inline void add_lstm_stack(photong::SafetensorsWriter& w, const std::string& stack, std::int64_t input, std::int64_t units, int layers,
                           photong::Rng& rng) {
    for (int k = 0; k < layers; ++k, input = units) {
        const std::string cell = stack + "/cell_" + std::to_string(k) + "/lstm_cell";
        w.add(cell + "/kernel", random_tensor({input + units, 4 * units}, 1.0f / std::sqrt(float(units)), rng));
        w.add(cell + "/bias", random_tensor({4 * units}, 0.1f, rng));
    }
}

/// Writes a `hierdec-mel_16bar`-shaped decoder (z, conductor and core `units` x 2, `classes`
/// events) to `path`.
inline void write_random_hierdec(const std::string& path, std::int64_t z = 512, std::int64_t units = 1024, std::int64_t classes = 90) {
    photong::Rng rng(2026);
    photong::SafetensorsWriter w;
    const std::string hl = "decoder/hierarchical_level_0", cd = "core_decoder/decoder";
    w.add(hl + "/initial_state/kernel", random_tensor({z, 4 * units}, 0.05f, rng));
    w.add(hl + "/initial_state/bias", random_tensor({4 * units}, 0.1f, rng));
    add_lstm_stack(w, hl, 1, units, 2, rng);
    w.add(cd + "/z_to_initial_state/kernel", random_tensor({units, 4 * units}, 0.05f, rng));
    w.add(cd + "/z_to_initial_state/bias", random_tensor({4 * units}, 0.1f, rng));
    add_lstm_stack(w, cd + "/multi_rnn_cell", classes + units, units, 2, rng);
    w.add(cd + "/output_projection/kernel", random_tensor({units, classes}, 0.1f, rng));
    w.add(cd + "/output_projection/bias", random_tensor({classes}, 0.1f, rng));
    w.set_metadata("source", "random (bench/random_music_vae.hpp)");
    w.write(path);
}

}  // namespace photong_bench
