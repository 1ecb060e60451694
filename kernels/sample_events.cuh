// kernels/sample_events.cuh — a decoder step's event choice on the device, by the rule of
// include/photong/models/sampling.hpp (EventSampler::pick, the CPU reference), and the draws it takes
// from photong's Rng stream (include/photong/core/rng.hpp: xoshiro256**, uniform_double = top 53 bits).
//
// sample_events: one block per batch row. The threads add the projection's bias to the row's logits
// (storing them where DecodeResult keeps logits), compute p_k = exp((l_k - max) / T) in double, and rank
// the classes (descending p, ties by class index: each thread counts the classes above its own, O(C)
// each, no sort); thread 0 then does the short sequential part in exactly the CPU's order (the top-p
// prefix sum over ranks, the inverse CDF over class indices), so with equal logits the CPU and this kernel
// make the same choice except where exp's last bit differs between the C library and the device (CUDA's
// double exp is within 1 ulp; a choice can flip only when u lands within ~1e-16 of a boundary).
// draw_uniforms: one thread advancing the Rng state kept in device memory, so a decode graph draws its
// own uniforms and the host Rng is advanced by the same count (the streams stay one stream).
#pragma once

#include <cmath>

#include "simt/portability.cuh"

namespace photong {
namespace kernels {

struct SampleArgs {
    const float* logits = nullptr;   ///< (batch, classes): h . W_projection, without the bias
    const float* bias = nullptr;     ///< (classes) or null
    float* logits_out = nullptr;     ///< row b at logits_out + b * logits_out_stride: the biased logits
    long long logits_out_stride = 0;
    const double* uniforms = nullptr;  ///< (batch) this step's draws; unused when greedy
    int* events = nullptr;           ///< event of row b at events[b * events_stride]
    long long events_stride = 0;
    int* previous = nullptr;         ///< (batch): also gets the event (the next step's one-hot input), or null
    int batch = 0, classes = 0;
    float temperature = 0.0f;        ///< 0 = greedy
    int top_k = 0;
    float top_p = 1.0f;
};

struct DrawArgs {
    unsigned long long* state = nullptr;  ///< the Rng's 4 words, advanced in place
    double* out = nullptr;
    long long count = 0;
};

constexpr unsigned kSampleThreads = 128;
/// Dynamic shared memory of a sample_events block: logits (float), p (double), rank order and keep flags (int).
inline unsigned long long sample_shared_bytes(int classes) { return (unsigned long long)classes * (8 + 4 + 4 + 4) + 8; }

#ifndef PHOTONG_KERNEL_ARGS_ONLY  // kernels/cuda/launch.hpp wants the arguments, not the kernel
__global__ void sample_events(SampleArgs a) {
    PHOTONG_DYNAMIC_SHARED(unsigned char, smem);
    const int C = a.classes, b = int(blockIdx.x), t = int(threadIdx.x), T = int(blockDim.x);
    double* p = reinterpret_cast<double*>(smem);  // first: 8-byte aligned
    float* l = reinterpret_cast<float*>(p + C);
    int* order = reinterpret_cast<int*>(l + C);
    int* keep = order + C;
    __shared__ double max_logit;
    for (int k = t; k < C; k += T) {
        const float v = a.logits[(long long)b * C + k] + (a.bias ? a.bias[k] : 0.0f);
        l[k] = v;
        a.logits_out[b * a.logits_out_stride + k] = v;
    }
    __syncthreads();
    const bool greedy = a.temperature == 0.0f;
    if (t == 0) {
        int best = 0;  // the first of equal maxima, as std::max_element
        for (int k = 1; k < C; ++k)
            if (l[k] > l[best]) best = k;
        max_logit = l[best];
        order[0] = best;
    }
    __syncthreads();
    const bool filtered = (a.top_k > 0 && a.top_k < C) || a.top_p < 1.0f;
    if (!greedy) {
        for (int k = t; k < C; k += T) p[k] = exp((double(l[k]) - max_logit) / double(a.temperature));
    }
    __syncthreads();
    if (!greedy && filtered) {
        for (int k = t; k < C; k += T) {
            int rank = 0;
            for (int j = 0; j < C; ++j) rank += (p[j] > p[k] || (p[j] == p[k] && j < k)) ? 1 : 0;
            order[rank] = k;
        }
    }
    __syncthreads();
    if (t != 0) return;
    int event = order[0];
    if (!greedy) {
        const double u = a.uniforms[b];
        int kept = (a.top_k > 0 && a.top_k < C) ? a.top_k : C;
        if (a.top_p < 1.0f) {
            double total = 0;
            for (int i = 0; i < kept; ++i) total += p[order[i]];
            const double target = double(a.top_p) * total;
            double running = 0;
            int n = 0;
            while (n < kept) {
                running += p[order[n++]];
                if (running >= target) break;
            }
            kept = n;
        }
        for (int k = 0; k < C; ++k) keep[k] = !filtered;
        if (filtered)
            for (int i = 0; i < kept; ++i) keep[order[i]] = 1;
        double sum = 0;
        for (int k = 0; k < C; ++k)
            if (keep[k]) sum += p[k];
        double v = u * sum;
        int last = filtered ? order[0] : C - 1;  // u * sum rounded up to the very end: the last (kept) class
        event = -1;
        for (int k = 0; k < C && event < 0; ++k) {
            if (!keep[k]) continue;
            if (filtered) last = k;
            if ((v -= p[k]) < 0) event = k;
        }
        if (event < 0) event = last;
    }
    a.events[b * a.events_stride] = event;
    if (a.previous) a.previous[b] = event;
}

/// One thread: out[i] = the i-th Rng::uniform_double() of the stream at `state`.
__global__ void draw_uniforms(DrawArgs a) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    unsigned long long s0 = a.state[0], s1 = a.state[1], s2 = a.state[2], s3 = a.state[3];
    for (long long i = 0; i < a.count; ++i) {
        const unsigned long long x = s1 * 5;
        const unsigned long long result = ((x << 7) | (x >> 57)) * 9;
        const unsigned long long t = s1 << 17;
        s2 ^= s0, s3 ^= s1, s1 ^= s2, s0 ^= s3, s2 ^= t;
        s3 = (s3 << 45) | (s3 >> 19);
        a.out[i] = double(result >> 11) * (1.0 / 9007199254740992.0);
    }
    a.state[0] = s0, a.state[1] = s1, a.state[2] = s2, a.state[3] = s3;
}
#endif

}  // namespace kernels
}  // namespace photong
