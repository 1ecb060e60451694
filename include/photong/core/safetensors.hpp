// photong/core/safetensors.hpp — the one weight format inside photong: reader and writer.
//
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON, then the data section.
// The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} relative to the
// data section, and may carry "__metadata__": {string: string}.
//
// Nothing in a file is trusted before it is checked: the header length against the file size and
// a hard cap, the JSON's types, duplicate names, dtypes, every dimension and the products that
// could overflow, each tensor's byte count against its shape, and that the tensors tile the data
// section exactly (no overlap, no hole, nothing past the end), as the format requires.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "photong/core/dtype.hpp"
#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"
#include "photong/core/mapped_file.hpp"
#include "photong/core/tensor.hpp"

namespace photong {

/// One tensor's entry in a safetensors header.
struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;  ///< byte range within the data section
    std::uint64_t count() const {
        std::uint64_t n = 1;
        for (auto d : shape) n *= std::uint64_t(d);
        return n;
    }
};

/// A validated, read-only safetensors file (memory-mapped where possible).
class SafetensorsFile {
public:
    /// Largest header accepted; real headers are kilobytes.
    static constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

    explicit SafetensorsFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) { parse(); }
    /// A file's bytes already in memory, checked exactly as a file on disk is; `name` stands for
    /// the path in error messages.
    SafetensorsFile(const std::string& name, std::vector<unsigned char> bytes)
        : file_(std::make_shared<MappedFile>(name, std::move(bytes))) { parse(); }

    const std::string& path() const { return file_->path(); }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// Metadata value, or `fallback` when the key is absent.
    std::string metadata_or(const std::string& key, const std::string& fallback) const {
        auto it = metadata_.find(key);
        return it == metadata_.end() ? fallback : it->second;
    }
    /// Metadata value; throws naming the file and key when absent.
    const std::string& metadata_at(const std::string& key) const {
        auto it = metadata_.find(key);
        if (it == metadata_.end()) throw Error("metadata key missing", {path(), key});
        return it->second;
    }

    bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (auto& kv : tensors_) out.push_back(kv.first);
        return out;
    }
    const TensorInfo& info(const std::string& name) const {
        auto it = tensors_.find(name);
        if (it == tensors_.end()) throw Error("tensor not found in weight file", {path(), name});
        return it->second;
    }

    /// The data section (every tensor's bytes, back to back) and its size: what a checksum of the contents covers.
    const unsigned char* data_section() const { return data_begin_; }
    std::uint64_t data_section_size() const { return std::uint64_t(file_->data() + file_->size() - data_begin_); }

    /// Raw little-endian bytes of a tensor (valid while this object, or a copy of it, lives).
    const unsigned char* raw(const std::string& name) const { return data_begin_ + info(name).begin; }

    /// Tensor converted to float, whatever its stored dtype (fixtures, integer data).
    Tensor load(const std::string& name) const {
        const TensorInfo& ti = info(name);
        Tensor t(ti.shape);
        decode_to_float(ti.dtype, raw(name), t.size(), t.data());
        return t;
    }

    /// Tensor converted to float, after checking its shape.
    Tensor load(const std::string& name, const std::vector<std::int64_t>& expected_shape) const {
        require_shape(name, expected_shape);
        return load(name);
    }

    /// A model weight as float, what every model loader uses. Checked beyond load(): stored as
    /// F32, F64, F16 or BF16 (an integer or boolean weight means a converter wrote the wrong thing),
    /// and finite throughout (a NaN or infinity is corruption or a diverged training run and would
    /// poison every output silently). Either fault throws, naming the tensor and the first bad element.
    Tensor load_weight(const std::string& name) const {
        const TensorInfo& ti = info(name);
        const bool floating = ti.dtype == DType::F32 || ti.dtype == DType::F64 || ti.dtype == DType::F16 || ti.dtype == DType::BF16;
        if (!floating) throw Error("weight tensor has a non-floating dtype", {path(), name, "F32, F64, F16 or BF16", dtype_name(ti.dtype)});
        Tensor t = load(name);
        for (std::size_t i = 0; i < t.size(); ++i)
            if (!std::isfinite(t.data()[i]))
                throw Error("weight tensor holds a NaN or infinite value", {path(), name, "finite values",
                            std::string(std::isnan(t.data()[i]) ? "NaN" : "infinity") + " at element " + std::to_string(i)});
        return t;
    }

    /// load_weight after checking the shape.
    Tensor load_weight(const std::string& name, const std::vector<std::int64_t>& expected_shape) const {
        require_shape(name, expected_shape);
        return load_weight(name);
    }

