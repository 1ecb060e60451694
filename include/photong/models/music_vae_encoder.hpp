// photong/models/music_vae_encoder.hpp — MusicVAE's BidirectionalLstmEncoder and the latent layers.
//
// Facts (magenta music_vae/lstm_models.py BidirectionalLstmEncoder, lstm_utils.py
// build_bidirectional_lstm, base_model.py MusicVAE.encode; magenta.js music_vae/model.ts):
// - layer k is a forward and a backward TF LSTMBlockCell, each wrapped alone in a MultiRNNCell
//   and run by stack_bidirectional_dynamic_rnn under `encoder`, hence the variable names
//   `encoder/cell_K/bidirectional_rnn/{fw,bw}/multi_rnn_cell/cell_0/lstm_cell/{kernel,bias}`;
// - both directions start from zero states; layer 0 reads the one-hot event sequence, layer k+1
//   reads [forward output, backward output] at each step (forward first);
// - the encoding is [forward final h, backward final h] of the last layer (the backward final
//   state is the one after reading step 0);
// - mu = dense(encoding) (`encoder/mu`), sigma = softplus(dense(encoding)) (`encoder/sigma`).
// Sizes (layers, units per direction, input classes, z) all come from the weight file. Every
// sequence in a batch has the same length (16-bar melodies are all 256 steps).
#pragma once

#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/models/music_vae_flat.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/lstm.hpp"

namespace photong {

/// The posterior q(z | x) = N(mu, sigma^2) for each sequence of a batch: mu and sigma (batch, z).
struct LatentDistribution {
    Tensor mu, sigma;
};

class BidirectionalLstmEncoder {
public:
    /// Reads the encoder under `scope` ("encoder" in Magenta's checkpoints).
    explicit BidirectionalLstmEncoder(const SafetensorsFile& file, const std::string& scope = "encoder") {
        std::int64_t input = 0;
        for (int k = 0; file.contains(cell_name(scope, k, "fw") + "/kernel"); ++k) {
            Direction d;
            d.fw = load_cell(file, cell_name(scope, k, "fw"), k == 0 ? -1 : input);
            d.bw = load_cell(file, cell_name(scope, k, "bw"), d.fw.input_size());
            if (d.bw.units() != d.fw.units())
                throw Error("encoder directions differ in size", {file.path(), cell_name(scope, k, "bw") + "/kernel",
                            std::to_string(d.fw.units()) + " units", std::to_string(d.bw.units()) + " units"});
            input = 2 * d.fw.units();
            layers_.push_back(std::move(d));
        }
        require(!layers_.empty(), "no bidirectional LSTM encoder found", {file.path(), cell_name(scope, 0, "fw") + "/kernel"});
        classes_ = layers_.front().fw.input_size();
        const TensorInfo& mu = file.info(scope + "/mu/kernel");
        if (mu.shape.size() != 2 || mu.shape[0] != input)
            throw Error("encoder/mu does not take the final forward and backward states", {file.path(), scope + "/mu/kernel",
                        std::to_string(input) + " x z", shape_to_string(mu.shape)});
        z_size_ = mu.shape[1];
        mu_ = Dense(file.load_weight(scope + "/mu/kernel"), file.load_weight(scope + "/mu/bias", {z_size_}).values(), Activation::Linear, scope + "/mu");
        sigma_ = Dense(file.load_weight(scope + "/sigma/kernel", {input, z_size_}), file.load_weight(scope + "/sigma/bias", {z_size_}).values(), Activation::Softplus,
                       scope + "/sigma");
        std::vector<std::string> used{"mu/kernel", "mu/bias", "sigma/kernel", "sigma/bias"};
        for (std::size_t k = 0; k < layers_.size(); ++k)
            for (const char* dir : {"fw", "bw"})
                for (const char* part : {"/kernel", "/bias"}) used.push_back(cell_name("", int(k), dir).substr(1) + part);
        music_vae_detail::reject_unknown_variables(file, scope, used);
        use_thread_pool(&default_thread_pool());
    }

    std::int64_t classes() const { return classes_; }  ///< one-hot width of the input sequence
    std::int64_t z_size() const { return z_size_; }
    std::size_t layers() const { return layers_.size(); }
    std::int64_t units() const { return layers_.front().fw.units(); }  ///< of the first layer, per direction

    /// Runs the LSTM products on `pool` (bit-identical for any pool size); nullptr: calling thread.
    void use_thread_pool(ThreadPool* pool) {
        for (Direction& d : layers_) {
            d.fw.use_thread_pool(pool);
            d.bw.use_thread_pool(pool);
        }
    }

