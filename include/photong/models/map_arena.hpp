// photong/models/map_arena.hpp — reused buffers for a network's intermediate maps.
//
// InceptionV3 makes ~130 maps per picture, 26 MB of them per picture in the batch. Allocated afresh each time,
// every map above glibc's mmap threshold (128 KiB, at most 32 MiB) comes as new pages that fault on first
// write — several microseconds a page on the virtual machines we measured, which made batch 8 run 1.8x slower per
// picture than batch 1 — and a std::vector also zero-fills it first. A MapArena keeps the buffers of finished
// maps and hands them out again, uninitialised: every map is written in full by the layer that makes it before
// anything reads it (the concatenations by their channel slices), which the reference tests check.
// It holds at most twice as many bytes free as were ever live at once, so its memory is bounded by the largest
// working set seen (release() gives it back). Thread-safe: concurrent forward passes share it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <Eigen/Core>

#include "photong/core/tensor.hpp"

namespace photong {

class MapArena {
public:
    /// An NHWC map whose buffer returns to the arena when the last copy of it is gone.
    struct Map {
        std::shared_ptr<float> data;
        int n = 0, h = 0, w = 0, c = 0;
        FeatureView view() const { return FeatureView{data.get(), n, h, w, c, c}; }
    };

    MapArena() = default;
    MapArena(const MapArena&) = delete;
    MapArena& operator=(const MapArena&) = delete;
    ~MapArena() { release(); }

    /// An uninitialised n x h x w x c map (reusing the smallest free buffer that holds it and is at most twice its size).
    Map take(int n, int h, int w, int c) {
        const std::size_t floats = std::max<std::size_t>(1, std::size_t(n) * std::size_t(h) * std::size_t(w) * std::size_t(c));
        float* buffer = nullptr;
        std::size_t capacity = 0;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto best = free_.end();
            for (auto it = free_.begin(); it != free_.end(); ++it)
                if (it->capacity >= floats && it->capacity <= kSlack * floats && (best == free_.end() || it->capacity < best->capacity)) best = it;
            if (best != free_.end()) {
                buffer = best->data;
                capacity = best->capacity;
                free_bytes_ -= capacity * sizeof(float);
                free_.erase(best);
            }
            live_bytes_ += (buffer ? capacity : floats) * sizeof(float);
            peak_live_bytes_ = std::max(peak_live_bytes_, live_bytes_);
        }
        if (!buffer) {
            buffer = static_cast<float*>(Eigen::internal::aligned_malloc(floats * sizeof(float)));
            capacity = floats;
        }
        Map m;
        m.data = std::shared_ptr<float>(buffer, [this, capacity](float* p) { give_back(p, capacity); });
        m.n = n;
        m.h = h;
        m.w = w;
        m.c = c;
        return m;
    }

    /// Frees every buffer not in use.
    void release() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const Free& f : free_) Eigen::internal::aligned_free(f.data);
        free_.clear();
        free_bytes_ = 0;
    }

    /// Bytes held for reuse now, and the most bytes of maps ever live at once.
    std::size_t free_bytes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return free_bytes_;
    }
    std::size_t peak_live_bytes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return peak_live_bytes_;
    }

private:
    struct Free {
        float* data;
        std::size_t capacity;
    };

    void give_back(float* p, std::size_t capacity) {
        const std::size_t bytes = capacity * sizeof(float);
        std::lock_guard<std::mutex> lock(mutex_);
        live_bytes_ -= bytes;
        if (free_bytes_ + bytes > kKeep * peak_live_bytes_) {  // more than this is kept: let this one go
            Eigen::internal::aligned_free(p);
            return;
        }
        free_.push_back({p, capacity});
        free_bytes_ += bytes;
    }

    // A free buffer serves requests down to half its size; the free list holds up to twice the largest working set.
    // Measured on InceptionV3 at batch 8, 2 threads (2-core AMD EPYC): exact sizes only, or keeping one working set,
    // let too many buffers go and fault again (333-351 ms); these 256-284 ms; keeping everything, 257-262 ms.
    static constexpr std::size_t kSlack = 2, kKeep = 2;
    mutable std::mutex mutex_;
    std::vector<Free> free_;
    std::size_t free_bytes_ = 0, live_bytes_ = 0, peak_live_bytes_ = 0;
};

}  // namespace photong
