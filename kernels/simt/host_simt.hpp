// kernels/simt/host_simt.hpp — runs CUDA kernels on the CPU: every thread of a block is a fiber, and
// barriers are real barriers.
//
// Why fibers (ucontext) rather than OS threads: a block's threads then run one at a time on one OS
// thread, in a fixed order, so a run is deterministic and a 256-thread block costs 256 small stacks,
// not 256 threads. A thread runs until it reaches a barrier (__syncthreads, or a warp operation for
// its warp) or returns; the scheduler then runs the next. When every live thread of the block waits at
// the block barrier, all are released together; likewise for the 32 lanes of a warp.
//
// What it catches (each a photong::Error naming the block, the thread and the source line):
//   - a thread that returns while others of its block wait at __syncthreads (a hang or undefined on a GPU);
//   - threads of one block waiting at different __syncthreads calls (divergent barriers);
//   - a warp operation (shuffle, vote, __syncwarp) that some lanes of the mask never reach;
//   - an exception thrown inside a kernel, rethrown by launch().
// What it cannot catch: races between barriers (threads here never interleave inside a barrier
// interval), memory coalescing, bank conflicts, occupancy, register pressure, timing, and anything
// about warps executing in lockstep beyond the warp operations themselves. Blocks run one after
// another, so inter-block races are invisible too.
//
// Switching: on x86-64 a fiber switch is 8 instructions of our own (photong_simt_switch below: the
// callee-saved registers, the SSE and x87 control words, the stack pointer), about 6 ns; elsewhere, and
// under sanitizers (which must see stack switches), ucontext's swapcontext, which also saves the signal
// mask with a system call each time (~0.3 us): the same semantics, 50 times slower.
//
// Kernels include kernels/simt/portability.cuh, which maps threadIdx, __shared__, __syncthreads and
// the warp intrinsics onto this file when the compiler is not nvcc.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "photong/core/error.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PHOTONG_SIMT_SANITIZED 1
#endif
#endif
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(PHOTONG_SIMT_SANITIZED) && \
    !defined(PHOTONG_SIMT_UCONTEXT)
#define PHOTONG_SIMT_FAST_SWITCH 1
extern "C" {
/// Saves the running context's callee-saved registers and control words on its stack, stores its stack
/// pointer in *save, and resumes the context whose stack pointer is `load` (System V x86-64 ABI).
[[gnu::naked, gnu::noinline]] inline void photong_simt_switch(void** /*save*/, void* /*load*/) {
    asm volatile(
        "pushq %rbp\n pushq %rbx\n pushq %r12\n pushq %r13\n pushq %r14\n pushq %r15\n"
        "subq $8, %rsp\n stmxcsr (%rsp)\n fnstcw 4(%rsp)\n"
        "movq %rsp, (%rdi)\n movq %rsi, %rsp\n"
        "ldmxcsr (%rsp)\n fldcw 4(%rsp)\n addq $8, %rsp\n"
        "popq %r15\n popq %r14\n popq %r13\n popq %r12\n popq %rbx\n popq %rbp\n ret\n");
}
}
#endif

