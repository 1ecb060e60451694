// photong/pipeline.hpp — image -> 16-bar melody with chords: Photong's whole pipeline, the public entry point.
//
//   image ──InceptionV3 (no top)──► z_img (1, 8, 8, 2048)
//   z_img ──global average + picture attributes ──image -> latent map──► z (1, 512)   (image_latent_map.hpp;
//         or, with LatentSource::EmbeddingBridge or no map file, z_img ──embedding bridge──► z)
//   z ──K copies──► HierarchicalLstmDecoder (sampling: temperature, top-k,
//         top-p, from GenerateOptions or the melody file's metadata, recommended_sampling; song form likewise,
//         recommended_form)
//         ──► K × 256 event classes ──► notes at 120 qpm ──rank──► one melody ──touch-up──► notes + chords
//   z_img ──arousal bridge──► a ──► tempo T(a) ∈ [52.14, 187.86] BPM
//   z_img ──valence bridge──► v ──► major iff v ≥ 0.5
//   (the shipped bridges also take the picture's colour features, bridges.hpp concat_colour_features;
//   with GenerateOptions::colour_affect, a and v come from the colours alone: Valdez & Mehrabian;
//   GenerateOptions::valence / arousal give them directly)
//
// Usage:
//   photong::Pipeline p(photong::PipelineWeights::in_directory("weights"));
//   photong::GenerateResult r = p.generate("photo.jpg", {});
//   photong::write_midi(r.midi(), "photo.mid");
//
// Weights (PipelineWeights, paths; default names in a directory: in_directory):
//   inception  inception_v3.safetensors          metadata model = "inception_v3"
//   embedding  bridge_embedding.safetensors      bridge = "embedding"; output size must equal the decoder's z size
//   arousal    bridge_arousal.safetensors        bridge = "arousal";  sigmoid x 1 or softmax x 2 output
//   valence    bridge_valence.safetensors        bridge = "valence";  sigmoid x 1 or softmax x 2 output
//   melody     hierdec_mel16_photong.safetensors a MusicVAE hierarchical decoder (`decoder/hierarchical_level_0/...`)
//   latent_map image_latent_map.safetensors      optional (in_directory takes it when present): the image -> latent
//                                                map fitted for this melody model (its melody_steps_trained must match)
// Every file is loaded once, in the constructor (InceptionV3 mapped from its packed-weights cache when one is valid,
// models/packed_weights_cache.hpp; the other files on a second thread meanwhile), and checked for its kind: a file in the wrong slot
// (e.g. the arousal bridge given as the embedding bridge, a bridge given as the melody decoder), a
// missing file, a bridge whose input is not a 2048-channel map, a probability bridge that does not end in
// a probability, an embedding whose output size is not the decoder's z size, or a decoder whose classes do
// not match its melody encoding throws photong::Error naming the file. `arousal` and `valence` may be left
// empty (both or either): generate() then needs GenerateOptions::colour_affect or the missing value. The embedding bridge and
// the decoder are always required: without them no melody depends on the image.
//
// Seeds and variations (reproducibility). generate(image, options) is a pure function of the image,
// the weights and options (bit-identical across runs and thread counts):
//   - decoding: one Rng(options.seed) draws all K variations, decoded as one batch of K copies of z.
//     The draws go step by step, and within a step variation 0, 1, ..., K-1 (one uniform per event),
//     so variation k of a K-variation call is fixed by (seed, K, sampling, form) — but variation 0 of
//     K = 4 is *not* the K = 1 melody for the same seed (the stream is shared). temperature 0 is greedy:
//     then all variations are equal and the Rng is unused.
//   - ranking: each variation's notes (before the touch-up) get symbolic_metrics over the 16-bar
//     window; the highest score of the chosen metric wins, ties and NaN (a variation without notes,
//     or groove over fewer than 2 bars) to the lowest index. Rank::First takes variation 0.
//   - touch-up: TouchUpOptions::seed = options.seed (its own Rng, for the non-diatonic up/down coins).
//
// Threads. Pipeline is immutable after construction (move-only; models held by unique_ptr): generate() is const, keeps every intermediate
// (and its Rng) on its own stack, and may be called from several threads at once. The layers run their
// parallel loops on one ThreadPool — photong::default_thread_pool() (PHOTONG_NUM_THREADS or all cores)
// unless use_thread_pool() was called before sharing the Pipeline. Concurrent calls share that pool:
// ThreadPool::for_each admits one loop at a time, so their layers take turns on it (no over-
// subscription); the chunking never depends on the thread count, so results do not either.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/rng.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/core/sha256.hpp"
#include "photong/image/colour_affect.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/picture_attributes.hpp"
#include "photong/models/bridges.hpp"
#include "photong/models/image_latent_map.hpp"
#include "photong/models/latent_sliders.hpp"
#include "photong/models/inception_v3.hpp"
#include "photong/models/music_vae_hier.hpp"
#include "photong/models/performance_rnn.hpp"
#include "photong/models/piano_generator.hpp"
#include "photong/models/sampling.hpp"
#include "photong/models/song_form.hpp"
#include "photong/music/melody.hpp"
#include "photong/music/metrics.hpp"
#include "photong/music/midi.hpp"
#include "photong/music/touch_up.hpp"

