// photong/image/jpeg_entropy.hpp — walks a JPEG scan's Huffman-coded data the way stb_image will
// decode it, and refuses a scan whose blocks need bits past the marker that ends its data.
//
// Why: stb_image 2.27 keeps a count of the bits in its bit buffer and lets it go negative. When its
// buffer refill meets a marker (the data of a scan or restart interval has ended), it stops adding
// bytes, yet the decoder still takes the bits the block needs: the count falls below zero, and the
// next refill shifts by 24 minus that count, 32 or more (fuzz_image: UBSan "shift exponent 34 is too
// large" in stbi__grow_buffer_unsafe; a 144-byte hand-made file shows it in test_bad_inputs). Later
// stb releases check the count. Here the data is decoded symbol by symbol first, with stb's block
// geometry (its MCU order, its non-interleaved block counts, its restart handling), and a file whose
// blocks need more bits than its data holds before a marker is refused. Data that simply stops at
// the end of the file is left alone: there stb reads zeros, counting them (defined), and then
// refuses the file for its missing end-of-image marker.
//
// Only the bits are followed: coefficient values matter only in a progressive AC refinement, which
// reads a correction bit for each coefficient already non-zero, so one bit per coefficient is kept
// (a 64-bit mask per block; stb keeps 64 shorts). Where stb itself will refuse the file (a code no
// table has, a DC size above 15, a refinement size other than 1, a malformed frame or scan header),
// the walk stops and leaves the refusal to stb, which stops decoding there too.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"

