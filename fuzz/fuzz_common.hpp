// fuzz/fuzz_common.hpp — what every photong fuzz harness shares.
//
// A harness feeds the fuzzer's bytes to one reader and lets only photong::Error through: that is
// the library's promise for bad input. Anything else (a crash, a sanitizer report, a different
// exception type, an assertion in the harness, a timeout, memory past libFuzzer's -rss_limit_mb)
// is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <photong/core/error.hpp>

namespace photong_fuzz {

/// Runs `body`; swallows photong::Error (expected for hostile input) and nothing else.
template <class Body>
void expect_only_photong_errors(Body&& body) {
    try {
        body();
    } catch (const photong::Error&) {
    }
}

/// A property the harness checks on inputs the library accepted; failing it aborts (a finding).
inline void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "photong fuzz property failed: %s\n", what);
        std::abort();
    }
}

/// Consumes the input from the front, a byte or a little-endian word at a time (zero when exhausted).
class ByteSource {
public:
    ByteSource(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
    std::uint8_t u8() { return n_ ? (--n_, *p_++) : 0; }
    std::uint32_t u32() { return std::uint32_t(u8()) | std::uint32_t(u8()) << 8 | std::uint32_t(u8()) << 16 | std::uint32_t(u8()) << 24; }
    double unit() { return u32() / 4294967295.0; }  ///< in [0, 1]
    std::size_t left() const { return n_; }
    const std::uint8_t* rest() const { return p_; }

private:
    const std::uint8_t* p_;
    std::size_t n_;
};

}  // namespace photong_fuzz
