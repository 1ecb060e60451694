// photong/core/rng.hpp — a seedable random generator whose stream is identical on every platform.
//
// std::mt19937 is portable but std::uniform_*_distribution is not (each standard library maps bits
// to values its own way), so sampled melodies would differ between libstdc++, libc++ and MSVC.
// This generator (xoshiro256** seeded through splitmix64, both public-domain algorithms by
// Blackman & Vigna) defines every mapping from bits to values itself, using only integer
// arithmetic and exactly-representable float scaling.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include "photong/core/error.hpp"

namespace photong {

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (auto& s : state_) s = splitmix64(x);
    }

    /// The generator's four state words: the stream can continue elsewhere (a device kernel draws the
    /// decoders' uniforms from them, kernels/sample_events.cuh) and be set back with set_state().
    std::array<std::uint64_t, 4> state() const { return {state_[0], state_[1], state_[2], state_[3]}; }
    void set_state(const std::array<std::uint64_t, 4>& s) {
        require(s[0] | s[1] | s[2] | s[3], "an all-zero xoshiro256** state never leaves zero", {"", "Rng::set_state", "a nonzero word", "0, 0, 0, 0"});
        for (int i = 0; i < 4; ++i) state_[i] = s[std::size_t(i)];
    }

    /// Next 64 random bits.
    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform float in [0, 1) with 24 random bits (every value exactly representable).
    float uniform() { return float(next_u64() >> 40) * (1.0f / 16777216.0f); }

    /// Uniform double in [0, 1) with 53 random bits.
    double uniform_double() { return double(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

    /// Uniform integer in [0, bound) without modulo bias (rejection sampling).
    std::uint64_t below(std::uint64_t bound) {
        require(bound > 0, "Rng::below needs a positive bound", {"", "", "bound > 0", "0"});
        const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % bound);
        std::uint64_t r;
        do r = next_u64(); while (r >= limit);
        return r % bound;
    }

    /// Fair coin.
    bool coin() { return (next_u64() >> 63) != 0; }

    /// Standard normal by Box–Muller. The bits are portable; the value goes through std::log and
    /// std::cos, which may differ in the last ulp between C libraries.
    double normal() {
        const double u1 = 1.0 - uniform_double();  // (0, 1]: log is finite
        const double u2 = uniform_double();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t state_[4];
};

}  // namespace photong
