// photong/image/decode.hpp — image files to 8-bit RGB, through stb_image, behind size limits.
//
// stb_image is compiled into every translation unit that includes this header with internal
// linkage (STB_IMAGE_STATIC), which keeps photong header-only and free of link-order problems.
// A program that already compiles its own stb_image may define PHOTONG_STB_IMAGE_PROVIDED and
// include <stb_image.h> itself before this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"
#include "photong/image/jpeg_guard.hpp"
#include "photong/image/png_guard.hpp"
#include "photong/image/pnm_guard.hpp"
#include "photong/image/stb_warnings.hpp"

#ifndef PHOTONG_STB_IMAGE_PROVIDED
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  // photong reads files itself, so errors name the file and limits apply first
#define STBI_NO_PIC    // Softimage PIC: not one of the formats photong documents, so not a parser to expose
#define STBI_MAX_DIMENSIONS (1 << 20)
// stb_image mallocs its decoder state and reads parts of it a corrupt file never set (jpeg_guard.hpp
// refuses the one such case fuzzing found); zeroed memory makes any other such read defined.
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
PHOTONG_STB_WARNINGS_OFF
#include <stb/stb_image.h>
PHOTONG_STB_WARNINGS_ON
#endif

namespace photong {

/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B.
struct Image {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;  ///< width * height * 3 bytes
};

/// Pixels someone else decoded as an Image: `height` rows of `width` pixels of `channels` bytes (1 grey, 3 RGB, 4 RGBA
/// with alpha ignored, as the file decoder ignores it), walked by byte strides from `pixels` (any may be negative, e.g.
/// a flipped numpy view). The C API and the Python module take pictures this way; the caller checks the sizes.
inline Image image_from_pixels(const std::uint8_t* pixels, int width, int height, int channels, std::ptrdiff_t row_stride,
                               std::ptrdiff_t pixel_stride, std::ptrdiff_t channel_stride) {
    const std::ptrdiff_t grey_or_colour = channels == 1 ? 0 : channel_stride;  // grey: one sample for all three
    Image image;
    image.width = width, image.height = height;
    image.rgb.resize(std::size_t(width) * std::size_t(height) * 3);
    std::uint8_t* out = image.rgb.data();
    for (std::ptrdiff_t y = 0; y < height; ++y)
        for (std::ptrdiff_t x = 0; x < width; ++x)
            for (std::ptrdiff_t c = 0; c < 3; ++c) *out++ = pixels[y * row_stride + x * pixel_stride + c * grey_or_colour];
    return image;
}

/// Bounds on what the decoder accepts. The pixel limit stops a tiny file that claims to be
/// 100000x100000 from making the decoder allocate tens of gigabytes.
struct ImageLimits {
    std::uint64_t max_pixels = std::uint64_t(1) << 26;  ///< 67 megapixels
    std::uint64_t max_file_bytes = std::uint64_t(1) << 30;
    std::uint32_t max_jpeg_scans = 256;  ///< stb decodes each scan over the whole frame (jpeg_guard.hpp)
};

namespace image_detail {

/// A binary PGM or PPM whose maxval is above 255 has two big-endian bytes per sample, and
/// stb_image 2.27 gets it wrong twice: it converts a grey PGM to RGB with its 8-bit
/// converter and then reads that buffer as 16-bit samples, twice its length (fuzz_image: a
/// heap-buffer-overflow), and it keeps the file's big-endian samples in native order, so on a
/// little-endian machine the 8-bit result is each sample's low byte. Here stb only copies the
/// samples (at their own channel count), and each is reduced to its high byte, as stb does for
/// 16-bit PNG, read from the file's byte order on any machine.
inline Image decode_16_bit_pnm(const unsigned char* bytes, std::size_t size, const std::string& name) {
    int w = 0, h = 0, channels = 0;
    stbi_us* samples = stbi_load_16_from_memory(bytes, int(size), &w, &h, &channels, 0);
    if (!samples) throw Error(std::string("cannot decode image: ") + stbi_failure_reason(), {name});
    if (channels != 1 && channels != 3) {
        stbi_image_free(samples);
        throw Error("16-bit PNM has an unexpected channel count", {name, "", "1 or 3", std::to_string(channels)});
    }
    // stb_image's PNM reader gives 1 (P5) or 3 (P6) channels; the bytes are as the file had them.
    const unsigned char* be_samples = reinterpret_cast<const unsigned char*>(samples);
    const std::size_t n = std::size_t(channels);
    Image img;
    img.width = w;
    img.height = h;
    img.rgb.resize(std::size_t(w) * std::size_t(h) * 3);
    for (std::size_t p = 0; p < std::size_t(w) * std::size_t(h); ++p)
        for (std::size_t c = 0; c < 3; ++c)  // grey is replicated
            img.rgb[3 * p + c] = be_samples[2 * (p * n + (n == 3 ? c : 0))];  // the high byte comes first
    stbi_image_free(samples);
    return img;
}

constexpr const char* kSupportedFormats = "JPEG, PNG, BMP, GIF (first frame), TGA, PSD, HDR and PNM (PBM/PGM/PPM)";

/// The name of a well-known image format stb_image cannot read, from the file's first bytes ("" if none).
inline std::string unsupported_format(const unsigned char* b, std::size_t n) {
    auto at = [&](std::size_t off, const char* magic, std::size_t len) {
        return n >= off + len && std::memcmp(b + off, magic, len) == 0;
    };
    if (at(0, "RIFF", 4) && at(8, "WEBP", 4)) return "WebP";
    if (at(0, "II*\0", 4) || at(0, "MM\0*", 4)) return "TIFF";
    if (at(0, "\0\0\0\x0CjP  \r\n\x87\n", 12) || at(0, "\xFF\x4F\xFF\x51", 4)) return "JPEG 2000";
    if (at(4, "ftypavif", 8) || at(4, "ftypavis", 8)) return "AVIF";
    if (at(4, "ftyp", 4) && (at(8, "heic", 4) || at(8, "heix", 4) || at(8, "hevc", 4) || at(8, "heim", 4) || at(8, "heis", 4) ||
                             at(8, "mif1", 4) || at(8, "msf1", 4)))
        return "HEIC/HEIF";
    if (at(0, "\xFF\x0A", 2) || at(4, "JXL \r\n\x87\n", 8)) return "JPEG XL";
    if (at(0, "%PDF", 4)) return "PDF";
    if (at(0, "<svg", 4) || at(0, "<?xml", 5)) return "SVG/XML";
    return "";
}

}  // namespace image_detail

/// Decodes an in-memory image file (JPEG, PNG, BMP, GIF first frame, TGA, PSD, HDR, PNM) to RGB;
/// grey is replicated, alpha dropped. `name` is used in error messages.
inline Image decode_image(const unsigned char* bytes, std::size_t size, const std::string& name = "<memory>",
                          const ImageLimits& limits = {}) {
    require(size > 0, "image file is empty", {name});
    require(size <= limits.max_file_bytes, "image file is too large", {name, "", "<= " + std::to_string(limits.max_file_bytes) + " bytes", std::to_string(size) + " bytes"});
    require(size <= std::size_t(INT32_MAX), "image file is too large for the decoder", {name});
    // The size the header declares, checked against the limit before stb parses a byte: stb refuses
    // some huge sizes itself but then reports only "unknown image type" (each format's failure
    // overwrites the last), which names nothing. JPEG: jpeg_guard.hpp also refuses bad Huffman tables and repeated scans.
    const JpegSegments jpeg = check_jpeg_segments(bytes, size, name, limits.max_jpeg_scans, limits.max_pixels);
    const PngChunks png = check_png_chunk_lengths(bytes, size, name);  // png_guard.hpp: no allocation for a length the file does not hold
    if (png.has_empty_idat) {  // png_guard.hpp: stb copies an empty first IDAT chunk to a null buffer
        const std::vector<unsigned char> kept = png_without_empty_idat(bytes, size);
        if (kept.size() < size) return decode_image(kept.data(), kept.size(), name, limits);  // shorter each time: ends
    }
    const PnmHeader pnm = check_pnm_header(bytes, size, name);  // pnm_guard.hpp: no header number that overflows stb's int
    std::uint64_t declared_w = 0, declared_h = 0;
    bool declared = true;
    if (jpeg.has_frame) {
        declared_w = jpeg.width, declared_h = jpeg.height;
    } else if (png.has_header) {
        declared_w = png.width, declared_h = png.height;
    } else if (pnm.is_pnm) {
        declared_w = pnm.width, declared_h = pnm.height;
    } else if (size >= 10 && (std::memcmp(bytes, "GIF87a", 6) == 0 || std::memcmp(bytes, "GIF89a", 6) == 0)) {
        declared_w = bytes[6] | std::uint64_t(bytes[7]) << 8, declared_h = bytes[8] | std::uint64_t(bytes[9]) << 8;
    } else {
        declared = false;  // other formats: stb_info below, then the same limits
    }
    if (declared_w * declared_h > limits.max_pixels)  // both < 2^32: no overflow
        throw Error("image has too many pixels", {name, "", "<= " + std::to_string(limits.max_pixels) + " pixels",
                                                  std::to_string(declared_w) + "x" + std::to_string(declared_h) + " (declared by the file's header)"});
    if (declared && (declared_w == 0 || declared_h == 0))
        throw Error("image has zero size", {name, "", "width and height >= 1", std::to_string(declared_w) + "x" + std::to_string(declared_h) + " (declared by the file's header)"});
    const std::string other = image_detail::unsupported_format(bytes, size);
    if (!other.empty())
        throw Error(other + " images are not supported: photong reads " + image_detail::kSupportedFormats + " (convert it first)",
                    {name, "", image_detail::kSupportedFormats, other});
    int w = 0, h = 0, channels = 0;
    if (!stbi_info_from_memory(bytes, int(size), &w, &h, &channels))
        throw Error(std::string("not a readable image: ") + stbi_failure_reason() + "; photong reads " + image_detail::kSupportedFormats, {name});
    if (w <= 0 || h <= 0)
        throw Error("image has zero size", {name, "", "width and height >= 1", std::to_string(w) + "x" + std::to_string(h)});
    if (std::uint64_t(w) * std::uint64_t(h) > limits.max_pixels)
        throw Error("image has too many pixels", {name, "", "<= " + std::to_string(limits.max_pixels) + " pixels",
                                                  std::to_string(w) + "x" + std::to_string(h)});
    if (pnm.is_pnm && pnm.maxval > 255) return image_detail::decode_16_bit_pnm(bytes, size, name);
    stbi_uc* pixels = stbi_load_from_memory(bytes, int(size), &w, &h, &channels, 3);
    if (!pixels) throw Error(std::string("cannot decode image: ") + stbi_failure_reason(), {name});
    Image img;
    img.width = w;
    img.height = h;
    img.rgb.assign(pixels, pixels + std::size_t(w) * std::size_t(h) * 3);
    stbi_image_free(pixels);
    return img;
}

/// Reads and decodes an image file.
inline Image load_image(const std::string& path, const ImageLimits& limits = {}) {
    require_regular_file(path, "image file");  // a FIFO would block, a directory has no bytes
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open image file" + file_io_detail::reason(errno), {path});
    in.seekg(0, std::ios::end);
    const std::streamoff n = in.tellg();
    if (n < 0) throw Error("cannot read image file", {path});
    if (std::uint64_t(n) > limits.max_file_bytes)
        throw Error("image file is too large", {path, "", "<= " + std::to_string(limits.max_file_bytes) + " bytes", std::to_string(n) + " bytes"});
    in.seekg(0);
    std::vector<unsigned char> bytes(static_cast<std::size_t>(n));
    if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n)) throw Error("cannot read image file", {path});
    return decode_image(bytes.data(), bytes.size(), path, limits);
}

}  // namespace photong
