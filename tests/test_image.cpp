// Image front end: decoding real files and refusing bad ones, TF-style bilinear resizing checked
// against its definition and against PyTorch, and preprocessing read from weight metadata.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <photong/image/decode.hpp>
#include <photong/image/preprocess.hpp>
#include <photong/image/resize.hpp>

#include "test_util.hpp"

using photong::Error;
using photong::Image;
using photong::Tensor;

namespace {
const std::string kSkimage = "/usr/lib/python3/dist-packages/skimage/data/";

std::string read_all(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string error_of(const std::string& bytes, const photong::ImageLimits& limits = {}) {
    try {
        photong::decode_image(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "crafted.png", limits);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}
/// The start of a PNG file: signature and an IHDR chunk for an 8-bit RGB image of w x h (CRC left
/// zero: decoders do not need it to read the size).
std::string png_header(std::uint32_t w, std::uint32_t h) {
    std::string s = "\x89PNG\r\n\x1a\n";
    s += std::string("\0\0\0\x0dIHDR", 8);
    for (std::uint32_t v : {w, h})
        for (int k = 3; k >= 0; --k) s += char((v >> (8 * k)) & 0xff);
    s += std::string("\x08\x02\0\0\0", 5) + std::string(4, '\0');
    return s;
}
}  // namespace

TEST_CASE("decode: real PNG and JPEG files from skimage") {
    const Image cat = photong::load_image(kSkimage + "chelsea.png");
    CHECK(cat.width == 451);
    CHECK(cat.height == 300);
    CHECK(cat.rgb.size() == 451u * 300u * 3u);
    const Image rocket = photong::load_image(kSkimage + "rocket.jpg");
    CHECK(rocket.width == 640);
    CHECK(rocket.height == 427);
    const Image grey = photong::load_image(kSkimage + "camera.png");  // 1 channel, replicated to RGB
    CHECK(grey.rgb[0] == grey.rgb[1]);
    CHECK(grey.rgb[1] == grey.rgb[2]);
}

TEST_CASE("decode: bad input is refused with a clear error") {
    CHECK_THROWS_WITH_AS(photong::load_image("/nonexistent/x.png"), doctest::Contains("cannot open image file"), Error);
    CHECK(error_of("").find("empty") != std::string::npos);
    CHECK(error_of("this is plain text, not an image").find("not a readable image") != std::string::npos);
    const std::string png = read_all(kSkimage + "chelsea.png");
    REQUIRE(png.size() > 4000);
    CHECK(error_of(png.substr(0, 4000)).find("chunk's length runs past the end") != std::string::npos);  // truncated
    CHECK(!error_of(png_header(0, 10)).empty());                                             // zero width
    CHECK(error_of(png_header(10000, 10000)).find("too many pixels") != std::string::npos);  // 100 megapixels claimed
    photong::ImageLimits small;
    small.max_pixels = 1000;
    CHECK(error_of(png, small).find("451x300") != std::string::npos);
}

TEST_CASE("resize: half-pixel and align-corners match their definitions on a 2x2 image") {
    const float in[4] = {0, 10, 20, 30};
    const Tensor h = photong::resize_bilinear(in, 2, 2, 1, 4, 4, photong::ResizeMode::HalfPixel);
    // src = (dst + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 -> clamped taps and weights 0, .25, .75, 0.
    const float want_h[16] = {0, 2.5f, 7.5f, 10, 5, 7.5f, 12.5f, 15, 15, 17.5f, 22.5f, 25, 20, 22.5f, 27.5f, 30};
    for (int i = 0; i < 16; ++i) CHECK(h[std::size_t(i)] == doctest::Approx(want_h[i]).epsilon(1e-6));
    const Tensor a = photong::resize_bilinear(in, 2, 2, 1, 3, 3, photong::ResizeMode::AlignCorners);
    const float want_a[9] = {0, 5, 10, 10, 15, 20, 20, 25, 30};  // src = dst * (2-1)/(3-1)
    for (int i = 0; i < 9; ++i) CHECK(a[std::size_t(i)] == doctest::Approx(want_a[i]).epsilon(1e-6));
    CHECK_THROWS_AS(photong::resize_bilinear(in, 2, 2, 1, 0, 3, photong::ResizeMode::HalfPixel), Error);
}

TEST_CASE("resize: matches PyTorch interpolate (fixtures from tests/reference/gen_torch_fixtures.py)") {
    const auto files = photong_test::list_fixtures("layers", "resize");
    REQUIRE_MESSAGE(!files.empty(), "no resize fixtures: run scripts/test.sh, which generates them");
    for (const auto& path : files) {
        const photong::SafetensorsFile f(path);
        const Tensor in = f.load("input"), want = f.load("output");
        const bool align = f.metadata_at("align_corners") == "1";
        const Tensor got = photong::resize_bilinear(in.data(), int(in.dim(1)), int(in.dim(2)), int(in.dim(3)), std::stoi(f.metadata_at("out_h")),
                                                    std::stoi(f.metadata_at("out_w")), align ? photong::ResizeMode::AlignCorners : photong::ResizeMode::HalfPixel);
        // The source coordinate (dst + 0.5) * in/out - 0.5 is a float32 computation in TF's
        // definition; PyTorch evaluates it with different rounding (a fused multiply-add, for one),
        // and one float ulp of coordinate at size S moves the result by up to ulp(S) * 255 between
        // pixels 0 and 255. So the tolerance is two coordinate ulps times the value range, plus
        // 1e-4: ~6e-3 at S = 512 on 0..255 data, ~5e-5 once scaled to the network's [-1, 1].
        const float size = float(std::max({in.dim(1), in.dim(2), want.dim(1), want.dim(2)}));
        const double tol = 1e-4 + 2.0 * 255.0 * double(std::nextafter(size, 1e9f) - size);
        const double err = photong_test::check_close(got, want, tol, 0, path + " vs PyTorch");
        double exact = -1;
        if (f.contains("output_exact"))  // the TF formula in float64, from the same generator
            exact = photong_test::check_close(got, f.load("output_exact"), tol, 0, path + " vs float64 definition");
        MESSAGE(path << ": max abs error " << err << " vs PyTorch, " << exact << " vs the float64 definition (tolerance " << tol << ")");
    }
}

TEST_CASE("preprocessing: read from metadata, refused when unknown") {
    using photong::Preprocessing;
    const auto p = Preprocessing::from_metadata({{"resize", "bilinear_align_corners"}, {"preprocess", "divide_255"}, {"input_size", "299"}});
    CHECK(p.resize == photong::ResizeMode::AlignCorners);
    CHECK(p.scale_before_resize);
    CHECK(p.divisor == 255.0f);
    const auto k = Preprocessing::from_metadata({{"preprocess", "inception"}});
    CHECK(k.resize == photong::ResizeMode::HalfPixel);
    CHECK(k.offset == -1.0f);
    CHECK_THROWS_WITH_AS(Preprocessing::from_metadata({{"resize", "bicubic"}}, "w.safetensors"), doctest::Contains("bicubic"), Error);
    CHECK_THROWS_WITH_AS(Preprocessing::from_metadata({{"preprocess", "caffe"}}), doctest::Contains("caffe"), Error);
    CHECK_THROWS_AS(Preprocessing::from_metadata({{"input_size", "0"}}), Error);

    Image img;
    img.width = 2;
    img.height = 1;
    img.rgb = {0, 127, 255, 255, 0, 51};
    const Tensor x = Preprocessing::keras_inception(2).apply(img);  // resized 2x1 -> 2x2, then x/127.5 - 1
    CHECK(x.shape() == std::vector<std::int64_t>{1, 2, 2, 3});
    CHECK(x[0] == -1.0f);
    CHECK(x[2] == 1.0f);
    CHECK(x[6] == x[0]);  // rows repeat
    const Tensor y = Preprocessing::nsfwjs(2).apply(img);
    CHECK(y[5] == 51.0f / 255.0f);
}
