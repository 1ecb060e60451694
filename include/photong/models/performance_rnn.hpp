// photong/models/performance_rnn.hpp — the expressive piano generator (issue 24): Tan & Antony's performance RNN
// with its hidden state initialised from the picture and each step conditioned on a control vector that carries
// the paper's note density and pitch-class histogram plus the picture's valence and arousal. Trained by
// tools/train_piano.py (its docstring has the data and the differences from their code); every size comes from the
// weight file (metadata model = performance_rnn; encoding names the vocabulary, music/performance_events.hpp).
//
//   h0 (layers, units) = tanh(init . pooled InceptionV3 features (2048))          init/{weight,bias}
//   x_t = LeakyReLU_0.1(input . [embedding(e_{t-1}), flag, control])              embedding/weight, input/{weight,bias}
//   h_t^k = GRU layer k (PyTorch layout, reset on the recurrent product)          gru_k/{weight_ih,weight_hh,bias_ih,bias_hh}
//   logits_t = output . [h_t^0, ..., h_t^{L-1}]                                    output/{weight,bias}
//   control (27) = density one-hot (12) | pitch-class histogram (12) | valence, arousal in [0, 1] | 1 when they are given
//   flag = 1 when no control is given at all (control = 0), as their model
// The embedding is folded into the input layer at load (a table of `events` rows), and a piece's control is fixed,
// so a step costs a row gather, the GRU products and the output product.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/rng.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/models/sampling.hpp"
#include "photong/music/performance_events.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/gru.hpp"

namespace photong {

/// What a piece is conditioned on. Unset fields are "not given" (see PerformanceRnn's header comment).
struct PerformanceConditions {
    std::optional<double> valence, arousal;  ///< [0, 1]; both or neither
    std::optional<int> density;              ///< 0..11: note-density class (note-ons per 2 s: 0-3, 4-6, ..., >= 34)
    std::optional<std::array<float, 12>> pitch_histogram;  ///< pitch classes' weights (normalised here)
    bool none = false;                       ///< no control at all (the model's flag), as their unconditioned run
};

class PerformanceRnn {
public:
    explicit PerformanceRnn(const std::string& path) : PerformanceRnn(SafetensorsFile(path)) {}
    explicit PerformanceRnn(const SafetensorsFile& file) : encoding_(PerformanceEncoding::tan_antony()) {
        const std::string model = file.metadata_or("model", "");
        require(model == "performance_rnn", "weight file is not a performance RNN", {file.path(), "__metadata__.model", "performance_rnn", model.empty() ? "(none)" : model});
        encoding_ = PerformanceEncoding::by_name(file.metadata_or("encoding", "tan_antony_240"));
        const int E = encoding_.num_events();
        const Tensor emb = file.load_weight("embedding/weight");
        require(emb.rank() == 2 && emb.dim(0) == E, "embedding rows do not match the encoding", {file.path(), "embedding/weight", std::to_string(E) + " x dim", shape_to_string(emb.shape())});
        const std::int64_t D = emb.dim(1);
        const Tensor w_in = file.load_weight("input/weight");
        require(w_in.rank() == 2 && w_in.dim(1) == D + 1 + kControl, "input layer does not take [embedding, flag, control]",
                {file.path(), "input/weight", "units x " + std::to_string(D + 1 + kControl), shape_to_string(w_in.shape())});
        units_ = w_in.dim(0);
        const std::vector<float> b_in = file.load_weight("input/bias", {units_}).values();
        // Fold: table[e] = emb[e] . W_in[:, :D]^T + b_in; flag and control columns kept apart.
        table_.assign(std::size_t(E * units_), 0.0f);
        for (int e = 0; e < E; ++e)
            for (std::int64_t u = 0; u < units_; ++u) {
                double acc = b_in[std::size_t(u)];
                for (std::int64_t d = 0; d < D; ++d) acc += double(emb[std::size_t(e * D + d)]) * w_in[std::size_t(u * w_in.dim(1) + d)];
                table_[std::size_t(e * units_ + u)] = float(acc);
            }
        side_.assign(std::size_t((1 + kControl) * units_), 0.0f);  // (1 + control, units): rows flag, control...
        for (std::int64_t c = 0; c < 1 + kControl; ++c)
            for (std::int64_t u = 0; u < units_; ++u) side_[std::size_t(c * units_ + u)] = w_in[std::size_t(u * w_in.dim(1) + D + c)];
        for (int k = 0; file.contains("gru_" + std::to_string(k) + "/weight_ih"); ++k) {
            const std::string n = "gru_" + std::to_string(k);
            grus_.emplace_back(file.load_weight(n + "/weight_ih", {3 * units_, units_}), file.load_weight(n + "/weight_hh", {3 * units_, units_}),
                               file.load_weight(n + "/bias_ih", {3 * units_}).values(), file.load_weight(n + "/bias_hh", {3 * units_}).values(),
                               GruReset::AfterProduct, n);
        }
        require(!grus_.empty(), "no GRU layers found", {file.path(), "gru_0/weight_ih"});
        const std::int64_t L = std::int64_t(grus_.size());
        const Tensor w_init = file.load_weight("init/weight");
        require(w_init.rank() == 2 && w_init.dim(0) == L * units_, "init layer does not give every layer's state",
                {file.path(), "init/weight", std::to_string(L * units_) + " x image features", shape_to_string(w_init.shape())});
        image_size_ = w_init.dim(1);
        init_ = Dense(transposed(w_init), file.load_weight("init/bias", {L * units_}).values(), Activation::Tanh, "init");
        output_ = Dense(transposed(file.load_weight("output/weight", {E, L * units_})), file.load_weight("output/bias", {E}).values(), Activation::Linear, "output");
    }

