// photong/models/packed_weights_cache.hpp — InceptionV3's layers as they run, saved once and memory-mapped
// on every later load.
//
// Loading InceptionV3 from its weight file means reading 89 MB, folding BatchNormalization, packing every
// kernel into GEMM panels and transforming the stride-1 ones for Winograd: over half a second of a one-picture
// command. The result depends only on the source file and on this build's kernel layout, so the first load
// writes it to a cache file (safetensors: each layer's packed weights, padded bias and Winograd weights,
// aligned for the micro-kernel's loads) and later loads map that file and point the layers into it:
// nothing is copied, folded or packed.
//
// Where: $PHOTONG_CACHE_DIR, else $XDG_CACHE_HOME/photong, else $HOME/.cache/photong ("off" turns it off).
// One file per source path and kernel layout, named after both; a file whose source has gone, or one of the same
// source in an earlier format, is deleted when another is written, so a cache of test weights in temporary folders
// does not grow and an upgrade does not leave its predecessor's file behind.
// When it is used: only when all of these hold, else the layers are built from the source and the cache
// file rewritten (atomically: a temporary renamed into place, so a reader never sees half a file):
//   - the format and the kernel layout (panel width, byte order) are this build's, and so is every layer's Winograd
//     variant (InceptionV3Convs::winograd_tile: "another Winograd plan");
//   - the source file has the size, modification and change times, inode and device recorded when the
//     cache was built (any write to it changes them: "stale");
//   - the data's checksum (core/content_checksum.hpp, over every byte, read with pread so that the mapping is
//     faulted in only where layers read it) is the recorded one ("corrupt");
//   - when checksums are verified, the source's SHA-256 recorded at build time is the one in the
//     NAME.sha256 file beside the source. The source is hashed whenever the cache is built (its digest
//     keys the cache); a hit skips rehashing it, which is what makes the load fast.
// A cache that cannot be written (a read-only home) costs nothing but the time: the layers are used as
// built, and the report says why nothing was saved. Big-endian hosts do not cache (safetensors is
// little-endian and the cache holds native floats).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "photong/core/content_checksum.hpp"
#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/sha256.hpp"
#include "photong/models/inception_v3_graph.hpp"
#include "photong/nn/conv2d.hpp"

