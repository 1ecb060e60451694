/* test_c_api.c — the C interface from C99: ownership, error codes and messages, option ranges, and that the three
 * ways in (file, encoded bytes, pixels) and the `photong` command agree byte for byte.
 *
 *   test_c_api WEIGHTS_DIR IMAGE.png CLI_SEED1.mid
 *
 * CLI_SEED1.mid is what `photong IMAGE.png --seed 1` wrote (tests/c_api/run.sh makes it): the independent
 * reference for the MIDI bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photong/c_api.h"

static int failures = 0, checks = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        ++checks;                                                                    \
        if (!(cond)) {                                                               \
            ++failures;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

static int contains(const char* text, const char* part) { return text && strstr(text, part) != NULL; }

static unsigned char* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    unsigned char* data = NULL;
    long n = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = (unsigned char*)malloc((size_t)n);
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    *size = data ? (size_t)n : 0;
    return data;
}

static int same_midi(const photong_result* a, const photong_result* b) {
    size_t na = 0, nb = 0;
    const unsigned char* pa = photong_result_midi(a, &na);
    const unsigned char* pb = photong_result_midi(b, &nb);
    return pa && pb && na == nb && memcmp(pa, pb, na) == 0;
}

static int stages_seen = 0;
static void count_stage(const char* stage, void* user_data) {
    CHECK(stage != NULL && stage[0] != '\0');
    CHECK(user_data == &stages_seen);
    ++stages_seen;
}

static void test_errors_without_a_pipeline(const char* weights_dir) {
    photong_pipeline* p = (photong_pipeline*)1; /* must be overwritten with NULL on failure */
    photong_result* r = (photong_result*)1;
    photong_options* o = photong_options_create();
    unsigned char junk[16] = "not a picture";

    CHECK(photong_pipeline_create("/nonexistent/photong-weights", 1, 0, &p) == PHOTONG_ERROR_FAILED);
    CHECK(p == NULL);
    CHECK(contains(photong_last_error(), "/nonexistent/photong-weights/inception_v3.safetensors"));
    CHECK(photong_pipeline_create(NULL, 1, 0, &p) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_pipeline_create(weights_dir, 1, 0, NULL) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_pipeline_create(weights_dir, 1, -1, &p) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(contains(photong_last_error(), "threads"));

    CHECK(photong_generate_encoded(NULL, junk, sizeof junk, NULL, &r) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(r == NULL);
    CHECK(contains(photong_last_error(), "pipeline is NULL"));

    /* Options: each setter refuses what is out of range and leaves the rest alone. */
    CHECK(o != NULL);
    CHECK(photong_options_set_temperature(o, -0.5f) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(contains(photong_last_error(), "temperature"));
    CHECK(photong_options_set_top_k(o, -1) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_top_p(o, 0.0f) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_top_p(o, 1.5f) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_form(o, "ABC") == PHOTONG_ERROR_INVALID_ARGUMENT); /* 3 phrases do not divide 16 bars */
    CHECK(contains(photong_last_error(), "'ABC'"));
    CHECK(photong_options_set_form(o, NULL) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_form(o, "AABA") == PHOTONG_OK);
    CHECK(photong_options_set_form(o, "none") == PHOTONG_OK);
    CHECK(photong_options_set_variations(o, 0) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_variations(o, 257) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_rank(o, (photong_rank)9) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_sliders(o, 1.5f, 0.0f) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_valence(o, 1.5) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_arousal(o, 0.0 / 0.0) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_seconds(o, 0.5) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_generator(o, (photong_generator)7) == PHOTONG_ERROR_INVALID_ARGUMENT);
    CHECK(photong_options_set_seed(NULL, 1) == PHOTONG_ERROR_INVALID_ARGUMENT);

    /* Destroying NULL is allowed; accessors on NULL give empty answers. */
    photong_options_destroy(o);
    photong_options_destroy(NULL);
    photong_pipeline_destroy(NULL);
    photong_result_destroy(NULL);
    {
        size_t n = 99;
        CHECK(photong_result_midi(NULL, &n) == NULL && n == 0);
    }
    CHECK(strcmp(photong_result_json(NULL), "{}") == 0);
    CHECK(contains(photong_version(), "photong"));
}

static void test_generate(const char* weights_dir, const char* image_path, const char* cli_midi_path) {
    photong_pipeline* p = NULL;
    photong_options* o = photong_options_create();
    photong_result *from_file = NULL, *from_bytes = NULL, *bad = (photong_result*)1;
    size_t file_size = 0, cli_size = 0, midi_size = 0, notes = 0, chords = 0, latent = 0, i = 0;
    unsigned char* file_bytes = read_file(image_path, &file_size);
    unsigned char* cli_midi = read_file(cli_midi_path, &cli_size);
    const unsigned char* midi = NULL;
    const photong_note* melody = NULL;

    CHECK(file_bytes != NULL && cli_midi != NULL);
    if (!file_bytes || !cli_midi) goto done;
    CHECK(photong_pipeline_create(weights_dir, 1, 2, &p) == PHOTONG_OK);
    if (!p) {
        fprintf(stderr, "%s\n", photong_last_error());
        goto done;
    }
    CHECK(photong_pipeline_has_affect_bridges(p) == 1);
    CHECK(photong_options_set_seed(o, 1) == PHOTONG_OK);
    CHECK(photong_options_set_progress(o, count_stage, &stages_seen) == PHOTONG_OK);

    CHECK(photong_generate_file(p, image_path, o, &from_file) == PHOTONG_OK);
    CHECK(stages_seen == 4); /* features, bridges, decode, touch-up */
    CHECK(photong_generate_encoded(p, file_bytes, file_size, o, &from_bytes) == PHOTONG_OK);
    if (!from_file || !from_bytes) goto done;

    /* The reference: the photong command's own file for the same picture and seed. */
    midi = photong_result_midi(from_file, &midi_size);
    CHECK(midi_size == cli_size && memcmp(midi, cli_midi, cli_size) == 0);
    CHECK(same_midi(from_file, from_bytes));

    melody = photong_result_melody(from_file, &notes);
    photong_result_chords(from_file, &chords);
    CHECK(notes > 0 && chords > 0);
    for (i = 0; i < notes; ++i) {
        CHECK(melody[i].pitch >= 0 && melody[i].pitch <= 127 && melody[i].channel == 0 && melody[i].end_s > melody[i].start_s);
        if (failures) break;
    }
    CHECK(photong_result_latent(from_file, &latent) != NULL && latent == 512);
    CHECK(photong_result_bpm(from_file) >= 40 && photong_result_bpm(from_file) <= 200);
    CHECK(photong_result_key_tonic(from_file) >= 0 && photong_result_key_tonic(from_file) < 12);
    CHECK(contains(photong_result_key_name(from_file), photong_result_key_major(from_file) ? " major" : " minor"));
    CHECK(contains(photong_result_json(from_file), "\"bpm\":"));
    CHECK(contains(photong_result_json(from_file), "\"melody\":["));

    /* A picture that is not one: a failure with the reason, no result, and the pipeline still works after. */
    CHECK(photong_generate_encoded(p, (const unsigned char*)"GIF89a, or so it says", 21, o, &bad) == PHOTONG_ERROR_FAILED);
    CHECK(bad == NULL);
    CHECK(contains(photong_last_error(), "<memory>"));
    bad = (photong_result*)1;
    CHECK(photong_generate_file(p, "/nonexistent/picture.png", o, &bad) == PHOTONG_ERROR_FAILED && bad == NULL);
    CHECK(contains(photong_last_error(), "/nonexistent/picture.png"));

    /* Pixels: grey, RGB and RGBA (alpha ignored, padded rows) of one synthetic picture give one melody. */
    {
        enum { W = 40, H = 30, STRIDE = W * 4 + 12 };
        static unsigned char grey[W * H], rgb[W * H * 3], rgba[H * STRIDE];
        photong_result *g = NULL, *c = NULL, *a = NULL;
        int x = 0, y = 0, k = 0;
        for (y = 0; y < H; ++y)
            for (x = 0; x < W; ++x) {
                const unsigned char v = (unsigned char)((x * 7 + y * 13) % 256);
                grey[y * W + x] = v;
                for (k = 0; k < 3; ++k) rgb[(y * W + x) * 3 + k] = v;
                for (k = 0; k < 3; ++k) rgba[y * STRIDE + x * 4 + k] = v;
                rgba[y * STRIDE + x * 4 + 3] = (unsigned char)(x * 5);
            }
        CHECK(photong_generate_pixels(p, grey, W, H, 1, 0, o, &g) == PHOTONG_OK);
        CHECK(photong_generate_pixels(p, rgb, W, H, 3, 0, o, &c) == PHOTONG_OK);
        CHECK(photong_generate_pixels(p, rgba, W, H, 4, STRIDE, o, &a) == PHOTONG_OK);
        CHECK(g && c && a && same_midi(g, c) && same_midi(c, a));
        CHECK(photong_generate_pixels(p, rgb, W, H, 2, 0, o, &bad) == PHOTONG_ERROR_INVALID_ARGUMENT && bad == NULL);
        CHECK(photong_generate_pixels(p, rgb, W, H, 3, W, o, &bad) == PHOTONG_ERROR_INVALID_ARGUMENT && bad == NULL);
        CHECK(contains(photong_last_error(), "row_stride"));
        photong_result_destroy(g);
        photong_result_destroy(c);
        photong_result_destroy(a);
    }

    /* Options reach the pipeline: the user's arousal sets the tempo, colour affect works without the bridges. */
    {
        photong_result* slow = NULL;
        CHECK(photong_options_set_arousal(o, 0.0) == PHOTONG_OK);
        CHECK(photong_generate_file(p, image_path, o, &slow) == PHOTONG_OK);
        CHECK(slow && photong_result_bpm(slow) > 52.1 && photong_result_bpm(slow) < 52.2); /* 160 / (1 + e^2.5) + 40 */
        CHECK(photong_result_arousal(slow) == 0.0);
        photong_result_destroy(slow);
    }

done:
    photong_result_destroy(from_file);
    photong_result_destroy(from_bytes);
    photong_options_destroy(o);
    photong_pipeline_destroy(p);
    free(file_bytes);
    free(cli_midi);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_c_api WEIGHTS_DIR IMAGE.png CLI_SEED1.mid\n");
        return 2;
    }
    test_errors_without_a_pipeline(argv[1]);
    test_generate(argv[1], argv[2], argv[3]);
    printf("test_c_api: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
