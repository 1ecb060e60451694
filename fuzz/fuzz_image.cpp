// fuzz/fuzz_image.cpp — the image loader (stb_image behind photong's limits, image/decode.hpp) on
// arbitrary bytes. An accepted image must have the size it claims, and must resize and
// preprocess to InceptionV3's input without trouble.
#include <vector>

#include <photong/image/decode.hpp>
#include <photong/image/preprocess.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    photong_fuzz::expect_only_photong_errors([&] {
        // A quarter-megapixel limit (512 x 512) instead of the default 67: a 50-byte TGA or JPEG may
        // legitimately declare millions of pixels, which stb then fills one by one from nothing (at
        // 4 megapixels TGA decoding took half of all fuzzing time, and the rate fell to ~250 exec/s).
        // The limit check is the same code at any size and no decoder path needs a large frame, so
        // the executions go to parsing; the big declared sizes are tests/test_bad_inputs.cpp's.
        photong::ImageLimits limits;
        limits.max_pixels = std::uint64_t(1) << 18;
        const photong::Image img = photong::decode_image(data, size, "<fuzz input>", limits);
        photong_fuzz::check(img.width >= 1 && img.height >= 1, "decoded image has a size");
        photong_fuzz::check(img.rgb.size() == std::size_t(img.width) * std::size_t(img.height) * 3, "decoded image has w*h*3 bytes");
        // Preprocessing is run on small images only: the point is the decoder, and a 67-megapixel
        // resize per input would starve the fuzzer of executions.
        if (std::size_t(img.width) * std::size_t(img.height) <= (1u << 16)) {
            const photong::Tensor x = photong::Preprocessing::keras_inception(31).apply(img);
            photong_fuzz::check(x.size() == 31 * 31 * 3, "preprocessed image has the network's input size");
        }
    });
    return 0;
}
