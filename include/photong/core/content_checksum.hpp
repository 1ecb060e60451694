// photong/core/content_checksum.hpp — a fast 64-bit checksum that catches a damaged cache file.
//
// SHA-256 proves a file is the one published; a cache this program wrote itself only has to be caught
// when damaged (a bad disk block, a truncated or hand-edited file), and it is checked on every load, so
// it must cost far less than reading it. This is Fletcher's checksum run in 16 interleaved lanes of
// 32-bit words with 64-bit sums: every lane keeps a running sum (any changed word changes it) and a sum
// of running sums (so words that trade places change it too). The lanes are independent, so the loop
// compiles to vector adds and runs at memory speed (about 13 GB/s here, against 1 GB/s for SHA-256
// with the SHA extensions). It is not a defence against someone forging a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace photong {

/// Checksum of n bytes; the length takes part, so a truncated copy never matches.
inline std::uint64_t content_checksum(const unsigned char* p, std::size_t n) {
    constexpr int kLanes = 16;
    constexpr std::size_t kChunk = kLanes * sizeof(std::uint32_t);
    std::uint64_t sum[kLanes] = {}, sum_of_sums[kLanes] = {};
    auto add_chunk = [&](const unsigned char* q) {
        std::uint32_t w[kLanes];
        std::memcpy(w, q, kChunk);  // the machine's byte order: a cache never leaves its machine
        for (int l = 0; l < kLanes; ++l) {
            sum[l] += w[l];
            sum_of_sums[l] += sum[l];
        }
    };
    std::size_t i = 0;
    for (; i + kChunk <= n; i += kChunk) add_chunk(p + i);
    if (i < n) {
        unsigned char last[kChunk] = {};
        std::memcpy(last, p + i, n - i);
        add_chunk(last);
    }
    // Fold the lanes and the length with an odd multiplier (a 64-bit FNV prime), so that no two lanes can cancel.
    std::uint64_t h = std::uint64_t(n);
    for (int l = 0; l < kLanes; ++l) {
        h = (h ^ sum[l]) * 0x100000001b3ULL;
        h = (h ^ sum_of_sums[l]) * 0x100000001b3ULL;
    }
    return h;
}

}  // namespace photong