namespace photong {

/// Paths of the weight files (see the header comment for what each must hold). `latent_map` is optional: empty
/// means the embedding bridge places z.
struct PipelineWeights {
    std::string inception, embedding, arousal, valence, melody, latent_map;
    std::string piano = std::string();  ///< the piano generator (models/performance_rnn.hpp); empty: GenerateOptions::Generator::Piano refused
    /// Check each file against the sha256sum file beside it (NAME.sha256, shipped in weights/), where there is
    /// one, before loading: a damaged file is named at once instead of ending as NaN in the tempo.
    bool verify_checksums = true;
    /// Where InceptionV3's packed layers are cached between runs (models/packed_weights_cache.hpp): "" or "off" for
    /// none. A valid cache maps in a few milliseconds, where packing from the file takes half a second; the
    /// checksum of the InceptionV3 file is then the one verified when the cache was built.
    std::string packed_cache_dir = PackedWeightsCache::default_dir();

    static constexpr const char* kInceptionFile = "inception_v3.safetensors";
    static constexpr const char* kEmbeddingFile = "bridge_embedding.safetensors";
    static constexpr const char* kArousalFile = "bridge_arousal.safetensors";
    static constexpr const char* kValenceFile = "bridge_valence.safetensors";
    static constexpr const char* kMelodyFile = "hierdec_mel16_photong.safetensors";
    static constexpr const char* kLatentMapFile = "image_latent_map.safetensors";
    static constexpr const char* kPianoFile = "piano_performance_rnn.safetensors";

    /// Forgets the arousal and valence bridge files that do not exist, so that a Pipeline loads without them;
    /// generate() then asks, by name, for colour_affect or the user's values (the C API and the Python module).
    void skip_missing_affect_bridges() {
        for (std::string* bridge : {&arousal, &valence})
            if (!std::ifstream(*bridge, std::ios::binary).good()) bridge->clear();
    }

    /// The default file names inside `dir`; `latent_map` and `piano` only when `dir` holds those files.
    static PipelineWeights in_directory(const std::string& dir) {
        const std::string d = dir.empty() ? std::string("./") : (dir.back() == '/' ? dir : dir + "/");
        auto optional = [&](const char* f) { return std::ifstream(d + f, std::ios::binary).good() ? d + f : std::string(); };
        PipelineWeights w{d + kInceptionFile, d + kEmbeddingFile, d + kArousalFile, d + kValenceFile, d + kMelodyFile, optional(kLatentMapFile)};
        w.piano = optional(kPianoFile);
        return w;
    }
};

struct GenerateOptions {
    /// How the best of several variations is chosen (on the decoded notes, before the touch-up).
    enum class Rank {
        First,              ///< variation 0 (no ranking)
        PitchEntropy,       ///< highest pitch entropy (bits over the 128 MIDI pitches): the most varied pitches
        PitchClassEntropy,  ///< highest pitch-class entropy (12 bins)
        GrooveConsistency,  ///< highest groove consistency: the steadiest rhythm from bar to bar
    };

