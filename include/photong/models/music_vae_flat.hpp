// photong/models/music_vae_flat.hpp — MusicVAE's flat CategoricalLstmDecoder (e.g. mel_2bar_small).
//
// Facts (magenta music_vae/lstm_models.py and lstm_utils.py; magenta.js music_vae/model.ts):
// - initial state: tanh(dense(z)) split, in order, into c and h of each layer (c0, h0, c1, h1, ...),
//   variables `<scope>/z_to_initial_state/{kernel,bias}`;
// - a stack of TF LSTMBlockCells, `<scope>/multi_rnn_cell/cell_K/lstm_cell/{kernel,bias}`;
// - each step's input is [previous event one-hot, z] (the first step's event part is all zeros);
// - `<scope>/output_projection` maps the top layer's h to one logit per event class; the next
//   event is the argmax (greedy) or a sample of softmax(logits / temperature).
// Every size comes from the weight file: event classes from the projection, z size from the
// initial-state layer, units per layer from each kernel.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/rng.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/models/sampling.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/lstm.hpp"

namespace photong {

/// Decoded sequences: events[b][t] is the class chosen at step t for code b; logits (batch,
/// steps, classes) are the projection outputs the choices were made from.
struct DecodeResult {
    std::vector<std::vector<int>> events;
    Tensor logits;
};

/// Photong's sampling temperature (the paper decodes Magenta's model at 0.5).
constexpr float kPhotongTemperature = 0.5f;

/// The softmax temperature a melody model's file recommends in `__metadata__.sampling_temperature`
/// (a number in (0, 10]), or `fallback` when it names none. A model may carry one because how sharply it
/// predicts decides what a temperature does: an under-trained model spreads its note-on probability over
/// many pitches, so at 0.5 the hold class takes nearly all of the mass and the melody falls silent.
/// A malformed value throws photong::Error naming the file.
inline float recommended_temperature(const SafetensorsFile& file, float fallback = kPhotongTemperature) {
    const std::string text = file.metadata_or("sampling_temperature", "");
    if (text.empty()) return fallback;
    char* end = nullptr;
    const float t = std::strtof(text.c_str(), &end);
    require(end != text.c_str() && *end == '\0' && std::isfinite(t) && t > 0 && t <= 10, "bad sampling temperature in metadata",
            {file.path(), "__metadata__.sampling_temperature", "a number in (0, 10]", text});
    return t;
}

/// The sampling a melody model's file recommends: temperature as recommended_temperature, top-k from
/// `__metadata__.sampling_top_k` (an integer 0..100000, 0 = none) and top-p from `sampling_top_p` (a number in
/// (0, 1]); each absent key leaves SamplingOptions' default (no filtering). A malformed value throws
/// photong::Error naming the file and the key.
inline SamplingOptions recommended_sampling(const SafetensorsFile& file, float fallback_temperature = kPhotongTemperature) {
    SamplingOptions s;
    s.temperature = recommended_temperature(file, fallback_temperature);
    const std::string k = file.metadata_or("sampling_top_k", "");
    if (!k.empty()) {
        const bool digits = k.size() <= 6 && k.find_first_not_of("0123456789") == std::string::npos;
        require(digits, "bad sampling_top_k in metadata", {file.path(), "__metadata__.sampling_top_k", "an integer 0..100000", k});
        s.top_k = std::stoi(k);
        require(s.top_k <= 100000, "bad sampling_top_k in metadata", {file.path(), "__metadata__.sampling_top_k", "an integer 0..100000", k});
    }
    const std::string p = file.metadata_or("sampling_top_p", "");
    if (!p.empty()) {
        char* end = nullptr;
        const float v = std::strtof(p.c_str(), &end);
        require(end != p.c_str() && *end == '\0' && std::isfinite(v) && v > 0 && v <= 1, "bad sampling_top_p in metadata",
                {file.path(), "__metadata__.sampling_top_p", "a number in (0, 1]", p});
        s.top_p = v;
    }
    return s;
}

namespace music_vae_detail {

/// The LSTM stack `<stack>/cell_K/lstm_cell` (K = 0, 1, ...): `<scope>/multi_rnn_cell` for a
/// decoder's MultiRNNCell, the bare level scope for the hierarchical conductor (magenta calls that
/// MultiRNNCell with the level's scope, so it has no `multi_rnn_cell` level). The first layer takes
/// `first_input` values per step; checks each kernel fits and returns the total state size.
inline std::vector<LstmCell> load_lstm_stack(const SafetensorsFile& file, const std::string& stack, std::int64_t first_input,
                                             std::int64_t& state_size) {
    std::vector<LstmCell> layers;
    std::int64_t input = first_input;
    state_size = 0;
    for (int k = 0; file.contains(stack + "/cell_" + std::to_string(k) + "/lstm_cell/kernel"); ++k) {
        const std::string name = stack + "/cell_" + std::to_string(k) + "/lstm_cell";
        const Tensor kernel = file.load_weight(name + "/kernel");
        const std::int64_t units = kernel.rank() == 2 ? kernel.dim(1) / 4 : 0;
        if (kernel.rank() != 2 || kernel.dim(0) != input + units)
            throw Error("LSTM kernel does not fit its input", {file.path(), name + "/kernel", std::to_string(input) + " + units rows",
                                                                 shape_to_string(kernel.shape())});
        layers.emplace_back(kernel, file.load_weight(name + "/bias", {4 * units}), input, 1.0f, name);
        state_size += 2 * units;
        input = units;
    }
    require(!layers.empty(), "no LSTM layers found", {file.path(), stack + "/cell_0/lstm_cell/kernel"});
    return layers;
}

/// Refuses variables under `scope` + "/" that the model does not use (a misspelt name, a layer
/// past a gap in the numbering, optimizer slots): silently ignoring them would load a different
/// model than the file describes. `used` holds the names relative to the scope.
inline void reject_unknown_variables(const SafetensorsFile& file, const std::string& scope, const std::vector<std::string>& used) {
    const std::string prefix = scope + "/";
    for (const std::string& name : file.names()) {
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        if (std::find(used.begin(), used.end(), name.substr(prefix.size())) == used.end())
            throw Error("unknown variable in the model's scope", {file.path(), name, "only the variables of " + scope, "an extra variable"});
    }
}

/// The names of an LSTM stack of `layers` cells, relative to their scope, after `prefix`
/// ("multi_rnn_cell/" or "").
inline std::vector<std::string> lstm_stack_names(std::size_t layers, const std::string& prefix) {
    std::vector<std::string> names;
    for (std::size_t k = 0; k < layers; ++k)
        for (const char* part : {"kernel", "bias"}) names.push_back(prefix + "cell_" + std::to_string(k) + "/lstm_cell/" + part);
    return names;
}

/// Splits tanh(dense(embedding)) rows into each layer's (c, h), in magenta's order c0, h0, c1, h1, ...
inline void initial_states(const Tensor& init, const std::vector<LstmCell>& layers, std::vector<Tensor>& c, std::vector<Tensor>& h) {
    const std::int64_t B = init.dim(0);
    c.clear();
    h.clear();
    std::int64_t offset = 0;
    for (const LstmCell& cell : layers) {
        const std::int64_t u = cell.units();
        Tensor ck({B, u}), hk({B, u});
        for (std::int64_t b = 0; b < B; ++b) {
            const float* row = init.data() + b * init.dim(1) + offset;
            std::copy_n(row, u, ck.data() + b * u);
            std::copy_n(row + u, u, hk.data() + b * u);
        }
        c.push_back(std::move(ck));
        h.push_back(std::move(hk));
        offset += 2 * u;
    }
}

}  // namespace music_vae_detail

class CategoricalLstmDecoder {
public:
    /// Reads the decoder under `scope` ("decoder" in Magenta's checkpoints).
    explicit CategoricalLstmDecoder(const SafetensorsFile& file, const std::string& scope = "decoder") {
        const TensorInfo& init = file.info(scope + "/z_to_initial_state/kernel");
        const TensorInfo& proj = file.info(scope + "/output_projection/kernel");
        require(init.shape.size() == 2 && proj.shape.size() == 2, "decoder dense kernels must be rank 2", {file.path(), scope});
        z_size_ = init.shape[0];
        classes_ = proj.shape[1];
        std::int64_t state = 0;
        layers_ = music_vae_detail::load_lstm_stack(file, scope + "/multi_rnn_cell", classes_ + z_size_, state);
        const std::int64_t input = layers_.back().units();
        if (init.shape[1] != state)
            throw Error("z_to_initial_state does not produce the stack's state", {file.path(), scope + "/z_to_initial_state/kernel",
                        std::to_string(z_size_) + "x" + std::to_string(state), shape_to_string(init.shape)});
        if (proj.shape[0] != input)
            throw Error("output_projection does not take the top layer's output", {file.path(), scope + "/output_projection/kernel",
                        std::to_string(input) + "x" + std::to_string(classes_), shape_to_string(proj.shape)});
        init_ = Dense(file.load_weight(scope + "/z_to_initial_state/kernel"), file.load_weight(scope + "/z_to_initial_state/bias", {state}).values(),
                      Activation::Tanh, scope + "/z_to_initial_state");
        projection_ = Dense(file.load_weight(scope + "/output_projection/kernel"), file.load_weight(scope + "/output_projection/bias", {classes_}).values(),
                            Activation::Linear, scope + "/output_projection");
        std::vector<std::string> used = music_vae_detail::lstm_stack_names(layers_.size(), "multi_rnn_cell/");
        for (const char* name : {"z_to_initial_state/kernel", "z_to_initial_state/bias", "output_projection/kernel", "output_projection/bias"}) used.push_back(name);
        music_vae_detail::reject_unknown_variables(file, scope, used);
        use_thread_pool(&default_thread_pool());
    }

