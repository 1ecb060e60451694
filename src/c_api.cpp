// src/c_api.cpp — photong's C interface (include/photong/c_api.h) over photong::Pipeline.
//
// Every entry point runs its body through `guarded`, which turns each C++ exception into a status and a
// thread-local message, so nothing is thrown across the C boundary. Results are built completely before their
// handle is handed out: a failed call returns no half-filled object.
#include "photong/c_api.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/image/decode.hpp"
#include "photong/music/midi.hpp"
#include "photong/pipeline.hpp"
#include "photong/result_json.hpp"

struct photong_pipeline {
    std::unique_ptr<photong::ThreadPool> pool;  // before the pipeline: it must outlive the models that use it
    std::unique_ptr<photong::Pipeline> pipeline;
};

struct photong_options {
    photong::GenerateOptions options;
    photong_progress_fn progress = nullptr;
    void* progress_user_data = nullptr;
};

struct photong_result {
    photong::GenerateResult result;
    std::vector<photong_note> melody, chords;
    std::vector<unsigned char> midi;
    std::string key_name, json;
};

namespace {

thread_local std::string last_error;

photong_status fail(photong_status status, const std::string& message) {
    last_error = message;
    return status;
}

/// Runs `body` (which returns a status) and maps every exception to a status and last_error.
template <class Body>
photong_status guarded(Body&& body) noexcept {
    try {
        return body();
    } catch (const photong::Error& e) {
        return fail(PHOTONG_ERROR_FAILED, e.what());
    } catch (const std::bad_alloc&) {
        return fail(PHOTONG_ERROR_OUT_OF_MEMORY, "photong: out of memory");
    } catch (const std::exception& e) {
        return fail(PHOTONG_ERROR_INTERNAL, std::string("photong: internal error: ") + e.what());
    } catch (...) {
        return fail(PHOTONG_ERROR_INTERNAL, "photong: internal error (unknown exception)");
    }
}

photong_status invalid(const std::string& message) { return fail(PHOTONG_ERROR_INVALID_ARGUMENT, "photong: " + message); }

photong_note to_c_note(const photong::Note& n) {
    photong_note c{};
    c.pitch = n.pitch, c.velocity = n.velocity, c.channel = n.channel;
    c.start_step = n.start_step, c.end_step = n.end_step;
    c.start_s = n.start_s, c.end_s = n.end_s;
    return c;
}

/// The whole generate behind the three photong_generate_* entry points: a decoded image in, a finished result out.
photong_status generate_image(const photong_pipeline* p, const photong::Image& image, const photong_options* o, photong_result** out) {
    photong::GenerateOptions options = o ? o->options : photong::GenerateOptions{};
    if (o && o->progress) {
        const photong_progress_fn fn = o->progress;
        void* user = o->progress_user_data;
        options.progress = [fn, user](const char* stage) { fn(stage, user); };
    }
    auto r = std::make_unique<photong_result>();
    r->result = p->pipeline->generate(image, options);
    for (const photong::Note& n : r->result.melody) r->melody.push_back(to_c_note(n));
    for (const photong::Note& n : r->result.chords) r->chords.push_back(to_c_note(n));
    r->midi = photong::encode_midi(r->result.midi());
    r->key_name = photong::key_name(r->result.key);
    r->json = photong::result_to_json(r->result, options).dump();
    *out = r.release();
    return PHOTONG_OK;
}

/// The checks every generate entry point shares; on failure *out stays NULL.
photong_status check_generate_args(const photong_pipeline* p, photong_result** out) {
    if (!out) return invalid("the result pointer (out) is NULL");
    *out = nullptr;
    if (!p || !p->pipeline) return invalid("the pipeline is NULL");
    return PHOTONG_OK;
}

template <class Setter>
photong_status set_option(photong_options* o, Setter&& set) {
    if (!o) return invalid("the options handle is NULL");
    return guarded([&] { return set(o->options); });
}

}  // namespace

