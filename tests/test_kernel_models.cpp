// The kernel backend's models through the host SIMT executor (kernels/executor_host.hpp), against the CPU
// path: the whole InceptionV3 on the shipped weights, block by block, and (below) whole decodes of the
// melody model. Every CUDA thread of every launch runs as a fiber, so the sizes are kept small enough for
// CI (a 75x75 picture: every layer and block still runs, down to 1x1 maps); the GPU test
// (tests/gpu/test_gpu_models.cpp) runs the same comparisons at full size.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <photong/image/decode.hpp>
#include <photong/models/inception_v3.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/music/midi.hpp>
#include <photong/pipeline.hpp>

#include "../kernels/executor_host.hpp"
#include "../kernels/hierdec_kernels.hpp"
#include "../kernels/inception_v3_kernels.hpp"
#include "../kernels/pipeline_accelerator.hpp"
#include "kernel_checks.hpp"
#include "test_util.hpp"

using photong_test::scaled_error;

TEST_CASE("kernel backend: the whole InceptionV3 (shipped weights, a 75x75 photo) through the host executor, every block against the CPU path") {
    // Tolerance: 1e-5 of each block's largest value. Both paths are fp32 but sum in different orders, and
    // the CPU path runs its stem's 3x3 layers as Winograd F(4x4, 3x3) at this size (relative error up to ~7e-6 per
    // layer, bench/winograd_error); 94 layers deep the differences stay near 1e-6 of the block's scale (measured:
    // 1.4e-6 worst, printed below).
    const std::string weights = photong_test::source("weights/inception_v3.safetensors");
    const std::string photo = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
    if (!photong_test::file_exists(photo)) return;
    const photong::SafetensorsFile file(weights);
    const photong::InceptionV3 cpu(file);
    photong::kernels::HostExecutor exec;
    photong::kernels::KernelInceptionV3<photong::kernels::HostExecutor> gpu_model(file, exec);
    const photong::Tensor input = photong::Preprocessing::keras_inception(75).apply(photong::load_image(photo));

    std::map<std::string, photong::Tensor> want, got;
    const photong::Tensor want_out = cpu.features(input, [&](const std::string& n, const photong::Tensor& t) { want[n] = t; });
    const photong::Tensor got_out = gpu_model.features(input, [&](const std::string& n, const photong::Tensor& t) { got[n] = t; });
    REQUIRE(got.size() == 11);
    double worst = 0;
    for (const auto& [name, t] : want) {
        INFO(name);
        const double e = scaled_error(got[name], t);
        CHECK(e <= 1e-5);
        worst = std::max(worst, e);
        MESSAGE(name << " " << photong::shape_to_string(t.shape()) << ": max |kernel - cpu| / max |cpu| = " << e);
    }
    CHECK(scaled_error(got_out, want_out) <= 1e-5);
    MESSAGE("InceptionV3 through the host executor: worst block error " << worst << " of the block's scale");

    // A second run reuses the arena (no allocation) and gives the same bits.
    const photong::Tensor again = gpu_model.features(input);
    CHECK(std::equal(again.data(), again.data() + again.size(), got_out.data()));
}

TEST_CASE("kernel backend: a photo at full size, resized and scaled on the device (preprocess.cuh), through all of InceptionV3 against the CPU pipeline") {
    const std::string photo = "/usr/lib/python3/dist-packages/skimage/data/coffee.png";
    if (!photong_test::file_exists(photo)) return;
    const photong::SafetensorsFile file(photong_test::source("weights/inception_v3.safetensors"));
    const photong::InceptionV3 cpu(file);
    photong::kernels::HostExecutor exec;
    photong::kernels::KernelInceptionV3<photong::kernels::HostExecutor> gpu_model(file, exec);
    const photong::Image image = photong::load_image(photo);
    const photong::Tensor want = cpu.features(image), got = gpu_model.features(image);
    REQUIRE(got.shape() == std::vector<std::int64_t>{1, 8, 8, 2048});
    const double e = scaled_error(got, want);
    CHECK(e <= 1e-5);
    MESSAGE("InceptionV3 at 299x299 from the picture's bytes: max |kernel - cpu| / max |cpu| = " << e);
}