    std::int64_t z_size() const { return z_size_; }
    std::int64_t classes() const { return classes_; }
    std::size_t layers() const { return layers_.size(); }

    /// Decodes `steps` events for each row of z (batch, z_size). temperature 0 chooses the
    /// argmax (greedy, as magenta.js does without a temperature); a positive one draws each event
    /// from softmax(logits / temperature) with `rng` (required then); a negative or non-finite one
    /// throws (it has no meaning: a sign slip should not silently become greedy decoding).
    DecodeResult decode(const Tensor& z, int steps, float temperature = 0.0f, Rng* rng = nullptr) const {
        SamplingOptions s;
        s.temperature = temperature;
        return decode(z, steps, s, rng);
    }

    /// decode() with top-k / top-p filtering (sampling.hpp). The draws take one rng.uniform_double()
    /// per event, step by step and within a step row 0, 1, ..., batch - 1.
    DecodeResult decode(const Tensor& z, int steps, const SamplingOptions& sampling, Rng* rng) const {
        require(z.rank() == 2 && z.dim(1) == z_size_, "latent code has the wrong size",
                {"", "z", "batch x " + std::to_string(z_size_), shape_to_string(z.shape())});
        require(steps > 0, "decode needs at least one step", {"", "steps", ">= 1", std::to_string(steps)});
        sampling.validate();
        require(sampling.greedy() || rng, "sampling with a temperature needs an Rng", {"", "rng"});
        DecodeResult out;
        out.events.assign(std::size_t(z.dim(0)), std::vector<int>(std::size_t(steps)));
        out.logits = Tensor({z.dim(0), steps, classes_});
        std::vector<double> uniforms;
        if (!sampling.greedy()) draw_uniforms(*rng, std::size_t(steps) * std::size_t(z.dim(0)), uniforms);
        EventSampler sampler(sampling, classes_);
        decode_into(z, steps, std::vector<int>(std::size_t(z.dim(0)), -1), sampler, uniforms.empty() ? nullptr : uniforms.data(), out, 0);
        return out;
    }

