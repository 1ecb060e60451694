// photong-melody — a melody sampled from MusicVAE's prior, written as a Standard MIDI File.
//
//   photong-melody --weights FILE --seed S [--temperature T] [--top-k K] [--top-p P] [--form F] [--bars N] [--qpm Q]
//                  -o OUT.mid
//
// As MusicVAE's sample(): z ~ N(0, 1) (photong::Rng(seed), z size from the weights), decoded by
// the model the file holds -- HierarchicalLstmDecoder (hierdec-mel_16bar: 16 bars of 16 steps by
// default) when `decoder/hierarchical_level_0/initial_state/kernel` is there, otherwise the flat
// CategoricalLstmDecoder (`decoder/z_to_initial_state/kernel`, e.g. mel_2bar_small: as many steps
// as the metadata's converter_numSteps, else 2 bars). Each step's event is drawn from
// softmax(logits / T), optionally limited to the top-k / top-p (nucleus) events (models/sampling.hpp);
// T = 0 takes the argmax (greedy). Photong's default T is 0.5; magenta's sample() defaults to 1.0; the
// defaults are the model file's sampling_* metadata when it has them. --form gives a hierarchical
// model's bars a song form (models/song_form.hpp). The same seed and flags give the same file, byte for byte.
//
// The events become notes as note_seq's Melody.to_sequence does (melody_to_notes; velocity 80 as
// MusicVAE's from_tensors), 16th-note steps at --qpm (120 by default), and are written as SMF
// format 1: track 0 the tempo and a 4/4 time signature, track 1 the melody (program 0, channel 0).
// The file is written atomically: on any error nothing is left at OUT.mid.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <photong/core/error.hpp>
#include <photong/core/file_io.hpp>
#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/core/tensor.hpp>
#include <photong/models/music_vae_flat.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/models/sampling.hpp>
#include <photong/models/song_form.hpp>
#include <photong/music/melody.hpp>
#include <photong/music/midi.hpp>

#include "cli_args.hpp"

