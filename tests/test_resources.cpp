// Determinism and resources (issue 7): the same MIDI bytes for the same seed across runs and thread
// counts, and no heap allocation in the per-step decode loop once a decode has started.
//
// Allocations are counted by interposing glibc's malloc family in this test program (every operator
// new, Eigen's aligned allocations and the C library's own go through them). Sanitizer builds bring
// their own allocator, so there the count is skipped rather than guessed.
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include <photong/core/parallel.hpp>
#include <photong/core/rng.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/pipeline.hpp>

#include "random_pipeline_weights.hpp"
#include "test_util.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PHOTONG_TEST_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define PHOTONG_TEST_COUNT_ALLOCATIONS 0
#endif
#endif
#if !defined(PHOTONG_TEST_COUNT_ALLOCATIONS) && defined(__GLIBC__)
#define PHOTONG_TEST_COUNT_ALLOCATIONS 1
#endif
#ifndef PHOTONG_TEST_COUNT_ALLOCATIONS
#define PHOTONG_TEST_COUNT_ALLOCATIONS 0
#endif

namespace {
std::atomic<long> g_allocations{0};
}

#if PHOTONG_TEST_COUNT_ALLOCATIONS
// glibc exports its allocator under these names; a definition of malloc in the program replaces the
// library's for every caller (libstdc++'s operator new included), and free() stays glibc's.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* malloc(std::size_t n) { g_allocations.fetch_add(1, std::memory_order_relaxed); return __libc_malloc(n); }
void* calloc(std::size_t n, std::size_t s) { g_allocations.fetch_add(1, std::memory_order_relaxed); return __libc_calloc(n, s); }
void* realloc(void* p, std::size_t n) { g_allocations.fetch_add(1, std::memory_order_relaxed); return __libc_realloc(p, n); }
void* aligned_alloc(std::size_t a, std::size_t n) { g_allocations.fetch_add(1, std::memory_order_relaxed); return __libc_memalign(a, n); }
void* memalign(std::size_t a, std::size_t n) { g_allocations.fetch_add(1, std::memory_order_relaxed); return __libc_memalign(a, n); }
int posix_memalign(void** out, std::size_t a, std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12;  // ENOMEM
}
}
#endif

namespace {

std::string small_decoder() {
    const std::string p = photong_test::temp_path("resources_hierdec256.safetensors");
    // 256 units: large enough that the LSTM products go to the thread pool (lstm.hpp's threshold).
    if (!photong_test::file_exists(p)) photong_test::write_random_hierdec(p, 17, 16, 256, 90);
    return p;
}

/// Heap allocations made by one hierarchical decode of `bars` x `steps` events.
long allocations_of_decode(const photong::HierarchicalLstmDecoder& d, int bars, int steps) {
    photong::Tensor z({2, d.z_size()});
    for (std::size_t i = 0; i < z.size(); ++i) z.data()[i] = 0.01f * float(i % 37) - 0.2f;
    photong::Rng rng(9);
    const long before = g_allocations.load();
    const photong::DecodeResult r = d.decode(z, bars, steps, 0.7f, &rng);
    const long after = g_allocations.load();
    CHECK(r.events[0].size() == std::size_t(bars * steps));
    return after - before;
}

}  // namespace

TEST_CASE("decode: no heap allocation per step (the count does not grow with the steps per bar)") {
    if (!PHOTONG_TEST_COUNT_ALLOCATIONS) {
        MESSAGE("skipped: allocations are not counted under a sanitizer's allocator");
        return;
    }
    photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(small_decoder())};
    photong::ThreadPool two(2);
    for (photong::ThreadPool* pool : {static_cast<photong::ThreadPool*>(nullptr), &two}) {
        INFO(std::string(pool ? "pool of 2 threads" : "calling thread"));
        d.use_thread_pool(pool);
        (void)allocations_of_decode(d, 2, 4);  // warm-up: the pool's threads, first-touch buffers
        const long short_bars = allocations_of_decode(d, 2, 4), long_bars = allocations_of_decode(d, 2, 64);
        MESSAGE("allocations for 2 bars x 4 steps: " << short_bars << ", 2 bars x 64 steps: " << long_bars);
        CHECK(short_bars > 0);  // the counter works (outputs and per-bar states are allocated)
        CHECK(long_bars == short_bars);
    }
}

TEST_CASE("pipeline: the same MIDI bytes for the same seed across runs and thread counts") {
    const std::string chelsea = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
    photong::PipelineWeights w = photong::PipelineWeights::in_directory(photong_test::source("weights"));
    if (!photong_test::file_exists(chelsea) || !photong_test::file_exists(w.inception) || !photong_test::file_exists(w.melody)) {
        MESSAGE("skipped: needs skimage's chelsea.png and the shipped weights (scripts/test.sh fetches them)");
        return;
    }
    const photong::Image image = photong::load_image(chelsea);
    photong::Pipeline p(w);
    photong::GenerateOptions o;
    o.seed = 7;
    o.variations = 2;
    std::vector<std::vector<std::uint8_t>> midi;
    for (unsigned threads : {1u, 2u, 5u, 1u}) {
        photong::ThreadPool pool(threads);
        p.use_thread_pool(pool);
        midi.push_back(photong::encode_midi(p.generate(image, o).midi()));
    }
    p.use_thread_pool(photong::default_thread_pool());
    for (std::size_t i = 1; i < midi.size(); ++i) CHECK(midi[i] == midi[0]);
    CHECK(midi[0].size() > 100);
}
