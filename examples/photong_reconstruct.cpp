// photong-reconstruct — MusicVAE reconstruction of melodies: encode to mu, greedy-decode mu.
//
//   photong-reconstruct --weights W --input IN.safetensors -o OUT.safetensors
//                       [--temperature T [--top-k K] [--top-p P] [--seed S]] [--form F]
//
// With --temperature T > 0 the decode of mu samples instead (models/sampling.hpp; Rng(S), S default 0),
// and --form gives the bars a song form (models/song_form.hpp): tools/crosscheck_cpp.py --sampled checks
// both against the Python reference draw for draw.
//
// IN holds `events`, integer classes [N, T] (int32 from tools/melody_dataset.py; any integer
// dtype is read). The BidirectionalLstmEncoder gives each row's posterior N(mu, sigma^2); the
// HierarchicalLstmDecoder decodes mu greedily (argmax, temperature 0) into T / 16 bars of 16 steps,
// each bar starting from the previous bar's last decoded event (MusicVAE's reconstruction with
// z = mu, as magenta's encode() then decode() with temperature ~0). The weights must hold both
// the encoder and the hierarchical decoder (e.g. tools/train_hierdec.py --export).
//
// OUT (written atomically, so nothing is left at OUT on an error) holds
//   mu, sigma  F32 [N, z]        the posterior
//   events     I32 [N, T]        the greedy decode of mu
//   logits     F32 [N, T, C]     the projection outputs each choice was made from
// and metadata naming the weights and the decode. Exit 0 on success, 1 on a photong::Error (bad
// file, wrong shapes, events outside the classes), 2 on a usage error.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <photong/core/dtype.hpp>
#include <photong/core/error.hpp>
#include <photong/core/file_io.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/core/tensor.hpp>
#include <photong/models/music_vae_encoder.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/models/sampling.hpp>
#include <photong/models/song_form.hpp>

#include "cli_args.hpp"

namespace {

constexpr int kStepsPerBar = 16;  // 4/4 in 16th notes, hierdec-mel_16bar's level_lengths [16, 16]

int usage(const char* problem = nullptr) {
    if (problem) std::fprintf(stderr, "photong-reconstruct: %s\n", problem);
    std::fprintf(stderr,
                 "usage: photong-reconstruct --weights FILE --input IN.safetensors -o OUT.safetensors\n"
                 "  --weights FILE     MusicVAE safetensors with encoder and hierarchical decoder (hierdec-mel_16bar)\n"
                 "  --input IN         safetensors with `events`: integer classes [N, T], T a multiple of %d\n"
                 "  -o OUT             output safetensors: mu, sigma F32 [N, z]; events I32 [N, T] (greedy decode of mu);\n"
                 "                     logits F32 [N, T, classes]; written atomically\n"
                 "  --temperature T    sample the decode of mu at T (default 0: greedy), with --top-k K, --top-p P\n"
                 "  --seed S           the sampling's Rng seed (default 0)\n"
                 "  --form F           song form over the bars (AABA, ABAB!, ...; default none)\n",
                 kStepsPerBar);
    return 2;
}

std::string basename_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The `events` tensor of `file` as rows of classes; integer dtypes only.
std::vector<std::vector<int>> read_events(const photong::SafetensorsFile& file) {
    const std::string name = "events";
    const photong::TensorInfo& info = file.info(name);
    using photong::DType;
    const bool integer = info.dtype == DType::I64 || info.dtype == DType::I32 || info.dtype == DType::I16 || info.dtype == DType::I8 ||
                         info.dtype == DType::U8 || info.dtype == DType::U16 || info.dtype == DType::U32 || info.dtype == DType::U64;
    if (!integer) throw photong::Error("events must be an integer tensor", {file.path(), name, "I32 (or another integer dtype)", photong::dtype_name(info.dtype)});
    if (info.shape.size() != 2 || info.shape[0] < 1 || info.shape[1] < 1)
        throw photong::Error("events must be [N, T] with N, T >= 1", {file.path(), name, "[N, T]", photong::shape_to_string(info.shape)});
    const std::int64_t n = info.shape[0], t = info.shape[1];
    if (t % kStepsPerBar != 0)
        throw photong::Error("events: steps per sequence must be whole bars", {file.path(), name, "a multiple of " + std::to_string(kStepsPerBar),
                             std::to_string(t)});
    const unsigned char* p = file.raw(name);
    const std::size_t size = photong::dtype_size(info.dtype);
    const bool is_signed = info.dtype == DType::I64 || info.dtype == DType::I32 || info.dtype == DType::I16 || info.dtype == DType::I8;
    std::vector<std::vector<int>> rows(static_cast<std::size_t>(n), std::vector<int>(static_cast<std::size_t>(t)));
    for (std::int64_t i = 0; i < n * t; ++i) {
        std::uint64_t v = 0;
        for (std::size_t k = 0; k < size; ++k) v |= std::uint64_t(p[std::size_t(i) * size + k]) << (8 * k);
        std::int64_t s = std::int64_t(v);
        if (is_signed && size < 8 && (v >> (8 * size - 1)) & 1) s = std::int64_t(v | (~std::uint64_t(0) << (8 * size)));
        if ((!is_signed && v > std::uint64_t(INT32_MAX)) || s < INT32_MIN || s > INT32_MAX) s = INT32_MAX;  // rejected by the encoder
        rows[std::size_t(i / t)][std::size_t(i % t)] = int(s);  // the encoder checks the class range
    }
    return rows;
}

}  // namespace

