// winograd_error — for every InceptionV3 layer that runs as Winograd at 299x299, the error of F(2x2, 3x3) (what
// Conv2D uses), F(4x4, 3x3) and the direct product against the double-precision definition (conv2d_reference),
// on the real folded weights and the real input that layer sees for a real picture; and the time of each form.
//
// usage: winograd_error [WEIGHTS.safetensors] [PICTURE] [--runs N]
// (defaults: weights/inception_v3.safetensors and skimage's chelsea.png). Errors are of the layer's output before
// ReLU: max |error|, that over max |reference|, and the share of outputs outside the layer test's tolerance
// (1e-4 + 1e-5 |reference|, tests/test_layers.cpp). Times: median of N runs on the default thread pool.
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
        // The real inputs of the Winograd layers: the stem run layer by layer, then the blocks' inner maps.
        const Tensor x = net.preprocessing().apply(photong::load_image(picture));
        std::map<std::string, Tensor> mixed;
        net.features(x, [&](const std::string& name, const Tensor& t) { mixed[name] = t; });
        const photong::Pool2DParams max3{photong::PoolKind::Max, 3, 3, 2, 2, photong::Padding::Valid};
        std::vector<std::pair<std::string, std::pair<const Conv2D*, Tensor>>> layers;
        const Tensor s0 = L.stem[0].forward(x, pool), s1 = L.stem[1].forward(s0, pool), s2 = L.stem[2].forward(s1, pool);
        const Tensor s3 = L.stem[3].forward(photong::pool2d(s2, max3, pool), pool);
        layers.push_back({"stem conv2d_2", {&L.stem[1], s0}});
        layers.push_back({"stem conv2d_3", {&L.stem[2], s1}});
        layers.push_back({"stem conv2d_5", {&L.stem[4], s3}});
        Tensor in = photong::pool2d(L.stem[4].forward(s3, pool), max3, pool);
        for (int i = 0; i < 3; ++i) {
            const Tensor heads = L.a[i].heads.forward(in, pool);
            const Tensor d2_in = copy_of(heads.view().channels(112, 64));
            layers.push_back({"mixed" + std::to_string(i) + " d2", {&L.a[i].d2, d2_in}});
            layers.push_back({"mixed" + std::to_string(i) + " d3", {&L.a[i].d3, L.a[i].d2.forward(d2_in, pool)}});
            in = mixed["mixed" + std::to_string(i)];
        }
        layers.push_back({"mixed3 d2", {&L.b.d2, L.b.d1.forward(mixed["mixed2"], pool)}});

        std::printf("machine threads %u; %s on %s; errors before ReLU, times median of %d runs\n", pool.size(), weights.c_str(), picture.c_str(), runs);
        std::printf("%-14s %-22s %9s %10s %10s %9s | %9s %10s %10s %9s | %10s %10s\n", "layer", "shape", "F2 ms", "F2 maxerr", "F2 rel", "F2 out",
                    "F4 ms", "F4 maxerr", "F4 rel", "F4 out", "direct ms", "dir maxerr");
        double total2 = 0, total4 = 0;
        for (const auto& entry : layers) {
            const Conv2D& c = *entry.second.first;
            const Tensor& input = entry.second.second;
            const int cin = c.in_channels(), cout = c.out_channels();
            Tensor kernel({3, 3, cin, cout});
            for (int ky = 0; ky < 3; ++ky)
                for (int kx = 0; kx < 3; ++kx)
                    for (int ci = 0; ci < cin; ++ci)
                        for (int co = 0; co < cout; ++co) kernel.data()[((std::size_t(ky) * 3 + kx) * cin + ci) * cout + co] = c.weight(ky, kx, ci, co);
            std::vector<float> bias(std::size_t(c.packed_weights().panels() * photong::PackedMatrix::kPanel), 0.0f);
            for (int co = 0; co < cout; ++co) bias[std::size_t(co)] = c.bias(co);
            photong::Conv2DParams linear = c.params();
            linear.relu = false;
            const Tensor ref = photong::conv2d_reference(input, kernel, std::vector<float>(bias.begin(), bias.begin() + cout), linear);
            Tensor out = Tensor::nhwc(int(ref.dim(0)), int(ref.dim(1)), int(ref.dim(2)), cout);
            const photong::Winograd3x3<2> f2(kernel.data(), cin, cout, bias, linear.padding, false);
            const photong::Winograd3x3<4> f4(kernel.data(), cin, cout, bias, linear.padding, false);
            linear.allow_winograd = false;
            const Conv2D direct(kernel, std::vector<float>(bias.begin(), bias.begin() + cout), linear);
            const double t2 = median_ms(runs, [&] { f2.forward(input.view(), out.view(), pool); });
            const Error e2 = compare(out, ref);
            const double t4 = median_ms(runs, [&] { f4.forward(input.view(), out.view(), pool); });
            const Error e4 = compare(out, ref);
            const double td = median_ms(runs, [&] { direct.forward(input.view(), out.view(), pool); });
            const Error ed = compare(out, ref);
            total2 += t2;
            total4 += t4;
            const std::string shape = std::to_string(input.dim(1)) + "x" + std::to_string(input.dim(2)) + "x" + std::to_string(cin) + "->" + std::to_string(cout);
            std::printf("%-14s %-22s %9.3f %10.2e %10.2e %9.2e | %9.3f %10.2e %10.2e %9.2e | %10.3f %10.2e\n", entry.first.c_str(), shape.c_str(), t2,
                        e2.max_abs, e2.max_abs / e2.max_ref, e2.outside, t4, e4.max_abs, e4.max_abs / e4.max_ref, e4.outside, td, ed.max_abs);
        }
        std::printf("all Winograd layers: F(2x2) %.2f ms, F(4x4) %.2f ms\n", total2, total4);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "winograd_error: %s\n", e.what());
        return 1;
    }
    return 0;
}
