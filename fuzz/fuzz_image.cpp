// fuzz/fuzz_image.cpp — the image loader (stb_image behind photong's limits, image/decode.hpp) on
// arbitrary bytes. An accepted image must have the size it claims, and must resize and
// preprocess to InceptionV3's input without trouble.
#include <vector>

#include <photong/image/decode.hpp>
#include <photong/image/preprocess.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    photong_fuzz::expect_only_photong_errors([&] {
        // A 4-megapixel limit instead of the default 67: a 97-byte TGA may legitimately declare
        // 3855 x 3855 pixels (1.4 s of decoding under ASan, reported as a timeout by a loaded
        // machine); the limit logic is the same at any size, the executions 16 times cheaper.
        photong::ImageLimits limits;
        limits.max_pixels = std::uint64_t(1) << 22;
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
