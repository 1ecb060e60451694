// photong/image/png_guard.hpp — refuses PNG files whose chunk lengths run past the end of the file.
//
// Why: stb_image 2.27 grows its IDAT buffer to the length a chunk *declares* before reading it, so a
// 55-byte PNG declaring a 1.8 GB IDAT chunk makes it allocate 1.8 GB (fuzz_image found it; the pixel
// limit does not help, the image itself may be tiny). A chunk whose length runs past the end of the
// file cannot be read whole anyway, so photong walks the chunks first and refuses such a file.
// The walk also reports the size the IHDR chunk declares (for decode.hpp's pixel limit).
//
// Also: an IDAT chunk may be empty (PNG spec 5.3: a length of 0 is valid), but stb 2.27 copies an
// empty first IDAT chunk to its not yet allocated buffer, memcpy(NULL, ..., 0), which C leaves
// undefined (fuzz_image: UBSan "null pointer passed as argument 1" in stbi__getn). An empty chunk
// holds no image data, so decode.hpp hands stb a copy without the empty IDAT chunks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "photong/core/error.hpp"

namespace photong {

/// What the walk saw: the size a PNG's IHDR chunk (the first chunk) declares, if it has one.
struct PngChunks {
    bool has_header = false;
    std::uint32_t width = 0, height = 0;
    bool has_empty_idat = false;  ///< an IDAT chunk of length 0: decode through png_without_empty_idat
};

namespace png_detail {
inline std::uint32_t be32(const unsigned char* at) {
    return std::uint32_t(at[0]) << 24 | std::uint32_t(at[1]) << 16 | std::uint32_t(at[2]) << 8 | at[3];
}
}  // namespace png_detail

/// Throws photong::Error if the bytes are a PNG (by signature) with a chunk whose declared length
/// runs past the end of the file. Other files and other PNG faults are left to the decoder.
inline PngChunks check_png_chunk_lengths(const unsigned char* bytes, std::size_t size, const std::string& name) {
    PngChunks seen;
    if (size < 8 || std::memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) != 0) return seen;
    auto be32 = [&](std::size_t at) { return png_detail::be32(bytes + at); };
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
        if (length == 0 && std::memcmp(bytes + pos + 4, "IDAT", 4) == 0) seen.has_empty_idat = true;
        pos += 8 + std::size_t(length);
        if (size - pos < 4) return seen;  // no room for the CRC: the decoder reports the truncation
        pos += 4;
    }
    return seen;
}

/// The PNG's bytes with every IDAT chunk of length 0 left out (length, type and CRC, or as much of
/// the CRC as the file has), the rest unchanged. Only for a file check_png_chunk_lengths accepted.
inline std::vector<unsigned char> png_without_empty_idat(const unsigned char* bytes, std::size_t size) {
    std::vector<unsigned char> kept(bytes, bytes + 8);
    kept.reserve(size);
    std::size_t pos = 8;
    while (size - pos >= 8) {  // length and type present; the walk checked that the data is there
        const std::uint64_t length = png_detail::be32(bytes + pos);
        const std::size_t chunk = std::size_t(std::min<std::uint64_t>(12 + length, size - pos));  // the CRC may be cut
        if (length != 0 || std::memcmp(bytes + pos + 4, "IDAT", 4) != 0) kept.insert(kept.end(), bytes + pos, bytes + pos + chunk);
        pos += chunk;
    }
    kept.insert(kept.end(), bytes + pos, bytes + size);  // a cut chunk header: stb judges it as before
    return kept;
}

}  // namespace photong
