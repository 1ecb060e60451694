// photong — an image in, a 16-bar melody with chords out (Standard MIDI File), after the Photong paper.
//
//   photong IMAGE [-o OUT.mid] [--seed N] [--temperature T] [--top-k K] [--top-p P] [--form F] [--variations K]
//                 [--rank entropy|groove|first] [--colour-affect] [--valence V] [--arousal A] [--weights-dir D] [--json]
//                 [--png ROLL.png] [--wav OUT.wav]
//
// The whole pipeline is photong::Pipeline (include/photong/pipeline.hpp). Weights are read from D
// (default: the source tree's weights/) under fixed names:
//   inception_v3.safetensors            InceptionV3 without its top (weights/fetch_default_weights.sh)
//   bridge_embedding.safetensors        image features -> MusicVAE z            (always required)
//   bridge_arousal.safetensors          image features + colours -> arousal -> tempo  (not with --colour-affect / --arousal)
//   bridge_valence.safetensors          image features + colours -> valence -> mode   (not with --colour-affect / --valence)
//   hierdec_mel16_photong.safetensors   MusicVAE hierarchical 16-bar melody decoder (always required)
// A missing file is reported by name (exit 1). For a missing arousal or valence bridge the message
// suggests --colour-affect, which takes both from the image's colours (Valdez & Mehrabian) and then
// does not read those two files at all, or --valence / --arousal, the user's own values. The embedding bridge has no substitute: without it the melody
// would not depend on the image.
//
// Output: OUT.mid (default: the image's file name with .mid, in the current directory), written
// atomically; on stdout a summary (arousal -> BPM, valence -> key, the first bar as note names, the
// file), or with --json one JSON object for scripts. Progress goes to stderr. Exit codes: 0 done,
// 1 error (unreadable image, missing or wrong weights, no fluidsynth for --wav), 2 usage.
// --png draws a piano roll of melody and chords (photong/music/piano_roll.hpp). --wav renders the MIDI
// file with Debian's fluidsynth and a General MIDI soundfont (fluid-soundfont-gm; PHOTONG_SOUNDFONT
// overrides the file), checked for before any work is done. Every output is written atomically.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#if (defined(__unix__) || defined(__APPLE__)) && !defined(__EMSCRIPTEN__)  // WebAssembly cannot start programs
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
extern char** environ;
#define PHOTONG_CAN_SPAWN 1
#endif

#include <photong/core/error.hpp>
#include <photong/core/file_io.hpp>
#include <photong/core/process_memory.hpp>
#include <photong/image/encode_png.hpp>
#include <photong/music/midi.hpp>
#include <photong/music/piano_roll.hpp>
#include <photong/pipeline.hpp>
#include <photong/result_json.hpp>

#include "cli_args.hpp"

#ifndef PHOTONG_DEFAULT_WEIGHTS_DIR
#define PHOTONG_DEFAULT_WEIGHTS_DIR "weights"
#endif