private:
    void require_shape(const std::string& name, const std::vector<std::int64_t>& expected_shape) const {
        const TensorInfo& ti = info(name);
        if (ti.shape != expected_shape)
            throw Error("tensor has the wrong shape", {path(), name, shape_to_string(expected_shape), shape_to_string(ti.shape)});
    }

    /// What a file that is not safetensors looks like, from its first bytes ("" when unrecognised).
    static std::string file_kind(const unsigned char* p, std::uint64_t size) {
        auto starts = [&](const char* magic, std::size_t n) { return size >= n && std::equal(p, p + n, reinterpret_cast<const unsigned char*>(magic)); };
        if (starts("\xFF\xD8\xFF", 3)) return "a JPEG image";
        if (starts("\x89PNG", 4)) return "a PNG image";
        if (starts("GIF8", 4)) return "a GIF image";
        if (starts("\x89HDF", 4)) return "an HDF5 file (a Keras .h5 model: weights/keras_h5_to_safetensors.py converts it)";
        if (starts("PK\x03\x04", 4)) return "a zip archive (a PyTorch .pt/.pth file or a tfjs bundle?)";
        if (starts("\x93NUMPY", 6)) return "a NumPy .npy array";
        if (starts("\x80", 1) && size >= 2 && p[1] >= 2 && p[1] <= 5) return "a Python pickle (an old PyTorch checkpoint?)";
        if (starts("{", 1)) return "a JSON file (a tfjs model.json? weights/ has the converters)";
        return "";
    }

    [[noreturn]] void fail(const std::string& what, const std::string& tensor = "", const std::string& expected = "",
                           const std::string& found = "") const {
        throw Error("invalid safetensors file: " + what, {path(), tensor, expected, found});
    }

    void parse() {
        const std::uint64_t size = file_->size();
        const unsigned char* p = file_->data();
        if (size < 8) fail("shorter than the 8-byte header length", "", ">= 8 bytes", std::to_string(size) + " bytes");
        const std::uint64_t n = load_le(p, 8);
        // A safetensors file starts with its header's length and then '{'. Anything else is another kind of file:
        // say so (and what it looks like) instead of only reporting a strange header length.
        const bool brace = size > 8 && p[8] == '{';
        if (!brace || n > kMaxHeaderBytes) {
            const std::string kind = file_kind(p, size);
            if (!kind.empty())
                throw Error("not a safetensors file (it looks like " + kind + "): photong reads weights only as safetensors (weights/ has the converters)",
                            {path(), "", "a safetensors file", kind});
            if (n > kMaxHeaderBytes)
                fail("header length is absurd: this is not a safetensors file", "", "<= " + std::to_string(kMaxHeaderBytes), std::to_string(n));
        }
        if (n > size - 8) fail("header runs past the end of the file", "", "<= " + std::to_string(size - 8) + " bytes", std::to_string(n) + " bytes");
        const char* text = reinterpret_cast<const char*>(p + 8);

        // Duplicate top-level keys are legal JSON but would let two entries shadow each other:
        // record each key seen at depth 1 during parsing.
        std::set<std::string> seen;
        std::string duplicate;
        nlohmann::json::parser_callback_t on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
            if (depth == 1 && event == nlohmann::json::parse_event_t::key) {
                const std::string key = parsed.get<std::string>();
                if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
            }
            return true;
        };
        nlohmann::json header;
        try {
            header = nlohmann::json::parse(text, text + n, on_event);
        } catch (const nlohmann::json::exception& e) {
            fail(std::string("header is not valid JSON: ") + e.what());
        }
        if (!duplicate.empty()) fail("duplicate tensor name in header", duplicate);
        if (!header.is_object()) fail("header is not a JSON object");

        data_begin_ = p + 8 + n;
        const std::uint64_t data_size = size - 8 - n;
        std::vector<const TensorInfo*> order;
        for (auto it = header.begin(); it != header.end(); ++it) {
            const std::string& name = it.key();
            const auto& entry = it.value();
            if (name == "__metadata__") {
                if (!entry.is_object()) fail("__metadata__ is not an object");
                for (auto m = entry.begin(); m != entry.end(); ++m) {
                    if (!m.value().is_string()) fail("__metadata__ values must be strings", m.key());
                    metadata_[m.key()] = m.value().get<std::string>();
                }
                continue;
            }
            TensorInfo ti;
            ti.name = name;
            if (!entry.is_object()) fail("tensor entry is not an object", name);
            auto dt = entry.find("dtype");
            auto sh = entry.find("shape");
            auto off = entry.find("data_offsets");
            if (dt == entry.end() || sh == entry.end() || off == entry.end())
                fail("tensor entry lacks dtype, shape or data_offsets", name);
            if (!dt->is_string() || !parse_dtype(dt->get<std::string>(), ti.dtype))
                fail("unknown dtype", name, "F64|F32|F16|BF16|I64|I32|I16|I8|U8|U16|U32|U64|BOOL", dt->dump());
            if (!sh->is_array()) fail("shape is not an array", name);
            for (const auto& d : *sh) {
                if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
                    fail("shape has a non-integer or negative dimension", name, "dimensions >= 0", sh->dump());
                ti.shape.push_back(d.get<std::int64_t>());
            }
            // The elements must fit in the file, so a product beyond its size is a lie; checking
            // before each multiplication keeps the product itself from overflowing.
            std::uint64_t count = 1;
            const bool empty = std::find(ti.shape.begin(), ti.shape.end(), 0) != ti.shape.end();
            for (std::int64_t d : ti.shape) {
                if (empty) { count = 0; break; }
                if (count > data_size / std::uint64_t(d))
                    fail("shape is larger than the file", name, "<= " + std::to_string(data_size) + " elements", sh->dump());
                count *= std::uint64_t(d);
            }
            if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
                fail("data_offsets is not a pair of non-negative integers", name, "[begin, end]", off->dump());
            ti.begin = (*off)[0].get<std::uint64_t>();
            ti.end = (*off)[1].get<std::uint64_t>();
            if (ti.begin > ti.end || ti.end > data_size)
                fail("data_offsets outside the data section", name, "within [0, " + std::to_string(data_size) + "]", off->dump());
            if (count > data_size || ti.end - ti.begin != count * dtype_size(ti.dtype))
                fail("byte count does not match dtype and shape", name,
                     std::to_string(count) + " x " + std::to_string(dtype_size(ti.dtype)) + " bytes",
                     std::to_string(ti.end - ti.begin) + " bytes");
            tensors_.emplace(name, std::move(ti));
        }
        for (auto& kv : tensors_) order.push_back(&kv.second);
        std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
            return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
        });
        std::uint64_t cursor = 0;
        for (const TensorInfo* t : order) {
            if (t->begin < cursor) fail("tensors overlap", t->name, "begin >= " + std::to_string(cursor), std::to_string(t->begin));
            if (t->begin > cursor) fail("hole in the data section before tensor", t->name, "begin == " + std::to_string(cursor), std::to_string(t->begin));
            cursor = t->end;
        }
        if (cursor != data_size) fail("data section has bytes no tensor describes", "", std::to_string(cursor) + " bytes", std::to_string(data_size) + " bytes");
    }

    std::shared_ptr<MappedFile> file_;
    const unsigned char* data_begin_ = nullptr;
    std::map<std::string, TensorInfo> tensors_;
    std::map<std::string, std::string> metadata_;
};

