// photong/image/jpeg_guard.hpp — refuses JPEG files that stb_image 2.27 would mishandle (write out of
// bounds, read uninitialised tables, decode without end), and reads the frame size a JPEG declares
// (for decode.hpp's pixel limit).
//
// Why: Debian 12's stb_image (v2.27) builds a Huffman table from the 16 code counts of a DHT segment
// without checking that they add up to at most 256 symbols, and writes one byte per declared code
// into a 257-byte array (stbi__build_huffman): a 40-byte file overruns the decoder's heap struct by
// up to 3.8 KB. fuzz_image found it. Later stb releases reject such tables; until every platform
// ships one, photong walks the JPEG's segments first, the way stb's decoder meets them, and refuses
// any Huffman table with more than 256 codes — the JPEG standard's own limit (ITU T.81, B.2.4.2).
//
// It also refuses a scan that decodes with a Huffman table no DHT segment has defined: stb 2.27
// checks only that the table number is 0..3, then reads the table from its decoder struct, which
// it mallocs and never clears, so the code sizes it shifts by are whatever the heap held (UBSan,
// in fuzz_image: "shift exponent 32 is too large" in stbi__jpeg_huff_decode). Which tables a scan
// decodes with follows stb (and T.81 G.1.2): a sequential scan uses each component's DC and AC
// tables; a progressive DC scan uses only the DC table, and only on its first pass (a DC
// refinement reads raw bits); a progressive AC scan uses only the AC table. Encoders write table 0
// for the table a scan does not use, often before any AC table exists, so that is allowed.
//
// And it bounds the work a small file can ask for: stb decodes every scan over the whole frame, so a
// 4 KB baseline file repeating one scan 18 times over a 2-megapixel frame took 0.9 s (10 s under
// ASan: fuzz_image's timeout). A sequential JPEG codes each component in exactly one scan (T.81
// 4.5), so a second scan of a component is refused; a progressive one has legitimately many scans,
// so their number is capped (ImageLimits::max_jpeg_scans, 256 by default, the default nvImageCodec
// uses against the same attack; libjpeg's progressive scripts write about 10).
//
// Each scan's coded data is then decoded symbol by symbol (jpeg_entropy.hpp), so that a block needing
// bits past the marker that ends the data is refused before stb's bit count goes negative.
//
// The walk is a superset of stb's: header segments are skipped by their length, stray bytes between
// markers are skipped (stb fails there or skips them), and entropy-coded data is scanned to the
// first marker that is neither a stuffed 0xFF00 nor a restart marker. Every DHT segment stb could
// parse is therefore checked; a well-formed JPEG walks identically in both, so none is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "photong/core/error.hpp"
#include "photong/image/jpeg_entropy.hpp"