extern "C" {

const char* photong_last_error(void) { return last_error.c_str(); }

const char* photong_version(void) { return "photong 0.1.0"; }

photong_status photong_pipeline_create(const char* weights_dir, int verify_checksums, int threads, photong_pipeline** out) {
    if (!out) return invalid("the pipeline pointer (out) is NULL");
    *out = nullptr;
    if (!weights_dir) return invalid("weights_dir is NULL");
    if (threads < 0 || threads > 1023) return invalid("threads must be 0..1023, got " + std::to_string(threads));
    return guarded([&] {
        photong::PipelineWeights w = photong::PipelineWeights::in_directory(weights_dir);
        w.verify_checksums = verify_checksums != 0;
        w.skip_missing_affect_bridges();
        auto p = std::make_unique<photong_pipeline>();
        p->pipeline = std::make_unique<photong::Pipeline>(w);
        if (threads > 0) {
            p->pool = std::make_unique<photong::ThreadPool>(unsigned(threads));
            p->pipeline->use_thread_pool(*p->pool);
        }
        *out = p.release();
        return PHOTONG_OK;
    });
}

void photong_pipeline_destroy(photong_pipeline* pipeline) { delete pipeline; }  // the models first, then their pool (member order)

int photong_pipeline_has_piano(const photong_pipeline* p) { return p && p->pipeline && p->pipeline->has_piano() ? 1 : 0; }
int photong_pipeline_has_affect_bridges(const photong_pipeline* p) { return p && p->pipeline && p->pipeline->has_affect_bridges() ? 1 : 0; }

photong_options* photong_options_create(void) { return new (std::nothrow) photong_options(); }
void photong_options_destroy(photong_options* options) { delete options; }

photong_status photong_options_set_seed(photong_options* o, uint64_t seed) {
    return set_option(o, [&](photong::GenerateOptions& g) { return g.seed = seed, PHOTONG_OK; });
}

photong_status photong_options_set_temperature(photong_options* o, float t) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (!std::isfinite(t) || t < 0) return invalid("temperature must be a finite number >= 0, got " + std::to_string(t));
        return g.temperature = t, PHOTONG_OK;
    });
}

photong_status photong_options_set_top_k(photong_options* o, int k) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (k < 0) return invalid("top_k must be >= 0 (0: all events), got " + std::to_string(k));
        return g.top_k = k, PHOTONG_OK;
    });
}

photong_status photong_options_set_top_p(photong_options* o, float p) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (!(p > 0 && p <= 1)) return invalid("top_p must be in (0, 1], got " + std::to_string(p));
        return g.top_p = p, PHOTONG_OK;
    });
}

photong_status photong_options_set_form(photong_options* o, const char* form) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (!form) return invalid("form is NULL (use \"none\" for no song form)");
        photong::SongForm f;
        try {
            f = photong::SongForm::parse(form);
            f.sources(photong::Pipeline::kBars);
        } catch (const photong::Error& e) {
            return invalid(std::string("form must be none or 1, 2, 4, 8 or 16 phrase letters A-Z (e.g. AABA, ABAB!), got '") + form + "': " + e.what());
        }
        return g.form = f, PHOTONG_OK;
    });
}

photong_status photong_options_set_variations(photong_options* o, int k) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (k < 1 || k > photong::GenerateOptions::kMaxVariations)
            return invalid("variations must be 1.." + std::to_string(photong::GenerateOptions::kMaxVariations) + ", got " + std::to_string(k));
        return g.variations = k, PHOTONG_OK;
    });
}

photong_status photong_options_set_rank(photong_options* o, photong_rank rank) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        using R = photong::GenerateOptions::Rank;
        switch (rank) {
            case PHOTONG_RANK_FIRST: g.rank = R::First; return PHOTONG_OK;
            case PHOTONG_RANK_PITCH_ENTROPY: g.rank = R::PitchEntropy; return PHOTONG_OK;
            case PHOTONG_RANK_PITCH_CLASS_ENTROPY: g.rank = R::PitchClassEntropy; return PHOTONG_OK;
            case PHOTONG_RANK_GROOVE_CONSISTENCY: g.rank = R::GrooveConsistency; return PHOTONG_OK;
        }
        return invalid("rank must be a photong_rank value 0..3, got " + std::to_string(int(rank)));
    });
}

photong_status photong_options_set_latent_source(photong_options* o, photong_latent_source source) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        using L = photong::GenerateOptions::LatentSource;
        switch (source) {
            case PHOTONG_LATENT_DEFAULT: g.latent_source.reset(); return PHOTONG_OK;
            case PHOTONG_LATENT_MAP: g.latent_source = L::Map; return PHOTONG_OK;
            case PHOTONG_LATENT_EMBEDDING_BRIDGE: g.latent_source = L::EmbeddingBridge; return PHOTONG_OK;
        }
        return invalid("latent source must be a photong_latent_source value 0..2, got " + std::to_string(int(source)));
    });
}

photong_status photong_options_set_sliders(photong_options* o, float brightness, float contrast) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        for (float v : {brightness, contrast})
            if (!(v >= -1 && v <= 1)) return invalid("brightness and contrast must be in [-1, 1], got " + std::to_string(v));
        return g.brightness = brightness, g.contrast = contrast, PHOTONG_OK;
    });
}

photong_status photong_options_set_colour_affect(photong_options* o, int on) {
    return set_option(o, [&](photong::GenerateOptions& g) { return g.colour_affect = on != 0, PHOTONG_OK; });
}

namespace {
photong_status set_affect(photong_options* o, double v, std::optional<double> photong::GenerateOptions::*field, const char* name) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (std::isfinite(v) && v < 0) return (g.*field).reset(), PHOTONG_OK;
        if (!(v >= 0 && v <= 1)) return invalid(std::string(name) + " must be in [0, 1] (or negative for the picture's own), got " + std::to_string(v));
        return g.*field = v, PHOTONG_OK;
    });
}
}  // namespace