namespace photong {
namespace jpeg_detail {

/// A canonical Huffman table (ITU T.81 Annex C): codes assigned in order of length.
struct HuffmanTable {
    bool usable = false;       ///< defined by a DHT segment stb accepts
    std::int32_t max_code[17]; ///< the largest code of each length, -1 when there is none
    std::int32_t offset[17];   ///< index into symbols of a code of that length, minus the code
    std::uint8_t symbols[256];
    std::uint16_t first9[512];  ///< by the next 9 bits: length << 8 | symbol of a code up to 9 bits long, 0 if none
};

/// Builds a table from a DHT's 16 counts and its symbols; false (the table is unusable) when the
/// counts over-fill some code length, which stb refuses ("bad code lengths").
inline bool build_huffman(HuffmanTable& t, const unsigned char* counts, const unsigned char* symbols, unsigned n) {
    t.usable = false;
    std::int32_t code = 0, index = 0;
    for (int len = 1; len <= 16; ++len) {
        const std::int32_t count = counts[len - 1];
        t.offset[len] = index - code;
        code += count, index += count;
        if (code > (std::int32_t(1) << len)) return false;
        t.max_code[len] = count ? code - 1 : -1;
        code <<= 1;
    }
    std::fill(t.symbols, t.symbols + 256, std::uint8_t(0));
    std::copy(symbols, symbols + std::min(n, 256u), t.symbols);
    std::fill(t.first9, t.first9 + 512, std::uint16_t(0));
    for (int len = 1; len <= 9; ++len)
        for (std::int32_t c = t.max_code[len] < 0 ? 0 : t.max_code[len] - counts[len - 1] + 1; c <= t.max_code[len]; ++c)
            for (std::int32_t rest = 0; rest < (1 << (9 - len)); ++rest)
                t.first9[(c << (9 - len)) | rest] = std::uint16_t(len << 8 | t.symbols[c + t.offset[len]]);
    t.usable = true;
    return true;
}

/// One component of the frame, with stb's sizes for it.
struct FrameComponent {
    unsigned id = 0, h = 1, v = 1;
    std::uint32_t blocks_x = 0, blocks_y = 0;  ///< a non-interleaved scan's blocks: ceil(samples / 8)
    std::uint32_t stride = 0;                  ///< blocks per row of the interleaved layout (MCUs x h)
    std::vector<std::uint64_t> nonzero;        ///< progressive: bit k set when coefficient k (natural order) is non-zero
};

/// The frame as stb reads it: only SOF0, SOF1 and SOF2 with 1, 3 or 4 components and integer
/// sampling ratios decode; anything else and stb refuses the file (usable stays false).
struct Frame {
    bool usable = false, progressive = false;
    std::uint32_t mcus_x = 0, mcus_y = 0;
    std::vector<FrameComponent> components;
};

/// Reads a frame header (the bytes after the SOF marker's length); max_pixels bounds what the walk
/// allocates before decode.hpp's pixel limit refuses the file.
inline Frame read_frame(const unsigned char* seg, std::size_t seg_len, int marker, std::uint64_t max_pixels) {
    Frame f;
    if (marker != 0xC0 && marker != 0xC1 && marker != 0xC2) return f;
    if (seg_len < 6 || seg[0] != 8) return f;
    const std::uint32_t height = std::uint32_t(seg[1]) << 8 | seg[2], width = std::uint32_t(seg[3]) << 8 | seg[4];
    const unsigned n = seg[5];
    if (height == 0 || width == 0 || (n != 1 && n != 3 && n != 4) || seg_len != 6 + 3 * std::size_t(n)) return f;
    if (std::uint64_t(width) * height > max_pixels) return f;
    unsigned h_max = 1, v_max = 1;
    for (unsigned i = 0; i < n; ++i) {
        FrameComponent c;
        c.id = seg[6 + 3 * i], c.h = seg[7 + 3 * i] >> 4, c.v = seg[7 + 3 * i] & 15;
        if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || seg[8 + 3 * i] > 3) return f;
        h_max = std::max(h_max, c.h), v_max = std::max(v_max, c.v);
        f.components.push_back(std::move(c));
    }
    f.mcus_x = (width + 8 * h_max - 1) / (8 * h_max);
    f.mcus_y = (height + 8 * v_max - 1) / (8 * v_max);
    for (FrameComponent& c : f.components) {
        if (h_max % c.h != 0 || v_max % c.v != 0) return f;
        const std::uint32_t samples_x = (width * c.h + h_max - 1) / h_max, samples_y = (height * c.v + v_max - 1) / v_max;
        c.blocks_x = (samples_x + 7) / 8, c.blocks_y = (samples_y + 7) / 8;
        c.stride = f.mcus_x * c.h;
        if (marker == 0xC2) c.nonzero.assign(std::size_t(c.stride) * f.mcus_y * c.v, 0);
    }
    f.progressive = marker == 0xC2;
    f.usable = true;
    return f;
}

/// A scan header as stb checks it.
struct Scan {
    unsigned count = 0;
    unsigned component[4] = {}, dc_table[4] = {}, ac_table[4] = {};  ///< component: index into the frame
    unsigned spectral_start = 0, spectral_end = 63, approx_high = 0, approx_low = 0;
};

/// Reads an SOS segment's body; false where stb refuses it.
inline bool read_scan(const unsigned char* seg, std::size_t seg_len, const Frame& f, Scan& s) {
    if (seg_len < 1) return false;
    s.count = seg[0];
    if (s.count < 1 || s.count > 4 || s.count > f.components.size() || seg_len != 4 + 2 * std::size_t(s.count)) return false;
    for (unsigned i = 0; i < s.count; ++i) {
        const unsigned id = seg[1 + 2 * i], tables = seg[2 + 2 * i];
        std::size_t which = 0;
        while (which < f.components.size() && f.components[which].id != id) ++which;  // stb takes the first match
        if (which == f.components.size() || (tables >> 4) > 3 || (tables & 15) > 3) return false;
        s.component[i] = unsigned(which), s.dc_table[i] = tables >> 4, s.ac_table[i] = tables & 15;
    }
    s.spectral_start = seg[1 + 2 * s.count], s.spectral_end = seg[2 + 2 * s.count];
    s.approx_high = seg[3 + 2 * s.count] >> 4, s.approx_low = seg[3 + 2 * s.count] & 15;
    if (f.progressive)
        return s.spectral_start <= 63 && s.spectral_end <= 63 && s.spectral_start <= s.spectral_end && s.approx_high <= 13 && s.approx_low <= 13;
    if (s.spectral_start != 0 || s.approx_high != 0 || s.approx_low != 0) return false;
    s.spectral_end = 63;
    return true;
}

/// The natural-order position of zig-zag index k (T.81 Figure A.6); stb maps the 15 indices a
/// corrupt run can reach past 63 to 63, and so does this.
inline unsigned natural_position(unsigned k) {
    static const auto table = [] {
        std::vector<unsigned char> z(64);
        unsigned k2 = 0;
        for (unsigned d = 0; d < 15; ++d) {  // anti-diagonals x + y = d, alternating direction
            for (unsigned i = 0; i <= d; ++i) {
                const unsigned y = d % 2 ? i : d - i, x = d - y;
                if (x < 8 && y < 8) z[k2++] = static_cast<unsigned char>(8 * y + x);
            }
        }
        return z;
    }();
    return k < 64 ? table[k] : 63;
}

/// The entropy-coded bits of a scan as stb's reader sees them: 0xFF 0x00 is a data byte 0xFF, 0xFF
/// fill bytes are skipped, any other marker ends the data; past the end of the file come zeros.
class CodedBits {
public:
    CodedBits(const unsigned char* bytes, std::size_t size, std::size_t start) : bytes_(bytes), size_(size), pos_(start) {}