    std::uint64_t seed = 0;     ///< seeds the decoder's sampling and the touch-up (see the header comment)
    /// Softmax temperature, >= 0 (0 = greedy). Unset: the melody file's recommended temperature
    /// (`__metadata__.sampling_temperature`), else Photong's 0.5 (Pipeline::default_sampling()).
    std::optional<float> temperature;
    /// Top-k filtering (0 = none). Unset: the melody file's `sampling_top_k`, else none (sampling.hpp).
    std::optional<int> top_k;
    /// Top-p (nucleus) filtering, (0, 1] (1 = none). Unset: the melody file's `sampling_top_p`, else none.
    std::optional<float> top_p;
    /// The 16 bars' song form (song_form.hpp: "AABA", "ABAB", ..., or SongForm{} for none). Unset: the melody
    /// file's `song_form`, else none.
    std::optional<SongForm> form;
    int variations = 1;         ///< K, 1..kMaxVariations: melodies decoded from z as one batch
    Rank rank = Rank::First;    ///< how the variation is chosen
    /// What places the latent code z. Map: image_latent_map.hpp (the picture's content and attributes);
    /// EmbeddingBridge: Photong's learned embedding bridge (Algorithm 1). Unset: Map when a map file was loaded.
    enum class LatentSource { Map, EmbeddingBridge };
    std::optional<LatentSource> latent_source;
    /// Vis2Mus's brightness and contrast applied to z after it is placed, each in [-1, 1]; 0 leaves z exactly as it
    /// is (latent_sliders.hpp says what they do to our melody model).
    float brightness = 0, contrast = 0;
    /// Use the Valdez–Mehrabian colour baseline (colour_affect.hpp, default ColourStats) for arousal
    /// and valence instead of the learned arousal/valence bridges.
    bool colour_affect = false;
    /// The user's own valence / arousal in [0, 1], used instead of what the bridges (or the colour baseline) say;
    /// either may be given alone. With both given the affect bridges are not needed.
    std::optional<double> valence, arousal;
    /// Which generator writes the music: Melody, the Photong melody with chords (16 bars; the default), or Piano,
    /// expressive piano from the performance RNN (models/piano_generator.hpp says how the picture conditions it).
    enum class Generator { Melody, Piano };
    Generator generator = Generator::Melody;
    /// Piano only: the length of the piece in seconds, 1..600.
    double seconds = 20;
    /// Called with a short stage name ("features", "bridges", "decode", "touch-up") as each begins;
    /// for progress reports. Called on the generating thread.
    std::function<void(const char* stage)> progress;

    static constexpr int kMaxVariations = 256;
};

inline const char* rank_name(GenerateOptions::Rank r) {
    switch (r) {
        case GenerateOptions::Rank::First: return "first";
        case GenerateOptions::Rank::PitchEntropy: return "pitch_entropy";
        case GenerateOptions::Rank::PitchClassEntropy: return "pitch_class_entropy";
        case GenerateOptions::Rank::GrooveConsistency: return "groove_consistency";
    }
    return "?";
}

/// Metrics of one decoded variation (notes before the touch-up, 16-bar window, 16 steps per bar).
struct VariationMetrics {
    double pitch_entropy = 0, pitch_class_entropy = 0, polyphony_rate = 0, groove_consistency = 0;
};

struct GenerateResult {
    GenerateOptions::Generator generator = GenerateOptions::Generator::Melody;  ///< which generator wrote it
    /// Piano: the performance (seconds, velocities); `melody` then holds the same notes (steps at 8 a second for the
    /// piano roll), `chords` is empty, `events` are the performance events and `key` the one it was conditioned on.
    std::vector<PerformanceNote> performance;
    std::vector<Note> melody;   ///< touched-up melody, channel 0 (steps, ticks at 480 per quarter, seconds at bpm)
    std::vector<Note> chords;   ///< one chord (four notes) per bar at most, channel 1
    double bpm = 120;           ///< T(arousal)
    float temperature = kPhotongTemperature;  ///< the decoder's temperature, as given or the default
    SamplingOptions sampling;   ///< the decoder's whole sampling rule (temperature, top_k, top_p) as used
    SongForm form;              ///< the song form used (empty: none)
    double valence = 0.5, arousal = 0.5;  ///< in [0, 1]; where each came from: valence_source / arousal_source
    bool colour_affect = false; ///< true when GenerateOptions::colour_affect was set
    /// Bridge: the learned bridge file; Colour: the Valdez–Mehrabian baseline; User: GenerateOptions::valence/arousal.
    enum class AffectSource { Bridge, Colour, User };
    AffectSource valence_source = AffectSource::Bridge, arousal_source = AffectSource::Bridge;
    Key key;                    ///< tonic = first note's pitch class; major iff valence >= 0.5
    Tensor latent;              ///< z (1, z_size), from the image -> latent map or the embedding bridge
    GenerateOptions::LatentSource latent_source = GenerateOptions::LatentSource::EmbeddingBridge;  ///< which one
    PictureAttributes picture;  ///< the picture's brightness and edge density (picture_attributes.hpp)
    std::vector<int> events;    ///< the chosen variation's decoder classes (0 hold, 1 off, 2.. pitches), 16 x 16 steps
    int chosen = 0;             ///< index of the chosen variation
    VariationMetrics metrics;   ///< the chosen variation's metrics (before the touch-up)
    std::vector<VariationMetrics> candidates;  ///< every variation's metrics, in variation order
    GenerateOptions::Rank rank = GenerateOptions::Rank::First;
    int steps_per_quarter = 4, steps_per_bar = 16, ticks_per_quarter = 480;

