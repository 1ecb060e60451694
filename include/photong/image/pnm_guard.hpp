// photong/image/pnm_guard.hpp — reads a binary PGM/PPM header (P5, P6) before stb_image does.
//
// Why: stb_image 2.27 accumulates each header number in an `int` with no bound, so a header with a
// long run of digits is signed overflow, undefined behaviour (fuzz_image: "255111111 * 10 cannot be
// represented in type 'int'", stb_image.h:7487), before any size check can run. This walk follows
// stb's own grammar byte for byte (whitespace, '#' comments to the end of the line, digit runs; a
// read past the end gives 0, and the last byte is never part of a number), so the numbers it checks
// are exactly the ones stb will parse. It also reports the declared size for decode.hpp's pixel limit
// and the maxval, which says whether samples are one byte or two.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "photong/core/error.hpp"

namespace photong {

/// What the walk saw in a binary PNM header.
struct PnmHeader {
    bool is_pnm = false;  ///< starts with P5 (grey) or P6 (RGB)
    std::uint32_t width = 0, height = 0, maxval = 0;
};

/// Throws photong::Error if the bytes are a binary PNM whose width, height or maxval does not fit
/// in stb_image's `int` (above 2^31 - 1), or whose maxval is above 65535 (Netpbm's limit).
/// Other files are left alone (is_pnm false); other PNM faults are left to the decoder.
inline PnmHeader check_pnm_header(const unsigned char* bytes, std::size_t size, const std::string& name) {
    PnmHeader seen;
    std::size_t pos = 0;
    auto at_end = [&] { return pos >= size; };
    auto next = [&]() -> char { return at_end() ? char(0) : char(bytes[pos++]); };
    const char p = next(), t = next();
    if (p != 'P' || (t != '5' && t != '6')) return seen;
    seen.is_pnm = true;

    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
    char c = next();
    auto skip_space_and_comments = [&] {
        for (;;) {
            while (!at_end() && is_space(c)) c = next();
            if (at_end() || c != '#') return;
            while (!at_end() && c != '\n' && c != '\r') c = next();
        }
    };
    auto number = [&](const char* what) {
        std::uint32_t value = 0;
        while (!at_end() && c >= '0' && c <= '9') {
            const std::uint32_t digit = std::uint32_t(c - '0');
            if (value > (std::uint32_t(INT32_MAX) - digit) / 10)
                throw Error(std::string("corrupt PNM: the header's ") + what + " does not fit in 31 bits",
                            {name, "", "<= " + std::to_string(INT32_MAX), "more (digits up to byte " + std::to_string(pos) + ")"});
            value = value * 10 + digit;
            c = next();
        }
        return value;
    };
    skip_space_and_comments();
    seen.width = number("width");
    skip_space_and_comments();
    seen.height = number("height");
    skip_space_and_comments();
    seen.maxval = number("maxval");
    if (seen.maxval > 65535)
        throw Error("corrupt PNM: maxval above 65535", {name, "", "<= 65535", std::to_string(seen.maxval)});
    return seen;
}

}  // namespace photong
