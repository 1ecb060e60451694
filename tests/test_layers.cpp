// Layers: every conv / pool / dense case PyTorch computed (tests/reference/gen_torch_fixtures.py)
// through both our fast path and our plain reference; the fast path against the reference on
// random shapes; and results that do not depend on the number of threads.
#include <algorithm>
#include <string>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/nn/conv2d.hpp>
#include <photong/nn/dense.hpp>
#include <photong/nn/gemm.hpp>
#include <photong/nn/pooling.hpp>

#include "test_util.hpp"

using photong::Conv2D;
using photong::Conv2DParams;
using photong::Error;
using photong::Tensor;

namespace {


int meta_int(const photong::SafetensorsFile& f, const std::string& k) { return std::stoi(f.metadata_at(k)); }

Tensor random_tensor(std::vector<std::int64_t> shape, photong::Rng& rng, float scale = 1.0f) {
    Tensor t(std::move(shape));
    for (auto& v : t.values()) v = (rng.uniform() * 2.0f - 1.0f) * scale;
    return t;
}

}  // namespace

TEST_CASE("layers: PyTorch fixtures, fast path and reference") {
    const auto files = photong_test::list_fixtures("layers");
    REQUIRE_MESSAGE(files.size() >= 10, "missing layer fixtures: run scripts/test.sh, which generates them");
    int checked = 0;
    double worst = 0;
    for (const auto& path : files) {
        const photong::SafetensorsFile f(path);
        const std::string op = f.metadata_at("op");
        const Tensor input = f.load("input"), want = f.load("output");
        if (op == "conv2d") {
            Tensor kernel = f.load("kernel");
            std::vector<float> bias = f.contains("bias") ? f.load("bias").values() : std::vector<float>{};
            if (f.contains("bn_beta"))
                photong::fold_batchnorm(kernel, bias, f.contains("bn_gamma") ? f.load("bn_gamma").values() : std::vector<float>{},
                                        f.load("bn_beta").values(), f.load("bn_mean").values(), f.load("bn_var").values(),
                                        std::stof(f.metadata_at("bn_epsilon")), path);
            Conv2DParams p;
            p.stride_h = meta_int(f, "stride_h");
            p.stride_w = meta_int(f, "stride_w");
            p.padding = photong::parse_padding(f.metadata_at("padding"));
            p.relu = f.metadata_at("relu") == "1";
            const Conv2D conv(kernel, bias, p, path);
            // Sums of up to 7*7*192 products of O(1) values: 1e-4 absolute plus 1e-5 relative.
            worst = std::max(worst, photong_test::check_close(conv.forward(input), want, 1e-4, 1e-5, path + " (fast)"));
            worst = std::max(worst, photong_test::check_close(photong::conv2d_reference(input, kernel, bias, p), want, 1e-4, 1e-5, path + " (reference)"));
        } else if (op == "max_pool" || op == "avg_pool") {
            photong::Pool2DParams p;
            p.kind = op == "max_pool" ? photong::PoolKind::Max : photong::PoolKind::Average;
            p.pool_h = meta_int(f, "pool_h");
            p.pool_w = meta_int(f, "pool_w");
            p.stride_h = meta_int(f, "stride_h");
            p.stride_w = meta_int(f, "stride_w");
            p.padding = photong::parse_padding(f.metadata_at("padding"));
            worst = std::max(worst, photong_test::check_close(photong::pool2d(input, p), want, 1e-5, 1e-6, path + " (fast)"));
            worst = std::max(worst, photong_test::check_close(photong::pool2d_reference(input, p), want, 1e-5, 1e-6, path + " (reference)"));
        } else if (op == "dense") {
            const Tensor kernel = f.load("kernel");
            const std::vector<float> bias = f.load("bias").values();
            const auto act = photong::parse_activation(f.metadata_at("activation"));
            const photong::Dense dense(kernel, bias, act, path);
            worst = std::max(worst, photong_test::check_close(dense.forward(input), want, 1e-5, 1e-5, path + " (fast)"));
            worst = std::max(worst, photong_test::check_close(photong::dense_reference(input, kernel, bias, act), want, 1e-5, 1e-5, path + " (reference)"));
        } else {
            continue;  // resize cases are checked in test_image
        }
        ++checked;
    }
    MESSAGE(checked << " PyTorch layer cases, worst max abs error " << worst);
    CHECK(checked >= 10);
}