namespace {

int usage(const char* problem = nullptr) {
    if (problem) std::fprintf(stderr, "photong: %s\n", problem);
    std::fprintf(stderr,
                 "usage: photong IMAGE [-o OUT.mid] [--seed N] [--temperature T] [--top-k K] [--top-p P] [--form F]\n"
                 "               [--variations K] [--rank entropy|groove|first] [--bridge map|photong] [--brightness A]\n"
                 "               [--contrast A] [--colour-affect] [--valence V] [--arousal A] [--generator melody|piano]\n"
                 "               [--seconds S]\n"
                 "               [--weights-dir D] [--no-verify-weights] [--json]\n"
                 "  -o OUT.mid         output Standard MIDI File (default: IMAGE's name with .mid, here)\n"
                 "  --seed N           random seed 0..2^64-1 (default 0): same seed, same melody\n"
                 "  --temperature T    decoder softmax temperature >= 0 (0 = greedy); default: the melody model's\n"
                 "                     sampling_temperature metadata, else 0.5 (Photong's)\n"
                 "  --top-k K          sample among the K most probable events only (0 = all); default: the\n"
                 "                     model's sampling_top_k metadata, else 0\n"
                 "  --top-p P          sample among the most probable events holding P of the probability (nucleus,\n"
                 "                     0 < P <= 1; 1 = all); default: the model's sampling_top_p metadata, else 1\n"
                 "  --form F           song form over 4-bar phrases: AABA, ABAB, AABB, ... (a repeated letter replays\n"
                 "                     that phrase with a new last bar; add ! for exact repeats, e.g. AABA!), or none;\n"
                 "                     default: the model's song_form metadata, else none\n"
                 "  --variations K     decode K melodies (1..%d, default 1) and keep the best by --rank\n"
                 "  --rank R           entropy (highest pitch entropy), groove (highest groove consistency)\n"
                 "                     or first (default)\n"
                 "  --bridge B         what places the melody's latent code z: map (the picture's content and its\n"
                 "                     brightness and edge density: image_latent_map.safetensors; the default when\n"
                 "                     that file is present) or photong (Photong's learned embedding bridge)\n"
                 "  --brightness A     Vis2Mus's brightness on the melody code, A in -1..1 (default 0: off;\n"
                 "                     with our model A > 0 gives fewer, lower notes)\n"
                 "  --contrast A       Vis2Mus's contrast on the melody code, A in -1..1 (default 0; A > 0: more notes)\n"
                 "  --colour-affect    arousal and valence from the image's colours instead of the bridges\n"
                 "  --valence V        your own valence, 0..1 (>= 0.5: major), instead of the picture's\n"
                 "  --arousal A        your own arousal, 0..1 (tempo 160 / (1 + e^(-5 (A - 0.5))) + 40 BPM)\n"
                 "  --generator G      melody (default: the Photong melody with chords, 16 bars) or piano (expressive\n"
                 "                     piano from the performance RNN: piano_performance_rnn.safetensors; the picture\n"
                 "                     sets its starting state, its valence/arousal, note density and key)\n"
                 "  --seconds S        piano only: length in seconds, 1..600 (default 20)\n"
                 "  --weights-dir D    weight files (default %s):\n"
                 "                     inception_v3, bridge_embedding, bridge_arousal, bridge_valence,\n"
                 "                     hierdec_mel16_photong, image_latent_map (.safetensors); each is checked\n"
                 "                     against NAME.sha256 beside it, where there is one\n"
                 "  --no-verify-weights  skip that check (your own weights beside the shipped .sha256 files)\n"
                 "                     InceptionV3's packed layers are cached in $PHOTONG_CACHE_DIR (default\n"
                 "                     $XDG_CACHE_HOME/photong or ~/.cache/photong; \"off\": none), ~170 MB per file\n"
                 "  --json             print the result as JSON on stdout\n"
                 "  --png ROLL.png     also draw a piano roll of the melody (orange) and chords (blue)\n"
                 "  --wav OUT.wav      also render the MIDI file to audio with fluidsynth and a GM soundfont\n"
                 "                     (Debian: apt-get install fluidsynth fluid-soundfont-gm)\n",
                 photong::GenerateOptions::kMaxVariations, PHOTONG_DEFAULT_WEIGHTS_DIR);
    return 2;
}

using photong_cli::parse_double;
using photong_cli::parse_u64;

/// "mapped from PATH", "built and saved in PATH", "rebuilt (stale: ...) ...": one line for the progress messages.
std::string describe_cache(const photong::PackedCacheReport& r) {
    using Outcome = photong::PackedCacheReport::Outcome;
    switch (r.outcome) {
        case Outcome::Hit: return "mapped from " + r.path;
        case Outcome::Built: return "built and saved in " + r.path;
        case Outcome::Rebuilt: return "rebuilt (" + r.reason + ") and saved in " + r.path;
        case Outcome::NotWritten: return "built, not cached: " + r.reason;
        case Outcome::Off: break;
    }
    return "built (no cache: " + r.reason + ")";
}

bool exists(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

std::string basename_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string default_output(const std::string& image) {
    std::string b = basename_of(image);
    const std::size_t dot = b.find_last_of('.');
    if (dot != std::string::npos && dot > 0) b = b.substr(0, dot);
    return (b.empty() ? std::string("photong") : b) + ".mid";
}

/// The first soundfont found: $PHOTONG_SOUNDFONT, else Debian's fluid-soundfont-gm files; "" if none.
std::string find_soundfont() {
    if (const char* env = std::getenv("PHOTONG_SOUNDFONT")) return exists(env) ? env : "";
    for (const char* p : {"/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2"})
        if (exists(p)) return p;
    return "";
}

/// Whether `program` is an executable file in a PATH directory.
bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (std::size_t a = 0; a <= dirs.size();) {
        const std::size_t b = std::min(dirs.find(':', a), dirs.size());
        const std::string dir = dirs.substr(a, b - a);
#ifdef PHOTONG_CAN_SPAWN
        if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
#else
        if (!dir.empty() && exists(dir + "/" + program)) return true;
#endif
        a = b + 1;
    }
    return false;
}

/// Renders the MIDI file `midi` (44.1 kHz) with fluidsynth into `tmp`, the WAV output's pending temporary; `wav`
/// (the user's name) is what errors name.
void render_wav(const std::string& midi, const std::string& tmp, const std::string& wav, const std::string& soundfont) {
#ifdef PHOTONG_CAN_SPAWN
    std::vector<std::string> args = {"fluidsynth", "-q", "-n", "-i", "-r", "44100", "-T", "wav", "-F", tmp, soundfont, midi};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, "fluidsynth", nullptr, nullptr, argv.data(), environ);
    if (spawned != 0) throw photong::Error(std::string("cannot start fluidsynth (") + std::strerror(spawned) + ")", {wav});
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status))
        throw photong::Error(std::string("fluidsynth was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) +
                             ") while rendering the MIDI file", {wav});
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw photong::Error("fluidsynth failed to render the MIDI file", {wav, "", "exit status 0", "exit status " + std::to_string(WEXITSTATUS(status))});
    struct stat st {};
    if (stat(tmp.c_str(), &st) != 0 || st.st_size == 0)
        throw photong::Error("fluidsynth exited 0 but wrote no audio", {wav});
#else
    (void)midi, (void)tmp, (void)soundfont;
    throw photong::Error("--wav needs a system that can start fluidsynth (a native POSIX build, not WebAssembly)", {wav});
#endif
}

}  // namespace

