// fuzz/fuzz_safetensors.cpp — the safetensors reader (core/safetensors.hpp) on arbitrary bytes.
// Accepted files must decode every tensor, and what SafetensorsWriter writes back from them must
// read back with the same names, shapes and values (bit for bit: NaN payloads included).
#include <cstring>
#include <string>
#include <vector>

#include <photong/core/safetensors.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    photong_fuzz::expect_only_photong_errors([&] {
        photong::SafetensorsFile file("<fuzz input>", std::vector<unsigned char>(data, data + size));
        photong::SafetensorsWriter writer;
        for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
        for (const std::string& name : file.names()) {
            const photong::TensorInfo& info = file.info(name);
            const photong::Tensor t = file.load(name);
            photong_fuzz::check(std::uint64_t(t.size()) == info.count(), "loaded tensor has the header's element count");
            const unsigned char* raw = file.raw(name);
            writer.add_raw(name, info.dtype, info.shape, std::vector<unsigned char>(raw, raw + (info.end - info.begin)));
        }
        // Round trip through the writer in memory: same tensors, same bytes.
        const std::vector<unsigned char> again = writer.to_bytes();
        photong::SafetensorsFile back("<round trip>", again);
        photong_fuzz::check(back.names() == file.names(), "round trip keeps the tensor names");
        photong_fuzz::check(back.metadata() == file.metadata(), "round trip keeps the metadata");
        for (const std::string& name : file.names()) {
            const photong::TensorInfo &a = file.info(name), &b = back.info(name);
            photong_fuzz::check(a.dtype == b.dtype && a.shape == b.shape, "round trip keeps dtype and shape");
            photong_fuzz::check(std::memcmp(file.raw(name), back.raw(name), a.end - a.begin) == 0, "round trip keeps the bytes");
        }
    });
    return 0;
}