namespace photong {

/// What happened to the cache on one load (InceptionV3::cache_report()).
struct PackedCacheReport {
    enum class Outcome {
        Off,         ///< no cache directory (turned off, or no home), or a big-endian host
        Hit,         ///< layers mapped from the cache file
        Built,       ///< no cache file yet: built from the source and saved
        Rebuilt,     ///< the cache file was stale, corrupt or of another layout: rebuilt and saved
        NotWritten,  ///< built from the source; saving failed (see reason)
    };
    Outcome outcome = Outcome::Off;
    std::string path;    ///< the cache file ("" when off)
    std::string reason;  ///< why it was not a hit, or why it was not written
};

inline const char* packed_cache_outcome_name(PackedCacheReport::Outcome o) {
    switch (o) {
        case PackedCacheReport::Outcome::Off: return "off";
        case PackedCacheReport::Outcome::Hit: return "hit";
        case PackedCacheReport::Outcome::Built: return "built";
        case PackedCacheReport::Outcome::Rebuilt: return "rebuilt";
        case PackedCacheReport::Outcome::NotWritten: return "not written";
    }
    return "?";
}

namespace packed_cache_detail {

constexpr const char* kFormat = "photong-packed-inception-v3/4";
constexpr std::size_t kDataAlignment = 64;  // every tensor starts on a cache line (and any SIMD packet)
constexpr const char* kSuffix = ".photong-packed.safetensors";  // how the cache's own files are named (and found)
constexpr const char* kNoCacheFile = "no cache file";           // the reason of a first build

inline bool little_endian() {
    const std::uint32_t one = 1;
    unsigned char first = 0;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

/// Everything of this build that shapes the cache's bytes: a file written under another layout is rebuilt.
inline std::string layout() {
    // The Winograd variant is recorded per layer (describe); the matrices are fixed by the format version.
    return "panel" + std::to_string(PackedMatrix::kPanel) + "-" + (little_endian() ? "le" : "be");
}

/// The source's identity on disk: what any write to it changes.
inline std::string file_identity(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw Error("cannot read the weight file's status" + file_io_detail::reason(errno), {path});
#if defined(__APPLE__)
    const long long mtime = (long long)st.st_mtimespec.tv_sec * 1000000000LL + st.st_mtimespec.tv_nsec;
    const long long ctime = (long long)st.st_ctimespec.tv_sec * 1000000000LL + st.st_ctimespec.tv_nsec;
#else
    const long long mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    const long long ctime = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
#endif
    return "size " + std::to_string((long long)st.st_size) + " mtime " + std::to_string(mtime) + " ctime " + std::to_string(ctime) + " inode " +
           std::to_string((unsigned long long)st.st_ino) + " device " + std::to_string((unsigned long long)st.st_dev);
}

inline std::string absolute_path(const std::string& path) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (!real) return path;
    std::string out(real);
    std::free(real);
    return out;
}

constexpr std::uint64_t kChecksumBlock = 4u << 20;

/// The checksums of consecutive kChecksumBlock blocks of an n-byte range, folded in order.
inline std::uint64_t fold(const std::vector<std::uint64_t>& block_sums, std::uint64_t n) {
    return content_checksum(reinterpret_cast<const unsigned char*>(block_sums.data()), block_sums.size() * sizeof(std::uint64_t)) ^ n;
}

/// Checksum of a large range, its blocks on the pool: the same value for any pool size.
inline std::uint64_t checksum(const unsigned char* p, std::uint64_t n, ThreadPool& pool) {
    const std::int64_t blocks = std::int64_t((n + kChecksumBlock - 1) / kChecksumBlock);
    std::vector<std::uint64_t> part(static_cast<std::size_t>(blocks));
    pool.for_each(blocks, [&](std::int64_t b) {
        const std::uint64_t begin = std::uint64_t(b) * kChecksumBlock;
        part[std::size_t(b)] = content_checksum(p + begin, std::size_t(std::min(kChecksumBlock, n - begin)));
    });
    return fold(part, n);
}

/// checksum() of bytes [offset, offset + n) of the file at `path`, read with pread into a buffer per block rather than
/// through a mapping: the cache's mapping is then faulted in only where layers read it. (A pass over the mapped
/// 170 MB touched every page on every load: ~60 ms of page faults on the virtual machines we measured, and all of it
/// in the peak RSS, though a layer that runs as Winograd never reads its direct weights.) Throws when it cannot read.
inline std::uint64_t file_checksum(const std::string& path, std::uint64_t offset, std::uint64_t n, ThreadPool& pool) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot open" + file_io_detail::reason(errno), {path});
    const std::int64_t blocks = std::int64_t((n + kChecksumBlock - 1) / kChecksumBlock);
    std::vector<std::uint64_t> part(static_cast<std::size_t>(blocks));
    std::atomic<int> failed{0};
    pool.for_each(blocks, [&](std::int64_t b) {
        thread_local std::vector<unsigned char> buffer;
        buffer.resize(std::size_t(kChecksumBlock));
        const std::uint64_t begin = std::uint64_t(b) * kChecksumBlock, size = std::min(kChecksumBlock, n - begin);
        for (std::uint64_t got = 0; got < size;) {
            const ssize_t r = ::pread(fd, buffer.data() + got, std::size_t(size - got), off_t(offset + begin + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                failed.store(r < 0 ? errno : EIO);
                return;
            }
            got += std::uint64_t(r);
        }
        part[std::size_t(b)] = content_checksum(buffer.data(), std::size_t(size));
    });
    ::close(fd);
    if (failed.load()) throw Error("cannot read" + file_io_detail::reason(failed.load()), {path});
    return fold(part, n);
}

inline std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return buf;
}

/// "3 3 1 1 valid relu 80 192 winograd 4 conv2d_5": a layer's window, shape, form, Winograd tile and name, as the cache
/// records it.
inline std::string describe(const Conv2D& c) {
    const Conv2DParams& p = c.params();
    return std::to_string(p.kernel_h) + " " + std::to_string(p.kernel_w) + " " + std::to_string(p.stride_h) + " " +
           std::to_string(p.stride_w) + " " + (p.padding == Padding::Same ? "same" : "valid") + " " + (p.relu ? "relu" : "linear") + " " +
           std::to_string(c.in_channels()) + " " + std::to_string(c.out_channels()) + " " + (c.winograd() ? "winograd" : c.winograd_eligible() ? "winograd-later" : "direct") + " " +
           std::to_string(p.winograd_tile) + " " + c.name();
}

}  // namespace packed_cache_detail

