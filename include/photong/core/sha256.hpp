// photong/core/sha256.hpp — SHA-256 (FIPS 180-4), to tie outputs to the exact weight file and to
// catch damaged weight files before they turn into NaN far downstream.
//
// Checksum files are sha256sum's format, "HEX  NAME" (weights/inception_v3.sha256 and its siblings):
// verify_weights_checksum(FILE) reads FILE's sibling with the extension replaced by .sha256, when
// there is one, and refuses a file whose digest differs, naming both files.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "photong/core/error.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(PHOTONG_NO_SHA_NI)
#define PHOTONG_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define PHOTONG_SHA_NI 0
#endif

namespace photong {

namespace sha256_detail {

alignas(16) inline constexpr std::uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#if PHOTONG_SHA_NI
/// CPUID: SHA extensions (leaf 7 EBX bit 29) with the SSSE3 and SSE4.1 shuffles the rounds need.
inline bool detect_sha_extensions() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19))) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    return (b & (1u << 29)) != 0;
}
inline bool has_sha_extensions() {
    static const bool yes = detect_sha_extensions();
    return yes;
}

/// The 64 rounds on whole blocks with SHA256RNDS2 (two rounds per instruction) and SHA256MSG1/2 (the
/// message schedule, four words at a time). The instructions keep the state as the halves ABEF and CDGH
/// of the usual a..h, so it is shuffled into that form before the blocks and back after.
__attribute__((target("sha,sse4.1,ssse3"))) inline void compress_sha_ni(std::uint32_t* h, const unsigned char* p, std::size_t blocks) {
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);  // big-endian words
    __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));      // lanes a b c d
    __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));  // lanes e f g h
    const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (std::size_t block = 0; block < blocks; ++block, p += 64) {
        const __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i w[4];
        for (int i = 0; i < 4; ++i) w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), byte_swap);
        for (int g = 0; g < 16; ++g) {  // rounds 4g .. 4g+3
            if (g >= 4) {  // W[4g..4g+3] from W[4g-16..], W[4g-12..], W[4g-8..] (its 9th-last words) and W[4g-4..]
                __m128i t = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
                w[g % 4] = _mm_sha256msg2_epu32(t, w[(g + 3) % 4]);
            }
            __m128i wk = _mm_add_epi32(w[g % 4], _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants + 4 * g)));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            wk = _mm_shuffle_epi32(wk, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}
#else
inline bool has_sha_extensions() { return false; }
#endif

}  // namespace sha256_detail

/// Incremental SHA-256: update() any number of times, then hex() once.
class Sha256 {
public:
    /// `use_hardware` false forces the portable rounds (tests compare the two).
    explicit Sha256(bool use_hardware = true) : hardware_(use_hardware && sha256_detail::has_sha_extensions()) {}

    void update(const unsigned char* p, std::size_t n) {
        total_ += n;
        if (fill_ > 0) {
            const std::size_t take = std::min(n, std::size_t(64) - fill_);
            std::copy_n(p, take, block_.data() + fill_);
            fill_ += take; p += take; n -= take;
            if (fill_ < 64) return;
            compress_blocks(block_.data(), 1);
            fill_ = 0;
        }
        // Whole blocks straight from the caller's buffer: no copy on the path that hashes 100 MB of weights.
        compress_blocks(p, n / 64);
        p += n / 64 * 64; n %= 64;
        std::copy_n(p, n, block_.data());
        fill_ = n;
    }
    /// True when the x86 SHA extensions do the rounds (about 4x the portable code's speed).
    bool uses_hardware() const { return hardware_; }
    std::string hex() {
        const std::uint64_t bits = total_ * 8;
        const unsigned char one = 0x80, zero = 0;
        update(&one, 1);
        while (fill_ != 56) update(&zero, 1);
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
        update(len, 8);
        static const char* digits = "0123456789abcdef";
        std::string s;
        for (std::uint32_t v : h_)
            for (int i = 28; i >= 0; i -= 4) s += digits[(v >> i) & 0xfu];
        return s;
    }

private:
    void compress_blocks(const unsigned char* p, std::size_t blocks) {
#if PHOTONG_SHA_NI
        if (hardware_) return sha256_detail::compress_sha_ni(h_.data(), p, blocks);
#endif
        for (std::size_t i = 0; i < blocks; ++i) compress(p + 64 * i);
    }
    static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
    void compress(const unsigned char* b) {
        const std::uint32_t* k = sha256_detail::kRoundConstants;
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = std::uint32_t(b[4 * i]) << 24 | std::uint32_t(b[4 * i + 1]) << 16 | std::uint32_t(b[4 * i + 2]) << 8 | b[4 * i + 3];
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
            h = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
        }
        h_[0] += a; h_[1] += bb; h_[2] += c; h_[3] += d; h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
    }
    std::array<std::uint32_t, 8> h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> block_{};
    std::size_t fill_ = 0;
    std::uint64_t total_ = 0;
    bool hardware_ = false;
};

/// Lower-case hex SHA-256 of a file's bytes.
inline std::string sha256_of_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open file to check its SHA-256", {path});
    Sha256 sha;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), std::streamsize(buf.size()));
        sha.update(reinterpret_cast<const unsigned char*>(buf.data()), std::size_t(in.gcount()));
    }
    if (in.bad()) throw Error("cannot read file to check its SHA-256", {path});
    return sha.hex();
}

/// "dir/name.safetensors" -> "dir/name.sha256".
inline std::string checksum_path_for(const std::string& path) {
    const std::size_t slash = path.find_last_of('/'), dot = path.find_last_of('.');
    const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
    return (has_ext ? path.substr(0, dot) : path) + ".sha256";
}

/// The SHA-256 recorded for `path` in the checksum file beside it (checksum_path_for), or "" when there is none;
/// throws photong::Error when that file is not in sha256sum's format.
inline std::string recorded_weights_checksum(const std::string& path) {
    const std::string sum_path = checksum_path_for(path);
    std::ifstream sum(sum_path);
    if (!sum) return "";
    std::string want;
    sum >> want;
    if (want.size() != 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw Error("checksum file is not in sha256sum's format (64 hex digits, two spaces, the name)", {sum_path, "", "HEX  NAME", want.substr(0, 80)});
    return want;
}

/// When `path` has a checksum file beside it (checksum_path_for), throws photong::Error unless the
/// file's SHA-256 is the one recorded there. Returns whether a checksum was checked. `digest`, when
/// given, is the file's SHA-256 already computed by the caller (so a file is read once).
inline bool verify_weights_checksum(const std::string& path, const std::string& digest = "") {
    const std::string want = recorded_weights_checksum(path);
    if (want.empty()) return false;
    const std::string sum_path = checksum_path_for(path);
    const std::string got = digest.empty() ? sha256_of_file(path) : digest;
    if (got != want)
        throw Error("the weights file is damaged or not the shipped one: its SHA-256 differs from " + sum_path +
                        " (fetch or restore it; give your own weights another folder, or turn the check off)",
                    {path, "", want, got});
    return true;
}

}  // namespace photong
