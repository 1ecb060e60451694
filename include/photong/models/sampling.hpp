// photong/models/sampling.hpp — how a decoder turns one step's logits into an event: greedy, or a draw
// from softmax(logits / temperature) restricted by top-k and top-p (nucleus) filtering.
//
// The draw (EventSampler::pick), for logits l over C classes and one uniform u in [0, 1):
//   1. temperature 0: the argmax (first of equal maxima); u is not used.
//   2. p_k = exp((l_k - max l) / temperature), in double.
//   3. top-k (k > 0 and k < C): keep the k largest p_k; equal values are ordered by class index, so
//      the kept set is always exactly k classes and does not depend on the sort.
//   4. top-p (0 < p < 1): of the classes still kept, in descending p order (ties by class index),
//      keep the shortest prefix whose sum reaches p times their total ("nucleus"; Holtzman et al. 2020);
//      at least one class is always kept.
//   5. the event is the first class, in class-index order over the kept classes, at which the running
//      sum of p_k exceeds u times their total (inverse CDF).
// With top_k = 0 and top_p = 1 steps 3-4 are skipped and step 5 is exactly the sampler photong had
// before these options (same sums in the same order), so seeds keep their melodies.
// tools/eval_hierdec.py implements the same rule (numpy); tests/reference/check_sampled_decode.py
// checks the C++ decoders against it, uniform for uniform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "photong/core/error.hpp"

namespace photong {

/// How each event is chosen from the decoder's logits (see the header comment for the exact rule).
struct SamplingOptions {
    float temperature = 0.0f;  ///< >= 0; 0 = greedy (argmax), then top_k and top_p do not matter
    int top_k = 0;             ///< keep the k most probable classes; 0 = no limit
    float top_p = 1.0f;        ///< keep the smallest set of most probable classes holding this share; 1 = no limit

    bool greedy() const { return temperature == 0.0f; }

    /// Throws photong::Error naming the field for a negative or non-finite temperature, a negative
    /// top_k, or a top_p outside (0, 1].
    void validate() const {
        require(std::isfinite(temperature) && temperature >= 0.0f, "temperature must be a finite number >= 0 (0 is greedy)",
                {"", "temperature", ">= 0", std::to_string(temperature)});
        require(top_k >= 0, "top_k must be >= 0 (0 = no limit)", {"", "top_k", ">= 0", std::to_string(top_k)});
        require(std::isfinite(top_p) && top_p > 0.0f && top_p <= 1.0f, "top_p must be in (0, 1] (1 = no limit)",
                {"", "top_p", "(0, 1]", std::to_string(top_p)});
    }
};

/// Picks events by SamplingOptions. Holds its scratch, sized once for `classes`, so picking allocates
/// nothing (the decoders' per-step loops stay allocation-free). Not thread-safe: one per decoding thread.
class EventSampler {
public:
    EventSampler(const SamplingOptions& options, std::int64_t classes)
        : options_(options), classes_(classes), p_(std::size_t(classes)), order_(std::size_t(classes)), keep_(std::size_t(classes)) {
        options_.validate();
        require(classes > 0, "a sampler needs at least one class", {"", "classes", ">= 1", std::to_string(classes)});
        filtered_ = (options_.top_k > 0 && options_.top_k < classes_) || options_.top_p < 1.0f;
    }

    const SamplingOptions& options() const { return options_; }

    /// The event for logits l[0..classes); `u` in [0, 1) is used only when sampling.
    int pick(const float* l, double u) {
        if (options_.greedy()) return int(std::max_element(l, l + classes_) - l);
        const double m = *std::max_element(l, l + classes_);
        const double t = options_.temperature;
        if (!filtered_) {  // the unfiltered draw, kept to the letter (see the header comment)
            double sum = 0;
            for (std::int64_t k = 0; k < classes_; ++k) sum += (p_[std::size_t(k)] = std::exp((l[k] - m) / t));
            double v = u * sum;
            for (std::int64_t k = 0; k < classes_; ++k)
                if ((v -= p_[std::size_t(k)]) < 0) return int(k);
            return int(classes_ - 1);
        }
        for (std::int64_t k = 0; k < classes_; ++k) p_[std::size_t(k)] = std::exp((l[k] - m) / t);
        // Descending probability, ties by class index: a total order, so the kept set is well defined.
        std::iota(order_.begin(), order_.end(), 0);
        std::sort(order_.begin(), order_.end(), [&](int a, int b) {
            return p_[std::size_t(a)] > p_[std::size_t(b)] || (p_[std::size_t(a)] == p_[std::size_t(b)] && a < b);
        });
        std::size_t kept = (options_.top_k > 0 && options_.top_k < classes_) ? std::size_t(options_.top_k) : std::size_t(classes_);
        if (options_.top_p < 1.0f) {
            double total = 0;
            for (std::size_t i = 0; i < kept; ++i) total += p_[std::size_t(order_[i])];
            const double target = double(options_.top_p) * total;
            double running = 0;
            std::size_t n = 0;
            while (n < kept) {
                running += p_[std::size_t(order_[n++])];
                if (running >= target) break;
            }
            kept = n;
        }
        std::fill(keep_.begin(), keep_.end(), 0);
        for (std::size_t i = 0; i < kept; ++i) keep_[std::size_t(order_[i])] = 1;
        double sum = 0;
        for (std::int64_t k = 0; k < classes_; ++k)
            if (keep_[std::size_t(k)]) sum += p_[std::size_t(k)];
        double v = u * sum;
        int last = order_[0];
        for (std::int64_t k = 0; k < classes_; ++k) {
            if (!keep_[std::size_t(k)]) continue;
            last = int(k);
            if ((v -= p_[std::size_t(k)]) < 0) return int(k);
        }
        return last;  // u * sum rounded up to the very end: the last kept class
    }

private:
    SamplingOptions options_;
    std::int64_t classes_;
    bool filtered_ = false;
    std::vector<double> p_;
    std::vector<int> order_;
    std::vector<char> keep_;
};

}  // namespace photong
