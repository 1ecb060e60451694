/* photong/c_api.h — photong's C interface: a picture in, a melody (notes, tempo, key, latent code, MIDI bytes) out.
 *
 * For C programs, other languages' foreign-function interfaces, and the WebAssembly module (web/). It wraps
 * photong::Pipeline (pipeline.hpp); the implementation is src/c_api.cpp, built by CMake as the library
 * photong_c (static and shared).
 *
 * Conventions
 *   - Every object is an opaque handle made by a *_create function or by photong_generate_*, and released by its
 *     *_destroy function (which accepts NULL). Nothing else is ever freed by the caller.
 *   - Functions that can fail return a photong_status. On failure the message (the file, the tensor, what was
 *     expected and what was found, as photong::Error composes it) is kept for the calling thread and read with
 *     photong_last_error(); output pointers are left NULL. No C++ exception ever crosses this interface, and
 *     nothing is written half-way: a failed generate returns no result at all.
 *   - Pointers returned by photong_result_* accessors belong to the result and stay valid until
 *     photong_result_destroy. Strings are UTF-8 and NUL-terminated.
 *   - Threads: a pipeline is immutable after photong_pipeline_create; photong_generate_* may be called on one
 *     pipeline from several threads at once (each with its own options or with a shared, unchanged one).
 *     An options object must not be changed while a generate that uses it runs.
 *   - Determinism: the same picture, weights and options give the same result, bytes for bytes, on every platform.
 */
#ifndef PHOTONG_C_API_H
#define PHOTONG_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(PHOTONG_C_BUILDING_DLL)
#define PHOTONG_C_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define PHOTONG_C_EXPORT __attribute__((visibility("default")))
#else
#define PHOTONG_C_EXPORT
#endif

/** What a call did. PHOTONG_OK is 0; every other value is a failure, explained by photong_last_error(). */
typedef enum photong_status {
    PHOTONG_OK = 0,
    PHOTONG_ERROR_INVALID_ARGUMENT = 1, /**< a NULL handle, an option out of range, a bad form or name */
    PHOTONG_ERROR_FAILED = 2,           /**< photong refused or could not do it: unreadable image, missing or damaged weights */
    PHOTONG_ERROR_OUT_OF_MEMORY = 3,
    PHOTONG_ERROR_INTERNAL = 4          /**< any other exception inside photong (a bug: please report it) */
} photong_status;

/** The last failure's message on this thread ("" when none yet). Valid until this thread's next photong call. */
PHOTONG_C_EXPORT const char* photong_last_error(void);

/** "photong 0.1.0": the library version. Static storage. */
PHOTONG_C_EXPORT const char* photong_version(void);

/* ---- Pipeline ------------------------------------------------------------------------------------------------- */

typedef struct photong_pipeline photong_pipeline;

/** Loads every weight file from `weights_dir` under its fixed name (inception_v3.safetensors, bridge_*.safetensors,
 *  hierdec_mel16_photong.safetensors, and image_latent_map / piano_performance_rnn when present), each checked
 *  against NAME.sha256 beside it where there is one unless `verify_checksums` is 0. Missing affect bridges are
 *  allowed (then give arousal/valence or colour_affect in the options). `threads`: worker threads including the
 *  caller, 0 = PHOTONG_NUM_THREADS or all cores. */
PHOTONG_C_EXPORT photong_status photong_pipeline_create(const char* weights_dir, int verify_checksums, int threads, photong_pipeline** out);
PHOTONG_C_EXPORT void photong_pipeline_destroy(photong_pipeline* pipeline);
/** 1 when the piano generator's weights were found (photong_options_set_generator(o, PHOTONG_GENERATOR_PIANO) works). */
PHOTONG_C_EXPORT int photong_pipeline_has_piano(const photong_pipeline* pipeline);
/** 1 when both affect bridges were found (a generate without arousal/valence/colour_affect works). */
PHOTONG_C_EXPORT int photong_pipeline_has_affect_bridges(const photong_pipeline* pipeline);

/* ---- Options (photong::GenerateOptions) ------------------------------------------------------------------------ */

typedef struct photong_options photong_options;

typedef enum photong_generator { PHOTONG_GENERATOR_MELODY = 0, PHOTONG_GENERATOR_PIANO = 1 } photong_generator;
typedef enum photong_rank {
    PHOTONG_RANK_FIRST = 0,
    PHOTONG_RANK_PITCH_ENTROPY = 1,
    PHOTONG_RANK_PITCH_CLASS_ENTROPY = 2,
    PHOTONG_RANK_GROOVE_CONSISTENCY = 3
} photong_rank;
typedef enum photong_latent_source {
    PHOTONG_LATENT_DEFAULT = 0, /**< the image latent map when loaded, else the embedding bridge */
    PHOTONG_LATENT_MAP = 1,
    PHOTONG_LATENT_EMBEDDING_BRIDGE = 2
} photong_latent_source;

/** Called with a stage name ("features", "bridges", "decode", "touch-up") as each begins, on the generating thread. */
typedef void (*photong_progress_fn)(const char* stage, void* user_data);

/** Options with every field at its default (seed 0, the melody model's own sampling and form, 1 variation,
 *  the picture's own affect, the melody generator). NULL only when out of memory. */
PHOTONG_C_EXPORT photong_options* photong_options_create(void);
PHOTONG_C_EXPORT void photong_options_destroy(photong_options* options);

