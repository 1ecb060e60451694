/* photong_c — the photong command's core in C99, through the C interface (include/photong/c_api.h).
 *
 *   photong_c WEIGHTS_DIR IMAGE OUT.mid [SEED]
 *
 * Loads the pipeline, generates a melody from IMAGE with SEED (default 0), writes the MIDI file and prints the
 * tempo, the key and the first notes. The MIDI bytes are the ones `photong IMAGE --seed SEED -o OUT.mid` writes.
 * Build (after `cmake --build build --target photong_c`):
 *   cc -std=c99 -Iinclude examples/photong_c.c -Lbuild/lib -lphotong_c -Wl,-rpath,$PWD/build/lib -o photong_c
 */
#include <stdio.h>
#include <stdlib.h>

#include "photong/c_api.h"

static void print_stage(const char* stage, void* user_data) {
    (void)user_data;
    fprintf(stderr, "photong_c: %s\n", stage);
}

int main(int argc, char** argv) {
    photong_pipeline* pipeline = NULL;
    photong_options* options = NULL;
    photong_result* result = NULL;
    const unsigned char* midi = NULL;
    const photong_note* melody = NULL;
    size_t midi_size = 0, notes = 0, i = 0;
    unsigned long long seed = 0;
    FILE* out = NULL;
    int status = 1;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: photong_c WEIGHTS_DIR IMAGE OUT.mid [SEED]\n");
        return 2;
    }
    if (argc == 5) {
        char* end = NULL;
        seed = strtoull(argv[4], &end, 10);
        if (*argv[4] == '\0' || *end != '\0') {
            fprintf(stderr, "photong_c: SEED must be a whole number, got '%s'\n", argv[4]);
            return 2;
        }
    }

    if (photong_pipeline_create(argv[1], 1, 0, &pipeline) != PHOTONG_OK) {
        fprintf(stderr, "%s\n", photong_last_error());
        return 1;
    }
    options = photong_options_create();
    if (!options || photong_options_set_seed(options, (uint64_t)seed) != PHOTONG_OK ||
        photong_options_set_progress(options, print_stage, NULL) != PHOTONG_OK) {
        fprintf(stderr, "photong_c: cannot make the options: %s\n", photong_last_error());
        goto done;
    }
    if (photong_generate_file(pipeline, argv[2], options, &result) != PHOTONG_OK) {
        fprintf(stderr, "%s\n", photong_last_error());
        goto done;
    }

    midi = photong_result_midi(result, &midi_size);
    out = fopen(argv[3], "wb");
    if (!out) {
        fprintf(stderr, "photong_c: cannot create %s\n", argv[3]);
        goto done;
    }
    if (fwrite(midi, 1, midi_size, out) != midi_size) {
        fprintf(stderr, "photong_c: cannot write %s\n", argv[3]);
        fclose(out);
        goto done;
    }
    if (fclose(out) != 0) {
        fprintf(stderr, "photong_c: cannot write %s\n", argv[3]);
        goto done;
    }
    melody = photong_result_melody(result, &notes);
    printf("%.1f BPM, %s, %lu melody notes:", photong_result_bpm(result), photong_result_key_name(result), (unsigned long)notes);
    for (i = 0; i < notes && i < 8; ++i) printf(" %d", (int)melody[i].pitch);
    printf("%s -> %s\n", notes > 8 ? " ..." : "", argv[3]);
    status = 0;

done:
    photong_result_destroy(result);
    photong_options_destroy(options);
    photong_pipeline_destroy(pipeline);
    return status;
}
