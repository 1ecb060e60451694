// photong/image/png_guard.hpp — refuses PNG files whose chunk lengths run past the end of the file.
//
// Why: stb_image 2.27 grows its IDAT buffer to the length a chunk *declares* before reading it, so a
// 55-byte PNG declaring a 1.8 GB IDAT chunk makes it allocate 1.8 GB (fuzz_image found it; the pixel
// limit does not help, the image itself may be tiny). A chunk whose length runs past the end of the
// file cannot be read whole anyway, so photong walks the chunks first and refuses such a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "photong/core/error.hpp"

namespace photong {

/// Throws photong::Error if the bytes are a PNG (by signature) with a chunk whose declared length
/// runs past the end of the file. Other files and other PNG faults are left to the decoder.
inline void check_png_chunk_lengths(const unsigned char* bytes, std::size_t size, const std::string& name) {
    if (size < 8 || std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) != 0) return;
    std::size_t pos = 8;
    while (size - pos >= 8) {  // length and type present
        const std::uint64_t length = std::uint64_t(bytes[pos]) << 24 | std::uint64_t(bytes[pos + 1]) << 16 |
                                     std::uint64_t(bytes[pos + 2]) << 8 | bytes[pos + 3];
        const std::uint64_t left = size - pos - 8;  // after length and type
        if (length > left)
            throw Error("corrupt PNG: a chunk's length runs past the end of the file",
                        {name, std::string("chunk '") + std::string(reinterpret_cast<const char*>(bytes + pos + 4), 4) + "' at byte " + std::to_string(pos),
                         "<= " + std::to_string(left) + " bytes", std::to_string(length) + " bytes"});
        if (std::memcmp(bytes + pos + 4, "IEND", 4) == 0) return;
        pos += 8 + std::size_t(length);
        if (size - pos < 4) return;  // no room for the CRC: the decoder reports the truncation
        pos += 4;
    }
}

}  // namespace photong
