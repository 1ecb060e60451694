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
        std::lock_guard<std::mutex> one_job_at_a_time(job_mutex_);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &fn;
            job_count_ = count;
            next_.store(0);
            pending_workers_.store(unsigned(workers_.size()));
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        run_items();
        for (int spin = 0; spin < kSpinIterations && pending_workers_.load() != 0; ++spin) cpu_relax();
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_workers_ == 0; });
        job_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

    void run_items() {
        for (;;) {
            const std::int64_t i = next_.fetch_add(1);
            if (i >= job_count_) return;
            try {
                (*job_)(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
                next_.store(job_count_);  // stop handing out work
            }
        }
    }
    void worker_loop() {
        std::uint64_t seen = 0;
        for (;;) {
            // Layers come back to back: spin a little before sleeping, because waking a sleeping
            // thread costs tens of microseconds, a real share of a small layer's time.
            for (int spin = 0; spin < kSpinIterations && generation_.load() == seen; ++spin) cpu_relax();
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
            }
            run_items();
            {
                std::lock_guard<std::mutex> lock(mutex_);
                --pending_workers_;
            }
            done_.notify_one();
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
    std::atomic<std::int64_t> next_{0};
    // Changed under mutex_ (so the condition variables never miss a change), atomic so the spin
    // loops can read them without the lock.
    std::atomic<unsigned> pending_workers_{0};
    std::atomic<std::uint64_t> generation_{0};
    bool stopping_ = false;
    std::exception_ptr error_;
};

/// The process-wide pool the layers use by default (created on first use).
inline ThreadPool& default_thread_pool() {
    static ThreadPool pool;
    return pool;
}

}  // namespace photong