int main(int argc, char** argv) {
    photong::keep_freed_memory();  // core/process_memory.hpp: layers reuse pages instead of faulting fresh ones
    std::string image, out_path, png_path, wav_path, weights_dir = PHOTONG_DEFAULT_WEIGHTS_DIR;
    photong::GenerateOptions opt;
    bool json = false, verify_weights = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") return usage();
        if (a == "--colour-affect" || a == "--color-affect") {
            opt.colour_affect = true;
            continue;
        }
        if (a == "--json") {
            json = true;
            continue;
        }
        if (a == "--no-verify-weights") {
            verify_weights = false;
            continue;
        }
        const bool takes_value = a == "-o" || a == "--seed" || a == "--temperature" || a == "--variations" || a == "--rank" || a == "--weights-dir" ||
                                a == "--png" || a == "--wav" || a == "--top-k" || a == "--top-p" || a == "--form" || a == "--bridge" ||
                                a == "--brightness" || a == "--contrast" || a == "--valence" || a == "--arousal" || a == "--generator" ||
                                a == "--seconds";
        if (!takes_value) {
            if (a.size() > 1 && a[0] == '-') return usage(("unknown option '" + a + "'").c_str());
            if (!image.empty()) return usage(("one image only, got '" + image + "' and '" + a + "'").c_str());
            image = a;
            continue;
        }
        if (i + 1 >= argc) return usage((a + " needs a value").c_str());
        const std::string v = argv[++i];
        if (a == "-o") {
            if (v.empty()) return usage("-o needs a file name");
            out_path = v;
        } else if (a == "--weights-dir") {
            weights_dir = v;
        } else if (a == "--png" || a == "--wav") {
            if (v.empty()) return usage((a + " needs a file name").c_str());
            (a == "--png" ? png_path : wav_path) = v;
        } else if (a == "--seed") {
            if (!parse_u64(v, opt.seed)) return usage(("--seed must be an integer 0..18446744073709551615, got '" + v + "'").c_str());
        } else if (a == "--temperature") {
            float t = 0;
            const std::string problem = photong_cli::parse_temperature(v, t);
            if (!problem.empty()) return usage(problem.c_str());
            opt.temperature = t;
        } else if (a == "--top-k") {
            int k = 0;
            const std::string problem = photong_cli::parse_top_k(v, k);
            if (!problem.empty()) return usage(problem.c_str());
            opt.top_k = k;
        } else if (a == "--top-p") {
            float p = 1;
            const std::string problem = photong_cli::parse_top_p(v, p);
            if (!problem.empty()) return usage(problem.c_str());
            opt.top_p = p;
        } else if (a == "--form") {
            try {
                opt.form = photong::SongForm::parse(v);
                opt.form->sources(photong::Pipeline::kBars);
            } catch (const photong::Error&) {
                return usage(("--form must be none or 1, 2, 4, 8 or 16 phrase letters A-Z (e.g. AABA, ABAB!), got '" + v + "'").c_str());
            }
        } else if (a == "--brightness" || a == "--contrast") {
            double x = 0;
            if (!parse_double(v, x) || !std::isfinite(x) || x < -1 || x > 1)
                return usage((a + " must be a number in -1..1, got '" + v + "'").c_str());
            (a == "--brightness" ? opt.brightness : opt.contrast) = float(x);
        } else if (a == "--valence" || a == "--arousal") {
            double x = 0;
            if (!parse_double(v, x) || !std::isfinite(x) || x < 0 || x > 1)
                return usage((a + " must be a number in 0..1, got '" + v + "'").c_str());
            (a == "--valence" ? opt.valence : opt.arousal) = x;
        } else if (a == "--generator") {
            if (v == "melody") opt.generator = photong::GenerateOptions::Generator::Melody;
            else if (v == "piano") opt.generator = photong::GenerateOptions::Generator::Piano;
            else return usage(("--generator must be melody or piano, got '" + v + "'").c_str());
        } else if (a == "--seconds") {
            double x = 0;
            if (!parse_double(v, x) || !std::isfinite(x) || x < 1 || x > 600) return usage(("--seconds must be a number in 1..600, got '" + v + "'").c_str());
            opt.seconds = x;
        } else if (a == "--bridge") {
            if (v == "map") opt.latent_source = photong::GenerateOptions::LatentSource::Map;
            else if (v == "photong") opt.latent_source = photong::GenerateOptions::LatentSource::EmbeddingBridge;
            else return usage(("--bridge must be map or photong, got '" + v + "'").c_str());
        } else if (a == "--variations") {
            std::uint64_t k = 0;
            if (!parse_u64(v, k) || k < 1 || k > std::uint64_t(photong::GenerateOptions::kMaxVariations))
                return usage(("--variations must be an integer 1.." + std::to_string(photong::GenerateOptions::kMaxVariations) + ", got '" + v + "'").c_str());
            opt.variations = int(k);
        } else {  // --rank
            if (v == "entropy") opt.rank = photong::GenerateOptions::Rank::PitchEntropy;
            else if (v == "groove") opt.rank = photong::GenerateOptions::Rank::GrooveConsistency;
            else if (v == "first") opt.rank = photong::GenerateOptions::Rank::First;
            else return usage(("--rank must be entropy, groove or first, got '" + v + "'").c_str());
        }
    }
    if (image.empty()) return usage("an IMAGE is required");
    if (out_path.empty()) out_path = default_output(image);
    std::string soundfont;
    if (!wav_path.empty()) {  // before any work: a missing renderer is the user's to fix, not a surprise at the end
        soundfont = find_soundfont();
        const bool have_fluidsynth = on_path("fluidsynth");
        if (!have_fluidsynth || soundfont.empty()) {
            std::fprintf(stderr, "photong: --wav needs %s (Debian: sudo apt-get install fluidsynth fluid-soundfont-gm%s)\n",
                         !have_fluidsynth ? "the fluidsynth program" : "a General MIDI soundfont",
                         std::getenv("PHOTONG_SOUNDFONT") ? "; PHOTONG_SOUNDFONT names a missing file" : "");
            return 1;
        }
    }

    // Missing weight files first, by name, with what to do about them.
    photong::PipelineWeights w = photong::PipelineWeights::in_directory(weights_dir);
    w.verify_checksums = verify_weights;
    if (opt.colour_affect || opt.arousal) w.arousal.clear();  // not read
    if (opt.colour_affect || opt.valence) w.valence.clear();
    if (opt.latent_source == photong::GenerateOptions::LatentSource::EmbeddingBridge) w.latent_map.clear();  // not needed
    struct Need { const std::string* path; const char* role; };
    const Need needs[] = {{&w.inception, "InceptionV3 image encoder (weights/fetch_default_weights.sh fetches it)"},
                          {&w.embedding, "embedding bridge (image features -> melody latent z; required, it has no substitute)"},
                          {&w.arousal, "arousal bridge (image features -> tempo)"},
                          {&w.valence, "valence bridge (image features -> major/minor)"},
                          {&w.melody, "MusicVAE hierarchical melody decoder"}};
    bool missing_affect = false, missing = false;
    if (opt.generator == photong::GenerateOptions::Generator::Piano && w.piano.empty()) {
        std::fprintf(stderr, "photong: --generator piano needs %s/%s (the piano generator; weights/PIANO.md says how it is trained)\n",
                     weights_dir.c_str(), photong::PipelineWeights::kPianoFile);
        return 1;
    }
    if (opt.generator != photong::GenerateOptions::Generator::Piano) w.piano.clear();  // not read
    if (opt.latent_source == photong::GenerateOptions::LatentSource::Map && w.latent_map.empty()) {
        std::fprintf(stderr, "photong: --bridge map needs %s/%s (scripts/fit_image_map.sh makes it)\n", weights_dir.c_str(),
                     photong::PipelineWeights::kLatentMapFile);
        return 1;
    }
    for (const Need& n : needs) {
        if (n.path->empty() || exists(*n.path)) continue;
        std::fprintf(stderr, "photong: missing %s: the %s\n", n.path->c_str(), n.role);
        missing = true;
        missing_affect = missing_affect || n.path == &w.arousal || n.path == &w.valence;
    }
    if (missing) {
        if (missing_affect)
            std::fprintf(stderr, "photong: without the arousal/valence bridges, --colour-affect takes arousal and valence from the\n"
                                 "         image's colours (Valdez & Mehrabian), or --arousal A / --valence V give them directly\n");
        return 1;
    }

    try {
        // Before any work: no output may be an input or another output, and every output's folder must take it.
        photong::remove_temporaries_on_signals();
        photong::require_distinct_files({{"IMAGE", image}, {"weights", w.inception}, {"weights", w.embedding}, {"weights", w.arousal},
                                         {"weights", w.valence}, {"weights", w.melody}, {"weights", w.latent_map}, {"weights", w.piano}},
                                        {{"-o", out_path}, {"--png", png_path}, {"--wav", wav_path}});
        photong::require_regular_file(image, "image file");  // a FIFO would block after the weights are loaded
        photong::PendingFile midi_out(out_path);
        std::unique_ptr<photong::PendingFile> png_out, wav_out;
        if (!png_path.empty()) png_out = std::make_unique<photong::PendingFile>(png_path);
        if (!wav_path.empty()) wav_out = std::make_unique<photong::PendingFile>(wav_path);

        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        std::fprintf(stderr, "photong: loading weights from %s ...\n", weights_dir.c_str());
        const photong::Pipeline pipeline(w);
        auto since = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
        std::fprintf(stderr, "photong: [%.2f s] weights loaded; InceptionV3's packed layers: %s\n", since(),
                     describe_cache(pipeline.inception_cache_report()).c_str());
        opt.progress = [&](const char* stage) {
            const std::string s = stage;
            if (s == "features") std::fprintf(stderr, "photong: [%.2f s] InceptionV3 features of %s ...\n", since(), image.c_str());
            else if (s == "decode") std::fprintf(stderr, "photong: [%.2f s] decoding %d melod%s ...\n", since(), opt.variations, opt.variations == 1 ? "y" : "ies");
        };
        const photong::GenerateResult r = pipeline.generate(image, opt);
        // Every output is made in its temporary first; they are put in place together only when all succeeded.
        const std::vector<std::uint8_t> midi_bytes = photong::encode_midi(r.midi(), out_path);
        midi_out.write(midi_bytes.data(), midi_bytes.size());
        if (png_out) {
            photong::PianoRollLabels labels;
            labels.title = basename_of(image) + " - " + std::to_string(int(std::lround(r.bpm))) + " BPM, " + photong::key_name(r.key);
            const std::vector<std::uint8_t> png = photong::encode_png(photong::labelled_piano_roll(r.melody, r.chords, r.steps_per_bar, labels));
            png_out->write(png.data(), png.size());
        }
        if (wav_out) {
            std::fprintf(stderr, "photong: [%.2f s] rendering %s with fluidsynth (%s) ...\n", since(), wav_path.c_str(), soundfont.c_str());
            render_wav(midi_out.temp_path(), wav_out->temp_path(), wav_path, soundfont);
        }
        std::vector<std::string> kept;
        try {
            for (photong::PendingFile* f : {&midi_out, png_out.get(), wav_out.get()})
                if (f) f->commit(), kept.push_back(f->path());
        } catch (const photong::Error&) {
            if (!kept.empty()) {
                std::string list;
                for (const std::string& k : kept) list += (list.empty() ? "" : ", ") + k;
                std::fprintf(stderr, "photong: these outputs were already in place and are kept: %s\n", list.c_str());
            }
            throw;
        }
        std::fprintf(stderr, "photong: [%.2f s] done\n", since());

        std::vector<const photong::Note*> first_bar;
        for (const photong::Note& n : r.melody)
            if (n.start_step < r.steps_per_bar) first_bar.push_back(&n);
        if (json) {
            nlohmann::json j = photong::result_to_json(r, opt);
            j["image"] = image;
            j["output"] = out_path;
            if (!png_path.empty()) j["png"] = png_path;
            if (!wav_path.empty()) j["wav"] = wav_path;
            std::printf("%s\n", j.dump().c_str());
        } else {
            const bool piano = r.generator == photong::GenerateOptions::Generator::Piano;
            if (piano)
                std::printf("brightness %.3f -> tonic, arousal -> note density; the picture's features start the piano generator\n", r.picture.brightness);
            else if (r.latent_source == photong::GenerateOptions::LatentSource::Map)
                std::printf("brightness %.3f, edge density %.3f -> melody code (image latent map)\n", r.picture.brightness, r.picture.edge_density);
            else
                std::printf("melody code from the embedding bridge (--bridge photong)\n");
            if (piano)
                std::printf("arousal %.3f -> note density class %d   (%s)\n", r.arousal, photong::piano_plan(r.valence, r.arousal, r.picture).conditions.density.value_or(0),
                            photong::affect_source_name(r.arousal_source));
            else
                std::printf("arousal %.3f -> %.1f BPM   (%s)\n", r.arousal, r.bpm, photong::affect_source_name(r.arousal_source));
            std::printf("valence %.3f -> %s   (%s)\n", r.valence, photong::key_name(r.key).c_str(), photong::affect_source_name(r.valence_source));
            std::printf("temperature %g%s, top-k %d, top-p %g%s%s\n", r.temperature,
                        opt.temperature ? "" : (piano ? " (the piano model's)" : r.temperature == photong::kPhotongTemperature ? " (Photong's)" : " (the melody model's)"),
                        r.sampling.top_k, double(r.sampling.top_p), piano ? "" : ", form ", piano ? "" : r.form.name().c_str());
            std::printf("bar 1:");
            if (first_bar.empty()) std::printf(" (rest)");
            for (const photong::Note* n : first_bar) std::printf(" %s", photong::note_name(n->pitch).c_str());
            std::printf("\n");
            if (opt.variations > 1)
                std::printf("variation %d of %d (rank %s)\n", r.chosen + 1, opt.variations, photong::rank_name(opt.rank));
            if (r.generator == photong::GenerateOptions::Generator::Piano) {
                double end = 0;
                for (const auto& n : r.performance) end = std::max(end, n.end_s);
                std::printf("%zu piano notes from %zu performance events, %.1f s -> %s\n", r.performance.size(), r.events.size(), end, out_path.c_str());
            } else {
                std::printf("%zu melody notes, %zu chord notes, 16 bars, %.1f s -> %s\n", r.melody.size(), r.chords.size(),
                            r.melody.empty() ? 0.0 : r.melody.back().end_s, out_path.c_str());
            }
            if (!png_path.empty()) std::printf("piano roll -> %s\n", png_path.c_str());
            if (!wav_path.empty()) std::printf("audio -> %s\n", wav_path.c_str());
        }
        return 0;
    } catch (const photong::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "photong: %s\n", e.what());
        return 1;
    }
}