    /// SMF type 1: track 0 tempo (bpm), 4/4 and key signature; track 1 melody; track 2 chords (to_midi). Piano: one
    /// track at 120 bpm with the performance's own timing and velocities (performance_to_midi).
    MidiFile midi() const {
        if (generator == GenerateOptions::Generator::Piano) return performance_to_midi(performance, 0, 0);
        TouchedUpMelody t;
        t.melody = melody, t.chords = chords, t.key = key, t.bpm = bpm;
        t.steps_per_quarter = steps_per_quarter, t.steps_per_bar = steps_per_bar, t.ticks_per_quarter = ticks_per_quarter;
        return to_midi(t);
    }
};

namespace pipeline_detail {

inline void require_file(const std::string& path, const char* what) {
    require(!path.empty(), std::string("no path given for the ") + what + " weights", {"", what, "a .safetensors file", "(empty)"});
    std::ifstream f(path, std::ios::binary);
    require(f.good(), std::string("cannot open the ") + what + " weights", {path, what, "a readable .safetensors file", "missing or unreadable"});
}

inline int metadata_pitch(const SafetensorsFile& file, const std::string& key, int fallback) {
    const std::string text = file.metadata_or(key, "");
    if (text.empty()) return fallback;
    const bool digits = text.size() <= 3 && text.find_first_not_of("0123456789") == std::string::npos;
    const int v = digits ? std::stoi(text) : -1;
    require(digits && v >= 0 && v <= 127, "bad pitch in metadata", {file.path(), "__metadata__." + key, "0..127", text});
    return v;
}

/// verify_weights_checksum (core/sha256.hpp) for every given file but InceptionV3's (checked as its packed
/// cache is built: inception_load_options), when `w.verify_checksums`.
inline void verify_checksums(const PipelineWeights& w) {
    if (!w.verify_checksums) return;
    for (const std::string* p : {&w.embedding, &w.arousal, &w.valence, &w.melody, &w.latent_map, &w.piano})
        if (!p->empty() && std::ifstream(*p, std::ios::binary).good()) verify_weights_checksum(*p);
}

inline InceptionV3::LoadOptions inception_load_options(const PipelineWeights& w) {
    InceptionV3::LoadOptions o;
    o.cache_dir = w.packed_cache_dir;
    o.verify_checksum = w.verify_checksums;
    return o;
}

/// Runs f on a new thread (its result through the future), or later on the caller's thread where there are no
/// threads: WebAssembly built without pthreads, whose std::async(launch::async) never runs its task (it hung
/// the wasm command), or a system that refuses a new thread.
template <class F>
auto in_background(F f) -> std::future<decltype(f())> {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    return std::async(std::launch::deferred, std::move(f));
#else
    try {
        return std::async(std::launch::async, f);
    } catch (const std::system_error&) {
        return std::async(std::launch::deferred, std::move(f));
    }
#endif
}

/// NaN-safe "a beats b": NaN never wins.
inline bool better(double a, double b) { return !std::isnan(a) && (std::isnan(b) || a > b); }

inline double score(const VariationMetrics& m, GenerateOptions::Rank r) {
    switch (r) {
        case GenerateOptions::Rank::PitchEntropy: return m.pitch_entropy;
        case GenerateOptions::Rank::PitchClassEntropy: return m.pitch_class_entropy;
        case GenerateOptions::Rank::GrooveConsistency: return m.groove_consistency;
        case GenerateOptions::Rank::First: break;
    }
    return 0;
}

}  // namespace pipeline_detail

/// Runs the pipeline's two heavy stages elsewhere: kernels/pipeline_accelerator.hpp gives one over the kernel
/// backend (a GPU, or the host SIMT executor). An implementation must compute what InceptionV3::features(image)
/// and HierarchicalLstmDecoder::decode compute (to float rounding; the same events for the same Rng state), and
/// must serialise its own calls: Pipeline::generate may be called from several threads.
class PipelineAccelerator {
public:
    virtual ~PipelineAccelerator() = default;
    /// Where it runs, for messages ("CUDA", "host SIMT executor").
    virtual std::string name() const = 0;
    /// The decoded picture -> (1, 8, 8, 2048) mixed10 features, preprocessed as the InceptionV3 file says.
    virtual Tensor features(const Image& image) = 0;
    /// As HierarchicalLstmDecoder::decode(z, bars, steps_per_bar, sampling, rng, form).
    virtual DecodeResult decode(const Tensor& z, int bars, int steps_per_bar, const SamplingOptions& sampling, Rng* rng, const SongForm& form) = 0;
};

class Pipeline {
public:
    static constexpr int kBars = 16, kStepsPerBar = 16, kStepsPerQuarter = 4;
    static constexpr double kDecoderQpm = 120;  ///< the decoder's notes are at 120 qpm before the touch-up
    static constexpr int kVelocity = 100;

