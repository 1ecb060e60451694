// kernels/hierdec_kernels.hpp — MusicVAE's hierarchical decoder (include/photong/models/music_vae_hier.hpp,
// its CPU reference) on the kernel backend: every step on the device, the events sampled there from
// photong's Rng stream, and on a GPU the whole decode (conductor, 16 bars of 16 steps, ~1,900 launches)
// recorded once as a CUDA graph and replayed, so a decode is one graph launch with one upload (z and the
// Rng state) and one download (events and logits). Include kernels/executor_host.hpp or
// kernels/cuda/executor.hpp first.
//
// Why the bar loop is written here again rather than shared with the CPU decoder: the CPU decoder picks
// each event on the host between steps; this one only enqueues work (the next step's one-hot input is the
// `previous` buffer the sampler writes on the device), so nothing in its loop may read a result. The rules
// it follows are the CPU's, checked event for event by tests/test_kernel_models.cpp:
//   - z -> tanh(dense) -> conductor state; the conductor steps on a zero input once per bar (its input
//     half is the bias alone), its top h is the bar's embedding;
//   - each bar: embedding -> tanh(dense) -> core state, and the embedding's share of the first layer's
//     gates once (a GEMM); per step the previous event's kernel row is gathered in the cell kernel;
//   - a song form's repeated bar takes its source bar's embedding and uniforms, and starts from the last
//     event actually decoded before it;
//   - the uniforms are Rng::uniform_double() draws [bar][step][row], made on the device by draw_uniforms
//     from the caller's Rng state; the caller's Rng is then advanced by the same count.
// Per step: the recurrent halves h.W_h and layer inputs h.W_x as GEMMs (cuBLAS on a GPU), the fused cell,
// the projection GEMM, then sample_events (bias, softmax, top-k, top-p, inverse CDF).
#pragma once

#ifndef PHOTONG_KERNEL_EXECUTOR
#error "include kernels/executor_host.hpp or kernels/cuda/executor.hpp before kernels/hierdec_kernels.hpp"
#endif

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "photong/core/rng.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/models/music_vae_hier.hpp"
#include "photong/models/sampling.hpp"
#include "photong/models/song_form.hpp"

namespace photong {
namespace kernels {

template <class Exec>
class KernelHierarchicalDecoder {
public:
    template <class T>
    using Buffer = typename Exec::template Buffer<T>;

    /// Checks the file as the CPU decoder does (by building one) and uploads every weight to `exec`.
    KernelHierarchicalDecoder(const SafetensorsFile& file, Exec& exec) : exec_(exec) {
        const HierarchicalLstmDecoder check(file);  // every name, shape and size check of the CPU path
        z_size_ = int(check.z_size()), classes_ = int(check.classes());
        const std::string cond = "decoder/hierarchical_level_0", core = "core_decoder/decoder";
        cond_init_ = dense(file, cond + "/initial_state");
        core_init_ = dense(file, core + "/z_to_initial_state");
        projection_ = dense(file, core + "/output_projection");
        for (int k = 0; file.contains(cond + "/cell_" + std::to_string(k) + "/lstm_cell/kernel"); ++k)
            conductor_.push_back(lstm(file, cond + "/cell_" + std::to_string(k) + "/lstm_cell", k == 0 ? 1 : conductor_.back().units));
        for (int k = 0; file.contains(core + "/multi_rnn_cell/cell_" + std::to_string(k) + "/lstm_cell/kernel"); ++k)
            core_.push_back(lstm(file, core + "/multi_rnn_cell/cell_" + std::to_string(k) + "/lstm_cell",
                                 k == 0 ? classes_ + int(conductor_.back().units) : core_.back().units));
        embedding_ = conductor_.back().units;
    }

    int z_size() const { return z_size_; }
    int classes() const { return classes_; }