/* Setters. Each checks its own range at once (PHOTONG_ERROR_INVALID_ARGUMENT, options unchanged). */
PHOTONG_C_EXPORT photong_status photong_options_set_seed(photong_options* o, uint64_t seed);
PHOTONG_C_EXPORT photong_status photong_options_set_temperature(photong_options* o, float temperature); /**< >= 0; 0 greedy */
PHOTONG_C_EXPORT photong_status photong_options_set_top_k(photong_options* o, int top_k);               /**< >= 0; 0 all */
PHOTONG_C_EXPORT photong_status photong_options_set_top_p(photong_options* o, float top_p);             /**< (0, 1] */
/** "AABA", "ABAB!", ... or "none" (song_form.hpp). */
PHOTONG_C_EXPORT photong_status photong_options_set_form(photong_options* o, const char* form);
PHOTONG_C_EXPORT photong_status photong_options_set_variations(photong_options* o, int variations); /**< 1..256 */
PHOTONG_C_EXPORT photong_status photong_options_set_rank(photong_options* o, photong_rank rank);
PHOTONG_C_EXPORT photong_status photong_options_set_latent_source(photong_options* o, photong_latent_source source);
/** Vis2Mus's brightness and contrast sliders on the latent code, each in [-1, 1]. */
PHOTONG_C_EXPORT photong_status photong_options_set_sliders(photong_options* o, float brightness, float contrast);
/** Arousal and valence from the picture's colours instead of the learned bridges (0 or 1). */
PHOTONG_C_EXPORT photong_status photong_options_set_colour_affect(photong_options* o, int on);
/** Your own valence / arousal in [0, 1]; a negative value returns to the picture's own. */
PHOTONG_C_EXPORT photong_status photong_options_set_valence(photong_options* o, double valence);
PHOTONG_C_EXPORT photong_status photong_options_set_arousal(photong_options* o, double arousal);
PHOTONG_C_EXPORT photong_status photong_options_set_generator(photong_options* o, photong_generator generator);
/** Piano only: the piece's length, 1..600 seconds (default 20). */
PHOTONG_C_EXPORT photong_status photong_options_set_seconds(photong_options* o, double seconds);
/** `fn` (or NULL for none) is called with `user_data` as each stage begins. */
PHOTONG_C_EXPORT photong_status photong_options_set_progress(photong_options* o, photong_progress_fn fn, void* user_data);

/* ---- Generating ------------------------------------------------------------------------------------------------ */

typedef struct photong_result photong_result;

/** The picture at `image_path` (JPEG, PNG, BMP, GIF, TGA, PSD, HDR, PNM). `options` may be NULL (defaults). */
PHOTONG_C_EXPORT photong_status photong_generate_file(const photong_pipeline* pipeline, const char* image_path, const photong_options* options,
                                                      photong_result** out);
/** An encoded picture in memory (the bytes of a JPEG or PNG file, say). */
PHOTONG_C_EXPORT photong_status photong_generate_encoded(const photong_pipeline* pipeline, const unsigned char* bytes, size_t size,
                                                         const photong_options* options, photong_result** out);
/** Decoded pixels: `height` rows of `width` pixels, `channels` interleaved bytes each (3 = RGB, 4 = RGBA: alpha is
 *  ignored, 1 = grey), `row_stride` bytes from one row to the next (0 = width * channels). */
PHOTONG_C_EXPORT photong_status photong_generate_pixels(const photong_pipeline* pipeline, const unsigned char* pixels, int width, int height,
                                                        int channels, size_t row_stride, const photong_options* options, photong_result** out);

/* ---- Results ----------------------------------------------------------------------------------------------------- */

/** One note. Melody notes are on channel 0, chord notes on channel 1; the piano generator's notes on channel 0. */
typedef struct photong_note {
    int32_t pitch;           /**< MIDI pitch 0..127 */
    int32_t velocity;        /**< 1..127 */
    int32_t channel;         /**< MIDI channel */
    int32_t reserved;        /**< 0 (keeps the doubles aligned on every ABI) */
    int64_t start_step, end_step; /**< 16th-note steps (piano: steps of 1/8 s); end exclusive */
    double start_s, end_s;   /**< seconds from the start, at the result's tempo */
} photong_note;

PHOTONG_C_EXPORT void photong_result_destroy(photong_result* result);

PHOTONG_C_EXPORT double photong_result_bpm(const photong_result* r);
/** The key's tonic pitch class 0..11 (0 = C) and 1 for major, 0 for minor. */
PHOTONG_C_EXPORT int photong_result_key_tonic(const photong_result* r);
PHOTONG_C_EXPORT int photong_result_key_major(const photong_result* r);
/** "A major", "C# minor". */
PHOTONG_C_EXPORT const char* photong_result_key_name(const photong_result* r);
PHOTONG_C_EXPORT double photong_result_valence(const photong_result* r);
PHOTONG_C_EXPORT double photong_result_arousal(const photong_result* r);
/** The melody (or the piano's notes): `*count` notes, or NULL with *count 0 when there are none. */
PHOTONG_C_EXPORT const photong_note* photong_result_melody(const photong_result* r, size_t* count);
/** The chords (none for the piano generator). */
PHOTONG_C_EXPORT const photong_note* photong_result_chords(const photong_result* r, size_t* count);
/** The latent code z the picture placed (`*size` floats). */
PHOTONG_C_EXPORT const float* photong_result_latent(const photong_result* r, size_t* size);
/** The Standard MIDI File, exactly the bytes the `photong` command writes for the same picture and options. */
PHOTONG_C_EXPORT const unsigned char* photong_result_midi(const photong_result* r, size_t* size);
/** Everything as one JSON object: the fields of `photong --json` (tempo, key, affect, sampling, form, latent,
 *  picture attributes, metrics, melody, chords) without its file names. */
PHOTONG_C_EXPORT const char* photong_result_json(const photong_result* r);

#ifdef __cplusplus
}
#endif

#endif /* PHOTONG_C_API_H */