namespace photong {
namespace simt {

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr unsigned count() const { return x * y * z; }
};

constexpr int kWarpSize = 32;

/// One CUDA thread of the block being run.
struct Fiber {
    ucontext_t context{};
    void* sp = nullptr;               // the saved stack pointer (fast switch)
    std::unique_ptr<char[]> stack;    // allocated once per launch, reused by every block (not cleared)
    dim3 thread_idx;
    unsigned linear = 0;              // x + y * bx + z * bx * by, as CUDA numbers lanes
    enum class State { Runnable, AtBlockBarrier, AtWarpBarrier, Done } state = State::Runnable;
    const char* barrier_file = nullptr;
    int barrier_line = 0;
    unsigned warp_mask = 0;           // the mask of the warp operation it waits at
    std::exception_ptr error;
};

/// The block being run on this OS thread and the fiber now running.
struct BlockRun {
    dim3 block_idx, block_dim, grid_dim;
    std::vector<std::unique_ptr<Fiber>> fibers;
    Fiber* current = nullptr;
    ucontext_t scheduler{};
    void* scheduler_sp = nullptr;
    std::vector<unsigned char> dynamic_shared;
    // Warp exchange slots: one value per lane (64 bits each), for shuffles and votes.
    std::vector<std::uint64_t> lane_values;
    std::function<void()> body;
};

inline BlockRun*& current_block() {
    static thread_local BlockRun* run = nullptr;
    return run;
}

inline BlockRun& block() {
    BlockRun* b = current_block();
    if (!b) throw Error("a CUDA built-in was used outside a kernel launched by photong::simt::launch");
    return *b;
}

inline Fiber& self() { return *block().current; }

inline std::string where(const Fiber& f) {
    const BlockRun& b = block();
    return "block (" + std::to_string(b.block_idx.x) + "," + std::to_string(b.block_idx.y) + "," + std::to_string(b.block_idx.z) +
           ") thread (" + std::to_string(f.thread_idx.x) + "," + std::to_string(f.thread_idx.y) + "," + std::to_string(f.thread_idx.z) + ")";
}

inline std::string at(const char* file, int line) { return std::string(file ? file : "?") + ":" + std::to_string(line); }

/// Gives control back to the scheduler (called by the barriers).
inline void yield_to_scheduler() {
    BlockRun& b = block();
    Fiber& f = *b.current;
#ifdef PHOTONG_SIMT_FAST_SWITCH
    photong_simt_switch(&f.sp, b.scheduler_sp);
#else
    swapcontext(&f.context, &b.scheduler);
#endif
}

/// __syncthreads(): waits until every live thread of the block is here (at the same call).
inline void syncthreads(const char* file, int line) {
    Fiber& f = self();
    f.state = Fiber::State::AtBlockBarrier;
    f.barrier_file = file, f.barrier_line = line;
    yield_to_scheduler();
}

/// A warp-level rendezvous of the lanes in `mask` (the caller's lane must be in it).
inline void warp_barrier(unsigned mask, const char* file, int line) {
    Fiber& f = self();
    const unsigned lane = f.linear % kWarpSize;
    if (!(mask >> lane & 1u))
        throw Error("a warp operation's mask does not include the calling lane", {at(file, line), where(f), "lane " + std::to_string(lane) + " in the mask",
                                                                                 std::to_string(mask)});
    f.state = Fiber::State::AtWarpBarrier;
    f.warp_mask = mask;
    f.barrier_file = file, f.barrier_line = line;
    yield_to_scheduler();
}

/// Value of `v` held by `src_lane` of the caller's warp, exchanged among the lanes of `mask`.
template <class T>
T shuffle(unsigned mask, T v, int src_lane, const char* file, int line) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 64 bits");
    BlockRun& b = block();
    Fiber& f = *b.current;
    const unsigned warp_base = f.linear - f.linear % kWarpSize;
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    b.lane_values[f.linear] = bits;
    warp_barrier(mask, file, line);  // every lane has written
    T out = v;
    const unsigned src = warp_base + unsigned(src_lane);
    if (src_lane >= 0 && src_lane < kWarpSize && src < b.fibers.size() && (mask >> src_lane & 1u)) {
        const std::uint64_t got = b.lane_values[src];
        std::memcpy(&out, &got, sizeof(T));
    }
    warp_barrier(mask, file, line);  // every lane has read before anyone writes again
    return out;
}