    /// As HierarchicalLstmDecoder::decode: the same events for the same z, options, form and Rng state
    /// (up to float rounding, see kernels/sample_events.cuh), the same logits to float rounding, and `rng`
    /// advanced by the same number of draws.
    DecodeResult decode(const Tensor& z, int bars, int steps_per_bar, const SamplingOptions& sampling, Rng* rng, const SongForm& form = {}) {
        require(z.rank() == 2 && z.dim(1) == z_size_, "latent code has the wrong size", {"", "z", "batch x " + std::to_string(z_size_), shape_to_string(z.shape())});
        require(bars > 0 && steps_per_bar > 0, "decode needs at least one bar of one step", {"", "bars", ">= 1", std::to_string(bars) + " x " + std::to_string(steps_per_bar)});
        sampling.validate();
        require(sampling.greedy() || rng, "sampling with a temperature needs an Rng", {"", "rng"});
        const int B = int(z.dim(0)), total = bars * steps_per_bar;
        Plan& plan = plan_for(B, bars, steps_per_bar, sampling, form.sources(bars));
        exec_.upload(plan.z, z.data(), z.size());
        if (!sampling.greedy()) {
            const std::array<std::uint64_t, 4> s = rng->state();
            const std::array<unsigned long long, 4> words = {s[0], s[1], s[2], s[3]};
            exec_.upload(plan.rng_state, words.data(), 4);
        }
        exec_.run(plan.graph, [&] { enqueue(plan); });
        exec_.synchronize();
        DecodeResult out;
        out.logits = Tensor({std::int64_t(B), std::int64_t(total), std::int64_t(classes_)}, exec_.download(plan.logits, plan.logits.size()));
        const std::vector<int> events = exec_.download(plan.events, plan.events.size());
        out.events.assign(std::size_t(B), std::vector<int>(std::size_t(total)));
        for (int b = 0; b < B; ++b) std::copy_n(events.data() + std::size_t(b) * total, total, out.events[std::size_t(b)].data());
        if (!sampling.greedy()) {
            const std::vector<unsigned long long> words = exec_.download(plan.rng_state, 4);
            rng->set_state({words[0], words[1], words[2], words[3]});
        }
        return out;
    }

private:
    struct DenseLayer {
        Buffer<float> kernel, bias;
        int in = 0, out = 0;
    };
    struct LstmLayer {
        Buffer<float> kernel, bias;  ///< (input + units, 4 units), 4 units
        int input = 0, units = 0;
        const float* w_x(int row = 0) const { return kernel.data() + std::size_t(row) * 4 * units; }
        const float* w_h() const { return kernel.data() + std::size_t(input) * 4 * units; }
    };
    /// The buffers of one decode shape and its recorded graph (the graph holds these addresses).
    struct Plan {
        int batch = 0, bars = 0, steps = 0;
        SamplingOptions sampling;
        std::vector<int> sources;
        Buffer<float> z, cond_state, core_state, embeddings, first_gates, gates_x, gates_h, logits_tmp, logits;
        Buffer<int> events, previous;
        Buffer<double> uniforms;
        Buffer<unsigned long long> rng_state;
        typename Exec::Graph graph;
    };

    DenseLayer dense(const SafetensorsFile& file, const std::string& name) {
        const Tensor k = file.load_weight(name + "/kernel"), b = file.load_weight(name + "/bias");
        DenseLayer d;
        d.in = int(k.dim(0)), d.out = int(k.dim(1));
        d.kernel = upload(k), d.bias = upload(b);
        return d;
    }
    LstmLayer lstm(const SafetensorsFile& file, const std::string& name, int input) {
        const Tensor k = file.load_weight(name + "/kernel"), b = file.load_weight(name + "/bias");
        LstmLayer l;
        l.input = input, l.units = int(k.dim(1) / 4);
        l.kernel = upload(k), l.bias = upload(b);
        return l;
    }
    Buffer<float> upload(const Tensor& t) {
        Buffer<float> b = exec_.template alloc<float>(t.size());
        exec_.upload(b, t.data(), t.size());
        return b;
    }