    static constexpr int kControl = 27;
    const PerformanceEncoding& encoding() const { return encoding_; }
    std::int64_t image_size() const { return image_size_; }
    std::int64_t units() const { return units_; }
    std::size_t layers() const { return grus_.size(); }

    /// The control vector for `c` (throws photong::Error for values out of range or valence without arousal).
    static std::vector<float> control_vector(const PerformanceConditions& c, float& flag) {
        std::vector<float> v(kControl, 0.0f);
        flag = c.none ? 1.0f : 0.0f;
        if (c.none) return v;
        require(c.valence.has_value() == c.arousal.has_value(), "valence and arousal go together", {"", "conditions", "both or neither", c.valence ? "valence only" : "arousal only"});
        if (c.density) {
            require(*c.density >= 0 && *c.density < 12, "note-density class must be 0..11", {"", "density", "0..11", std::to_string(*c.density)});
            v[std::size_t(*c.density)] = 1.0f;
        }
        if (c.pitch_histogram) {
            double total = 0;
            for (float x : *c.pitch_histogram) {
                require(std::isfinite(x) && x >= 0, "pitch histogram weights must be finite and >= 0", {"", "pitch_histogram", ">= 0", std::to_string(x)});
                total += x;
            }
            require(total > 0, "pitch histogram is all zero", {"", "pitch_histogram", "a positive weight", "0"});
            for (int k = 0; k < 12; ++k) v[std::size_t(12 + k)] = float((*c.pitch_histogram)[std::size_t(k)] / total);
        }
        if (c.valence) {
            for (double x : {*c.valence, *c.arousal})
                require(std::isfinite(x) && x >= 0 && x <= 1, "valence and arousal must be in [0, 1]", {"", "valence/arousal", "[0, 1]", std::to_string(x)});
            v[24] = float(*c.valence), v[25] = float(*c.arousal), v[26] = 1.0f;
        }
        return v;
    }

