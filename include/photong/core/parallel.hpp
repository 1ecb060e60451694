// photong/core/parallel.hpp — a small persistent thread pool and parallel_for.
//
// The CPU kernels split their work into fixed-size chunks whose boundaries never depend on the
// number of threads, so results are bit-identical whatever the thread count. Threads are started
// once (the first parallel call) and reused: starting threads per layer would cost more than the
// small layers themselves.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace photong {

class ThreadPool {
public:
    /// `threads` workers including the calling thread; 0 means PHOTONG_NUM_THREADS or all cores.
    explicit ThreadPool(unsigned threads = 0) {
        if (threads == 0) threads = default_thread_count();
        for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
    }
    ~ThreadPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    unsigned size() const { return unsigned(workers_.size()) + 1; }

    /// Calls fn(i) for every i in [0, count), spread over the pool; the caller works too.
    /// Rethrows the first exception any call threw. Not re-entrant: a task must not call for_each.
    /// `fn` is referred to, not copied (no std::function): a dispatch allocates nothing, which the
    /// per-step decode loop relies on (tests/test_resources.cpp).
    template <class Fn>
    void for_each(std::int64_t count, Fn&& fn) {
        run_job(count, TaskRef(fn));
    }

    /// PHOTONG_NUM_THREADS when it is a whole number 1..1023, else all cores. A value that is set but unusable is
    /// not ignored silently: one line on stderr says what was used instead.
    static unsigned default_thread_count() {
        const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        const char* env = std::getenv("PHOTONG_NUM_THREADS");
        if (!env) return cores;
        char* end = nullptr;
        errno = 0;
        const long n = std::strtol(env, &end, 10);
        const bool whole = *env != '\0' && *end == '\0' && errno == 0;
        if (whole && n > 0 && n < 1024) return unsigned(n);
        std::fprintf(stderr, "photong: PHOTONG_NUM_THREADS='%s' is not a whole number 1..1023; using all %u cores\n", env, cores);
        return cores;
    }

private:
    /// A non-owning reference to a callable taking an index (valid while the callable lives).
    class TaskRef {
    public:
        template <class F>
        explicit TaskRef(F& f)
            : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
              call_([](void* o, std::int64_t i) { (*static_cast<F*>(o))(i); }) {}
        void operator()(std::int64_t i) const { call_(object_, i); }

    private:
        void* object_;
        void (*call_)(void*, std::int64_t);
    };