    /// Loads and checks every file once. Throws photong::Error (see the header comment). The other models load on a
    /// second thread while this one maps InceptionV3 (the largest) and then checks the other files' checksums; a
    /// checksum that does not match is the error reported, before anything a damaged file made its loader say.
    explicit Pipeline(const PipelineWeights& w)
        : Pipeline(w, (pipeline_detail::require_file(w.inception, "inception"), pipeline_detail::in_background([w] { return load_rest(w); }))) {}
    /// Runs every model on `pool` (default: default_thread_pool()). Call before sharing the Pipeline
    /// between threads; the pool must outlive the Pipeline's use.
    void use_thread_pool(ThreadPool& pool) {
        inception_.use_thread_pool(pool);
        models_.embedding->use_thread_pool(pool);
        if (models_.arousal) models_.arousal->use_thread_pool(pool);
        if (models_.valence) models_.valence->use_thread_pool(pool);
        models_.decoder->use_thread_pool(&pool);
    }

    /// Runs the features and the decode on `accelerator` (null: back on the CPU). The rest (bridges, latent
    /// placement, touch-up, MIDI) stays here. Call before sharing the Pipeline between threads.
    void use_accelerator(std::shared_ptr<PipelineAccelerator> accelerator) { accelerator_ = std::move(accelerator); }
    const PipelineAccelerator* accelerator() const { return accelerator_.get(); }

    /// What InceptionV3's packed-weights cache did while loading (mapped, built, rebuilt and why, off).
    const PackedCacheReport& inception_cache_report() const { return inception_.cache_report(); }

    /// True when a piano generator was loaded (GenerateOptions::Generator::Piano works).
    bool has_piano() const { return models_.piano != nullptr; }

    /// True when both the arousal and the valence bridges are loaded (generate() without colour_affect works).
    bool has_affect_bridges() const { return models_.arousal && models_.valence; }
    /// True when an image -> latent map was loaded (the default latent source then).
    bool has_latent_map() const { return bool(models_.latent_map); }
    std::int64_t z_size() const { return models_.decoder->z_size(); }
    /// The temperature used when GenerateOptions::temperature is unset (see recommended_temperature).
    float default_temperature() const { return models_.sampling.temperature; }
    /// The sampling used for what GenerateOptions leaves unset (recommended_sampling of the melody file).
    const SamplingOptions& default_sampling() const { return models_.sampling; }
    /// The song form used when GenerateOptions::form is unset (recommended_form of the melody file).
    const SongForm& default_form() const { return models_.form; }
    /// The sampling generate() uses for `options`: its fields where set, the melody file's defaults elsewhere.
    SamplingOptions sampling_for(const GenerateOptions& options) const {
        SamplingOptions s = models_.sampling;
        if (options.temperature) s.temperature = *options.temperature;
        if (options.top_k) s.top_k = *options.top_k;
        if (options.top_p) s.top_p = *options.top_p;
        return s;
    }
    const MelodyEncoding& encoding() const { return models_.encoding; }