namespace {

constexpr int kStepsPerQuarter = 4;   // MusicVAE's melody models: 16th-note steps
constexpr int kStepsPerBar = 16;      // 4/4
constexpr int kTicksPerQuarter = 480;
constexpr int kVelocity = 80;         // MusicVAE's OneHotMelodyConverter.from_tensors
constexpr int kMaxBars = 1000;

int usage(const char* problem = nullptr) {
    if (problem) std::fprintf(stderr, "photong-melody: %s\n", problem);
    std::fprintf(stderr,
                 "usage: photong-melody --weights FILE --seed S [--temperature T] [--top-k K] [--top-p P] [--form F]\n"
                 "                      [--bars N] [--qpm Q] -o OUT.mid\n"
                 "  --weights FILE     MusicVAE decoder safetensors (flat, e.g. mel_2bar_small, or hierdec-mel_16bar)\n"
                 "  --seed S           random seed, 0..2^64-1: the prior sample z and the event draws\n"
                 "  --temperature T    softmax temperature >= 0 (0 = greedy argmax; magenta's default is 1.0); default: the\n"
                 "                     model's sampling_temperature metadata, else 0.5 (Photong's)\n"
                 "  --top-k K          sample among the K most probable events only (0 = all); default: the model's\n"
                 "                     sampling_top_k metadata, else 0\n"
                 "  --top-p P          nucleus: sample among the most probable events holding P of the probability\n"
                 "                     (0 < P <= 1; 1 = all); default: the model's sampling_top_p metadata, else 1\n"
                 "  --form F           hierarchical models: a song form, one letter per phrase (AABA, ABAB, ...; a\n"
                 "                     repeated letter replays that phrase with a new last bar, ! for exact repeats),\n"
                 "                     or none; the phrases must divide the bars; default: song_form metadata, else none\n"
                 "  --bars N           bars of 16 steps, 1..%d (default: hierarchical 16; flat the model's\n"
                 "                     converter_numSteps, else 2)\n"
                 "  --qpm Q            tempo in quarter notes per minute (default 120)\n"
                 "  -o OUT.mid         output Standard MIDI File (format 1), written atomically\n",
                 kMaxBars);
    return 2;
}

using photong_cli::parse_double;
using photong_cli::parse_u64;

/// A non-negative integer metadata value, or an Error naming the file and the key.
int metadata_int(const photong::SafetensorsFile& file, const std::string& key, int lo, int hi) {
    const std::string& text = file.metadata_at(key);
    std::uint64_t v = 0;
    if (!parse_u64(text, v) || v < std::uint64_t(lo) || v > std::uint64_t(hi))
        throw photong::Error("bad metadata value", {file.path(), "__metadata__/" + key, std::to_string(lo) + ".." + std::to_string(hi), text});
    return int(v);
}

std::string basename_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
    std::string weights, out_path;
    std::uint64_t seed = 0;
    bool have_seed = false;
    double temperature = 0.5, qpm = 120;
    bool have_temperature = false;
    std::optional<int> bars;
    std::optional<int> top_k;
    std::optional<float> top_p;
    std::optional<photong::SongForm> form;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") return usage();
        const bool takes_value = a == "--weights" || a == "--seed" || a == "--temperature" || a == "--bars" || a == "--qpm" || a == "-o" ||
                                a == "--top-k" || a == "--top-p" || a == "--form";
        if (!takes_value) return usage(("unknown argument '" + a + "'").c_str());
        if (i + 1 >= argc) return usage((a + " needs a value").c_str());
        const std::string v = argv[++i];
        if (a == "--weights") {
            weights = v;
        } else if (a == "-o") {
            out_path = v;
        } else if (a == "--seed") {
            if (!parse_u64(v, seed)) return usage(("--seed must be an integer 0..18446744073709551615, got '" + v + "'").c_str());
            have_seed = true;
        } else if (a == "--temperature") {
            float t = 0;
            const std::string problem = photong_cli::parse_temperature(v, t);
            if (!problem.empty()) return usage(problem.c_str());
            temperature = t;
            have_temperature = true;
        } else if (a == "--top-k") {
            int k = 0;
            const std::string problem = photong_cli::parse_top_k(v, k);
            if (!problem.empty()) return usage(problem.c_str());
            top_k = k;
        } else if (a == "--top-p") {
            float p = 1;
            const std::string problem = photong_cli::parse_top_p(v, p);
            if (!problem.empty()) return usage(problem.c_str());
            top_p = p;
        } else if (a == "--form") {
            try {
                form = photong::SongForm::parse(v);
            } catch (const photong::Error&) {
                return usage(("--form must be none or phrase letters A-Z with an optional ! (e.g. AABA, ABAB!), got '" + v + "'").c_str());
            }
        } else if (a == "--bars") {
            std::uint64_t b = 0;
            if (!parse_u64(v, b) || b < 1 || b > std::uint64_t(kMaxBars))
                return usage(("--bars must be an integer 1.." + std::to_string(kMaxBars) + ", got '" + v + "'").c_str());
            bars = int(b);
        } else {  // --qpm
            // The MIDI tempo is round(60e6 / qpm) microseconds per quarter, which must fit 1..0xFFFFFF.
            if (!parse_double(v, qpm) || !std::isfinite(qpm) || qpm <= 0 || std::lround(60e6 / qpm) < 1 || std::lround(60e6 / qpm) > 0xFFFFFF)
                return usage(("--qpm must be a tempo between 3.6 and 60000000 quarter notes per minute, got '" + v + "'").c_str());
        }
    }
    if (weights.empty()) return usage("--weights is required");
    if (!have_seed) return usage("--seed is required");
    if (out_path.empty()) return usage("-o OUT.mid is required");

    try {
        photong::remove_temporaries_on_signals();
        photong::require_distinct_files({{"--weights", weights}}, {{"-o", out_path}});
        photong::PendingFile out(out_path);  // its folder is checked now, not after the decode
        const photong::SafetensorsFile file(weights);
        const std::string hier_key = "decoder/hierarchical_level_0/initial_state/kernel", flat_key = "decoder/z_to_initial_state/kernel";
        const bool hierarchical = file.contains(hier_key);
        if (!hierarchical && !file.contains(flat_key))
            throw photong::Error("not a MusicVAE decoder: none of the tensors looked for is in the file", {file.path(), hier_key + " or " + flat_key});

        // The melody encoding the model was trained with (the converter's pitch range, 21..108 by default).
        photong::MelodyEncoding enc;
        if (file.metadata().count("converter_minPitch")) enc.min_pitch = metadata_int(file, "converter_minPitch", 0, 127);
        if (file.metadata().count("converter_maxPitch")) enc.max_pitch = metadata_int(file, "converter_maxPitch", 0, 127);
        enc.validate();

        photong::Rng rng(seed);
        photong::DecodeResult decoded;
        std::int64_t z_size = 0, classes = 0;
        int steps = 0;
        photong::SamplingOptions sampling = photong::recommended_sampling(file);
        if (have_temperature) sampling.temperature = float(temperature);
        if (top_k) sampling.top_k = *top_k;
        if (top_p) sampling.top_p = *top_p;
        temperature = sampling.temperature;
        const float t = sampling.temperature;
        photong::SongForm song_form;
        auto prior_sample = [&](std::int64_t n) {
            photong::Tensor z({1, n});
            for (std::int64_t k = 0; k < n; ++k) z[std::size_t(k)] = float(rng.normal());
            return z;
        };
        if (hierarchical) {
            const photong::HierarchicalLstmDecoder decoder(file);
            z_size = decoder.z_size(), classes = decoder.classes();
            photong::require(classes == enc.num_classes(), "the decoder's event classes do not match the melody encoding",
                    {file.path(), "core_decoder/decoder/output_projection/kernel", std::to_string(enc.num_classes()), std::to_string(classes)});
            const int n_bars = bars.value_or(16);
            steps = n_bars * kStepsPerBar;
            song_form = form.value_or(photong::recommended_form(file));
            if (!song_form.empty() && n_bars % int(song_form.pattern.size()) != 0)
                throw photong::Error("the song form's phrases must divide the bars evenly",
                                     {"", "--form " + song_form.name(), "a divisor of " + std::to_string(n_bars) + " phrases",
                                      std::to_string(song_form.pattern.size()) + " phrases"});
            decoded = decoder.decode(prior_sample(z_size), n_bars, kStepsPerBar, sampling, &rng, song_form);
        } else {
            const photong::CategoricalLstmDecoder decoder(file);
            z_size = decoder.z_size(), classes = decoder.classes();
            photong::require(classes == enc.num_classes(), "the decoder's event classes do not match the melody encoding",
                    {file.path(), "decoder/output_projection/kernel", std::to_string(enc.num_classes()), std::to_string(classes)});
            if (bars) steps = *bars * kStepsPerBar;
            else if (file.metadata().count("converter_numSteps")) steps = metadata_int(file, "converter_numSteps", 1, kMaxBars * kStepsPerBar);
            else steps = 2 * kStepsPerBar;
            if (form && !form->empty())
                throw photong::Error("--form needs a hierarchical model (a flat decoder has no bars to repeat)", {file.path(), "--form", "none", form->name()});
            decoded = decoder.decode(prior_sample(z_size), steps, sampling, &rng);
        }

        const std::vector<photong::Note> notes = photong::melody_to_notes(decoded.events[0], qpm, kStepsPerQuarter, kVelocity, enc);

        // SMF format 1: track 0 tempo + 4/4, track 1 the melody.
        constexpr int kTicksPerStep = kTicksPerQuarter / kStepsPerQuarter;
        photong::MidiFile midi;
        midi.format = 1;
        midi.ticks_per_quarter = kTicksPerQuarter;
        photong::MidiTrack conductor, melody;
        conductor.name = "photong-melody";
        conductor.events.push_back(photong::MidiEvent::tempo(0, int(std::lround(60e6 / qpm))));
        conductor.events.push_back(photong::MidiEvent::time_signature(0, 4, 2));
        melody.name = "melody";
        melody.events.push_back(photong::MidiEvent::program_change(0, 0, 0));
        // A note's off is pushed before the next note's on; the writer's stable sort by tick keeps
        // that order where one ends as the next begins.
        for (const photong::Note& n : notes) {
            melody.events.push_back(photong::MidiEvent::note_on(std::uint64_t(n.start_step) * kTicksPerStep, 0, n.pitch, n.velocity));
            melody.events.push_back(photong::MidiEvent::note_off(std::uint64_t(n.end_step) * kTicksPerStep, 0, n.pitch));
        }
        melody.events.push_back(photong::MidiEvent::end_of_track(std::uint64_t(steps) * kTicksPerStep));
        midi.tracks = {conductor, melody};
        const std::vector<std::uint8_t> bytes = photong::encode_midi(midi, out_path);
        out.write(bytes.data(), bytes.size());
        out.commit();

        int lo = 128, hi = -1;
        for (const photong::Note& n : notes) lo = std::min(lo, n.pitch), hi = std::max(hi, n.pitch);
        const std::string range = notes.empty() ? "none" : std::to_string(lo) + ".." + std::to_string(hi);
        std::printf("%s decoder (%s), z %lld, %d steps (%.4g bars), seed %llu, temperature %g%s, top-k %d, top-p %g, form %s: %zu notes, pitch %s, %.2f s at %g qpm -> %s\n",
                    hierarchical ? "hierarchical" : "flat", basename_of(weights).c_str(), (long long)z_size, steps,
                    double(steps) / kStepsPerBar, (unsigned long long)seed, temperature, temperature == 0 ? " (greedy)" : (!have_temperature && t != photong::kPhotongTemperature ? " (the model's sampling_temperature)" : ""),
                    sampling.top_k, double(sampling.top_p), song_form.name().c_str(), notes.size(),
                    range.c_str(), steps * 60.0 / qpm / kStepsPerQuarter, qpm, out_path.c_str());
        return 0;
    } catch (const photong::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "photong-melody: %s\n", e.what());
        return 1;
    }
}