TEST_CASE("kernels/sample_events.cuh: the same event as EventSampler for every option, on logits with ties and near-ties") {
    // Tolerance: none, event for event. The kernel does the CPU's sums in the CPU's order; through the host
    // executor exp is the same C library function, so even boundary cases agree.
    photong::Rng rng(17);
    const int B = 5, C = 90;
    long compared = 0;
    for (const photong::SamplingOptions opt : {photong::SamplingOptions{0.0f, 0, 1.0f}, photong::SamplingOptions{1.0f, 0, 1.0f},
                                               photong::SamplingOptions{0.5f, 12, 1.0f}, photong::SamplingOptions{1.1f, 12, 0.9f},
                                               photong::SamplingOptions{2.0f, 0, 0.5f}, photong::SamplingOptions{0.7f, 1, 1.0f},
                                               photong::SamplingOptions{1.0f, 89, 0.999f}}) {
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<float> logits(std::size_t(B * C)), bias(static_cast<std::size_t>(C));
            for (auto& v : logits) v = float(rng.uniform() * 8 - 4);
            for (auto& v : bias) v = float(rng.uniform() - 0.5);
            // Ties: several classes share the top logit, and row 1 is constant (every class tied).
            for (int k = 0; k < 6; ++k) logits[std::size_t(k * 7)] = 6.0f - bias[std::size_t(k * 7)];
            for (int k = 0; k < C; ++k) logits[std::size_t(C + k)] = 1.0f - bias[std::size_t(k)];
            std::vector<double> u(static_cast<std::size_t>(B));
            for (auto& v : u) v = rng.uniform_double();
            u[2] = 0.0, u[3] = 0.9999999999;
            std::vector<float> out_logits(std::size_t(B * C * 3), std::nanf(""));
            std::vector<int> events(static_cast<std::size_t>(B * 2), -7), previous(static_cast<std::size_t>(B), -7);
            photong::kernels::SampleArgs a;
            a.logits = logits.data(), a.bias = bias.data(), a.logits_out = out_logits.data() + C, a.logits_out_stride = 3 * C;
            a.uniforms = u.data(), a.events = events.data() + 1, a.events_stride = 2, a.previous = previous.data();
            a.batch = B, a.classes = C, a.temperature = opt.temperature, a.top_k = opt.top_k, a.top_p = opt.top_p;
            photong::simt::launch(dim3(unsigned(B)), dim3(photong::kernels::kSampleThreads), std::size_t(photong::kernels::sample_shared_bytes(C)),
                                  photong::kernels::sample_events, a);
            photong::EventSampler sampler(opt, C);
            for (int b = 0; b < B; ++b) {
                std::vector<float> l(static_cast<std::size_t>(C));
                for (int k = 0; k < C; ++k) l[std::size_t(k)] = logits[std::size_t(b * C + k)] + bias[std::size_t(k)];
                const int want = sampler.pick(l.data(), u[std::size_t(b)]);
                INFO("T " << opt.temperature << " k " << opt.top_k << " p " << opt.top_p << " row " << b);
                CHECK(events[std::size_t(b * 2 + 1)] == want);
                CHECK(events[std::size_t(b * 2)] == -7);  // the stride's gaps untouched
                CHECK(previous[std::size_t(b)] == want);
                for (int k = 0; k < C; ++k) CHECK(out_logits[std::size_t(b * 3 * C + C + k)] == l[std::size_t(k)]);
                ++compared;
            }
        }
    }
    MESSAGE("sample_events: " << compared << " choices, all equal to EventSampler's");
}

TEST_CASE("kernels/sample_events.cuh: draw_uniforms continues the host Rng's stream exactly") {
    photong::Rng host(12345);
    for (int i = 0; i < 3; ++i) host.next_u64();
    const auto s = host.state();
    unsigned long long state[4] = {s[0], s[1], s[2], s[3]};
    std::vector<double> out(1000, -1.0);
    photong::kernels::DrawArgs a;
    a.state = state, a.out = out.data(), a.count = 1000;
    photong::simt::launch(dim3(1), dim3(1), 0, photong::kernels::draw_uniforms, a);
    for (double v : out) CHECK(v == host.uniform_double());
    const auto after = host.state();
    for (int i = 0; i < 4; ++i) CHECK(state[i] == after[std::size_t(i)]);
}