photong_status photong_options_set_valence(photong_options* o, double v) { return set_affect(o, v, &photong::GenerateOptions::valence, "valence"); }
photong_status photong_options_set_arousal(photong_options* o, double v) { return set_affect(o, v, &photong::GenerateOptions::arousal, "arousal"); }

photong_status photong_options_set_generator(photong_options* o, photong_generator generator) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        using G = photong::GenerateOptions::Generator;
        switch (generator) {
            case PHOTONG_GENERATOR_MELODY: g.generator = G::Melody; return PHOTONG_OK;
            case PHOTONG_GENERATOR_PIANO: g.generator = G::Piano; return PHOTONG_OK;
        }
        return invalid("generator must be PHOTONG_GENERATOR_MELODY or PHOTONG_GENERATOR_PIANO, got " + std::to_string(int(generator)));
    });
}

photong_status photong_options_set_seconds(photong_options* o, double seconds) {
    return set_option(o, [&](photong::GenerateOptions& g) {
        if (!(seconds >= 1 && seconds <= 600)) return invalid("seconds must be in 1..600, got " + std::to_string(seconds));
        return g.seconds = seconds, PHOTONG_OK;
    });
}

photong_status photong_options_set_progress(photong_options* o, photong_progress_fn fn, void* user_data) {
    if (!o) return invalid("the options handle is NULL");
    o->progress = fn, o->progress_user_data = user_data;
    return PHOTONG_OK;
}

photong_status photong_generate_file(const photong_pipeline* p, const char* image_path, const photong_options* o, photong_result** out) {
    if (photong_status s = check_generate_args(p, out)) return s;
    if (!image_path) return invalid("image_path is NULL");
    return guarded([&] { return generate_image(p, photong::load_image(image_path), o, out); });
}

photong_status photong_generate_encoded(const photong_pipeline* p, const unsigned char* bytes, size_t size, const photong_options* o,
                                        photong_result** out) {
    if (photong_status s = check_generate_args(p, out)) return s;
    if (!bytes || size == 0) return invalid("the encoded picture is empty (bytes NULL or size 0)");
    return guarded([&] { return generate_image(p, photong::decode_image(bytes, size, "<memory>"), o, out); });
}

photong_status photong_generate_pixels(const photong_pipeline* p, const unsigned char* pixels, int width, int height, int channels,
                                       size_t row_stride, const photong_options* o, photong_result** out) {
    if (photong_status s = check_generate_args(p, out)) return s;
    if (!pixels) return invalid("pixels is NULL");
    if (width < 1 || height < 1 || std::int64_t(width) * height > (std::int64_t(1) << 26))
        return invalid("picture size must be at least 1x1 and at most 2^26 pixels, got " + std::to_string(width) + "x" + std::to_string(height));
    if (channels != 1 && channels != 3 && channels != 4) return invalid("channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got " + std::to_string(channels));
    const size_t row_bytes = size_t(width) * size_t(channels);
    if (row_stride == 0) row_stride = row_bytes;
    if (row_stride < row_bytes) return invalid("row_stride " + std::to_string(row_stride) + " is less than width * channels = " + std::to_string(row_bytes));
    return guarded([&] {
        return generate_image(p, photong::image_from_pixels(pixels, width, height, channels, std::ptrdiff_t(row_stride), channels, 1), o, out);
    });
}

void photong_result_destroy(photong_result* r) { delete r; }

double photong_result_bpm(const photong_result* r) { return r ? r->result.bpm : 0; }
int photong_result_key_tonic(const photong_result* r) { return r ? r->result.key.tonic_pitch_class : 0; }
int photong_result_key_major(const photong_result* r) { return r && r->result.key.major ? 1 : 0; }
const char* photong_result_key_name(const photong_result* r) { return r ? r->key_name.c_str() : ""; }
double photong_result_valence(const photong_result* r) { return r ? r->result.valence : 0; }
double photong_result_arousal(const photong_result* r) { return r ? r->result.arousal : 0; }

namespace {
const photong_note* notes_of(const std::vector<photong_note>* notes, size_t* count) {
    if (count) *count = notes ? notes->size() : 0;
    return notes && !notes->empty() ? notes->data() : nullptr;
}
}  // namespace

const photong_note* photong_result_melody(const photong_result* r, size_t* count) { return notes_of(r ? &r->melody : nullptr, count); }
const photong_note* photong_result_chords(const photong_result* r, size_t* count) { return notes_of(r ? &r->chords : nullptr, count); }

const float* photong_result_latent(const photong_result* r, size_t* size) {
    if (size) *size = r ? r->result.latent.size() : 0;
    return r && r->result.latent.size() ? r->result.latent.data() : nullptr;
}

const unsigned char* photong_result_midi(const photong_result* r, size_t* size) {
    if (size) *size = r ? r->midi.size() : 0;
    return r && !r->midi.empty() ? r->midi.data() : nullptr;
}

const char* photong_result_json(const photong_result* r) { return r ? r->json.c_str() : "{}"; }

}  // extern "C"
