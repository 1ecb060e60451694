// winograd_error — for every InceptionV3 layer with a Winograd variant (3x3, 5x5, 1x7, 7x1, 1x3, 3x1, stride 1), the
// error of each variant (F(2,r) and F(4,r) along the kernel's axes for r = 3, 5; F(2,7) and F(3,7)) and of the
// direct product against the double-precision definition (conv2d_reference), on the real folded weights and the real
// input that layer sees for a real picture; the time of each form; and which form the network runs (marked *).
//
// usage: winograd_error [WEIGHTS.safetensors] [PICTURE] [--runs N]
// (defaults: weights/inception_v3.safetensors and skimage's chelsea.png). Errors are of the layer's output before
// ReLU: max |error|, that over max |reference|, and the share of outputs outside the layer test's tolerance
// (1e-4 + 1e-5 |reference|, tests/test_layers.cpp). Times: median of N runs on the default thread pool. The last lines
// sum the times of what the network runs and of the direct product over all these layers.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <photong/image/decode.hpp>
#include <photong/models/inception_v3.hpp>
#include <photong/nn/conv2d.hpp>
#include <photong/nn/pooling.hpp>
#include <photong/nn/winograd.hpp>

namespace {

using photong::Conv2D;
using photong::Tensor;

Tensor copy_of(const photong::FeatureView& v) {
    Tensor t = Tensor::nhwc(v.n, v.h, v.w, v.c);
    for (std::int64_t p = 0; p < v.pixels(); ++p) std::copy_n(v.data + p * v.pixel_stride, v.c, t.data() + p * v.c);
    return t;
}

struct Error {
    double max_abs = 0, max_ref = 0, outside = 0;
};

Error compare(const Tensor& got, const Tensor& ref) {
    Error e;
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = std::abs(double(got.data()[i]) - ref.data()[i]);
        e.max_abs = std::max(e.max_abs, d);
        e.max_ref = std::max(e.max_ref, std::abs(double(ref.data()[i])));
        bad += d > 1e-4 + 1e-5 * std::abs(double(ref.data()[i]));
    }
    e.outside = double(bad) / double(ref.size());
    return e;
}

