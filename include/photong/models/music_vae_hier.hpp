// photong/models/music_vae_hier.hpp — MusicVAE's HierarchicalLstmDecoder (hierdec-mel_16bar).
//
// Facts (magenta music_vae/lstm_models.py, HierarchicalLstmDecoder._hierarchical_decode and
// sample; configs.py hierdec-mel_16bar: level_lengths [16, 16], disable_autoregression=True):
// - the conductor `decoder/hierarchical_level_0` starts from tanh(dense(z)) (`initial_state`),
//   split c0, h0, c1, h1, and runs one step per bar on an input of zeros of width 1 (the
//   non-autoregressive mode), so its first kernel has 1 + units rows; its cells are
//   `decoder/hierarchical_level_0/cell_K/lstm_cell` (the MultiRNNCell is called with the level's
//   scope, so unlike the core decoder's there is no `multi_rnn_cell` level; magenta.js reads the
//   same names);
// - each conductor output (the top layer's h) is the "z" of one bar's core decoder, a
//   CategoricalLstmDecoder under `core_decoder/decoder` (initial state tanh(dense(embedding)),
//   inputs [previous event one-hot, embedding]);
// - the first input of each bar is the last event of the previous bar (none before bar 1).
#pragma once

#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/rng.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/models/music_vae_flat.hpp"
#include "photong/models/sampling.hpp"
#include "photong/models/song_form.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/lstm.hpp"

namespace photong {

class HierarchicalLstmDecoder {
public:
    explicit HierarchicalLstmDecoder(const SafetensorsFile& file)
        : core_(file, "core_decoder/decoder") {
        const std::string scope = "decoder/hierarchical_level_0";
        const TensorInfo& init = file.info(scope + "/initial_state/kernel");
        require(init.shape.size() == 2, "conductor initial_state kernel must be rank 2", {file.path(), scope + "/initial_state/kernel"});
        z_size_ = init.shape[0];
        // The conductor's input is a zero of width 1 per step (magenta's non-autoregressive mode).
        std::int64_t state = 0;
        conductor_ = music_vae_detail::load_lstm_stack(file, scope, 1, state);
        if (init.shape[1] != state)
            throw Error("conductor initial_state does not produce the stack's state", {file.path(), scope + "/initial_state/kernel",
                        std::to_string(z_size_) + "x" + std::to_string(state), shape_to_string(init.shape)});
        if (conductor_.back().units() != core_.z_size())
            throw Error("conductor output does not match the core decoder's embedding size", {file.path(), "core_decoder/decoder/z_to_initial_state/kernel",
                        std::to_string(conductor_.back().units()) + " rows", std::to_string(core_.z_size())});
        init_ = Dense(file.load_weight(scope + "/initial_state/kernel"), file.load_weight(scope + "/initial_state/bias", {state}).values(), Activation::Tanh,
                      scope + "/initial_state");
        std::vector<std::string> used = music_vae_detail::lstm_stack_names(conductor_.size(), "");
        used.push_back("initial_state/kernel");
        used.push_back("initial_state/bias");
        music_vae_detail::reject_unknown_variables(file, scope, used);
        use_thread_pool(&default_thread_pool());
    }

    /// Runs the LSTM products on `pool` (bit-identical results for any pool size); nullptr runs
    /// them on the calling thread. The default is the process-wide pool.
    void use_thread_pool(ThreadPool* pool) {
        core_.use_thread_pool(pool);
        for (LstmCell& cell : conductor_) cell.use_thread_pool(pool);
    }

    std::int64_t z_size() const { return z_size_; }
    std::int64_t classes() const { return core_.classes(); }

    /// Decodes bars x steps_per_bar events for each row of z (batch, z_size); temperature 0 is
    /// greedy, a positive one samples with `rng`, a negative or non-finite one throws.
    DecodeResult decode(const Tensor& z, int bars = 16, int steps_per_bar = 16, float temperature = 0.0f, Rng* rng = nullptr) const {
        SamplingOptions s;
        s.temperature = temperature;
        return decode(z, bars, steps_per_bar, s, rng);
    }

    /// decode() with top-k / top-p filtering (sampling.hpp) and a song form (song_form.hpp). When sampling,
    /// the draws are rng.uniform_double(), bar by bar, step by step, and within a step row 0, 1, ..., batch - 1
    /// (one per event; without a form exactly the stream of the temperature-only decode()); a repeated bar
    /// re-uses its source bar's draws and embedding. Throws photong::Error for bad options or a form whose
    /// phrases do not divide `bars`.
    DecodeResult decode(const Tensor& z, int bars, int steps_per_bar, const SamplingOptions& sampling, Rng* rng,
                        const SongForm& form = {}) const {
        require(z.rank() == 2 && z.dim(1) == z_size_, "latent code has the wrong size",
                {"", "z", "batch x " + std::to_string(z_size_), shape_to_string(z.shape())});
        require(bars > 0 && steps_per_bar > 0, "decode needs at least one bar of one step", {"", "bars", ">= 1",
                std::to_string(bars) + " x " + std::to_string(steps_per_bar)});
        sampling.validate();
        require(sampling.greedy() || rng, "sampling with a temperature needs an Rng", {"", "rng"});
        const std::vector<int> source = form.sources(bars);
        const std::int64_t B = z.dim(0);
        const std::size_t per_bar = std::size_t(steps_per_bar) * std::size_t(B);
        DecodeResult out;
        out.events.assign(std::size_t(B), std::vector<int>(std::size_t(bars * steps_per_bar)));
        out.logits = Tensor({B, std::int64_t(bars) * steps_per_bar, classes()});
        // The conductor does not read the core decoder's output (magenta's non-autoregressive mode), so all
        // bar embeddings are computed first; a repeated bar then takes its source bar's.
        std::vector<Tensor> c, h, embedding;
        music_vae_detail::initial_states(init_.forward(z), conductor_, c, h);
        const Tensor zeros({B, 1});
        for (int bar = 0; bar < bars; ++bar) {
            const float* x = zeros.data();
            for (std::size_t k = 0; k < conductor_.size(); ++k) {
                conductor_[k].step(x, B, c[k].data(), h[k].data());
                x = h[k].data();
            }
            embedding.push_back(h.back());
        }
        std::vector<double> uniforms;  // [bar][step][row]: the form-less stream, drawn up front
        if (!sampling.greedy()) CategoricalLstmDecoder::draw_uniforms(*rng, per_bar * std::size_t(bars), uniforms);
        EventSampler sampler(sampling, classes());
        std::vector<int> start(std::size_t(B), -1);
        for (int bar = 0; bar < bars; ++bar) {
            const int src = source[std::size_t(bar)];
            const double* u = uniforms.empty() ? nullptr : uniforms.data() + per_bar * std::size_t(src);
            core_.decode_into(embedding[std::size_t(src)], steps_per_bar, start, sampler, u, out, bar * steps_per_bar);
            for (std::int64_t b = 0; b < B; ++b) start[std::size_t(b)] = out.events[std::size_t(b)][std::size_t((bar + 1) * steps_per_bar - 1)];
        }
        return out;
    }

private:
    CategoricalLstmDecoder core_;  // first: the constructor body reads its sizes
    std::int64_t z_size_ = 0;
    std::vector<LstmCell> conductor_;
    Dense init_;
};

}  // namespace photong
