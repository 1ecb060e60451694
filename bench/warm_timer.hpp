// bench/warm_timer.hpp — the request loop and the options of the warm timing programs (time_inception,
// time_lstm) that bench/interleave_common.py alternates with a peer's.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace photong_bench {

/// Reads "--name N" pairs from argv[first..] into the named ints; false (after a message on stderr naming
/// `program`) for an unknown option or a value below its minimum.
inline bool parse_int_options(int argc, char** argv, int first, const char* program, const std::vector<std::pair<std::string, int*>>& options,
                              const std::vector<int>& minimum) {
    for (int i = first; i < argc; i += 2) {
        const std::string a = argv[i];
        bool known = false;
        for (const auto& o : options)
            if (a == o.first && i + 1 < argc) *o.second = std::atoi(argv[i + 1]), known = true;
        if (!known) {
            std::fprintf(stderr, "%s: unknown option or missing value: %s\n", program, a.c_str());
            return false;
        }
    }
    for (std::size_t k = 0; k < options.size(); ++k)
        if (*options[k].second < minimum[k]) {
            std::fprintf(stderr, "%s: %s must be >= %d\n", program, options[k].first.c_str(), minimum[k]);
            return false;
        }
    return true;
}

/// Runs `once` `warmup` times, prints "ready", then for every "run" line on stdin runs it `reps` times and prints
/// the mean milliseconds of one; returns at "quit" or the end of stdin.
template <class F>
int serve_timings(int warmup, int reps, F&& once) {
    for (int i = 0; i < warmup; ++i) once();
    std::printf("ready\n");
    std::fflush(stdout);
    for (std::string line; std::getline(std::cin, line) && line != "quit";) {
        if (line != "run") continue;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) once();
        std::printf("%.4f\n", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps);
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace photong_bench