    /// Generates `steps` events for each row of `image` (batch, image_size): pooled InceptionV3 features. The draws
    /// are rng.uniform_double(), step by step, row 0, 1, ... within a step (greedy sampling takes none). Returns
    /// events[row] and, when `logits` is given, fills it (batch, steps, events).
    std::vector<std::vector<int>> generate(const Tensor& image, const PerformanceConditions& conditions, int steps, const SamplingOptions& sampling,
                                           Rng* rng, Tensor* logits = nullptr) const {
        require(image.rank() == 2 && image.dim(1) == image_size_, "image features have the wrong size",
                {"", "image", "batch x " + std::to_string(image_size_), shape_to_string(image.shape())});
        require(steps > 0, "generate needs at least one step", {"", "steps", ">= 1", std::to_string(steps)});
        sampling.validate();
        require(sampling.greedy() || rng, "sampling with a temperature needs an Rng", {"", "rng"});
        const std::int64_t B = image.dim(0), H = units_, L = std::int64_t(grus_.size()), E = encoding_.num_events();
        float flag = 0;
        const std::vector<float> control = control_vector(conditions, flag);
        std::vector<float> fixed(std::size_t(H), 0.0f);  // flag and control's share of the input layer: the same every step
        for (std::int64_t c = 0; c < 1 + kControl; ++c) {
            const float w = c == 0 ? flag : control[std::size_t(c - 1)];
            if (w != 0.0f)
                for (std::int64_t u = 0; u < H; ++u) fixed[std::size_t(u)] += w * side_[std::size_t(c * H + u)];
        }
        const Tensor h0 = init_.forward(image);                       // (B, L * H): row b holds layer 0's state, then layer 1's ...
        std::vector<float> state(std::size_t(L * B * H));             // (L, B, H)
        for (std::int64_t b = 0; b < B; ++b)
            for (std::int64_t k = 0; k < L; ++k) std::copy_n(h0.data() + b * L * H + k * H, H, state.data() + (k * B + b) * H);
        std::vector<float> x(std::size_t(B * H)), gx(std::size_t(B * 3 * H)), scratch(gx.size()), concat(std::size_t(B * L * H)), out(std::size_t(B * E));
        std::vector<int> previous(std::size_t(B), encoding_.start_event());
        std::vector<std::vector<int>> events(static_cast<std::size_t>(B), std::vector<int>(static_cast<std::size_t>(steps)));
        if (logits) *logits = Tensor({B, std::int64_t(steps), E});
        EventSampler sampler(sampling, E);
        for (int t = 0; t < steps; ++t) {
            for (std::int64_t b = 0; b < B; ++b) {
                const float* row = table_.data() + std::size_t(previous[std::size_t(b)]) * std::size_t(H);
                for (std::int64_t u = 0; u < H; ++u) {
                    const float v = row[u] + fixed[std::size_t(u)];
                    x[std::size_t(b * H + u)] = v > 0 ? v : 0.1f * v;
                }
            }
            const float* in = x.data();
            for (std::int64_t k = 0; k < L; ++k) {
                float* h = state.data() + k * B * H;
                grus_[std::size_t(k)].input_gates(in, B, gx.data());
                grus_[std::size_t(k)].step_from_gates(gx.data(), B, h, scratch.data());
                for (std::int64_t b = 0; b < B; ++b) std::copy_n(h + b * H, H, concat.data() + b * L * H + k * H);
                in = h;
            }
            output_.forward(concat.data(), B, out.data());
            for (std::int64_t b = 0; b < B; ++b) {
                const float* l = out.data() + b * E;
                if (logits) std::copy_n(l, E, logits->data() + (b * steps + t) * E);
                const int e = sampler.pick(l, sampling.greedy() ? 0.0 : rng->uniform_double());
                events[std::size_t(b)][std::size_t(t)] = previous[std::size_t(b)] = e;
            }
        }
        return events;
    }

    /// Runs the GRU products on `pool` (nullptr: the calling thread).
    void use_thread_pool(ThreadPool* pool) {
        for (GruLayer& g : grus_) g.use_thread_pool(pool);
    }

private:
    PerformanceEncoding encoding_;
    std::int64_t units_ = 0, image_size_ = 0;
    std::vector<float> table_, side_;  // folded embedding rows (events, units); flag + control columns (28, units)
    std::vector<GruLayer> grus_;
    Dense init_, output_;
};

}  // namespace photong