    /// The whole pipeline on a decoded image. Deterministic for (image, weights, options); thread-safe.
    GenerateResult generate(const Image& image, const GenerateOptions& options = {}) const {
        check(options);
        auto stage = [&](const char* s) { if (options.progress) options.progress(s); };
        GenerateResult r;
        r.rank = options.rank;
        r.colour_affect = options.colour_affect;

        stage("features");
        const Tensor features = accelerator_ ? accelerator_->features(image) : inception_.features(image);
        for (std::size_t i = 0; i < features.size(); ++i)  // damaged weights show here first, not as a NaN tempo
            require(std::isfinite(features[i]), "InceptionV3 gave a non-finite feature: its weights file is damaged (or the picture is)",
                    {inception_path_, "mixed10", "finite values", std::to_string(features[i]) + " at index " + std::to_string(i)});

        stage("bridges");
        r.picture = picture_attributes(image);
        r.latent_source = options.latent_source.value_or(models_.latent_map ? GenerateOptions::LatentSource::Map : GenerateOptions::LatentSource::EmbeddingBridge);
        if (r.latent_source == GenerateOptions::LatentSource::Map)
            r.latent = models_.latent_map->latent(InceptionV3::pooled(features), r.picture);
        else
            r.latent = predict_latent(*models_.embedding, features);
        latent_brightness(r.latent, options.brightness);
        latent_contrast(r.latent, options.contrast);
        const std::vector<ColourFeatures> colour{colour_features(image)};
        const ValenceArousal vm = valdez_mehrabian(colour.front());
        auto affect = [&](const std::optional<double>& given, const std::unique_ptr<BridgeModel>& bridge, double baseline,
                          double& value, GenerateResult::AffectSource& source) {
            using S = GenerateResult::AffectSource;
            if (given) value = *given, source = S::User;
            else if (options.colour_affect) value = baseline, source = S::Colour;
            else value = predict_probability(*bridge, features, colour).at(0), source = S::Bridge;
            require(std::isfinite(value), "an affect bridge gave a non-finite value: its weights file is damaged",
                    {bridge ? bridge->path() : "", bridge ? bridge_kind_name(bridge->kind()) : "", "a number in [0, 1]", std::to_string(value)});
        };
        affect(options.arousal, models_.arousal, vm.arousal, r.arousal, r.arousal_source);
        affect(options.valence, models_.valence, vm.valence, r.valence, r.valence_source);

        if (options.generator == GenerateOptions::Generator::Piano) return generate_piano(features, options, std::move(r));

        stage("decode");
        const int K = options.variations;
        const std::int64_t Z = models_.decoder->z_size();
        Tensor batch({std::int64_t(K), Z});
        for (int k = 0; k < K; ++k) std::copy_n(r.latent.data(), Z, batch.data() + std::int64_t(k) * Z);
        Rng rng(options.seed);
        r.sampling = sampling_for(options);
        r.temperature = r.sampling.temperature;
        r.form = options.form.value_or(models_.form);
        const DecodeResult decoded = accelerator_ ? accelerator_->decode(batch, kBars, kStepsPerBar, r.sampling, &rng, r.form)
                                                  : models_.decoder->decode(batch, kBars, kStepsPerBar, r.sampling, &rng, r.form);

        MetricOptions mo;
        mo.steps_per_bar = kStepsPerBar;
        mo.num_bars = kBars;
        std::vector<std::vector<Note>> notes(static_cast<std::size_t>(K));
        for (int k = 0; k < K; ++k) {
            notes[std::size_t(k)] = melody_to_notes(decoded.events[std::size_t(k)], kDecoderQpm, kStepsPerQuarter, kVelocity, models_.encoding);
            const SymbolicMetrics s = symbolic_metrics(notes[std::size_t(k)], mo);
            VariationMetrics m;
            m.pitch_entropy = s.pitch_entropy, m.polyphony_rate = s.polyphony_rate, m.groove_consistency = s.groove_consistency;
            m.pitch_class_entropy = pitch_class_entropy(notes[std::size_t(k)]);
            r.candidates.push_back(m);
        }
        r.chosen = 0;
        if (options.rank != GenerateOptions::Rank::First)
            for (int k = 1; k < K; ++k)
                if (pipeline_detail::better(pipeline_detail::score(r.candidates[std::size_t(k)], options.rank),
                                            pipeline_detail::score(r.candidates[std::size_t(r.chosen)], options.rank)))
                    r.chosen = k;
        r.metrics = r.candidates[std::size_t(r.chosen)];
        r.events = decoded.events[std::size_t(r.chosen)];

        stage("touch-up");
        TouchUpOptions t;
        t.valence = r.valence, t.arousal = r.arousal, t.seed = options.seed;
        t.steps_per_quarter = kStepsPerQuarter, t.steps_per_bar = kStepsPerBar;
        t.min_pitch = models_.encoding.min_pitch, t.max_pitch = models_.encoding.max_pitch;
        const TouchedUpMelody tu = touch_up(notes[std::size_t(r.chosen)], t);
        r.melody = tu.melody, r.chords = tu.chords, r.key = tu.key, r.bpm = tu.bpm;
        r.steps_per_quarter = tu.steps_per_quarter, r.steps_per_bar = tu.steps_per_bar, r.ticks_per_quarter = tu.ticks_per_quarter;
        return r;
    }

    /// load_image(path) (stb_image, 3 channels), then generate.
    GenerateResult generate(const std::string& image_path, const GenerateOptions& options = {}) const {
        check(options);
        return generate(load_image(image_path), options);
    }

private:
    void check(const GenerateOptions& o) const {
        if (o.generator == GenerateOptions::Generator::Piano) {
            require(models_.piano != nullptr, "the piano generator needs its weights file (PipelineWeights::piano)",
                    {"", "piano", std::string(PipelineWeights::kPianoFile), "(none loaded)"});
            require(std::isfinite(o.seconds) && o.seconds >= 1 && o.seconds <= 600, "piano length must be 1..600 seconds",
                    {"", "seconds", "1..600", std::to_string(o.seconds)});
        }
        require(o.variations >= 1 && o.variations <= GenerateOptions::kMaxVariations, "variations out of range",
                {"", "GenerateOptions::variations", "1.." + std::to_string(GenerateOptions::kMaxVariations), std::to_string(o.variations)});
        require(!o.temperature || (std::isfinite(*o.temperature) && *o.temperature >= 0), "temperature must be a finite number >= 0",
                {"", "GenerateOptions::temperature", ">= 0", o.temperature ? std::to_string(*o.temperature) : ""});
        sampling_for(o).validate();
        check_slider(o.brightness, "GenerateOptions::brightness");
        check_slider(o.contrast, "GenerateOptions::contrast");
        if (o.form) o.form->sources(kBars);  // throws when its phrases do not divide the 16 bars
        check_affect(o.valence, "GenerateOptions::valence");
        check_affect(o.arousal, "GenerateOptions::arousal");
        const bool need_arousal = !o.colour_affect && !o.arousal, need_valence = !o.colour_affect && !o.valence;
        require((models_.arousal || !need_arousal) && (models_.valence || !need_valence),
                "no arousal/valence bridges were loaded: give their files, set colour_affect (the colour baseline) or give the value",
                {"", models_.arousal || !need_arousal ? "valence" : "arousal", "a loaded bridge, colour_affect or GenerateOptions::"
                 + std::string(models_.arousal || !need_arousal ? "valence" : "arousal"), "(none)"});
        require(o.latent_source != GenerateOptions::LatentSource::Map || models_.latent_map,
                "no image latent map was loaded: give PipelineWeights::latent_map or use the embedding bridge",
                {"", "GenerateOptions::latent_source", "a loaded image_latent_map.safetensors", "(none)"});
    }