TEST_CASE("conv2d: fast path equals the reference on random shapes, bit-identical across thread counts") {
    photong::Rng rng(123);
    photong::ThreadPool one(1), three(3);
    struct Case { int n, h, w, cin, cout, kh, kw, s; photong::Padding pad; };
    const Case cases[] = {{1, 35, 35, 64, 96, 3, 3, 1, photong::Padding::Same},  {2, 17, 17, 24, 20, 1, 7, 1, photong::Padding::Same},
                          {1, 17, 17, 20, 19, 7, 1, 1, photong::Padding::Same},  {1, 16, 16, 3, 32, 3, 3, 2, photong::Padding::Same},
                          {1, 35, 35, 17, 33, 3, 3, 2, photong::Padding::Valid}, {1, 8, 8, 200, 130, 1, 1, 1, photong::Padding::Valid},
                          {3, 9, 11, 5, 7, 5, 5, 1, photong::Padding::Same},     {1, 8, 8, 48, 384, 1, 3, 1, photong::Padding::Same},
                          // Few channels, 'valid': window rows as segments (the stem's conv2d_1), and a ragged 3x2 window.
                          {1, 31, 29, 3, 32, 3, 3, 2, photong::Padding::Valid},  {2, 12, 13, 5, 7, 3, 2, 1, photong::Padding::Valid}};
    for (const Case& c : cases) {
        const Tensor x = random_tensor({c.n, c.h, c.w, c.cin}, rng), k = random_tensor({c.kh, c.kw, c.cin, c.cout}, rng, 0.2f);
        const Tensor b = random_tensor({c.cout}, rng);
        const Conv2DParams p{c.kh, c.kw, c.s, c.s, c.pad, true};
        const Conv2D conv(k, b.values(), p);
        const Tensor ref = photong::conv2d_reference(x, k, b.values(), p);
        const Tensor y1 = conv.forward(x, one), y3 = conv.forward(x, three);
        photong_test::check_close(y1, ref, 1e-4, 1e-5, "random conv vs reference");
        CHECK(y1.values() == y3.values());
    }
}