namespace detail {
inline void run_current() {
    BlockRun& b = block();
    try {
        b.body();
    } catch (...) {
        b.current->error = std::current_exception();
    }
    b.current->state = Fiber::State::Done;
}

inline void fiber_entry() { run_current(); }  // returning resumes uc_link, the scheduler

#ifdef PHOTONG_SIMT_FAST_SWITCH
/// A fast-switch fiber's first frame: runs the kernel, then hands control back for good.
[[noreturn]] inline void fiber_main() {
    run_current();
    void* finished = nullptr;
    photong_simt_switch(&finished, block().scheduler_sp);
    __builtin_unreachable();
}
#endif

constexpr std::size_t kFiberStack = 64 * 1024;

/// Makes the fibers of a block shape once: thread indices and 64 KiB stacks.
inline void make_fibers(BlockRun& run) {
    const dim3 b = run.block_dim;
    for (unsigned tz = 0; tz < b.z; ++tz)
        for (unsigned ty = 0; ty < b.y; ++ty)
            for (unsigned tx = 0; tx < b.x; ++tx) {
                auto f = std::make_unique<Fiber>();
                f->thread_idx = dim3(tx, ty, tz);
                f->linear = tx + ty * b.x + tz * b.x * b.y;
                f->stack.reset(new char[kFiberStack]);
                run.fibers.push_back(std::move(f));
            }
}

/// Points every fiber at the start of the kernel again, for the next block. Kept out of launch(): getcontext
/// returns like setjmp, which would make every local of the caller's loops suspect (-Wclobbered).
[[gnu::noinline]] inline void restart_fibers(BlockRun& run) {
    for (auto& fp : run.fibers) {
        Fiber& f = *fp;
        f.state = Fiber::State::Runnable;
        f.barrier_file = nullptr, f.barrier_line = 0, f.warp_mask = 0, f.error = nullptr;
#ifdef PHOTONG_SIMT_FAST_SWITCH
        // The stack as photong_simt_switch leaves it: control words, six registers, then fiber_main as the
        // return address, above it a null "return address" so that fiber_main starts with the ABI's alignment.
        auto* sp = reinterpret_cast<std::uint64_t*>((reinterpret_cast<std::uintptr_t>(f.stack.get()) + kFiberStack) & ~std::uintptr_t(15));
        *--sp = 0;
        *--sp = reinterpret_cast<std::uint64_t>(&fiber_main);
        for (int i = 0; i < 6; ++i) *--sp = 0;
        std::uint32_t control[2] = {0, 0};
        asm volatile("stmxcsr %0" : "=m"(control[0]));
        asm volatile("fnstcw %0" : "=m"(control[1]));
        --sp;
        std::memcpy(sp, control, sizeof control);
        f.sp = sp;
#else
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = f.stack.get();
        f.context.uc_stack.ss_size = kFiberStack;
        f.context.uc_link = &run.scheduler;
        makecontext(&f.context, &fiber_entry, 0);
#endif
    }
}

/// Releases warp rendezvous whose lanes are all there; throws for one that can never complete.
inline bool release_warps(BlockRun& run) {
    bool released = false;
    const unsigned n = unsigned(run.fibers.size());
    for (unsigned base = 0; base < n; base += kWarpSize) {
        const unsigned lanes = std::min<unsigned>(kWarpSize, n - base);
        const unsigned existing = lanes == 32 ? 0xFFFFFFFFu : ((1u << lanes) - 1u);
        const Fiber* first = nullptr;
        for (unsigned l = 0; l < lanes; ++l)
            if (run.fibers[base + l]->state == Fiber::State::AtWarpBarrier) { first = run.fibers[base + l].get(); break; }
        if (!first) continue;
        const unsigned mask = first->warp_mask & existing;
        for (unsigned l = 0; l < lanes; ++l) {
            const Fiber& f = *run.fibers[base + l];
            const bool in_mask = mask >> l & 1u;
            if (f.state == Fiber::State::AtWarpBarrier && (f.warp_mask & existing) != mask)
                throw Error("lanes of one warp wait at warp operations with different masks", {at(f.barrier_file, f.barrier_line), where(f),
                            std::to_string(mask), std::to_string(f.warp_mask)});
            if (in_mask && f.state != Fiber::State::AtWarpBarrier)
                throw Error(std::string("a lane of the warp operation's mask ") + (f.state == Fiber::State::Done ? "returned" : "waits at __syncthreads") +
                                " instead of reaching it (a hang or undefined behaviour on a GPU)",
                            {at(first->barrier_file, first->barrier_line), where(f), "every lane of the mask at the warp operation",
                             f.state == Fiber::State::Done ? "returned" : "at " + at(f.barrier_file, f.barrier_line)});
        }
        for (unsigned l = 0; l < lanes; ++l)
            if (mask >> l & 1u) run.fibers[base + l]->state = Fiber::State::Runnable;
        released = true;
    }
    return released;
}

/// Runs every fiber of `run` to completion, releasing barriers as they fill.
inline void schedule(BlockRun& run) {
    for (;;) {
        for (auto& fp : run.fibers) {
            Fiber& f = *fp;
            while (f.state == Fiber::State::Runnable) {
                run.current = &f;
#ifdef PHOTONG_SIMT_FAST_SWITCH
                photong_simt_switch(&run.scheduler_sp, f.sp);
#else
                swapcontext(&run.scheduler, &f.context);
#endif
                run.current = nullptr;
                if (f.error) std::rethrow_exception(f.error);
                // A fiber that reached a warp barrier waits for its lanes; go on to the next fiber.
            }
        }
        if (release_warps(run)) continue;
        const Fiber* waiting = nullptr;
        const Fiber* done = nullptr;
        for (auto& fp : run.fibers) {
            if (fp->state == Fiber::State::AtBlockBarrier && !waiting) waiting = fp.get();
            if (fp->state == Fiber::State::Done && !done) done = fp.get();
        }
        if (!waiting) return;  // every thread returned
        if (done)
            throw Error("a thread returned while others of its block wait at __syncthreads (a hang or undefined behaviour on a GPU)",
                        {at(waiting->barrier_file, waiting->barrier_line), where(*done), "every thread at the barrier", "returned"});
        for (auto& fp : run.fibers)
            if (fp->barrier_line != waiting->barrier_line || std::strcmp(fp->barrier_file, waiting->barrier_file) != 0)
                throw Error("threads of one block wait at different __syncthreads calls (divergent barriers)",
                            {at(waiting->barrier_file, waiting->barrier_line), where(*fp), at(waiting->barrier_file, waiting->barrier_line),
                             at(fp->barrier_file, fp->barrier_line)});
        for (auto& fp : run.fibers) fp->state = Fiber::State::Runnable;
    }
}
}  // namespace detail