    static void check_affect(const std::optional<double>& v, const char* name) {
        require(!v || (std::isfinite(*v) && *v >= 0 && *v <= 1), "valence and arousal must be in [0, 1]",
                {"", name, "0..1", v ? std::to_string(*v) : ""});
    }

    static std::unique_ptr<BridgeModel> load_bridge(const std::string& path, BridgeKind want) {
        pipeline_detail::require_file(path, bridge_kind_name(want));
        auto m = std::make_unique<BridgeModel>(path);
        require(m->kind() == want, "bridge weight file is for another bridge", {path, "__metadata__.bridge", bridge_kind_name(want), bridge_kind_name(m->kind())});
        require(m->input_shape()[2] == InceptionV3::kFeatureChannels, "the bridge does not take InceptionV3's feature map",
                {path, "__metadata__.input_shape", "[h, w, 2048]", shape_to_string(m->input_shape())});
        if (want != BridgeKind::Embedding) {
            const bool ok = (m->output_size() == 1 && m->output_activation() == Activation::Sigmoid) ||
                            (m->output_size() == 2 && m->output_activation() == Activation::Softmax);
            require(ok, "a probability bridge must end in sigmoid (1 output) or softmax (2 outputs)",
                    {path, "output", "sigmoid x 1 or softmax x 2", std::to_string(m->output_size()) + " outputs"});
        }
        return m;
    }

    static std::unique_ptr<HierarchicalLstmDecoder> load_decoder(const std::string& path, MelodyEncoding& enc, SamplingOptions& sampling,
                                                                 SongForm& form, std::string& steps_trained) {
        pipeline_detail::require_file(path, "melody");
        const SafetensorsFile file(path);
        const std::string key = "decoder/hierarchical_level_0/initial_state/kernel";
        require(file.contains(key), "the melody weights are not a MusicVAE hierarchical decoder", {path, key, "present", "(none)"});
        enc.min_pitch = pipeline_detail::metadata_pitch(file, "converter_minPitch", enc.min_pitch);
        enc.max_pitch = pipeline_detail::metadata_pitch(file, "converter_maxPitch", enc.max_pitch);
        enc.validate();
        sampling = recommended_sampling(file);
        form = recommended_form(file);
        form.sources(kBars);  // a file's form must fit the pipeline's 16 bars
        steps_trained = file.metadata_or("steps_trained", "");  // which model an image latent map must be fitted for
        auto d = std::make_unique<HierarchicalLstmDecoder>(file);
        require(d->classes() == enc.num_classes(), "the decoder's event classes do not match the melody encoding",
                {path, "core_decoder/decoder/output_projection/kernel", std::to_string(enc.num_classes()), std::to_string(d->classes())});
        return d;
    }

    /// Every model but InceptionV3 (loaded on a second thread by load_rest and checked against each other).
    struct Rest {
        std::unique_ptr<BridgeModel> embedding;
        std::unique_ptr<BridgeModel> arousal, valence;  // null when not given (colour_affect only)
        std::unique_ptr<ImageLatentMap> latent_map;     // null when not given (the embedding bridge places z)
        MelodyEncoding encoding;                        // these four come from the melody file's metadata
        SamplingOptions sampling;
        SongForm form;
        std::string melody_steps_trained;  ///< "" when absent
        std::unique_ptr<HierarchicalLstmDecoder> decoder;
        std::unique_ptr<PerformanceRnn> piano;  // null when no piano file was given
        SamplingOptions piano_sampling;
    };