int main(int argc, char** argv) {
    std::string weights, input, out_path;
    photong::SamplingOptions sampling;
    photong::SongForm form;
    std::uint64_t seed = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") return usage();
        const bool takes_value = a == "--weights" || a == "--input" || a == "-o" || a == "--temperature" || a == "--top-k" || a == "--top-p" ||
                                a == "--seed" || a == "--form";
        if (!takes_value) return usage(("unknown argument '" + a + "'").c_str());
        if (i + 1 >= argc) return usage((a + " needs a value").c_str());
        const std::string v = argv[++i];
        std::string problem;
        if (a == "--weights") weights = v;
        else if (a == "--input") input = v;
        else if (a == "--temperature") {
            problem = photong_cli::parse_temperature(v, sampling.temperature);
        } else if (a == "--top-k") problem = photong_cli::parse_top_k(v, sampling.top_k);
        else if (a == "--top-p") problem = photong_cli::parse_top_p(v, sampling.top_p);
        else if (a == "--seed") {
            if (!photong_cli::parse_u64(v, seed)) problem = "--seed must be an integer 0..2^64-1, got '" + v + "'";
        } else if (a == "--form") {
            try {
                form = photong::SongForm::parse(v);
            } catch (const photong::Error&) {
                problem = "--form must be none or phrase letters A-Z with an optional !, got '" + v + "'";
            }
        } else out_path = v;
        if (!problem.empty()) return usage(problem.c_str());
    }
    if (weights.empty()) return usage("--weights is required");
    if (input.empty()) return usage("--input is required");
    if (out_path.empty()) return usage("-o OUT.safetensors is required");

    try {
        photong::remove_temporaries_on_signals();
        photong::require_distinct_files({{"--weights", weights}, {"--input", input}}, {{"-o", out_path}});
        photong::PendingFile out(out_path);
        const photong::SafetensorsFile file(weights);
        const std::string hier_key = "decoder/hierarchical_level_0/initial_state/kernel";
        if (!file.contains(hier_key))
            throw photong::Error("not a hierarchical MusicVAE decoder (hierdec-mel_16bar)", {file.path(), hier_key});
        const photong::BidirectionalLstmEncoder encoder(file);
        const photong::HierarchicalLstmDecoder decoder(file);
        photong::require(encoder.z_size() == decoder.z_size(), "the encoder's z size does not match the decoder's",
                         {file.path(), "encoder/mu/kernel", std::to_string(decoder.z_size()), std::to_string(encoder.z_size())});
        photong::require(encoder.classes() == decoder.classes(), "the encoder's input classes do not match the decoder's",
                         {file.path(), "encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel", std::to_string(decoder.classes()),
                          std::to_string(encoder.classes())});

        const photong::SafetensorsFile in(input);
        const std::vector<std::vector<int>> events = read_events(in);
        const std::int64_t n = std::int64_t(events.size()), t = std::int64_t(events.front().size());
        const int bars = int(t / kStepsPerBar);

        const photong::LatentDistribution dist = encoder.distribution(events);
        photong::Rng rng(seed);
        const photong::DecodeResult decoded = decoder.decode(dist.mu, bars, kStepsPerBar, sampling, &rng, form);

        std::vector<unsigned char> ev_bytes(std::size_t(n * t) * 4);
        for (std::int64_t i = 0; i < n * t; ++i) {
            const std::uint32_t v = std::uint32_t(std::int32_t(decoded.events[std::size_t(i / t)][std::size_t(i % t)]));
            for (int k = 0; k < 4; ++k) ev_bytes[std::size_t(i) * 4 + std::size_t(k)] = static_cast<unsigned char>(v >> (8 * k));
        }
        std::int64_t same = 0;
        for (std::int64_t b = 0; b < n; ++b) same += decoded.events[std::size_t(b)] == events[std::size_t(b)];

        photong::SafetensorsWriter w;
        w.add("mu", dist.mu);
        w.add("sigma", dist.sigma);
        w.add("logits", decoded.logits);
        w.add_raw("events", photong::DType::I32, {n, t}, std::move(ev_bytes));
        w.set_metadata("tool", "photong-reconstruct");
        w.set_metadata("weights", basename_of(weights));
        w.set_metadata("input", basename_of(input));
        const std::string how = sampling.greedy() ? std::string("greedy (argmax)")
                                                  : "sampled at temperature " + std::to_string(sampling.temperature) + ", top-k " +
                                                        std::to_string(sampling.top_k) + ", top-p " + std::to_string(sampling.top_p) + ", seed " +
                                                        std::to_string(seed);
        w.set_metadata("decode", how + " from z = mu; form " + form.name() + "; " + std::to_string(bars) + " bars of " + std::to_string(kStepsPerBar) +
                                     " steps, each bar starting from the previous bar's last event");
        w.write(out);
        out.commit();
        std::printf("%lld melodies of %lld steps (%d bars), z %lld (%s): %lld reconstructed exactly -> %s\n", (long long)n, (long long)t, bars,
                    (long long)encoder.z_size(), basename_of(weights).c_str(), (long long)same, out_path.c_str());
        return 0;
    } catch (const photong::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "photong-reconstruct: %s\n", e.what());
        return 1;
    }
}