/// The start of a safetensors file: the 8-byte little-endian length, then `header` as JSON padded with spaces so
/// that the data section starts on a multiple of `alignment` bytes (8 for SafetensorsWriter; 64 for the packed-
/// weights cache, whose floats are read with aligned SIMD loads straight from the mapped file).
inline std::vector<unsigned char> safetensors_header_bytes(const nlohmann::json& header, std::size_t alignment) {
    std::string text = header.dump();
    text.append((alignment - (8 + text.size()) % alignment) % alignment, ' ');
    // Sized once and copied into (vector::insert after 8 bytes trips GCC 12's -Warray-bounds).
    std::vector<unsigned char> out(8 + text.size());
    for (int k = 0; k < 8; ++k) out[std::size_t(k)] = static_cast<unsigned char>(std::uint64_t(text.size()) >> (8 * k));
    std::copy(text.begin(), text.end(), out.begin() + 8);
    return out;
}

/// Builds a safetensors file in memory and writes it atomically (temporary file, then rename),
/// so a failed or interrupted write never leaves a half-written file at the destination.
class SafetensorsWriter {
public:
    void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

    /// Adds a float tensor, stored as F32.
    void add(const std::string& name, const Tensor& t) {
        std::vector<unsigned char> bytes(t.size() * 4);
        encode_f32(t.data(), t.size(), bytes.data());
        add_raw(name, DType::F32, t.shape(), std::move(bytes));
    }