    /// The next 16 bits, zeros after the data's end.
    std::uint32_t peek16() { fill(); return std::uint32_t(buffer_ >> 48); }
    /// Whether n more bits exist before the marker that ended the data.
    bool has(int n) { fill(); return !ended_ || n <= count_; }
    void skip(int n) { buffer_ <<= n, count_ -= n; }
    std::uint32_t take(int n) { const std::uint32_t v = n ? std::uint32_t(buffer_ >> (64 - n)) : 0; skip(n); return v; }
    /// Ends a restart interval: drops the rest of its data; true when a restart marker follows.
    bool restart() {
        while (!ended_ && pos_ < size_) count_ = 0, fill();  // the bits are dropped: only the marker counts
        buffer_ = 0, count_ = 0;
        const bool is_restart = ended_ && marker_ >= 0xD0 && marker_ <= 0xD7;
        ended_ = false;
        return is_restart;
    }
    std::size_t marker_at() const { return marker_at_; }
    int marker() const { return marker_; }

private:
    void fill() {
        while (count_ <= 56 && !ended_) {
            unsigned b = 0;
            if (pos_ < size_) {
                b = bytes_[pos_++];
                if (b == 0xFF) {
                    std::size_t p = pos_;
                    while (p < size_ && bytes_[p] == 0xFF) ++p;
                    const unsigned next = p < size_ ? bytes_[p] : 0u;  // stb reads 0 past the end: a stuffed 0xFF
                    if (next != 0) {
                        ended_ = true, marker_ = int(next), marker_at_ = pos_ - 1, pos_ = p + 1;
                        return;
                    }
                    pos_ = std::min(p + 1, size_);
                }
            }
            buffer_ |= std::uint64_t(b) << (56 - count_);
            count_ += 8;
        }
    }
    const unsigned char* bytes_;
    std::size_t size_, pos_;
    std::uint64_t buffer_ = 0;
    int count_ = 0;
    bool ended_ = false;
    int marker_ = -1;
    std::size_t marker_at_ = 0;
};

/// Walks one scan's coded data (from `start`, just after its SOS segment). Throws photong::Error
/// when a block needs bits past the marker ending the data; returns false where stb will refuse
/// the file (decoding, and so the walk, stops there); true otherwise.
class ScanWalk {
public:
    ScanWalk(const unsigned char* bytes, std::size_t size, std::size_t start, const std::string& name)
        : in_(bytes, size, start), name_(name), start_(start) {}

    bool run(Frame& f, const Scan& s, const HuffmanTable* dc, const HuffmanTable* ac, std::uint32_t restart_interval) {
        for (unsigned i = 0; i < s.count; ++i)  // jpeg_guard.hpp has refused tables never defined; these are over-full ones
            if ((uses_dc(f, s) && !dc[s.dc_table[i]].usable) || (uses_ac(f, s) && !ac[s.ac_table[i]].usable)) return false;
        const std::uint64_t interval = restart_interval ? restart_interval : 0x7fffffff;
        std::uint64_t todo = interval;
        eob_run_ = 0;
        auto after_unit = [&]() -> int {  // 1: go on, 0: the scan ends here (stb stops too)
            if (--todo > 0) return 1;
            if (!in_.restart()) return 0;
            todo = interval, eob_run_ = 0;
            return 1;
        };
        if (s.count == 1) {  // non-interleaved: the component's own blocks, each one unit
            FrameComponent& c = f.components[s.component[0]];
            for (std::uint32_t y = 0; y < c.blocks_y; ++y)
                for (std::uint32_t x = 0; x < c.blocks_x; ++x) {
                    if (!block(f, s, c, std::size_t(y) * c.stride + x, dc[s.dc_table[0]], ac[s.ac_table[0]], true)) return false;
                    if (!after_unit()) return true;
                }
            return true;
        }
        for (std::uint32_t my = 0; my < f.mcus_y; ++my)
            for (std::uint32_t mx = 0; mx < f.mcus_x; ++mx) {
                for (unsigned i = 0; i < s.count; ++i) {
                    FrameComponent& c = f.components[s.component[i]];
                    for (unsigned by = 0; by < c.v; ++by)
                        for (unsigned bx = 0; bx < c.h; ++bx)
                            if (!block(f, s, c, std::size_t(my * c.v + by) * c.stride + mx * c.h + bx, dc[s.dc_table[i]], ac[s.ac_table[i]], false))
                                return false;
                }
                if (!after_unit()) return true;
            }
        return true;
    }

private:
    static bool uses_dc(const Frame& f, const Scan& s) { return !f.progressive || (s.spectral_start == 0 && s.approx_high == 0); }
    static bool uses_ac(const Frame& f, const Scan& s) { return !f.progressive || (s.count == 1 && s.spectral_start > 0); }