namespace photong {

/// What the walk saw: the size a JPEG's first frame header declares, if it has one.
struct JpegSegments {
    bool has_frame = false;              ///< a start-of-frame segment was found
    std::uint32_t width = 0, height = 0; ///< from that segment (before the decoder reads a pixel)
};

/// Throws photong::Error if the bytes are a JPEG (0xFF.. 0xD8 first) with a Huffman table that
/// declares more than 256 codes, with a scan that decodes with a Huffman table not yet defined,
/// with a sequential frame that codes a component in two scans, or with more than max_scans scans.
/// It also walks every scan's coded data (jpeg_entropy.hpp) and throws if a block needs bits past
/// the marker that ends it; max_pixels bounds the frame that walk keeps state for (larger frames
/// are left to decode.hpp's pixel limit). Other files and other JPEG faults are left to the decoder.
inline JpegSegments check_jpeg_segments(const unsigned char* bytes, std::size_t size, const std::string& name, std::uint32_t max_scans = 256,
                                        std::uint64_t max_pixels = std::uint64_t(1) << 26) {
    JpegSegments seen;
    std::size_t pos = 0;
    // stb accepts 0xFF fill bytes before any marker, the start-of-image marker included.
    auto read_marker = [&](std::size_t& p) -> int {  // at an 0xFF: skips the fill, returns the marker or -1
        while (p < size && bytes[p] == 0xFF) ++p;
        return p < size ? int(bytes[p++]) : -1;
    };
    if (size < 2 || bytes[0] != 0xFF) return seen;
    if (read_marker(pos) != 0xD8) return seen;  // not a JPEG: stb will try it as another format
    auto byte_at = [&](std::size_t p) -> unsigned { return p < size ? bytes[p] : 0u; };  // stb reads 0 past the end
    bool defined[2][4] = {};   // [DC = 0, AC = 1][table 0..3], set by DHT segments
    bool progressive = false;  // the frame is SOF2
    bool coded[256] = {};      // sequential frames: component ids a scan has already coded
    std::uint32_t scans = 0;
    // The coded-data walk follows stb's decoder state; it stops (walking = false) where stb refuses
    // the file, as stb stops decoding there.
    bool walking = true;
    jpeg_detail::Frame frame;
    jpeg_detail::HuffmanTable tables[2][4];
    std::uint32_t restart_interval = 0;

    while (pos < size) {
        if (bytes[pos] != 0xFF) {  // a stray byte between segments
            ++pos;
            continue;
        }
        const int marker = read_marker(pos);
        if (marker < 0 || marker == 0xD9) return seen;                 // end of file or of image
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // markers without a length
        const std::size_t length = (std::size_t(byte_at(pos)) << 8) | byte_at(pos + 1);
        // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC): length, precision, height, width.
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC && !seen.has_frame) {
            seen.has_frame = true;
            progressive = marker == 0xC2;
            seen.height = (byte_at(pos + 3) << 8) | byte_at(pos + 4);
            seen.width = (byte_at(pos + 5) << 8) | byte_at(pos + 6);
            if (pos + length <= size && length >= 2) frame = jpeg_detail::read_frame(bytes + pos + 2, length - 2, marker, max_pixels);
            walking = walking && frame.usable;
        }
        const bool whole_segment = length >= 2 && pos + length <= size;
        if (marker == 0xDD) {  // DRI: the restart interval of the scans that follow
            walking = walking && length == 4 && whole_segment;
            restart_interval = (byte_at(pos + 2) << 8) | byte_at(pos + 3);
        }
        if (marker == 0xC4) {  // DHT: one or more tables of (class/id, 16 counts, symbols)
            long left = long(length) - 2;
            std::size_t p = pos + 2;
            while (left > 0) {
                unsigned codes = 0;
                for (int i = 1; i <= 16; ++i) codes += byte_at(p + std::size_t(i));
                const unsigned table_class = byte_at(p) >> 4, table_id = byte_at(p) & 15;
                if (table_class < 2 && table_id < 4) defined[table_class][table_id] = true;  // stb refuses others
                if (codes > 256)
                    throw Error("corrupt JPEG: a Huffman table declares more than 256 codes",
                                {name, "DHT segment at byte " + std::to_string(pos - 2), "<= 256 codes", std::to_string(codes) + " codes"});
                if (table_class > 1 || table_id > 3 || !whole_segment || p + 17 + codes > size ||
                    !jpeg_detail::build_huffman(tables[table_class][table_id], bytes + p + 1, bytes + p + 17, codes))
                    walking = false;  // stb refuses the segment
                p += 17 + codes;
                left -= long(17 + codes);
            }
            walking = walking && left == 0;
        }
        if (marker == 0xDA) {  // SOS: components (id, DC/AC table), then Ss, Se, Ah/Al
            if (++scans > max_scans)
                throw Error("JPEG has more scans than the limit", {name, "SOS segment at byte " + std::to_string(pos - 2), "<= " + std::to_string(max_scans) + " scans",
                                                                   std::to_string(scans) + " scans or more"});
            const unsigned components = byte_at(pos + 2);
            const std::size_t after = pos + 3 + 2 * std::size_t(components);
            const unsigned spectral_start = byte_at(after), approx_high = byte_at(after + 2) >> 4;
            const bool uses_dc = !progressive || (spectral_start == 0 && approx_high == 0);
            const bool uses_ac = !progressive || spectral_start > 0;
            for (unsigned c = 0; c < components; ++c) {
                const unsigned id = byte_at(pos + 3 + 2 * std::size_t(c));
                if (!progressive && coded[id])
                    throw Error("corrupt JPEG: a sequential frame codes a component in two scans",
                                {name, "SOS segment at byte " + std::to_string(pos - 2), "each component in one scan", "component " + std::to_string(id) + " again"});
                coded[id] = true;
                const unsigned tables = byte_at(pos + 4 + 2 * std::size_t(c)), dc = tables >> 4, ac = tables & 15;
                const bool dc_missing = uses_dc && dc < 4 && !defined[0][dc], ac_missing = uses_ac && ac < 4 && !defined[1][ac];
                if (dc_missing || ac_missing)
                    throw Error("corrupt JPEG: a scan uses a Huffman table that was never defined",
                                {name, "SOS segment at byte " + std::to_string(pos - 2), "DHT before the scan",
                                 std::string(dc_missing ? "DC" : "AC") + " table " + std::to_string(dc_missing ? dc : ac) + " undefined"});
            }
        }
        if (marker == 0xDA && walking) {
            jpeg_detail::Scan scan;
            walking = frame.usable && whole_segment && jpeg_detail::read_scan(bytes + pos + 2, length - 2, frame, scan) &&
                      jpeg_detail::ScanWalk(bytes, size, pos + length, name).run(frame, scan, tables[0], tables[1], restart_interval);
        }
        pos += length < 2 ? 2 : length;
        if (marker == 0xDA) {  // start of scan: entropy-coded data runs to the next real marker
            while (pos < size) {
                if (bytes[pos] != 0xFF) {
                    ++pos;
                    continue;
                }
                std::size_t p = pos;
                const int next = read_marker(p);
                if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {  // stuffed byte or restart marker
                    pos = p;
                    continue;
                }
                break;  // pos is at the 0xFF of the next segment's marker (or at the end)
            }
        }
    }
    return seen;
}

}  // namespace photong