    static int state_size(const std::vector<LstmLayer>& layers) {
        int s = 0;
        for (const LstmLayer& l : layers) s += 2 * l.units;
        return s;
    }

    Plan& plan_for(int B, int bars, int steps, const SamplingOptions& sampling, const std::vector<int>& sources) {
        if (plan_ && plan_->batch == B && plan_->bars == bars && plan_->steps == steps && plan_->sources == sources &&
            plan_->sampling.temperature == sampling.temperature && plan_->sampling.top_k == sampling.top_k && plan_->sampling.top_p == sampling.top_p)
            return *plan_;
        auto p = std::make_unique<Plan>();
        p->batch = B, p->bars = bars, p->steps = steps, p->sampling = sampling, p->sources = sources;
        int widest = 0;
        for (const auto* layers : {&conductor_, &core_})
            for (const LstmLayer& l : *layers) widest = std::max(widest, 4 * l.units);
        const std::size_t b = std::size_t(B), total = std::size_t(bars) * std::size_t(steps);
        p->z = exec_.template alloc<float>(b * std::size_t(z_size_));
        p->cond_state = exec_.template alloc<float>(b * std::size_t(state_size(conductor_)));
        p->core_state = exec_.template alloc<float>(b * std::size_t(state_size(core_)));
        p->embeddings = exec_.template alloc<float>(std::size_t(bars) * b * std::size_t(embedding_));
        p->first_gates = exec_.template alloc<float>(b * 4 * std::size_t(core_.front().units));
        p->gates_x = exec_.template alloc<float>(b * std::size_t(widest));
        p->gates_h = exec_.template alloc<float>(b * std::size_t(widest));
        p->logits_tmp = exec_.template alloc<float>(b * std::size_t(classes_));
        p->logits = exec_.template alloc<float>(b * total * std::size_t(classes_));
        p->events = exec_.template alloc<int>(b * total);
        p->previous = exec_.template alloc<int>(b);
        p->uniforms = exec_.template alloc<double>(std::max<std::size_t>(1, b * total));
        p->rng_state = exec_.template alloc<unsigned long long>(4);
        plan_ = std::move(p);
        return *plan_;
    }

    /// y (rows x d.out, row stride ldy) = act(x (rows x d.in, row stride ldx) . kernel + bias): conv2d.cuh as a 1x1
    /// convolution, whose epilogue adds the bias and applies tanh.
    void dense_tanh(const DenseLayer& d, const float* x, int ldx, int rows, float* y, int ldy) {
        GemmArgs g;
        g.a = x, g.lda = ldx, g.b = d.kernel.data(), g.c = y, g.ldc = ldy, g.m = rows, g.n = d.out, g.k = d.in;
        ConvArgs a = gemm_as_conv(g);
        a.bias = d.bias.data(), a.act = kActTanh;
        exec_.conv2d(a);
    }
    void gemm(const float* x, int ldx, int rows, int k, const float* w, int n, float* y) {
        GemmArgs g;
        g.a = x, g.lda = ldx, g.b = w, g.c = y, g.ldc = n, g.m = rows, g.n = n, g.k = k;
        exec_.gemm(g);
    }