template <class F>
double median_ms(int runs, F&& f) {
    std::vector<double> t;
    f();
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::string weights = std::string(PHOTONG_SOURCE_DIR) + "/weights/inception_v3.safetensors";
    std::string picture = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png";
    int runs = 15, positional = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
        else if (positional++ == 0) weights = a;
        else picture = a;
    }
    try {
        const photong::InceptionV3 net(weights);
        const auto& L = net.layers();
        photong::ThreadPool& pool = photong::default_thread_pool();
        // The real inputs of the layers: the stem run layer by layer, then each block's inner maps from its input.
        const Tensor x = net.preprocessing().apply(photong::load_image(picture));
        std::map<std::string, Tensor> mixed;
        net.features(x, [&](const std::string& name, const Tensor& t) { mixed[name] = t; });
        auto block_input = [&](int i) { return mixed["mixed" + std::to_string(i)]; };
        const photong::Pool2DParams max3{photong::PoolKind::Max, 3, 3, 2, 2, photong::Padding::Valid};
        std::vector<std::pair<std::string, std::pair<const Conv2D*, Tensor>>> layers;
        auto add = [&](std::string name, const Conv2D& c, Tensor input) { layers.push_back({std::move(name), {&c, std::move(input)}}); };
        const Tensor s0 = L.stem[0].forward(x, pool), s1 = L.stem[1].forward(s0, pool), s2 = L.stem[2].forward(s1, pool);
        const Tensor s3 = L.stem[3].forward(photong::pool2d(s2, max3, pool), pool);
        add("stem conv2d_2", L.stem[1], s0);
        add("stem conv2d_3", L.stem[2], s1);
        add("stem conv2d_5", L.stem[4], s3);
        Tensor in = photong::pool2d(L.stem[4].forward(s3, pool), max3, pool);
        for (int i = 0; i < 3; ++i) {
            const Tensor heads = L.a[i].heads.forward(in, pool);
            const std::string b = "mixed" + std::to_string(i);
            add(b + " b5_2", L.a[i].b5_2, copy_of(heads.view().channels(64, 48)));
            const Tensor d2_in = copy_of(heads.view().channels(112, 64));
            add(b + " d2", L.a[i].d2, d2_in);
            add(b + " d3", L.a[i].d3, L.a[i].d2.forward(d2_in, pool));
            in = block_input(i);
        }
        add("mixed3 d2", L.b.d2, L.b.d1.forward(block_input(2), pool));
        for (int i = 0; i < 4; ++i) {
            const auto& c = L.c[i];
            const int c7 = c.s2.in_channels();
            const Tensor heads = c.heads.forward(block_input(3 + i), pool);
            const std::string b = "mixed" + std::to_string(4 + i);
            const Tensor s2_in = copy_of(heads.view().channels(192, c7)), d2_in = copy_of(heads.view().channels(192 + c7, c7));
            add(b + " s2", c.s2, s2_in);
            add(b + " s3", c.s3, c.s2.forward(s2_in, pool));
            const Tensor d3_in = c.d2.forward(d2_in, pool), d4_in = c.d3.forward(d3_in, pool), d5_in = c.d4.forward(d4_in, pool);
            add(b + " d2", c.d2, d2_in);
            add(b + " d3", c.d3, d3_in);
            add(b + " d4", c.d4, d4_in);
            add(b + " d5", c.d5, d5_in);
        }
        {
            const Tensor heads = L.d.heads.forward(block_input(7), pool);
            const Tensor s2_in = copy_of(heads.view().channels(192, 192));
            add("mixed8 s2", L.d.s2, s2_in);
            add("mixed8 s3", L.d.s3, L.d.s2.forward(s2_in, pool));
        }
        for (int i = 0; i < 2; ++i) {
            const auto& e = L.e[i];
            const Tensor heads = e.heads.forward(block_input(8 + i), pool);
            const std::string b = "mixed" + std::to_string(9 + i);
            const Tensor b3_in = copy_of(heads.view().channels(320, 384)), d2_in = copy_of(heads.view().channels(704, 448));
            add(b + " b3a", e.b3a, b3_in);
            add(b + " b3b", e.b3b, b3_in);
            add(b + " d2", e.d2, d2_in);
            const Tensor d3_in = e.d2.forward(d2_in, pool);
            add(b + " d3a", e.d3a, d3_in);
            add(b + " d3b", e.d3b, d3_in);
        }

        std::printf("machine threads %u; %s on %s; errors before ReLU, times median of %d runs; * = the form the network runs\n", pool.size(),
                    weights.c_str(), picture.c_str(), runs);
        std::printf("%-13s %-20s %-12s %9s %10s %10s %9s\n", "layer", "input->cout kernel", "form", "ms", "max |err|", "rel", "outside");
        double total_run = 0, total_direct = 0;
        for (const auto& entry : layers) {
            const Conv2D& c = *entry.second.first;
            const Tensor& input = entry.second.second;
            const photong::Conv2DParams& p = c.params();
            const int cin = c.in_channels(), cout = c.out_channels(), kh = p.kernel_h, kw = p.kernel_w;
            Tensor kernel({kh, kw, cin, cout});
            for (int ky = 0; ky < kh; ++ky)
                for (int kx = 0; kx < kw; ++kx)
                    for (int ci = 0; ci < cin; ++ci)
                        for (int co = 0; co < cout; ++co) kernel.data()[((std::size_t(ky) * kw + kx) * cin + ci) * cout + co] = c.weight(ky, kx, ci, co);
            std::vector<float> bias(std::size_t(c.packed_weights().panels() * photong::PackedMatrix::kPanel), 0.0f);
            for (int co = 0; co < cout; ++co) bias[std::size_t(co)] = c.bias(co);
            photong::Conv2DParams linear = p;
            linear.relu = false;
            const Tensor ref = photong::conv2d_reference(input, kernel, std::vector<float>(bias.begin(), bias.begin() + cout), linear);
            Tensor out = Tensor::nhwc(int(ref.dim(0)), int(ref.dim(1)), int(ref.dim(2)), cout);
            const std::string shape = std::to_string(input.dim(1)) + "x" + std::to_string(input.dim(2)) + "x" + std::to_string(cin) + "->" +
                                      std::to_string(cout) + " " + std::to_string(kh) + "x" + std::to_string(kw);
            const bool runs_winograd = c.uses_winograd(input.view());
            auto report = [&](const std::string& form, bool chosen, auto&& run) {
                const double ms = median_ms(runs, run);
                const Error e = compare(out, ref);
                if (chosen) total_run += ms;
                std::printf("%-13s %-20s %-12s %9.3f %10.2e %10.2e %9.2e\n", entry.first.c_str(), shape.c_str(), (form + (chosen ? "*" : "")).c_str(), ms,
                            e.max_abs, e.max_abs / e.max_ref, e.outside);
                return ms;
            };
            for (int tile : {2, 3, 4}) {
                photong::WinogradShape ws;
                if (!photong::WinogradShape::for_kernel(kh, kw, tile, ws)) continue;
                const photong::WinogradConv f(ws, kernel.data(), cin, cout, bias, linear.padding, false);
                report(ws.name(), runs_winograd && ws == c.winograd_shape(), [&] { f.forward(input.view(), out.view(), pool); });
            }
            linear.allow_winograd = false;
            const Conv2D direct(kernel, std::vector<float>(bias.begin(), bias.begin() + cout), linear);
            total_direct += report("direct", !runs_winograd, [&] { direct.forward(input.view(), out.view(), pool); });
        }
        std::printf("these %zu layers: %.2f ms as the network runs them, %.2f ms all direct\n", layers.size(), total_run, total_direct);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "winograd_error: %s\n", e.what());
        return 1;
    }
    return 0;
}
