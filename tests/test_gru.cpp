// GRU layers (nn/gru.hpp) against PyTorch's nn.GRU (1 and 2 layers, the reset gate on the recurrent product) and
// ONNX's GRU node tests (the reset gate on h, ONNX's default), tests/reference/gen_gru_fixtures.py; and the fast path
// against gru_step_reference (double) on random weights, batch 1 to 5, both reset variants.
#include <doctest/doctest.h>

#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/nn/gru.hpp>

#include "test_util.hpp"

TEST_CASE("gru: PyTorch nn.GRU and ONNX's GRU node tests, whole sequences, within 1e-5") {
    const auto files = photong_test::list_fixtures("gru");
    REQUIRE_MESSAGE(files.size() >= 5, "missing build/fixtures/gru: run scripts/test.sh, which generates it");
    for (const std::string& path : files) {
        INFO(path);
        const photong::SafetensorsFile f(path);
        const int layers = std::stoi(f.metadata_or("layers", "1"));
        const photong::GruReset reset = f.metadata_or("reset", "after") == "after" ? photong::GruReset::AfterProduct : photong::GruReset::BeforeProduct;
        photong::Tensor x = f.load("x");
        double worst = 0;
        for (int L = 0; L < layers; ++L) {
            const std::string s = std::to_string(L);
            const photong::GruLayer layer(f.load("weight_ih_" + s), f.load("weight_hh_" + s), f.load("bias_ih_" + s).values(), f.load("bias_hh_" + s).values(),
                                          reset, "gru_" + s);
            photong::Tensor h = f.load("h0_" + s);
            x = layer.run(x, h);
            worst = std::max(worst, photong_test::check_close(h, f.load("h_" + s), 1e-5, 0, "h_" + s));
        }
        if (f.contains("y")) worst = std::max(worst, photong_test::check_close(x, f.load("y"), 1e-5, 0, "y"));
        MESSAGE(path.substr(path.rfind('/') + 1) << ": max abs error " << worst);
    }
}

TEST_CASE("gru: the fast path against gru_step_reference in double, both reset variants, batch 1-5, on the default and a 2-thread pool") {
    photong::ThreadPool two(2);
    for (const photong::GruReset reset : {photong::GruReset::AfterProduct, photong::GruReset::BeforeProduct})
        for (const int batch : {1, 5}) {
            const int in = 267, H = 256;
            photong::Rng rng(std::uint64_t(batch) * 7 + (reset == photong::GruReset::AfterProduct));
            photong::Tensor w_ih({3 * H, in}), w_hh({3 * H, H});
            for (auto* w : {&w_ih, &w_hh})
                for (std::size_t i = 0; i < w->size(); ++i) (*w)[i] = float((rng.uniform() * 2 - 1) / std::sqrt(double(H)));
            std::vector<float> b_ih(std::size_t(3 * H)), b_hh(std::size_t(3 * H));
            for (auto& v : b_ih) v = rng.uniform() - 0.5f;
            for (auto& v : b_hh) v = rng.uniform() - 0.5f;
            photong::GruLayer layer(w_ih, w_hh, b_ih, b_hh, reset);
            if (batch == 5) layer.use_thread_pool(&two);
            std::vector<float> h(std::size_t(batch * H), 0.1f), h_ref(h);
            double worst = 0;
            for (int step = 0; step < 5; ++step) {
                std::vector<float> x(std::size_t(batch * in));
                for (auto& v : x) v = rng.uniform() * 2 - 1;
                layer.step(x.data(), batch, h.data());
                photong::gru_step_reference(w_ih, w_hh, b_ih, b_hh, reset, x.data(), batch, h_ref.data());
                for (std::size_t i = 0; i < h.size(); ++i) worst = std::max(worst, double(std::fabs(h[i] - h_ref[i])));
            }
            CHECK(worst <= 1e-5);
            MESSAGE(std::string(reset == photong::GruReset::AfterProduct ? "after" : "before") << " batch " << batch << ": worst |h - reference| " << worst);
        }
    CHECK_THROWS_WITH_AS(photong::GruLayer(photong::Tensor({9, 3}), photong::Tensor({9, 4}), {}, {}), doctest::Contains("weight_hh must be (3H, H)"), photong::Error);
}