    void run_job(std::int64_t count, const TaskRef& fn) {
        if (count <= 0) return;
        if (workers_.empty() || count == 1) {
            for (std::int64_t i = 0; i < count; ++i) fn(i);
            return;
        }
        if (count > kMaxJobItems) {  // an item index must fit the low half of next_
            for (std::int64_t base = 0; base < count; base += kMaxJobItems) {
                auto slice = [&](std::int64_t i) { fn(base + i); };
                run_job(std::min(kMaxJobItems, count - base), TaskRef(slice));
            }
            return;
        }
        std::lock_guard<std::mutex> one_job_at_a_time(job_mutex_);
        std::uint64_t generation = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            generation = ++generation_;
            job_ = &fn;
            job_count_ = count;
            completed_.store(0);
            cancelled_.store(false);
            error_ = nullptr;
            next_.store(packed(generation, 0));
        }
        wake_.notify_all();
        run_items(generation, fn, count);
        // Wait for the items, not for the threads: a worker that wakes late finds every item taken and does nothing,
        // so a worker whose core is busy elsewhere no longer holds up each call by a scheduler time slice (waiting
        // for every worker to check in made 2 threads 2-3x slower than 1 on a machine with one core taken).
        for (int spin = 0; spin < kSpinIterations && completed_.load() != count; ++spin) cpu_relax();
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return completed_.load() == count; });
        job_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

    /// next_ holds the job's generation (high 32 bits) and the next item (low 32 bits), so that a worker still
    /// holding an earlier job can never take an item of a later one.
    static std::uint64_t packed(std::uint64_t generation, std::int64_t item) { return (generation << 32) | std::uint64_t(item); }

    bool claim(std::uint64_t generation, std::int64_t count, std::int64_t& item) {
        std::uint64_t v = next_.load();
        for (;;) {
            if ((v >> 32) != (generation & 0xFFFFFFFFu) || std::int64_t(v & 0xFFFFFFFFu) >= count) return false;
            if (next_.compare_exchange_weak(v, v + 1)) {
                item = std::int64_t(v & 0xFFFFFFFFu);
                return true;
            }
        }
    }

    /// Runs items of job `generation` until none is left. After an exception the remaining items are taken and
    /// counted but not run, and the first exception is kept for the caller.
    void run_items(std::uint64_t generation, const TaskRef& fn, std::int64_t count) {
        std::int64_t item = 0;
        while (claim(generation, count, item)) {
            if (!cancelled_.load()) {
                try {
                    fn(item);
                } catch (...) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    if (!error_) error_ = std::current_exception();
                    cancelled_.store(true);
                }
            }
            if (completed_.fetch_add(1) + 1 == count) {
                std::lock_guard<std::mutex> lock(mutex_);  // the caller tests completed_ under it: no lost wake-up
                done_.notify_one();
            }
        }
    }

    void worker_loop() {
        std::uint64_t seen = 0;
        for (;;) {
            // Layers come back to back: spin a little before sleeping, because waking a sleeping
            // thread costs tens of microseconds, a real share of a small layer's time.
            for (int spin = 0; spin < kSpinIterations && generation_.load() == seen; ++spin) cpu_relax();
            const TaskRef* job = nullptr;
            std::int64_t count = 0;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                job = job_, count = job_count_;
            }
            // The job may be finished already (job_ null, or every item taken): run_items then does nothing.
            if (job) run_items(seen, *job, count);
        }
    }

    static constexpr int kSpinIterations = 20000;  // ~50-100 us of polling
    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_, job_mutex_;
    std::condition_variable wake_, done_;
    const TaskRef* job_ = nullptr;
    std::int64_t job_count_ = 0;
    static constexpr std::int64_t kMaxJobItems = 0xFFFFFFFF;
    std::atomic<std::uint64_t> next_{0};
    std::atomic<std::int64_t> completed_{0};
    std::atomic<bool> cancelled_{false};
    // Changed under mutex_ (so the condition variables never miss a change), atomic so the spin
    // loops can read it without the lock.
    std::atomic<std::uint64_t> generation_{0};
    bool stopping_ = false;
    std::exception_ptr error_;
};

/// The process-wide pool the layers use by default (created on first use).
inline ThreadPool& default_thread_pool() {
    static ThreadPool pool;
    return pool;
}

/// How a layer's work is cut into tasks for a pool: `units` (groups of output rows, blocks of tiles) into near-equal
/// ranges of at most `max_per_task` each, their count rounded up to a multiple of the thread count; and `panels` (groups
/// of output columns) into equal groups, the fewest (a divisor of `panels`) that give each thread `tasks_per_thread`
/// tasks. Every task is then within one unit of the same size: with 11 tasks of 120 rows on 2 threads (a 35x35 map),
/// one thread did 6 while the other did 5 and then waited. Kernels whose sums do not depend on the tiling (Conv2D's)
/// may cut by thread count like this and still give the same bits for any number of threads.
class BalancedTasks {
public:
    BalancedTasks(std::int64_t units, std::int64_t max_per_task, std::int64_t panels, unsigned threads, std::int64_t tasks_per_thread = 4)
        : units_(std::max<std::int64_t>(units, 1)), panels_(std::max<std::int64_t>(panels, 1)) {
        unit_tasks_ = (units_ + max_per_task - 1) / max_per_task;
        if (threads <= 1) return;
        unit_tasks_ = std::min(units_, (unit_tasks_ + threads - 1) / threads * threads);
        panel_groups_ = panels_;
        for (std::int64_t d = 1; d <= panels_; ++d)
            if (panels_ % d == 0 && unit_tasks_ * d >= tasks_per_thread * std::int64_t(threads)) {
                panel_groups_ = d;
                break;
            }
    }
    std::int64_t count() const { return unit_tasks_ * panel_groups_; }
    /// Task t's units [u0, u1) and panels [j0, j1).
    void ranges(std::int64_t t, std::int64_t& u0, std::int64_t& u1, std::int64_t& j0, std::int64_t& j1) const {
        const std::int64_t u = t / panel_groups_, g = t % panel_groups_;
        u0 = units_ * u / unit_tasks_;
        u1 = units_ * (u + 1) / unit_tasks_;
        j0 = panels_ * g / panel_groups_;
        j1 = panels_ * (g + 1) / panel_groups_;
    }

private:
    std::int64_t units_, panels_, unit_tasks_ = 1, panel_groups_ = 1;
};

}  // namespace photong
