// photong/image/png_guard.hpp — refuses PNG files whose chunk lengths run past the end of the file.
//
// Why: stb_image 2.27 grows its IDAT buffer to the length a chunk *declares* before reading it, so a
// 55-byte PNG declaring a 1.8 GB IDAT chunk makes it allocate 1.8 GB (fuzz_image found it; the pixel
// limit does not help, the image itself may be tiny). A chunk whose length runs past the end of the
// file cannot be read whole anyway, so photong walks the chunks first and refuses such a file.
// The walk also reports the size the IHDR chunk declares (for decode.hpp's pixel limit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "photong/core/error.hpp"

namespace photong {

/// What the walk saw: the size a PNG's IHDR chunk (the first chunk) declares, if it has one.
struct PngChunks {
    bool has_header = false;
    std::uint32_t width = 0, height = 0;
};

/// Throws photong::Error if the bytes are a PNG (by signature) with a chunk whose declared length
/// runs past the end of the file. Other files and other PNG faults are left to the decoder.
inline PngChunks check_png_chunk_lengths(const unsigned char* bytes, std::size_t size, const std::string& name) {
    PngChunks seen;
    if (size < 8 || std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) != 0) return seen;
    auto be32 = [&](std::size_t at) {
        return std::uint32_t(bytes[at]) << 24 | std::uint32_t(bytes[at + 1]) << 16 | std::uint32_t(bytes[at + 2]) << 8 | bytes[at + 3];
    };
    if (size >= 24 && std::memcmp(bytes + 12, "IHDR", 4) == 0) seen.has_header = true, seen.width = be32(16), seen.height = be32(20);
    std::size_t pos = 8;
    while (size - pos >= 8) {  // length and type present
        const std::uint64_t length = be32(pos);
        const std::uint64_t left = size - pos - 8;  // after length and type
        if (length > left)
            throw Error("corrupt PNG: a chunk's length runs past the end of the file",
                        {name, std::string("chunk '") + std::string(reinterpret_cast<const char*>(bytes + pos + 4), 4) + "' at byte " + std::to_string(pos),
                         "<= " + std::to_string(left) + " bytes", std::to_string(length) + " bytes"});
        if (std::memcmp(bytes + pos + 4, "IEND", 4) == 0) return seen;
        pos += 8 + std::size_t(length);
        if (size - pos < 4) return seen;  // no room for the CRC: the decoder reports the truncation
        pos += 4;
    }
    return seen;
}

}  // namespace photong