    /// mu and sigma for a batch of event sequences (each a class in [0, classes()) per step, all of
    /// one length). The one-hot first layer is applied as a row gather, not a product.
    LatentDistribution distribution(const std::vector<std::vector<int>>& sequences) const {
        require(!sequences.empty() && !sequences.front().empty(), "encode needs at least one non-empty sequence", {"", "sequences"});
        const std::int64_t B = std::int64_t(sequences.size()), T = std::int64_t(sequences.front().size());
        std::vector<int> hot(std::size_t(T * B));  // time-major
        for (std::int64_t b = 0; b < B; ++b) {
            const std::vector<int>& seq = sequences[std::size_t(b)];
            if (std::int64_t(seq.size()) != T)
                throw Error("encode: sequences of different lengths in one batch", {"", "sequence " + std::to_string(b), std::to_string(T) + " steps",
                            std::to_string(seq.size()) + " steps"});
            for (std::int64_t t = 0; t < T; ++t) {
                const int e = seq[std::size_t(t)];
                if (e < 0 || e >= classes_)
                    throw Error("encode: event outside the encoder's classes", {"", "sequence " + std::to_string(b) + " step " + std::to_string(t),
                                "0.." + std::to_string(classes_ - 1), std::to_string(e)});
                hot[std::size_t(t * B + b)] = e;
            }
        }
        auto first = [&](const LstmCell& cell) {
            Tensor gates({T, B, 4 * cell.units()});
            cell.one_hot_input_gates(hot.data(), T * B, gates.data());
            return gates;
        };
        return run(first, T, B);
    }

    /// mu and sigma for dense inputs x (batch, steps, classes()), e.g. soft or multi-hot inputs.
    LatentDistribution distribution(const Tensor& x) const {
        require(x.rank() == 3 && x.dim(2) == classes_, "encoder input must be (batch, steps, classes)",
                {"", "x", "batch x steps x " + std::to_string(classes_), shape_to_string(x.shape())});
        const std::int64_t B = x.dim(0), T = x.dim(1);
        Tensor time_major({T, B, classes_});
        for (std::int64_t b = 0; b < B; ++b)
            for (std::int64_t t = 0; t < T; ++t) std::copy_n(x.data() + (b * T + t) * classes_, classes_, time_major.data() + (t * B + b) * classes_);
        auto first = [&](const LstmCell& cell) {
            Tensor gates({T, B, 4 * cell.units()});
            cell.input_gates(time_major.data(), T * B, gates.data());
            return gates;
        };
        return run(first, T, B);
    }

    /// The code MusicVAE uses for a melody: mu (batch, z).
    Tensor encode(const std::vector<std::vector<int>>& sequences) const { return distribution(sequences).mu; }

private:
    struct Direction {
        LstmCell fw, bw;
    };

    static std::string cell_name(const std::string& scope, int k, const char* dir) {
        return scope + "/cell_" + std::to_string(k) + "/bidirectional_rnn/" + dir + "/multi_rnn_cell/cell_0/lstm_cell";
    }

    /// input < 0: layer 0, whose input width is read from the kernel (rows - units).
    static LstmCell load_cell(const SafetensorsFile& file, const std::string& name, std::int64_t input) {
        const Tensor kernel = file.load_weight(name + "/kernel");
        const std::int64_t units = kernel.rank() == 2 ? kernel.dim(1) / 4 : 0;
        if (input < 0) input = kernel.rank() == 2 ? kernel.dim(0) - units : 0;
        if (kernel.rank() != 2 || kernel.dim(1) % 4 != 0 || input <= 0 || kernel.dim(0) != input + units)
            throw Error("encoder LSTM kernel does not fit its input", {file.path(), name + "/kernel", std::to_string(input) + " + units rows, 4 * units columns",
                        shape_to_string(kernel.shape())});
        return LstmCell(kernel, file.load_weight(name + "/bias", {4 * units}), input, 1.0f, name);
    }

    /// Runs every layer in both directions; first(cell) gives layer 0's input gates (T, B, 4u).
    template <class FirstGates>
    LatentDistribution run(FirstGates&& first, std::int64_t T, std::int64_t B) const {
        Tensor fw_out, bw_out;
        Tensor final_state({B, 2 * layers_.back().fw.units()});
        for (std::size_t k = 0; k < layers_.size(); ++k) {
            const Direction& d = layers_[k];
            const std::int64_t u = d.fw.units();
            Tensor fw_gates, bw_gates;
            if (k == 0) {
                fw_gates = first(d.fw);
                bw_gates = first(d.bw);
            } else {
                // Layer k reads [forward output, backward output] of layer k - 1 at every step.
                const std::int64_t prev = fw_out.dim(2);
                Tensor x({T, B, 2 * prev});
                for (std::int64_t r = 0; r < T * B; ++r) {
                    std::copy_n(fw_out.data() + r * prev, prev, x.data() + r * 2 * prev);
                    std::copy_n(bw_out.data() + r * prev, prev, x.data() + r * 2 * prev + prev);
                }
                fw_gates = Tensor({T, B, 4 * u});
                bw_gates = Tensor({T, B, 4 * u});
                d.fw.input_gates(x.data(), T * B, fw_gates.data());
                d.bw.input_gates(x.data(), T * B, bw_gates.data());
            }
            Tensor cf({B, u}), hf({B, u}), cb({B, u}), hb({B, u});  // zero initial states
            fw_out = d.fw.run_from_gates(fw_gates, cf, hf, false);
            bw_out = d.bw.run_from_gates(bw_gates, cb, hb, true);
            if (k + 1 == layers_.size())
                for (std::int64_t b = 0; b < B; ++b) {
                    std::copy_n(hf.data() + b * u, u, final_state.data() + b * 2 * u);
                    std::copy_n(hb.data() + b * u, u, final_state.data() + b * 2 * u + u);
                }
        }
        return {mu_.forward(final_state), sigma_.forward(final_state)};
    }

    std::vector<Direction> layers_;
    std::int64_t classes_ = 0, z_size_ = 0;
    Dense mu_, sigma_;
};

}  // namespace photong