    /// Decodes one segment of `steps` events for each row of `z` (batch, z_size) into `out` at
    /// step `offset` (out.events rows and out.logits (batch, total steps, classes) are allocated
    /// by the caller). start[b] is the event fed as row b's first "previous event", or -1 for none
    /// (all zeros): the hierarchical decoder starts each bar from the last event of the previous one.
    void decode_into(const Tensor& z, int steps, const std::vector<int>& start, float temperature, Rng* rng, DecodeResult& out,
                     int offset) const {
        SamplingOptions s;
        s.temperature = temperature;
        s.validate();
        require(s.greedy() || rng, "sampling with a temperature needs an Rng", {"", "rng"});
        std::vector<double> uniforms;
        if (!s.greedy()) draw_uniforms(*rng, std::size_t(steps) * std::size_t(z.dim(0)), uniforms);
        EventSampler sampler(s, classes_);
        decode_into(z, steps, start, sampler, uniforms.empty() ? nullptr : uniforms.data(), out, offset);
    }

    /// decode_into() with the event choice made by `sampler` from the given uniforms: uniforms[t * batch + b]
    /// is step t's draw for row b (steps * batch values; may be null when the sampler is greedy). Letting the
    /// caller hold the draws lets a song form replay a bar with the very draws of its source bar.
    void decode_into(const Tensor& z, int steps, const std::vector<int>& start, EventSampler& sampler, const double* uniforms,
                     DecodeResult& out, int offset) const {
        require(z.rank() == 2 && z.dim(1) == z_size_, "latent code has the wrong size",
                {"", "z", "batch x " + std::to_string(z_size_), shape_to_string(z.shape())});
        require(sampler.options().greedy() || uniforms, "sampling needs its uniforms", {"", "uniforms"});
        const std::int64_t B = z.dim(0), total = out.logits.dim(1), C = classes_;
        require(std::int64_t(start.size()) == B && offset >= 0 && offset + steps <= total, "decode_into: bad start events or offset", {"", "start"});
        for (int e : start) require(e >= -1 && e < C, "decode_into: start event outside the classes", {"", "start", "-1.." + std::to_string(C - 1), std::to_string(e)});
        std::vector<Tensor> c, h;
        music_vae_detail::initial_states(init_.forward(z), layers_, c, h);
        // The first layer's input is [previous event one-hot, z]. z is the same at every step, so
        // its share of the gates (with the bias) is one product here; the one-hot share is one
        // kernel row added per step.
        const LstmCell& first = layers_.front();
        const std::int64_t G = 4 * first.units();
        std::vector<float> z_gates(std::size_t(B * G)), gates(std::size_t(B * max_gates())), logits(std::size_t(B * C));
        first.partial_input_gates(z.data(), z_size_, B, C, C + z_size_, true, false, z_gates.data());
        std::vector<int> previous = start;
        for (int t = 0; t < steps; ++t) {
            std::copy(z_gates.begin(), z_gates.end(), gates.begin());
            for (std::int64_t b = 0; b < B; ++b)
                if (previous[std::size_t(b)] >= 0) first.add_input_row(previous[std::size_t(b)], gates.data() + b * G);
            first.step_from_gates(gates.data(), B, c[0].data(), h[0].data());
            for (std::size_t k = 1; k < layers_.size(); ++k) layers_[k].step(h[k - 1].data(), B, c[k].data(), h[k].data(), gates.data());
            projection_.forward(h.back().data(), B, logits.data());
            for (std::int64_t b = 0; b < B; ++b) {
                const float* l = logits.data() + b * C;
                std::copy_n(l, C, out.logits.data() + (b * total + offset + t) * C);
                const int event = sampler.pick(l, uniforms ? uniforms[std::size_t(t * B + b)] : 0.0);
                out.events[std::size_t(b)][std::size_t(offset + t)] = previous[std::size_t(b)] = event;
            }
        }
    }

    /// `count` draws of rng.uniform_double(), in order (the decoders' sampling stream).
    static void draw_uniforms(Rng& rng, std::size_t count, std::vector<double>& out) {
        out.resize(count);
        for (double& u : out) u = rng.uniform_double();
    }

    /// Runs the LSTM products on `pool` (bit-identical results for any pool size); nullptr runs
    /// them on the calling thread. The default is the process-wide pool.
    void use_thread_pool(ThreadPool* pool) {
        for (LstmCell& cell : layers_) cell.use_thread_pool(pool);
    }

private:
    std::int64_t max_gates() const {
        std::int64_t g = 0;
        for (const LstmCell& cell : layers_) g = std::max(g, 4 * cell.units());
        return g;
    }

    std::int64_t z_size_ = 0, classes_ = 0;
    std::vector<LstmCell> layers_;
    Dense init_, projection_;
};

}  // namespace photong