/// Where InceptionV3's packed layers are cached, and how they are found, checked, built and saved.
class PackedWeightsCache {
public:
    /// `dir` "" or "off": no cache.
    explicit PackedWeightsCache(std::string dir = default_dir()) : dir_(dir == "off" ? "" : std::move(dir)) {}

    /// $PHOTONG_CACHE_DIR (which may be "off"), else $XDG_CACHE_HOME/photong, else $HOME/.cache/photong, else "".
    /// Always "" under WebAssembly: there files are not mapped (a cache would be read into memory like the source),
    /// and a browser's file system is memory, where 90 MB of cache would be 90 MB more of the page's heap.
    static std::string default_dir() {
#if defined(__EMSCRIPTEN__)
        return "";
#else
        if (const char* d = std::getenv("PHOTONG_CACHE_DIR")) return d;
        if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/photong";
        if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/photong";
        return "";
#endif
    }

    bool enabled() const { return !dir_.empty() && packed_cache_detail::little_endian(); }
    const std::string& dir() const { return dir_; }

    /// The cache file for a source: its name, a digest of its absolute path, and this build's layout.
    std::string path_for(const std::string& source) const {
        const std::string abs = packed_cache_detail::absolute_path(source);
        Sha256 h;
        h.update(reinterpret_cast<const unsigned char*>(abs.data()), abs.size());
        std::string stem = file_io_detail::name_of(abs);
        if (const std::size_t dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
        return dir_ + "/" + stem + "-" + h.hex().substr(0, 16) + "-" + packed_cache_detail::layout() + packed_cache_detail::kSuffix;
    }

    /// InceptionV3's layers for `source` (already opened), from the cache when it is valid, else built from the
    /// source (on `pool`) and saved. With `verify`, the source's SHA-256 must match NAME.sha256 beside it
    /// (photong::Error as verify_weights_checksum otherwise). `report` says which happened.
    InceptionLayers<Conv2D> load_inception(const SafetensorsFile& source, float bn_epsilon, bool bn_scale, bool verify, ThreadPool& pool,
                                           PackedCacheReport& report) const {
        report = PackedCacheReport{};
        std::string identity;
        if (enabled()) {
            report.path = path_for(source.path());
            identity = packed_cache_detail::file_identity(source.path());
            if (auto layers = try_load(report.path, source.path(), identity, verify, pool, report.reason)) {
                report.outcome = PackedCacheReport::Outcome::Hit;
                return std::move(*layers);
            }
        } else {
            report.reason = dir_.empty() ? "no cache directory" : "big-endian host";
        }
        // Built from the source. Its identity was taken before hashing: a write during the load makes the next one rebuild.
        std::string digest;
        if (enabled() || verify) digest = sha256_of_file(source.path());
        if (verify) verify_weights_checksum(source.path(), digest);
        InceptionLayers<Conv2D> layers = InceptionLayers<Conv2D>::load(
            source, bn_epsilon, bn_scale, [](ConvSpec s) { return Conv2D(s.kernel, std::move(s.bias), s.params, std::move(s.name)); }, &pool);
        if (!enabled()) return layers;
        const bool existed = report.reason != packed_cache_detail::kNoCacheFile;
        try {
            save(layers, report.path, source.path(), identity, digest);
            report.outcome = existed ? PackedCacheReport::Outcome::Rebuilt : PackedCacheReport::Outcome::Built;
        } catch (const std::exception& e) {
            report.outcome = PackedCacheReport::Outcome::NotWritten;
            report.reason = e.what();
        }
        return layers;
    }

private:
    using Layers = InceptionLayers<Conv2D>;

    /// The layers from `path` when every condition of the header comment holds; otherwise nothing, with `why`.
    static std::unique_ptr<Layers> try_load(const std::string& path, const std::string& source, const std::string& identity, bool verify,
                                            ThreadPool& pool, std::string& why) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            why = packed_cache_detail::kNoCacheFile;
            return nullptr;
        }
        std::shared_ptr<const SafetensorsFile> file;
        try {
            file = std::make_shared<const SafetensorsFile>(path);
        } catch (const std::exception& e) {
            why = std::string("corrupt: ") + e.what();
            return nullptr;
        }
        const SafetensorsFile& f = *file;
        if (f.metadata_or("format", "") != packed_cache_detail::kFormat || f.metadata_or("layout", "") != packed_cache_detail::layout()) {
            why = "another format or kernel layout";
            return nullptr;
        }
        if (f.metadata_or("source_path", "") != packed_cache_detail::absolute_path(source) || f.metadata_or("source_identity", "") != identity) {
            why = "stale: the source file changed since the cache was built";
            return nullptr;
        }
        if (verify) {
            const std::string want = recorded_weights_checksum(source);
            if (!want.empty() && want != f.metadata_or("source_sha256", "")) {
                why = "built from a source whose SHA-256 is not the one beside it";
                return nullptr;
            }
        }
        if (!same_winograd_plan(f)) {
            why = "another Winograd plan: written by another version";
            return nullptr;
        }
        try {
            const std::uint64_t data_offset = std::uint64_t(st.st_size) - f.data_section_size();
            if (packed_cache_detail::hex64(packed_cache_detail::file_checksum(path, data_offset, f.data_section_size(), pool)) !=
                f.metadata_or("content_checksum", "")) {
                why = "corrupt: its contents do not match their checksum";
                return nullptr;
            }
        } catch (const std::exception& e) {
            why = std::string("corrupt: ") + e.what();
            return nullptr;
        }
        try {
            auto layers = std::make_unique<Layers>();
            int index = 0;
            layers->for_each_conv([&](Conv2D& c) { c = layer_from(file, index++); });
            if (f.metadata_or("layers", "") != std::to_string(index)) throw Error("layer count differs", {path});
            return layers;
        } catch (const std::exception& e) {
            why = std::string("corrupt: ") + e.what();
            return nullptr;
        }
    }

    /// True when every cached layer has the Winograd tile this version gives it (InceptionV3Convs::winograd_tile): the
    /// format and layout do not change when only that rule does, and a layer runs the variant its cached weights are of.
    static bool same_winograd_plan(const SafetensorsFile& f) {
        const int layers = std::atoi(f.metadata_or("layers", "0").c_str());
        for (int index = 0; index < layers; ++index) {
            Described d;
            if (!described(f, index, d)) return false;
            if (d.params.winograd_tile != InceptionV3Convs::winograd_tile(d.name, d.params.kernel_h, d.params.kernel_w)) return false;
        }
        return true;
    }

    /// A layer as its description (packed_cache_detail::describe) gives it.
    struct Described {
        Conv2DParams params;
        int cin = 0, cout = 0;
        std::string form, name;  // form: "winograd", "winograd-later" or "direct"
    };
    /// Reads layer `index`'s description; false when it is missing or unreadable.
    static bool described(const SafetensorsFile& f, int index, Described& d) {
        std::istringstream is(f.metadata_or(layer_key(index), ""));
        std::string padding, activation;
        Conv2DParams& p = d.params;
        if (!(is >> p.kernel_h >> p.kernel_w >> p.stride_h >> p.stride_w >> padding >> activation >> d.cin >> d.cout >> d.form >> p.winograd_tile) ||
            !std::getline(is >> std::ws, d.name))
            return false;
        p.padding = padding == "same" ? Padding::Same : Padding::Valid;
        p.relu = activation == "relu";
        p.allow_winograd = d.form != "direct";
        p.winograd_at_load = d.form == "winograd";
        return true;
    }

    static std::string layer_key(int index) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "layer%02d", index);
        return buf;
    }

    static Conv2D layer_from(const std::shared_ptr<const SafetensorsFile>& file, int index) {
        const SafetensorsFile& f = *file;
        const std::string key = layer_key(index);
        Described d;
        if (!described(f, index, d)) throw Error("layer description is unreadable", {f.path(), key});
        const Conv2DParams& p = d.params;
        const int cin = d.cin, cout = d.cout;
        const std::int64_t K = std::int64_t(p.kernel_h) * p.kernel_w * cin;
        auto view = [&](const std::string& tensor, std::int64_t rows, std::int64_t offset_floats) {
            const TensorInfo& ti = f.info(tensor);
            if (ti.dtype != DType::F32) throw Error("cached tensor is not F32", {f.path(), tensor});
            return PackedMatrix::view(reinterpret_cast<const float*>(f.raw(tensor)) + offset_floats, rows, cout, file);
        };
        const std::int64_t panels = (cout + PackedMatrix::kPanel - 1) / PackedMatrix::kPanel;
        auto require_shape = [&](const std::string& tensor, std::vector<std::int64_t> want) {
            if (f.info(tensor).shape != want) throw Error("cached tensor has the wrong shape", {f.path(), tensor, shape_to_string(want), shape_to_string(f.info(tensor).shape)});
        };
        require_shape(key + ".weights", {panels, K, PackedMatrix::kPanel});
        require_shape(key + ".bias", {panels * PackedMatrix::kPanel});
        const float* b = reinterpret_cast<const float*>(f.raw(key + ".bias"));
        std::vector<float> bias(b, b + panels * PackedMatrix::kPanel);
        std::shared_ptr<const Conv2D::Winograd> winograd;
        if (d.form == "winograd") {
            WinogradShape shape;
            if (!WinogradShape::for_kernel(p.kernel_h, p.kernel_w, p.winograd_tile, shape)) throw Error("layer has no such Winograd variant", {f.path(), key});
            const int positions = shape.positions();
            require_shape(key + ".winograd", {positions, panels, cin, PackedMatrix::kPanel});
            std::vector<PackedMatrix> u;
            for (int xi = 0; xi < positions; ++xi) u.push_back(view(key + ".winograd", cin, std::int64_t(xi) * panels * cin * PackedMatrix::kPanel));
            winograd = std::make_shared<const Conv2D::Winograd>(shape, std::move(u), cin, cout, bias, p.padding, p.relu);
        }
        return Conv2D::from_packed(p, cin, cout, view(key + ".weights", K, 0), std::move(bias), std::move(winograd), d.name);
    }

    void save(const Layers& layers, const std::string& path, const std::string& source, const std::string& identity, const std::string& digest) const {
        make_directories(dir_);
        struct Piece {
            std::string name;
            std::vector<std::int64_t> shape;
            std::vector<const float*> parts;  // runs of part_floats each, written back to back
            std::int64_t part_floats;
        };
        std::vector<Piece> pieces;
        nlohmann::json header = nlohmann::json::object();
        std::map<std::string, std::string> meta{{"format", packed_cache_detail::kFormat},
                                                {"layout", packed_cache_detail::layout()},
                                                {"source_path", packed_cache_detail::absolute_path(source)},
                                                {"source_identity", identity},
                                                {"source_sha256", digest}};
        int index = 0;
        layers.for_each_conv([&](const Conv2D& c) {
            const std::string key = layer_key(index++);
            meta[key] = packed_cache_detail::describe(c);
            const PackedMatrix& w = c.packed_weights();
            pieces.push_back({key + ".weights", {w.panels(), w.rows(), PackedMatrix::kPanel}, {w.data()}, w.size_floats()});
            pieces.push_back({key + ".bias", {std::int64_t(c.padded_bias().size())}, {c.padded_bias().data()}, std::int64_t(c.padded_bias().size())});
            if (const auto& wg = c.winograd()) {
                Piece p{key + ".winograd", {wg->positions(), w.panels(), c.in_channels(), PackedMatrix::kPanel}, {}, wg->transformed(0).size_floats()};
                for (int xi = 0; xi < wg->positions(); ++xi) p.parts.push_back(wg->transformed(xi).data());
                pieces.push_back(std::move(p));
            }
        });
        meta["layers"] = std::to_string(index);
        // Offsets first (every piece is a whole number of panels, so each stays 64-byte aligned), then the checksum
        // of the data section as it will be written.
        std::uint64_t offset = 0;
        for (const Piece& p : pieces) {
            const std::uint64_t bytes = std::uint64_t(p.parts.size()) * std::uint64_t(p.part_floats) * sizeof(float);
            header[p.name] = {{"dtype", "F32"}, {"shape", p.shape}, {"data_offsets", {offset, offset + bytes}}};
            offset += bytes;
        }
        // The checksum's 4 MiB blocks gathered through one buffer (the pieces are not contiguous in memory).
        auto for_each_part = [&](auto&& f) {
            for (const Piece& p : pieces)
                for (const float* part : p.parts) f(reinterpret_cast<const unsigned char*>(part), std::size_t(p.part_floats) * sizeof(float));
        };
        {
            std::vector<unsigned char> block;
            block.reserve(packed_cache_detail::kChecksumBlock);
            std::vector<std::uint64_t> sums;
            for_each_part([&](const unsigned char* q, std::size_t n) {
                while (n > 0) {
                    const std::size_t take = std::min(n, std::size_t(packed_cache_detail::kChecksumBlock) - block.size());
                    block.insert(block.end(), q, q + take);
                    q += take;
                    n -= take;
                    if (block.size() == packed_cache_detail::kChecksumBlock) {
                        sums.push_back(content_checksum(block.data(), block.size()));
                        block.clear();
                    }
                }
            });
            if (!block.empty()) sums.push_back(content_checksum(block.data(), block.size()));
            meta["content_checksum"] = packed_cache_detail::hex64(packed_cache_detail::fold(sums, offset));
        }
        header["__metadata__"] = meta;
        const std::vector<unsigned char> head = safetensors_header_bytes(header, packed_cache_detail::kDataAlignment);
        remove_orphans(packed_cache_detail::absolute_path(source));
        AtomicFileWriter out(path);
        out.write(head.data(), head.size());
        for_each_part([&](const unsigned char* q, std::size_t n) { out.write(q, n); });
        out.commit();
    }

    /// mkdir -p, failing with the OS reason.
    static void make_directories(const std::string& dir) {
        for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
            const std::string part = slash == std::string::npos ? dir : dir.substr(0, slash);
            if (!part.empty() && ::mkdir(part.c_str(), 0777) != 0 && errno != EEXIST)
                throw Error("cannot create the cache directory" + file_io_detail::reason(errno), {part});
            if (slash == std::string::npos) break;
        }
    }

    /// Deletes this directory's cache files whose source no longer exists.
    /// Deletes the cache files whose source is gone, and those of `source` in another format: written by an earlier
    /// version, which names its files by another layout, so no later load would ever find them again (an upgrade left
    /// its 92 MB file behind). Files of `source` in this format but another layout (another build on the machine) stay.
    void remove_orphans(const std::string& source_being_written) const {
        std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir_.c_str()), ::closedir);
        if (!d) return;
        const std::string suffix = packed_cache_detail::kSuffix;
        while (const dirent* e = ::readdir(d.get())) {
            const std::string name = e->d_name;
            if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
            const std::string path = dir_ + "/" + name;
            try {
                const SafetensorsFile f(path);
                const std::string source = f.metadata_or("source_path", "");
                struct stat st {};
                if (!source.empty() && ::stat(source.c_str(), &st) != 0 && errno == ENOENT) ::unlink(path.c_str());
                else if (source == source_being_written && f.metadata_or("format", "") != packed_cache_detail::kFormat) ::unlink(path.c_str());
            } catch (const std::exception&) {
                // Not readable as ours: left alone (it may be being written by another process).
            }
        }
    }

    std::string dir_;
};

}  // namespace photong