/// Launches `kernel(args...)` over `grid` x `block` threads, block by block, with `dynamic_shared_bytes`
/// of dynamic shared memory per block (filled with 0xCD bytes, so reading it unwritten shows).
/// Throws photong::Error for a bad configuration or a barrier misuse; rethrows a kernel's exception.
template <class Kernel, class... Args>
void launch(dim3 grid, dim3 block_dim, std::size_t dynamic_shared_bytes, Kernel kernel, Args... args) {
    require(grid.count() >= 1 && block_dim.count() >= 1 && block_dim.count() <= 1024, "bad launch configuration",
            {"", "simt::launch", "grid >= 1 block, 1..1024 threads a block",
             std::to_string(grid.count()) + " blocks of " + std::to_string(block_dim.count())});
    BlockRun run;
    run.block_dim = block_dim, run.grid_dim = grid;
    run.lane_values.assign(block_dim.count(), 0);
    run.body = [&] { kernel(args...); };
    detail::make_fibers(run);
    BlockRun* outer = current_block();
    current_block() = &run;
    struct Restore {
        BlockRun* outer;
        ~Restore() { current_block() = outer; }
    } restore{outer};
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                run.block_idx = dim3(bx, by, bz);
                if (dynamic_shared_bytes > 0) run.dynamic_shared.assign(dynamic_shared_bytes, 0xCD);  // (GCC 12 warns on assign(0, x))
                detail::restart_fibers(run);
                detail::schedule(run);
            }
}

}  // namespace simt
}  // namespace photong
