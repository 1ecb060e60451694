// kernels/simt/portability.cuh — the CUDA built-ins our kernels use, for nvcc and for g++.
//
// Under nvcc this file only adds PHOTONG_DYNAMIC_SHARED. Under a host compiler it maps the built-ins
// onto kernels/simt/host_simt.hpp, so that the same .cuh kernel source runs on the CPU through
// photong::simt::launch:
//   threadIdx, blockIdx, blockDim, gridDim    the running fiber's and block's indices
//   __global__ __device__ __host__ __forceinline__   nothing (plain C++ functions)
//   __shared__                                 static thread_local: one copy per OS thread, and a block's
//                                              fibers all run on one OS thread, one block at a time
//   __syncthreads()                            the block barrier (with its source line, for errors)
//   __syncwarp, __shfl_sync, __shfl_down_sync, __shfl_up_sync, __shfl_xor_sync, __all_sync,
//   __any_sync, __ballot_sync                  warp rendezvous of the mask's lanes
//   atomicAdd, atomicMax                       plain read-modify-write: fibers never interleave inside one
// Dynamic shared memory: write PHOTONG_DYNAMIC_SHARED(float, tile) instead of `extern __shared__ float tile[];`.
#pragma once

#if defined(__CUDACC__)

#define PHOTONG_DYNAMIC_SHARED(type, name) extern __shared__ type name[]

#elif defined(PHOTONG_KERNEL_ARGS_ONLY)

// Host C++ beside the CUDA runtime (kernels/cuda/launch.hpp): only the kernels' argument structs and
// launch shapes are wanted, and cuda_runtime.h supplies dim3 and the qualifiers.
#include <cuda_runtime.h>

#else

#include <algorithm>
#include <cstdint>

#include "host_simt.hpp"

using photong::simt::dim3;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static thread_local

#define threadIdx (::photong::simt::self().thread_idx)
#define blockIdx (::photong::simt::block().block_idx)
#define blockDim (::photong::simt::block().block_dim)
#define gridDim (::photong::simt::block().grid_dim)
#define warpSize (::photong::simt::kWarpSize)

#define __syncthreads() ::photong::simt::syncthreads(__FILE__, __LINE__)
#define __syncwarp(...) (::photong::simt::SyncWarp{__FILE__, __LINE__}(__VA_ARGS__))

#define PHOTONG_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::photong::simt::block().dynamic_shared.data())

namespace photong {
namespace simt {
inline unsigned lane_id() { return self().linear % kWarpSize; }
/// __syncwarp() and __syncwarp(mask) in standard C++17 (no __VA_OPT__).
struct SyncWarp {
    const char* file;
    int line;
    void operator()(unsigned mask = 0xFFFFFFFFu) const { warp_barrier(mask, file, line); }
};
}  // namespace simt
}  // namespace photong

#define __shfl_sync(mask, v, src, ...) ::photong::simt::shuffle((mask), (v), int(src), __FILE__, __LINE__)
#define __shfl_down_sync(mask, v, delta, ...) \
    ::photong::simt::shuffle((mask), (v), int(::photong::simt::lane_id() + (delta)), __FILE__, __LINE__)
#define __shfl_up_sync(mask, v, delta, ...) \
    ::photong::simt::shuffle((mask), (v), int(::photong::simt::lane_id()) - int(delta), __FILE__, __LINE__)
#define __shfl_xor_sync(mask, v, lane_mask, ...) \
    ::photong::simt::shuffle((mask), (v), int(::photong::simt::lane_id() ^ unsigned(lane_mask)), __FILE__, __LINE__)

namespace photong {
namespace simt {
/// Each lane of `mask` contributes `predicate`; every lane gets the bits of all (bit i = lane i).
inline unsigned ballot(unsigned mask, bool predicate, const char* file, int line) {
    BlockRun& b = block();
    Fiber& f = self();
    const unsigned base = f.linear - f.linear % kWarpSize;
    b.lane_values[f.linear] = predicate ? 1 : 0;
    warp_barrier(mask, file, line);
    unsigned bits = 0;
    for (unsigned l = 0; l < unsigned(kWarpSize) && base + l < b.fibers.size(); ++l)
        if ((mask >> l & 1u) && b.lane_values[base + l]) bits |= 1u << l;
    warp_barrier(mask, file, line);
    return bits;
}
}  // namespace simt
}  // namespace photong

#define __ballot_sync(mask, pred) ::photong::simt::ballot((mask), bool(pred), __FILE__, __LINE__)
#define __all_sync(mask, pred) (::photong::simt::ballot((mask), bool(pred), __FILE__, __LINE__) == ((mask) & 0xFFFFFFFFu))
#define __any_sync(mask, pred) (::photong::simt::ballot((mask), bool(pred), __FILE__, __LINE__) != 0u)

template <class T>
inline T atomicAdd(T* address, T value) {
    const T old = *address;
    *address = old + value;
    return old;
}
template <class T>
inline T atomicMax(T* address, T value) {
    const T old = *address;
    *address = std::max(old, value);
    return old;
}

#endif
