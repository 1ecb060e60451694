// LSTM (TF LSTMBlockCell semantics) against PyTorch nn.LSTM and ONNX's LSTM node tests
// (tests/reference/gen_lstm_fixtures.py), through the sequence path, the single-step path and the
// double-precision reference.
#include <algorithm>
#include <string>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/nn/lstm.hpp>

#include "test_util.hpp"

using photong::LstmCell;
using photong::Tensor;

namespace {
Tensor slice_step(const Tensor& x, std::int64_t t) {  // (steps, batch, n) -> (batch, n) at step t
    const std::int64_t per = x.dim(1) * x.dim(2);
    return Tensor({x.dim(1), x.dim(2)}, std::vector<float>(x.data() + t * per, x.data() + (t + 1) * per));
}
}  // namespace

TEST_CASE("lstm: PyTorch and ONNX references, sequence, step-by-step and double reference") {
    const auto files = photong_test::list_fixtures("lstm");
    REQUIRE_MESSAGE(files.size() >= 5, "missing LSTM fixtures: run scripts/test.sh, which generates them");
    double worst = 0;
    for (const auto& path : files) {
        const photong::SafetensorsFile f(path);
        const int layers = std::stoi(f.metadata_at("layers"));
        const float forget_bias = std::stof(f.metadata_at("forget_bias"));
        Tensor x = f.load("x");
        Tensor seq = x;  // input of the current layer, for the sequence path
        for (int L = 0; L < layers; ++L) {
            const std::string l = std::to_string(L);
            const Tensor kernel = f.load("kernel_" + l), bias = f.load("bias_" + l);
            const std::int64_t input = kernel.dim(0) - kernel.dim(1) / 4;
            const LstmCell cell(kernel, bias, input, forget_bias, path + " layer " + l);
            // Sequence path: one input product for all steps, then the recurrence.
            Tensor c = f.load("c0_" + l), h = f.load("h0_" + l);
            const Tensor y = cell.run(seq, c, h);
            // Step path and the double reference, one step at a time.
            Tensor cs = f.load("c0_" + l), hs = f.load("h0_" + l), cr = cs, hr = hs;
            for (std::int64_t t = 0; t < seq.dim(0); ++t) {
                const Tensor xt = slice_step(seq, t);
                cell.step(xt.data(), seq.dim(1), cs.data(), hs.data());
                photong::lstm_step_reference(kernel, bias, input, forget_bias, xt.data(), seq.dim(1), cr.data(), hr.data());
            }
            // O(1) activations through tanh/sigmoid: 1e-5 absolute covers float rounding over the steps.
            worst = std::max(worst, photong_test::check_close(h, f.load("h_" + l), 1e-5, 1e-5, path + " h, layer " + l));
            photong_test::check_close(hs, f.load("h_" + l), 1e-5, 1e-5, path + " h (step path), layer " + l);
            photong_test::check_close(hr, f.load("h_" + l), 1e-5, 1e-5, path + " h (reference), layer " + l);
            if (f.contains("c_" + l)) worst = std::max(worst, photong_test::check_close(c, f.load("c_" + l), 1e-5, 1e-5, path + " c, layer " + l));
            seq = y;
        }
        if (f.contains("y")) worst = std::max(worst, photong_test::check_close(seq, f.load("y"), 1e-5, 1e-5, path + " outputs"));
    }
    MESSAGE(files.size() << " LSTM cases (PyTorch and ONNX), worst max abs error " << worst);
}

TEST_CASE("lstm: reverse runs from the last step with outputs aligned, and shape errors are named") {
    const Tensor kernel({3 + 2, 8}, std::vector<float>(40, 0.1f)), bias({8});
    const LstmCell cell(kernel, bias, 3, 1.0f, "encoder_bw");
    Tensor x({4, 1, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 5) - 2.0f;
    Tensor c({1, 2}), h({1, 2});
    const Tensor fw = cell.run(x, c, h);
    // Reversing the input sequence and running forward equals running backward, step for step.
    Tensor xr({4, 1, 3});
    for (int t = 0; t < 4; ++t) std::copy_n(x.data() + t * 3, 3, xr.data() + (3 - t) * 3);
    Tensor c1({1, 2}), h1({1, 2}), c2({1, 2}), h2({1, 2});
    const Tensor bw = cell.run(x, c1, h1, true), fr = cell.run(xr, c2, h2);
    for (int t = 0; t < 4; ++t)
        for (int k = 0; k < 2; ++k) CHECK(bw[std::size_t(t * 2 + k)] == fr[std::size_t((3 - t) * 2 + k)]);
    CHECK(h1.values() == h2.values());
    CHECK_THROWS_WITH_AS(cell.run(Tensor({4, 1, 5}), c, h), doctest::Contains("encoder_bw"), photong::Error);
    CHECK_THROWS_AS(LstmCell(Tensor({6, 8}), bias, 3), photong::Error);
    CHECK_THROWS_AS(LstmCell(kernel, Tensor({7}), 3), photong::Error);
}

TEST_CASE("lstm: latent share once plus a one-hot row equals the full input product, on any pool size") {
    // A decoder's first layer sees [one-hot event (C), latent (Z)]: applying the latent columns
    // once and adding the event's kernel row per step must equal the plain step on the whole input.
    const std::int64_t C = 7, Z = 600, U = 128, B = 3;  // Z > one depth block; big enough to be split over the pool
    photong::Rng rng(5);
    Tensor kernel({C + Z + U, 4 * U}), bias({4 * U});
    for (auto& v : kernel.values()) v = rng.uniform() - 0.5f;
    for (auto& v : bias.values()) v = rng.uniform() - 0.5f;
    LstmCell cell(kernel, bias, C + Z, 1.0f, "decoder/cell_0");
    Tensor x({B, C + Z}), latent({B, Z});
    const int events[B] = {0, 6, 3};
    for (std::int64_t b = 0; b < B; ++b) {
        x[std::size_t(b * (C + Z) + events[b])] = 1.0f;
        for (std::int64_t k = 0; k < Z; ++k) x[std::size_t(b * (C + Z) + C + k)] = latent[std::size_t(b * Z + k)] = rng.uniform() - 0.5f;
    }
    Tensor c1({B, U}), h1({B, U}), c2({B, U}), h2({B, U}), cr({B, U}), hr({B, U});
    cell.step(x.data(), B, c1.data(), h1.data());
    std::vector<float> gates(std::size_t(B * 4 * U));
    cell.partial_input_gates(latent.data(), Z, B, C, C + Z, true, false, gates.data());
    for (std::int64_t b = 0; b < B; ++b) cell.add_input_row(events[b], gates.data() + b * 4 * U);
    cell.step_from_gates(gates.data(), B, c2.data(), h2.data());
    photong::lstm_step_reference(kernel, bias, C + Z, 1.0f, x.data(), B, cr.data(), hr.data());
    photong_test::check_close(h1, hr, 1e-5, 1e-5, "full step vs reference");
    photong_test::check_close(h2, hr, 1e-5, 1e-5, "latent once + one-hot row vs reference");
    // Splitting the product over a pool changes no bit.
    photong::ThreadPool pool(3);
    cell.use_thread_pool(&pool);
    Tensor c3({B, U}), h3({B, U});
    cell.step(x.data(), B, c3.data(), h3.data());
    CHECK(h3.values() == h1.values());
    CHECK_THROWS_WITH_AS(cell.add_input_row(C + Z, gates.data()), doctest::Contains("decoder/cell_0"), photong::Error);
    CHECK_THROWS_AS(cell.partial_input_gates(latent.data(), Z, B, C, C + Z + 1, true, false, gates.data()), photong::Error);
}
