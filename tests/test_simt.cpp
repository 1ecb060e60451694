// The host SIMT executor (kernels/simt/): CUDA kernel source compiled with g++ and run block by block with
// a fiber per thread. Checked: indices in 3-D grids and blocks, shared memory and __syncthreads in a tree
// reduction against a plain sum (ragged sizes), warp shuffles and votes against their CUDA definitions,
// dynamic shared memory, and the misuses it must report instead of hanging.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels/simt/portability.cuh"

namespace {

// ---- kernels, written as for nvcc ---------------------------------------------------------------

__global__ void write_global_ids(unsigned* out) {
    const unsigned block_linear = blockIdx.x + blockIdx.y * gridDim.x + blockIdx.z * gridDim.x * gridDim.y;
    const unsigned thread_linear = threadIdx.x + threadIdx.y * blockDim.x + threadIdx.z * blockDim.x * blockDim.y;
    out[block_linear * blockDim.x * blockDim.y * blockDim.z + thread_linear] = block_linear * 1000 + thread_linear;
}

/// Sum of x[0..n) per block of 128 threads: shared-memory tree down to a warp, then shuffles.
__global__ void block_sum(const float* x, int n, float* partial) {
    __shared__ float tile[128];
    const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
    tile[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half >= 32; half /= 2) {
        if (threadIdx.x < half) tile[threadIdx.x] += tile[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x < 32) {
        float v = tile[threadIdx.x];
        for (int d = 16; d > 0; d /= 2) v += __shfl_down_sync(0xFFFFFFFFu, v, d);
        if (threadIdx.x == 0) partial[blockIdx.x] = v;
    }
}

__global__ void shuffles(int* down, int* up, int* xor_, int* bcast, unsigned* ballot, int* all, int* any) {
    const int lane = int(threadIdx.x % 32), t = int(threadIdx.x);
    down[t] = __shfl_down_sync(0xFFFFFFFFu, t * 10, 3);
    up[t] = __shfl_up_sync(0xFFFFFFFFu, t * 10, 2);
    xor_[t] = __shfl_xor_sync(0xFFFFFFFFu, t * 10, 5);
    bcast[t] = __shfl_sync(0xFFFFFFFFu, t * 10, 7);
    ballot[t] = __ballot_sync(0xFFFFFFFFu, lane % 3 == 0);
    all[t] = __all_sync(0xFFFFFFFFu, lane < 40);
    any[t] = __any_sync(0xFFFFFFFFu, lane == 31);
}

__global__ void reverse_dynamic(const int* in, int* out) {
    PHOTONG_DYNAMIC_SHARED(int, buffer);
    buffer[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    out[threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}

__global__ void early_return(float* x) {
    if (threadIdx.x == 5) return;  // misses the barrier below
    x[threadIdx.x] = 1;
    __syncthreads();
}

__global__ void divergent_barriers(float* x) {
    if (threadIdx.x % 2 == 0) {
        x[threadIdx.x] = 1;
        __syncthreads();
    } else {
        x[threadIdx.x] = 2;
        __syncthreads();
    }
}

__global__ void shuffle_by_half_a_warp(int* out) {
    if (threadIdx.x < 16) out[threadIdx.x] = __shfl_down_sync(0xFFFFFFFFu, int(threadIdx.x), 1);  // lanes 16..31 never come
}

__global__ void throws_inside(int*) {
    if (threadIdx.x == 3) throw std::runtime_error("thrown by thread 3");
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

using photong::simt::launch;

TEST_CASE("simt: every thread of a 3-D grid of 3-D blocks runs once with its own indices") {
    const dim3 grid(3, 2, 2), block(4, 3, 2);
    std::vector<unsigned> out(grid.count() * block.count(), 0xFFFFFFFFu);  // poisoned
    launch(grid, block, 0, write_global_ids, out.data());
    for (unsigned b = 0; b < grid.count(); ++b)
        for (unsigned t = 0; t < block.count(); ++t) CHECK(out[b * block.count() + t] == b * 1000 + t);
}

TEST_CASE("simt: shared memory, __syncthreads and warp shuffles give a block sum equal to a plain sum (ragged sizes)") {
    for (int n : {1, 31, 128, 129, 1000}) {
        std::vector<float> x(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) x[std::size_t(i)] = float((i * 37) % 11) - 4.5f;
        const int blocks = (n + 127) / 128;
        std::vector<float> partial(std::size_t(blocks), std::nanf(""));
        launch(dim3(unsigned(blocks)), dim3(128), 0, block_sum, x.data(), n, partial.data());
        for (int b = 0; b < blocks; ++b) {
            double want = 0;
            for (int i = b * 128; i < std::min(n, (b + 1) * 128); ++i) want += x[std::size_t(i)];
            INFO("n " << n << " block " << b);
            CHECK(partial[std::size_t(b)] == doctest::Approx(want).epsilon(1e-6));
        }
    }
}

TEST_CASE("simt: shuffles and votes follow CUDA's definitions, partial last warp included") {
    const int n = 48;  // one full warp and 16 lanes of a second
    std::vector<int> down(n, -1), up(n, -1), xr(n, -1), bc(n, -1), all(n, -1), any(n, -1);
    std::vector<unsigned> ballot(n, 0);
    launch(dim3(1), dim3(n), 0, shuffles, down.data(), up.data(), xr.data(), bc.data(), ballot.data(), all.data(), any.data());
    for (int t = 0; t < n; ++t) {
        const int lane = t % 32, base = t - lane, lanes = t < 32 ? 32 : 16;
        INFO("thread " << t);
        // down/up: the source lane's value, or the caller's own when the source is outside the warp.
        CHECK(down[t] == (lane + 3 < lanes ? (t + 3) * 10 : t * 10));
        CHECK(up[t] == (lane >= 2 ? (t - 2) * 10 : t * 10));
        CHECK(xr[t] == ((lane ^ 5) < lanes ? (base + (lane ^ 5)) * 10 : t * 10));
        CHECK(bc[t] == (base + 7) * 10);
        unsigned want = 0;
        for (int l = 0; l < lanes; ++l) want |= (l % 3 == 0 ? 1u : 0u) << l;
        CHECK(ballot[t] == want);
        CHECK(any[t] == (lanes == 32 ? 1 : 0));
    }
    CHECK(all[0] == 1);
}

TEST_CASE("simt: dynamic shared memory") {
    std::vector<int> in(64), out(64, -1);
    std::iota(in.begin(), in.end(), 100);
    launch(dim3(1), dim3(64), 64 * sizeof(int), reverse_dynamic, in.data(), out.data());
    for (int t = 0; t < 64; ++t) CHECK(out[std::size_t(t)] == 163 - t);
}

TEST_CASE("simt: misuses are errors naming the thread and the line, not hangs") {
    std::vector<float> x(64);
    std::string e = error_of([&] { launch(dim3(2), dim3(64), 0, early_return, x.data()); });
    CHECK(e.find("returned while others of its block wait at __syncthreads") != std::string::npos);
    CHECK(e.find("thread (5,0,0)") != std::string::npos);
    CHECK(e.find("test_simt.cpp:") != std::string::npos);
    e = error_of([&] { launch(dim3(1), dim3(8), 0, divergent_barriers, x.data()); });
    CHECK(e.find("different __syncthreads calls") != std::string::npos);
    std::vector<int> out(32);
    e = error_of([&] { launch(dim3(1), dim3(32), 0, shuffle_by_half_a_warp, out.data()); });
    CHECK(e.find("a lane of the warp operation's mask returned") != std::string::npos);
    CHECK(e.find("thread (16,0,0)") != std::string::npos);
    e = error_of([&] { launch(dim3(1), dim3(8), 0, throws_inside, out.data()); });
    CHECK(e == "thrown by thread 3");
    e = error_of([&] { launch(dim3(1), dim3(2048), 0, throws_inside, out.data()); });
    CHECK(e.find("bad launch configuration") != std::string::npos);
    // Built-ins outside a launch.
    e = error_of([] { (void)threadIdx.x; });
    CHECK(e.find("outside a kernel") != std::string::npos);
}