    static Rest load_rest(const PipelineWeights& w) {
        Rest r;
        r.embedding = load_bridge(w.embedding, BridgeKind::Embedding);
        r.decoder = load_decoder(w.melody, r.encoding, r.sampling, r.form, r.melody_steps_trained);
        require(r.embedding->output_size() == r.decoder->z_size(), "the embedding bridge's output is not the melody decoder's latent size",
                {w.embedding, "output", std::to_string(r.decoder->z_size()) + " (z of " + w.melody + ")", std::to_string(r.embedding->output_size())});
        if (!w.piano.empty()) {
            pipeline_detail::require_file(w.piano, "piano generator");
            const SafetensorsFile file(w.piano);
            r.piano = std::make_unique<PerformanceRnn>(file);
            require(r.piano->image_size() == InceptionV3::kFeatureChannels, "the piano generator does not take InceptionV3's pooled features",
                    {w.piano, "init/weight", "units x 2048", std::to_string(r.piano->image_size()) + " columns"});
            r.piano_sampling = recommended_sampling(file, 1.0f);
        }
        if (!w.arousal.empty()) r.arousal = load_bridge(w.arousal, BridgeKind::Arousal);
        if (!w.valence.empty()) r.valence = load_bridge(w.valence, BridgeKind::Valence);
        if (!w.latent_map.empty()) {
            pipeline_detail::require_file(w.latent_map, "image latent map");
            r.latent_map = std::make_unique<ImageLatentMap>(w.latent_map);
            require(r.latent_map->z_size() == r.decoder->z_size(), "the image latent map's z is not the melody decoder's latent size",
                    {w.latent_map, "spread", std::to_string(r.decoder->z_size()) + " rows (z of " + w.melody + ")", std::to_string(r.latent_map->z_size())});
            // The attribute directions belong to one melody model's encoder: a retrained model needs a refitted map.
            const std::string& fitted_for = r.latent_map->melody_steps_trained();
            require(fitted_for.empty() || r.melody_steps_trained.empty() || fitted_for == r.melody_steps_trained,
                    "the image latent map was fitted for another melody model: rerun tools/fit_image_latent_map.py (weights/BRIDGES.md)",
                    {w.latent_map, "__metadata__.melody_steps_trained", r.melody_steps_trained + " (" + w.melody + ")", fitted_for});
        }
        return r;
    }

    Pipeline(const PipelineWeights& w, std::future<Rest> rest) : inception_(w.inception, pipeline_detail::inception_load_options(w)) {
        inception_path_ = w.inception;
        std::exception_ptr damaged;
        try {
            pipeline_detail::verify_checksums(w);
        } catch (...) {
            damaged = std::current_exception();
        }
        try {
            models_ = rest.get();
        } catch (...) {
            if (damaged) std::rethrow_exception(damaged);
            throw;
        }
        if (damaged) std::rethrow_exception(damaged);
    }

    InceptionV3 inception_;
    std::string inception_path_;
    Rest models_;
    std::shared_ptr<PipelineAccelerator> accelerator_;  // null: every stage on the CPU

    /// The piano generator's share of generate(): conditions from the picture (piano_generator.hpp), one piece of
    /// options.seconds, sampled with Rng(options.seed) (the file's recommended sampling for what options leave unset).
    GenerateResult generate_piano(const Tensor& features, const GenerateOptions& options, GenerateResult r) const {
        if (options.progress) options.progress("decode");
        const PianoPlan plan = piano_plan(r.valence, r.arousal, r.picture);
        r.generator = GenerateOptions::Generator::Piano;
        r.key = plan.key;
        r.bpm = 120;
        r.sampling = models_.piano_sampling;
        if (options.temperature) r.sampling.temperature = *options.temperature;
        if (options.top_k) r.sampling.top_k = *options.top_k;
        if (options.top_p) r.sampling.top_p = *options.top_p;
        r.temperature = r.sampling.temperature;
        Rng rng(options.seed);
        const std::vector<std::vector<int>> events =
            models_.piano->generate(InceptionV3::pooled(features), plan.conditions, piano_steps_for(options.seconds), r.sampling, &rng);
        r.events = events.front();
        r.performance = cut_performance(models_.piano->encoding().decode(r.events), options.seconds);
        r.melody = performance_as_notes(r.performance);
        MetricOptions mo;
        mo.steps_per_bar = 16;
        const SymbolicMetrics m = symbolic_metrics(r.melody, mo);
        r.metrics.pitch_entropy = m.pitch_entropy, r.metrics.polyphony_rate = m.polyphony_rate, r.metrics.groove_consistency = m.groove_consistency;
        r.metrics.pitch_class_entropy = pitch_class_entropy(r.melody);
        r.candidates = {r.metrics};
        return r;
    }
};

}  // namespace photong
