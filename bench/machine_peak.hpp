// bench/machine_peak.hpp — this machine's fp32 FMA peak, measured, so benchmarks can print the
// fraction of it they reach. A virtual machine reports no reliable clock frequency, so instead of
// cores x GHz x FLOP/cycle from a data sheet we time a loop of independent vector FMAs (enough
// accumulators to cover FMA latency on every x86 core of the last decade) on each thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include <Eigen/Core>

namespace photong_bench {

/// Achievable single-precision GFLOP/s of one thread, with Eigen's widest packet for this build.
inline double measure_thread_peak_gflops() {
    using Packet = Eigen::internal::packet_traits<float>::type;
    constexpr int lanes = Eigen::internal::unpacket_traits<Packet>::size;
    constexpr int accumulators = 16;
    Packet acc[accumulators];
    for (int i = 0; i < accumulators; ++i) acc[i] = Eigen::internal::pset1<Packet>(0.001f * float(i));
    const Packet a = Eigen::internal::pset1<Packet>(0.999999f), b = Eigen::internal::pset1<Packet>(1e-7f);
    const long iterations = 4'000'000;
    const auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < iterations; ++it)
        for (int i = 0; i < accumulators; ++i) acc[i] = Eigen::internal::pmadd(acc[i], a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    float sink = 0;
    for (int i = 0; i < accumulators; ++i) sink += Eigen::internal::predux(acc[i]);
    volatile float keep = sink;
    (void)keep;
    return 2.0 * lanes * accumulators * double(iterations) / s * 1e-9;
}

/// Achievable GFLOP/s with `threads` threads running the loop at once, measured now: the best of `trials` short
/// trials, because a shared virtual machine has slow spells that would otherwise understate the peak (and
/// overstate the fraction of it a benchmark reaches).
inline double measure_machine_peak_gflops(unsigned threads, int trials) {
    double best = 0;
    for (int trial = 0; trial < trials; ++trial) {
        std::vector<double> per(threads);
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) pool.emplace_back([&per, t] { per[t] = measure_thread_peak_gflops(); });
        for (auto& t : pool) t.join();
        double total = 0;
        for (double g : per) total += g;
        best = std::max(best, total);
    }
    return best;
}

/// The highest peak this process has measured for `threads` threads (every measurement underestimates the true
/// peak by however busy the machine was, so the highest is the best estimate). `seen` raises it.
inline double best_machine_peak_gflops(unsigned threads, double seen = 0) {
    static std::vector<double> best;
    if (best.size() <= threads) best.resize(threads + 1, 0.0);
    best[threads] = std::max(best[threads], seen);
    return best[threads];
}

/// The peak for the fraction-of-peak counters, measured around the run it divides: call before() ahead of the timed
/// loop and gflops() after it; each measures 3 short trials, and gflops() returns the best peak seen so far in the
/// process, these two included. A peak measured once at start-up, in a slow spell, made fractions read above 1.
class PeakAroundRun {
public:
    explicit PeakAroundRun(unsigned threads) : threads_(threads) { best_machine_peak_gflops(threads_, measure_machine_peak_gflops(threads_, 3)); }
    double gflops() const { return best_machine_peak_gflops(threads_, measure_machine_peak_gflops(threads_, 3)); }

private:
    unsigned threads_;
};

/// The best of 9 trials, measured once per thread count and cached (the bandwidth benchmarks' companion figure).
inline double machine_peak_gflops(unsigned threads) {
    if (best_machine_peak_gflops(threads) == 0) best_machine_peak_gflops(threads, measure_machine_peak_gflops(threads, 9));
    return best_machine_peak_gflops(threads);
}

/// Achievable memory read bandwidth in GB/s with `threads` threads, each summing its own slice of
/// a buffer far larger than the caches (256 MiB): the ceiling for kernels that stream weights
/// once per step, such as a batch-1 LSTM step. Best of several trials, cached, like the peak above.
inline double machine_read_bandwidth_gbs(unsigned threads) {
    static double cached = 0;
    static unsigned cached_threads = 0;
    if (cached_threads == threads) return cached;
    using Packet = Eigen::internal::packet_traits<float>::type;
    constexpr int lanes = Eigen::internal::unpacket_traits<Packet>::size;
    const std::size_t n = (std::size_t(256) << 20) / sizeof(float);
    std::vector<float, Eigen::aligned_allocator<float>> buffer(n, 1.0f);
    cached = 0;
    for (int trial = 0; trial < 7; ++trial) {
        std::vector<float> sums(threads);
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t)
            pool.emplace_back([&, t] {
                const std::size_t begin = n * t / threads / (4 * lanes) * (4 * lanes), end = n * (t + 1) / threads / (4 * lanes) * (4 * lanes);
                Packet acc[4] = {Eigen::internal::pset1<Packet>(0), Eigen::internal::pset1<Packet>(0), Eigen::internal::pset1<Packet>(0),
                                 Eigen::internal::pset1<Packet>(0)};
                for (std::size_t i = begin; i < end; i += 4 * lanes)
                    for (int k = 0; k < 4; ++k) acc[k] = Eigen::internal::padd(acc[k], Eigen::internal::pload<Packet>(buffer.data() + i + k * lanes));
                sums[t] = Eigen::internal::predux(Eigen::internal::padd(Eigen::internal::padd(acc[0], acc[1]), Eigen::internal::padd(acc[2], acc[3])));
            });
        for (auto& t : pool) t.join();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        volatile float keep = sums[0];
        (void)keep;
        cached = std::max(cached, double(n * sizeof(float)) / s * 1e-9);
    }
    cached_threads = threads;
    return cached;
}

}  // namespace photong_bench