    static std::string hex_byte(int b) {
        const char* digits = "0123456789ABCDEF";
        return {digits[(b >> 4) & 15], digits[b & 15]};
    }
    [[noreturn]] void past_marker() const {
        throw Error("corrupt JPEG: a scan's coded data ends at a marker in the middle of a block",
                    {name_, "scan data from byte " + std::to_string(start_), "the bits its blocks need",
                     "marker 0xFF" + hex_byte(in_.marker()) + " at byte " + std::to_string(in_.marker_at()) + " first"});
    }
    std::uint32_t bits(int n) {
        if (!in_.has(n)) past_marker();
        return in_.take(n);
    }
    /// A Huffman symbol, or -1 for a code the table does not have.
    int symbol(const HuffmanTable& t) {
        const std::uint32_t look = in_.peek16();
        if (const std::uint16_t hit = t.first9[look >> 7]) {
            (void)bits(hit >> 8);
            return hit & 255;
        }
        for (int len = 10; len <= 16; ++len) {
            const std::int32_t code = std::int32_t(look >> (16 - len));
            if (code <= t.max_code[len]) {
                (void)bits(len);
                return t.symbols[code + t.offset[len]];
            }
        }
        return -1;
    }
    /// Receives a coefficient of `size` bits and extends its sign (T.81 F.2.2.1): never zero for size > 0.
    std::int32_t coefficient(int size) {
        const std::int32_t v = std::int32_t(bits(size));
        return v < (std::int32_t(1) << (size - 1)) ? v - (std::int32_t(1) << size) + 1 : v;
    }

    bool block(const Frame& f, const Scan& s, FrameComponent& c, std::size_t index, const HuffmanTable& dc, const HuffmanTable& ac, bool single) {
        if (!f.progressive) {
            const int t = symbol(dc);
            if (t < 0 || t > 15) return false;
            if (t) (void)coefficient(t);
            for (unsigned k = 1; k < 64;) {
                const int rs = symbol(ac);
                if (rs < 0) return false;
                if ((rs & 15) == 0) {
                    if (rs != 0xF0) break;  // end of block
                    k += 16;
                } else {
                    k += unsigned(rs >> 4) + 1;
                    (void)coefficient(rs & 15);
                }
            }
            return true;
        }
        std::uint64_t& nonzero = c.nonzero[index];
        if (!single || s.spectral_start == 0) {  // stb decodes every block of an interleaved scan as DC
            if (s.spectral_end != 0) return false;
            if (s.approx_high == 0) {
                const int t = symbol(dc);
                if (t < 0 || t > 15) return false;
                if (t) (void)coefficient(t);
                nonzero = 0;  // a first DC pass clears the block
            } else {
                (void)bits(1);
            }
            return true;
        }
        const unsigned end = s.spectral_end;
        if (s.approx_high == 0) {  // first AC pass
            if (eob_run_) return --eob_run_, true;
            unsigned k = s.spectral_start;
            do {
                const int rs = symbol(ac);
                if (rs < 0) return false;
                const int size = rs & 15, run = rs >> 4;
                if (size == 0) {
                    if (run < 15) {
                        eob_run_ = (std::uint32_t(1) << run) + bits(run) - 1;
                        break;
                    }
                    k += 16;
                } else {
                    k += unsigned(run);
                    const unsigned p = natural_position(k++);
                    // stb stores the value times 2^Al as a short: zero if its low 16 bits are
                    const std::uint32_t stored = std::uint32_t(coefficient(size)) << s.approx_low;
                    nonzero = (stored & 0xFFFF) ? nonzero | std::uint64_t(1) << p : nonzero & ~(std::uint64_t(1) << p);
                }
            } while (k <= end);
            return true;
        }
        // Refinement: a correction bit for each coefficient already non-zero in the band.
        auto is_set = [&](unsigned k) { return (nonzero >> natural_position(k)) & 1; };
        if (eob_run_) {
            --eob_run_;
            for (unsigned k = s.spectral_start; k <= end; ++k)
                if (is_set(k)) (void)bits(1);
            return true;
        }
        unsigned k = s.spectral_start;
        do {
            const int rs = symbol(ac);
            if (rs < 0) return false;
            int size = rs & 15, run = rs >> 4;
            if (size == 0) {
                if (run < 15) {
                    eob_run_ = (std::uint32_t(1) << run) - 1 + bits(run);
                    run = 64;  // the rest of the band, correction bits only
                }
            } else {
                if (size != 1) return false;
                (void)bits(1);  // the new coefficient's sign
            }
            while (k <= end) {
                const unsigned p = natural_position(k++);
                if ((nonzero >> p) & 1) {
                    (void)bits(1);
                } else {
                    if (run == 0) {
                        if (size) nonzero |= std::uint64_t(1) << p;
                        break;
                    }
                    --run;
                }
            }
        } while (k <= end);
        return true;
    }

    CodedBits in_;
    const std::string& name_;
    std::size_t start_;
    std::uint32_t eob_run_ = 0;
};

}  // namespace jpeg_detail
}  // namespace photong
