// kernels/kernel_cases.hpp — the shapes every kernel is tested and benchmarked on: one list, shared by
// tests/test_kernels.cpp (through the host SIMT executor) and the device benchmarks.
#pragma once

#include <string>
#include <vector>

namespace photong {
namespace kernels {

/// A pooling case: input (n, h, w, c), window, stride, 'same' or 'valid', max or average.
struct PoolCase {
    std::string name;
    int n, h, w, c, k, stride;
    bool same, average;
};

/// InceptionV3's pools at 299 x 299 (stem max pools, the blocks' 3x3/1 'same' averages, the reductions'
/// 3x3/2 max pools), then small ragged ones: odd sizes, a window larger than the stride, channels that
/// are not a multiple of a warp, batch 2.
inline std::vector<PoolCase> pool_cases(bool full_channels) {
    // full_channels = false keeps InceptionV3's spatial sizes but cuts channels to a few (and keeps one full
    // case) so that the host executor, which runs each CUDA thread as a fiber, stays within seconds.
    auto c = [&](int full) { return full_channels ? full : 5; };
    return {
        {"stem maxpool 147x147x64 3/2 valid", 1, 147, 147, c(64), 3, 2, false, false},
        {"stem maxpool 71x71x192 3/2 valid", 1, 71, 71, c(192), 3, 2, false, false},
        {"mixed0 avgpool 35x35x192 3/1 same", 1, 35, 35, c(192), 3, 1, true, true},
        {"mixed6a maxpool 35x35x288 3/2 valid", 1, 35, 35, c(288), 3, 2, false, false},
        {"mixed4 avgpool 17x17x768 3/1 same", 1, 17, 17, c(768), 3, 1, true, true},
        {"mixed8 maxpool 17x17x768 3/2 valid", 1, 17, 17, c(768), 3, 2, false, false},
        {"mixed9 avgpool 8x8x1280 3/1 same (full channels)", 1, 8, 8, 1280, 3, 1, true, true},
        {"ragged avgpool 2x7x5x33 3/2 same", 2, 7, 5, 33, 3, 2, true, true},
        {"ragged maxpool 2x6x9x17 3/2 same", 2, 6, 9, 17, 3, 2, true, false},
        {"ragged avgpool 1x4x4x1 5/1 same (window over the map)", 1, 4, 4, 1, 5, 1, true, true},
    };
}

/// A convolution case: input (n, h, w, cin), kernel kh x kw -> cout, stride, 'same' or 'valid'.
struct ConvCase {
    std::string name;
    int n, h, w, cin, cout, kh, kw, stride;
    bool same;
};

/// The 94 convolutions of InceptionV3 (bench/inception_v3_convs.inc: the benchmarks' list) with their real
/// channels, kernels, strides and padding; spatial sides are cut to at most `max_side` (0: none) so that
/// the host executor checks all of them in seconds. Then ragged ones: batch 2, odd sizes, channel counts
/// that are not multiples of the 64 x 64 x 16 tile.
inline std::vector<ConvCase> conv_cases(int max_side) {
    std::vector<ConvCase> out;
    auto side = [&](int s, int k) { return max_side > 0 && s > max_side ? (max_side < k ? k : max_side) : s; };
#define Valid false
#define Same true
#define PHOTONG_INCEPTION_CONV(index, block, in_h, in_w, cin, cout, kh, kw, stride, padding)                             \
    out.push_back({std::string("conv2d_") + #index + " (" + block + ")", 1, side(in_h, kh), side(in_w, kw), cin, cout, kh, kw, \
                   stride, padding});
#include "../bench/inception_v3_convs.inc"
#undef PHOTONG_INCEPTION_CONV
#undef Valid
#undef Same
    out.push_back({"ragged 2x9x7x5 -> 67, 3x3/2 same", 2, 9, 7, 5, 67, 3, 3, 2, true});
    out.push_back({"ragged 1x5x11x130 -> 3, 1x7 same", 1, 5, 11, 130, 3, 1, 7, 1, true});
    out.push_back({"ragged 2x4x4x17 -> 129, 3x3 valid", 2, 4, 4, 17, 129, 3, 3, 1, false});
    return out;
}

}  // namespace kernels
}  // namespace photong