    /// Adds already-encoded little-endian bytes of any dtype.
    void add_raw(const std::string& name, DType dtype, std::vector<std::int64_t> shape, std::vector<unsigned char> bytes) {
        require(name != "__metadata__" && !name.empty(), "invalid tensor name", {"", name});
        require(entries_.count(name) == 0, "tensor added twice", {"", name});
        require(bytes.size() == Tensor::count_of(shape) * dtype_size(dtype), "byte count does not match dtype and shape",
                {"", name, std::to_string(Tensor::count_of(shape) * dtype_size(dtype)) + " bytes", std::to_string(bytes.size()) + " bytes"});
        entries_[name] = Entry{dtype, std::move(shape), std::move(bytes)};
    }

    /// Writes the file atomically: a temporary beside `path`, renamed over it once complete.
    void write(const std::string& path) const {
        const std::vector<unsigned char> head = header_bytes();
        AtomicFileWriter out(path);
        out.write(head.data(), head.size());
        for (auto& kv : entries_) out.write(kv.second.bytes.data(), kv.second.bytes.size());
        out.commit();
    }

    /// Writes the file's bytes into `out` (a PendingFile the caller made before its work and commits).
    void write(PendingFile& out) const {
        const std::vector<unsigned char> head = header_bytes();
        out.write(head.data(), head.size());
        for (auto& kv : entries_) out.write(kv.second.bytes.data(), kv.second.bytes.size());
    }

    /// The whole file as bytes, exactly what write() stores.
    std::vector<unsigned char> to_bytes() const {
        std::vector<unsigned char> out = header_bytes();
        for (auto& kv : entries_) out.insert(out.end(), kv.second.bytes.begin(), kv.second.bytes.end());
        return out;
    }

private:
    /// The 8-byte little-endian header length and the JSON header, padded with spaces to a
    /// multiple of 8 so that the data section starts aligned.
    std::vector<unsigned char> header_bytes() const {
        nlohmann::json header = nlohmann::json::object();
        if (!metadata_.empty()) header["__metadata__"] = metadata_;
        std::uint64_t offset = 0;
        for (auto& kv : entries_) {
            const Entry& e = kv.second;
            header[kv.first] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
            offset += e.bytes.size();
        }
        return safetensors_header_bytes(header, 8);
    }

    struct Entry {
        DType dtype;
        std::vector<std::int64_t> shape;
        std::vector<unsigned char> bytes;
    };
    std::map<std::string, Entry> entries_;
    std::map<std::string, std::string> metadata_;
};

}  // namespace photong