TEST_CASE("kernel backend: full 16-bar decodes of the shipped melody model through the host executor, event for event as the CPU decoder") {
    // Events: equal (the sampler follows the CPU's rule exactly; the logits differ only by float rounding,
    // which could flip a choice only if a uniform fell within ~1e-6 of a boundary: it did not here, and the
    // test would say so). Logits: 1e-4 absolute after 256 recurrent steps (values O(10); measured, printed).
    // Rng: left in the same state as the CPU decode leaves it.
    const photong::SafetensorsFile file(photong_test::source("weights/hierdec_mel16_photong.safetensors"));
    const photong::HierarchicalLstmDecoder cpu(file);
    photong::kernels::HostExecutor exec;
    photong::kernels::KernelHierarchicalDecoder<photong::kernels::HostExecutor> kernel_decoder(file, exec);
    struct Case { int batch; photong::SamplingOptions sampling; photong::SongForm form; std::uint64_t seed; };
    const photong::SamplingOptions recommended = photong::recommended_sampling(file);
    const photong::SongForm form = photong::recommended_form(file, photong::SongForm::parse("AABA"));
    for (const Case& cs : {Case{3, recommended, form, 1}, Case{1, photong::SamplingOptions{}, photong::SongForm{}, 2},
                           Case{2, photong::SamplingOptions{1.0f, 0, 1.0f}, photong::SongForm{}, 3}}) {
        INFO("batch " << cs.batch << " T " << cs.sampling.temperature << " top-k " << cs.sampling.top_k << " top-p " << cs.sampling.top_p
                      << " form " << cs.form.name());
        photong::Rng zrng(cs.seed);
        photong::Tensor z({cs.batch, kernel_decoder.z_size()});
        for (std::size_t i = 0; i < z.size(); ++i) z[i] = float(zrng.normal());
        photong::Rng rng_cpu(cs.seed + 100), rng_kernel(cs.seed + 100);
        const photong::DecodeResult want = cpu.decode(z, 16, 16, cs.sampling, &rng_cpu, cs.form);
        const photong::DecodeResult got = kernel_decoder.decode(z, 16, 16, cs.sampling, &rng_kernel, cs.form);
        CHECK(got.events == want.events);
        CHECK(rng_kernel.state() == rng_cpu.state());
        double worst = 0;
        for (std::size_t i = 0; i < want.logits.size(); ++i) worst = std::max(worst, std::isnan(got.logits[i]) ? 1e9 : double(std::fabs(got.logits[i] - want.logits[i])));
        CHECK(worst <= 1e-4);
        long notes = 0;
        for (const auto& row : want.events) for (int e : row) notes += e >= 2;
        MESSAGE("decode batch " << cs.batch << " (" << notes << " note-ons): events equal: " << (got.events == want.events) << ", worst |logit - cpu| " << worst);
    }
}

TEST_CASE("kernel backend: photong's whole pipeline with the features and the decode through the host executor writes the CPU pipeline's MIDI bytes") {
    // The accelerated stages differ from the CPU's by float rounding only (above), so the latent code, the
    // events and the key come out the same, the tempo to 1e-3 bpm (below the MIDI file's microsecond resolution),
    // and therefore the MIDI file's bytes, for these pictures and seeds.
    const std::string dir = "/usr/lib/python3/dist-packages/skimage/data/";
    if (!photong_test::file_exists(dir + "chelsea.png")) return;
    const photong::PipelineWeights weights = photong::PipelineWeights::in_directory(photong_test::source("weights"));
    photong::Pipeline cpu(weights), accelerated(weights);
    accelerated.use_accelerator(photong::kernels::make_accelerator<photong::kernels::HostExecutor>(weights));
    REQUIRE(accelerated.accelerator() != nullptr);
    CHECK(accelerated.accelerator()->name() == std::string("host SIMT executor"));
    for (const auto& [picture, seed] : {std::pair<std::string, std::uint64_t>{"chelsea.png", 1}, {"rocket.jpg", 7}}) {
        INFO(picture << " seed " << seed);
        photong::GenerateOptions options;
        options.seed = seed;
        const photong::GenerateResult want = cpu.generate(dir + picture, options), got = accelerated.generate(dir + picture, options);
        CHECK(got.events == want.events);
        CHECK(std::fabs(got.bpm - want.bpm) <= 1e-3);  // a continuous function of the arousal bridge's output (features to rounding)
        CHECK(photong::encode_midi(got.midi()) == photong::encode_midi(want.midi()));
        double dz = 0;
        for (std::size_t i = 0; i < want.latent.size(); ++i) dz = std::max(dz, double(std::fabs(got.latent[i] - want.latent[i])));
        MESSAGE(picture << ": MIDI bytes equal: " << (photong::encode_midi(got.midi()) == photong::encode_midi(want.midi())) << ", worst |z - z_cpu| " << dz);
    }
}
