// examples/cli_args.hpp — strict parsing of numeric command-line values, shared by the example programs:
// the whole string must be the number (no trailing text, no sign on an unsigned value, no overflow).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <string>

namespace photong_cli {

/// A decimal integer in 0 .. 2^64 - 1, digits only.
inline bool parse_u64(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0') return false;
    out = v;
    return true;
}

/// A floating-point number in strtod's syntax, in range (NaN and inf are accepted here; callers check).
inline bool parse_double(const std::string& s, double& out) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (errno == ERANGE || *end != '\0' || end == s.c_str()) return false;
    out = v;
    return true;
}

/// --temperature: a number in 0..1e6 (0 = greedy). The cap keeps it a finite float and far above any useful value.
inline std::string parse_temperature(const std::string& v, float& out) {
    double t = 0;
    if (!parse_double(v, t) || !std::isfinite(t) || t < 0 || t > 1e6)
        return "--temperature must be a number in 0..1000000 (0 = greedy), got '" + v + "'";
    out = float(t);
    return "";
}

/// --top-k: an integer 0..100000 (0 = no limit). Returns "" or the problem, for the program's usage().
inline std::string parse_top_k(const std::string& v, int& out) {
    std::uint64_t k = 0;
    if (!parse_u64(v, k) || k > 100000) return "--top-k must be an integer 0..100000 (0 = no limit), got '" + v + "'";
    out = int(k);
    return "";
}

/// --top-p: a number in (0, 1] (1 = no limit).
inline std::string parse_top_p(const std::string& v, float& out) {
    double p = 0;
    if (!parse_double(v, p) || !std::isfinite(p) || p <= 0 || p > 1) return "--top-p must be a number in (0, 1] (1 = no limit), got '" + v + "'";
    out = float(p);
    return "";
}

}  // namespace photong_cli