    /// One step of a stack whose state rows (c0 h0 c1 h1 ...) have `stride` floats. The first layer's input
    /// share is in `first_x` (or absent: the conductor's zero input), plus optionally a gathered table row.
    void stack_step(const std::vector<LstmLayer>& layers, float* state, int stride, int B, const float* first_x, const int* hot) {
        int offset = 0;
        for (std::size_t k = 0; k < layers.size(); ++k) {
            const LstmLayer& L = layers[k];
            float* c = state + offset;
            float* h = c + L.units;
            gemm(h, stride, B, L.units, L.w_h(), 4 * L.units, plan_->gates_h.data());
            LstmCellArgs a;
            a.bias = L.bias.data(), a.c = c, a.h = h, a.batch = B, a.units = L.units, a.state_stride = stride;
            if (k == 0) {
                a.gates_x = first_x ? first_x : plan_->gates_h.data();
                a.gates_h = first_x ? plan_->gates_h.data() : nullptr;
                if (hot) a.table = L.w_x(0), a.row_index = hot;
            } else {
                const float* below = state + offset - layers[k - 1].units;  // h of the layer below
                gemm(below, stride, B, L.input, L.w_x(), 4 * L.units, plan_->gates_x.data());
                a.gates_x = plan_->gates_x.data(), a.gates_h = plan_->gates_h.data();
            }
            exec_.lstm_cell(a);
            offset += 2 * L.units;
        }
    }

    void enqueue(Plan& p) {
        const int B = p.batch, E = embedding_, C = classes_, total = p.bars * p.steps;
        const int cond_stride = state_size(conductor_), core_stride = state_size(core_);
        const bool greedy = p.sampling.greedy();
        dense_tanh(cond_init_, p.z.data(), z_size_, B, p.cond_state.data(), cond_stride);
        for (int bar = 0; bar < p.bars; ++bar) {
            stack_step(conductor_, p.cond_state.data(), cond_stride, B, nullptr, nullptr);
            PoolArgs copy;  // the top h -> this bar's embedding: a 1x1 max pool is an exact strided copy
            copy.in = p.cond_state.data() + cond_stride - E, copy.in_stride = cond_stride, copy.n = 1, copy.h = B, copy.w = 1, copy.c = E;
            copy.out = p.embeddings.data() + std::size_t(bar) * B * E, copy.out_stride = E, copy.oh = B, copy.ow = 1;
            copy.kh = copy.kw = copy.sh = copy.sw = 1;
            exec_.pool2d(copy);
        }
        if (!greedy) {
            DrawArgs d;
            d.state = p.rng_state.data(), d.out = p.uniforms.data(), d.count = (long long)total * B;
            exec_.draw_uniforms(d);
        }
        const LstmLayer& first = core_.front();
        for (int bar = 0; bar < p.bars; ++bar) {
            const int src = p.sources[std::size_t(bar)];
            const float* emb = p.embeddings.data() + std::size_t(src) * B * E;
            dense_tanh(core_init_, emb, E, B, p.core_state.data(), core_stride);
            gemm(emb, E, B, E, first.w_x(C), 4 * first.units, p.first_gates.data());  // the embedding's share, once a bar
            for (int t = 0; t < p.steps; ++t) {
                const int step = bar * p.steps + t;
                stack_step(core_, p.core_state.data(), core_stride, B, p.first_gates.data(), step == 0 ? nullptr : p.previous.data());
                const LstmLayer& top = core_.back();
                gemm(p.core_state.data() + core_stride - top.units, core_stride, B, top.units, projection_.kernel.data(), C, p.logits_tmp.data());
                SampleArgs s;
                s.logits = p.logits_tmp.data(), s.bias = projection_.bias.data();
                s.logits_out = p.logits.data() + std::size_t(step) * C, s.logits_out_stride = (long long)total * C;
                s.uniforms = greedy ? nullptr : p.uniforms.data() + (std::size_t(src) * p.steps + t) * B;
                s.events = p.events.data() + step, s.events_stride = total, s.previous = p.previous.data();
                s.batch = B, s.classes = C, s.temperature = p.sampling.temperature, s.top_k = p.sampling.top_k, s.top_p = p.sampling.top_p;
                exec_.sample_events(s);
            }
        }
    }

    Exec& exec_;
    int z_size_ = 0, classes_ = 0, embedding_ = 0;
    DenseLayer cond_init_, core_init_, projection_;
    std::vector<LstmLayer> conductor_, core_;
    std::unique_ptr<Plan> plan_;
};

}  // namespace kernels
}  // namespace photong