TEST_CASE("gemm: packed micro-kernel equals the definition for ragged sizes, strides and K blocks") {
    photong::Rng rng(77);
    struct Case { std::int64_t m, k, n, lda_pad, ldc_pad; bool relu; };
    // m not a multiple of the micro-kernel rows, n not a multiple of the panel, k over several depth blocks.
    const Case cases[] = {{1, 1, 1, 0, 0, false}, {13, 7, 33, 3, 5, true}, {64, 300, 96, 0, 0, true},
                          {25, 1100, 17, 9, 2, false}, {120, 64, 1152, 0, 0, true}, {5, 2592, 40, 1, 1, false}};
    for (const Case& c : cases) {
        const std::int64_t lda = c.k + c.lda_pad, ldc = c.n + c.ldc_pad;
        const Tensor a = random_tensor({c.m, lda}, rng), b = random_tensor({c.k, c.n}, rng, 0.5f), bias = random_tensor({c.n}, rng);
        const photong::PackedMatrix packed(b.data(), c.k, c.n);
        std::vector<float> bias_padded(bias.values());
        bias_padded.resize(std::size_t(packed.panels() * photong::PackedMatrix::kPanel), 0.0f);
        Tensor got({c.m, ldc}, -7.0f), want({c.m, ldc}, -7.0f);
        photong::gemm(a.data(), lda, c.m, packed, 0, packed.panels(), bias_padded.data(), c.relu, got.data(), ldc);
        photong::gemm_reference(a.data(), lda, c.m, b.data(), c.k, c.n, bias.data(), c.relu, want.data(), ldc);
        // Sums of up to 2592 products of O(0.5) values: rounding grows like sqrt(K) ulps.
        photong_test::check_close(got, want, 1e-4, 1e-5, "gemm m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n));
        for (std::int64_t i = 0; i < c.m; ++i)  // the padding columns of C are never written
            for (std::int64_t j = c.n; j < ldc; ++j) CHECK(got[std::size_t(i * ldc + j)] == -7.0f);
    }
}

TEST_CASE("winograd: Toom-Cook matrices are Lavin & Gray's published F(2,3) and F(4,3)") {
    // The tables printed in Lavin & Gray (2016), up to a scaling of each evaluation point j that the algorithm cannot
    // see (BT's row j by a, G's row j by b, AT's column j by 1/(ab)): compared as the products BT[j][x] G[j][k] AT[i][j].
    const double bt2[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    const double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const double at2[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
    const double bt4[6][6] = {{4, 0, -5, 0, 1, 0}, {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    const double g4[6][3] = {{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const double at4[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
    auto same = [](const auto& mx, const auto& bt, const auto& g, const auto& at, int m, int n) {
        for (int j = 0; j < n; ++j)
            for (int x = 0; x < n; ++x)
                for (int k = 0; k < 3; ++k)
                    for (int i = 0; i < m; ++i)
                        CHECK(mx.BT[j][x] * mx.G[j][k] * mx.AT[i][j] == doctest::Approx(bt[j][x] * g[j][k] * at[i][j]).epsilon(1e-15));
    };
    same(photong::winograd_detail::kMatrices<2, 3>, bt2, g2, at2, 2, 4);
    same(photong::winograd_detail::kMatrices<4, 3>, bt4, g4, at4, 4, 6);
}

TEST_CASE("conv2d: every Winograd variant equals the reference, odd sizes, padding, batches and slices") {
    photong::Rng rng(31);
    photong::ThreadPool one(1), three(3);
    struct Variant { int kh, kw, tile; const char* name; };
    const Variant variants[] = {{3, 3, 2, "F(2x2,3x3)"}, {3, 3, 4, "F(4x4,3x3)"}, {5, 5, 2, "F(2x2,5x5)"}, {5, 5, 4, "F(4x4,5x5)"},
                                {1, 7, 2, "F(1x2,1x7)"}, {7, 1, 2, "F(2x1,7x1)"}, {1, 7, 3, "F(1x3,1x7)"}, {7, 1, 3, "F(3x1,7x1)"},
                                {1, 3, 2, "F(1x2,1x3)"}, {3, 1, 2, "F(2x1,3x1)"}, {1, 3, 4, "F(1x4,1x3)"}, {3, 1, 4, "F(4x1,3x1)"}};
    struct Case { int n, h, w, cin, cout; photong::Padding pad; };
    // Odd output sizes leave half-empty edge tiles; valid padding reads past the map's last row.
    const Case cases[] = {{1, 35, 35, 64, 96, photong::Padding::Same}, {2, 27, 23, 16, 33, photong::Padding::Same},
                          {1, 31, 20, 40, 17, photong::Padding::Valid}, {1, 24, 24, 96, 64, photong::Padding::Valid}};
    for (const Variant& v : variants)
        for (const Case& c : cases) {
            CAPTURE(v.name);
            CAPTURE(c.h);
            CAPTURE(c.w);
            const Tensor x = random_tensor({c.n, c.h, c.w, c.cin}, rng), k = random_tensor({v.kh, v.kw, c.cin, c.cout}, rng, 0.2f);
            const Tensor b = random_tensor({c.cout}, rng);
            Conv2DParams p{v.kh, v.kw, 1, 1, c.pad, true};
            p.winograd_tile = v.tile;
            const Conv2D conv(k, b.values(), p);
            CHECK(conv.winograd_shape().name() == v.name);
            REQUIRE(conv.uses_winograd(x.view()));
            const Tensor ref = photong::conv2d_reference(x, k, b.values(), p);
            const Tensor y1 = conv.forward(x, one), y3 = conv.forward(x, three);
            photong_test::check_close(y1, ref, 1e-4, 1e-5, std::string(v.name) + " vs reference");
            CHECK(y1.values() == y3.values());
            // Into a channel slice of a wider map, as the Inception blocks do.
            Tensor wide = Tensor::nhwc(int(ref.dim(0)), int(ref.dim(1)), int(ref.dim(2)), c.cout + 5);
            conv.forward(x.view(), wide.view().channels(3, c.cout));
            for (std::int64_t px = 0; px < ref.dim(0) * ref.dim(1) * ref.dim(2); ++px)
                CHECK(std::equal(y1.data() + px * c.cout, y1.data() + (px + 1) * c.cout, wide.data() + px * (c.cout + 5) + 3));
            Conv2DParams direct = p;
            direct.allow_winograd = false;
            photong_test::check_close(Conv2D(k, b.values(), direct).forward(x), ref, 1e-4, 1e-5, "direct vs reference");
        }
    // Too few tiles (a 6x6 map has 9 of 2x2, an 8x8 one 16): the direct product runs instead. Kernels with no variant
    // never use one.
    const Conv2D small(random_tensor({3, 3, 32, 32}, rng), {}, {3, 3, 1, 1, photong::Padding::Same, true});
    CHECK_FALSE(small.uses_winograd(Tensor::nhwc(1, 6, 6, 32).view()));
    CHECK(small.uses_winograd(Tensor::nhwc(1, 8, 8, 32).view()));
    Conv2DParams f4_on_1x7{1, 7, 1, 1, photong::Padding::Same, true};
    f4_on_1x7.winograd_tile = 4;  // F(4,7) is not defined
    CHECK_FALSE(Conv2D(random_tensor({1, 7, 32, 32}, rng), {}, f4_on_1x7).winograd_eligible());
    CHECK_FALSE(Conv2D(random_tensor({1, 1, 32, 32}, rng), {}, {1, 1, 1, 1, photong::Padding::Same, true}).winograd_eligible());
    CHECK_FALSE(Conv2D(random_tensor({3, 3, 32, 32}, rng), {}, {3, 3, 2, 2, photong::Padding::Same, true}).winograd_eligible());
}

TEST_CASE("conv2d: Winograd weights made at the first large input are the ones made at load, and from_packed rebuilds a layer") {
    photong::Rng rng(37);
    photong::ThreadPool two(2);
    const Tensor x = random_tensor({1, 20, 21, 48}, rng), k = random_tensor({3, 3, 48, 40}, rng, 0.2f), b = random_tensor({40}, rng);
    Conv2DParams eager{3, 3, 1, 1, photong::Padding::Same, true}, later = eager;
    later.winograd_at_load = false;
    const Conv2D at_load(k, b.values(), eager), on_demand(k, b.values(), later);
    CHECK(at_load.winograd() != nullptr);
    CHECK(on_demand.winograd() == nullptr);
    CHECK_FALSE(on_demand.uses_winograd(Tensor::nhwc(1, 6, 6, 48).view()));
    CHECK(on_demand.forward(Tensor::nhwc(1, 6, 6, 48), two).dim(3) == 40);  // small: direct, nothing made
    CHECK(on_demand.winograd() == nullptr);
    REQUIRE(on_demand.uses_winograd(x.view()));
    const Conv2D copy = on_demand;  // copies share the form once it is made
    const Tensor y = on_demand.forward(x, two);
    CHECK(on_demand.winograd() != nullptr);
    CHECK(copy.winograd() == on_demand.winograd());
    CHECK(y.values() == at_load.forward(x, two).values());
    REQUIRE(at_load.winograd()->positions() == 16);
    for (int xi = 0; xi < at_load.winograd()->positions(); ++xi) {
        const photong::PackedMatrix &u = at_load.winograd()->transformed(xi), &v = on_demand.winograd()->transformed(xi);
        CHECK(std::equal(u.data(), u.data() + u.size_floats(), v.data()));
    }
    // The parts a cache stores make the same layer again, whether the Winograd form comes along or not.
    const Conv2D rebuilt = Conv2D::from_packed(eager, 48, 40, at_load.packed_weights(), at_load.padded_bias(), at_load.winograd(), "rebuilt");
    CHECK(rebuilt.forward(x, two).values() == y.values());
    Conv2DParams no_form = later;
    const Conv2D rebuilt_later = Conv2D::from_packed(no_form, 48, 40, at_load.packed_weights(), at_load.padded_bias(), nullptr, "rebuilt later");
    CHECK(rebuilt_later.forward(x, two).values() == y.values());
    CHECK_THROWS_WITH_AS(Conv2D::from_packed(eager, 47, 40, at_load.packed_weights(), at_load.padded_bias(), nullptr, "wrong"),
                         doctest::Contains("packed conv weights do not match the layer"), photong::Error);
    // A view of packed floats must be aligned for the micro-kernel's loads.
    if (photong::PackedMatrix::kAlignment > sizeof(float))
        CHECK_THROWS_WITH_AS(photong::PackedMatrix::view(at_load.packed_weights().data() + 1, 432, 40, nullptr),
                             doctest::Contains("not aligned"), photong::Error);
}

TEST_CASE("conv2d: writing into a channel slice leaves the other channels alone") {
    photong::Rng rng(5);
    const Tensor x = random_tensor({1, 6, 6, 4}, rng), k = random_tensor({3, 3, 4, 5}, rng);
    const Conv2D conv(k, {}, {3, 3, 1, 1, photong::Padding::Same, false});
    Tensor wide = Tensor::nhwc(1, 6, 6, 9);
    std::fill(wide.values().begin(), wide.values().end(), 42.0f);
    conv.forward(x.view(), wide.view().channels(2, 5));
    const Tensor alone = conv.forward(x);
    for (int p = 0; p < 36; ++p) {
        CHECK(wide[std::size_t(p * 9 + 0)] == 42.0f);
        CHECK(wide[std::size_t(p * 9 + 8)] == 42.0f);
        for (int c = 0; c < 5; ++c) CHECK(wide[std::size_t(p * 9 + 2 + c)] == alone[std::size_t(p * 5 + c)]);
    }
}

TEST_CASE("layers: shape errors name the layer and the shapes") {
    const Conv2D conv(Tensor({3, 3, 8, 16}), {}, {3, 3, 1, 1, photong::Padding::Same, true}, "conv2d_7");
    CHECK_THROWS_WITH_AS(conv.forward(Tensor::nhwc(1, 5, 5, 3)), doctest::Contains("conv2d_7"), Error);
    const Conv2D valid(Tensor({3, 3, 3, 4}), {}, {3, 3, 1, 1, photong::Padding::Valid, false}, "conv2d_v");
    CHECK_THROWS_WITH_AS(valid.forward(Tensor::nhwc(1, 2, 2, 3)), doctest::Contains("smaller than the window"), Error);
    CHECK_THROWS_AS(Conv2D(Tensor({3, 3, 8}), {}, {}), Error);
    CHECK_THROWS_AS(Conv2D(Tensor({1, 1, 8, 4}), {1.0f, 2.0f}, {}), Error);
    const photong::Dense dense(Tensor({4, 2}), {}, photong::Activation::Softmax, "dense_1");
    CHECK_THROWS_WITH_AS(dense.forward(Tensor({1, 5})), doctest::Contains("dense_1"), Error);
    CHECK_THROWS_AS(photong::parse_activation("gelu"), Error);
    CHECK_THROWS_AS(photong::parse_padding("full"), Error);
}
