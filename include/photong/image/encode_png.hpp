// photong/image/encode_png.hpp — 8-bit RGB images to PNG files, through stb_image_write, atomically.
//
// stb_image_write is compiled into every translation unit that includes this header with internal
// linkage (STB_IMAGE_WRITE_STATIC), as decode.hpp does for stb_image. A program that compiles its own
// copy may define PHOTONG_STB_IMAGE_WRITE_PROVIDED and include <stb_image_write.h> itself first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/stb_warnings.hpp"

#ifndef PHOTONG_STB_IMAGE_WRITE_PROVIDED
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO  // bytes come back through a callback and photong writes the file itself
PHOTONG_STB_WARNINGS_OFF
#include <stb/stb_image_write.h>
PHOTONG_STB_WARNINGS_ON
#endif

namespace photong {

/// The PNG encoding of `image` (RGB, 8 bits per channel) as bytes.
inline std::vector<std::uint8_t> encode_png(const Image& image) {
    require(image.width > 0 && image.height > 0 && image.rgb.size() == std::size_t(image.width) * std::size_t(image.height) * 3,
            "an image to encode needs width * height * 3 bytes",
            {"", "image", "width, height > 0 and " + std::to_string(std::size_t(image.width) * std::size_t(image.height) * 3) + " bytes",
             std::to_string(image.width) + "x" + std::to_string(image.height) + ", " + std::to_string(image.rgb.size()) + " bytes"});
    std::vector<std::uint8_t> out;
    auto append = [](void* context, void* data, int size) {
        auto* v = static_cast<std::vector<std::uint8_t>*>(context);
        const auto* p = static_cast<const std::uint8_t*>(data);
        v->insert(v->end(), p, p + size);
    };
    if (!stbi_write_png_to_func(append, &out, image.width, image.height, 3, image.rgb.data(), image.width * 3))
        throw Error("PNG encoding failed", {"", "image"});
    return out;
}

/// Writes `image` as a PNG file; nothing is left at `path` if anything fails.
inline void write_png(const Image& image, const std::string& path) {
    const std::vector<std::uint8_t> bytes = encode_png(image);
    AtomicFileWriter f(path);
    f.write(bytes.data(), bytes.size());
    f.commit();
}

}  // namespace photong
