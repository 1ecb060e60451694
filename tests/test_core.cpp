// Core: the safetensors reader/writer against well-formed and malformed files, dtype decoding,
// the portable RNG against an independent Python implementation, and the thread pool.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <photong/core/content_checksum.hpp>
#include <photong/core/parallel.hpp>
#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>
#include <photong/core/sha256.hpp>

#include "test_util.hpp"

using photong::DType;
using photong::Error;
using photong::SafetensorsFile;
using photong::SafetensorsWriter;
using photong::Tensor;
using photong_test::temp_path;

namespace {


void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// A safetensors file with the given JSON header and data bytes (header length set from the JSON).
std::string make_file(const std::string& json, const std::string& data, long long claimed_length = -1) {
    std::string s(8, '\0');
    const unsigned long long n = claimed_length < 0 ? json.size() : (unsigned long long)claimed_length;
    for (int k = 0; k < 8; ++k) s[std::size_t(k)] = char((n >> (8 * k)) & 0xff);
    return s + json + data;
}

/// Loads a crafted file and returns the error message (empty if it loaded).
std::string load_error(const std::string& bytes) {
    const std::string path = temp_path("bad.safetensors");
    write_bytes(path, bytes);
    try {
        SafetensorsFile f(path);
        for (const auto& name : f.names()) f.load(name);
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);  // every message names the file
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("safetensors: write then read back tensors, dtypes and metadata") {
    const std::string path = temp_path("roundtrip.safetensors");
    SafetensorsWriter w;
    w.set_metadata("model", "test");
    w.add("a/kernel", Tensor({2, 3}, std::vector<float>{1, -2, 3.5f, 0, 1e-8f, -1e30f}));
    w.add("scalar", Tensor(std::vector<std::int64_t>{}, std::vector<float>{7}));
    w.add_raw("half", DType::F16, {4}, {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00});  // 1, -2, 65504, 2^-24
    w.add_raw("bf16", DType::BF16, {2}, {0x80, 0x3f, 0x49, 0x40});                           // 1, 3.140625
    w.add_raw("bytes", DType::U8, {3}, {0, 128, 255});
    w.add_raw("empty", DType::F32, {0, 5}, {});
    w.write(path);

    SafetensorsFile f(path);
    CHECK(f.metadata_at("model") == "test");
    CHECK(f.names().size() == 6);
    const Tensor k = f.load("a/kernel", {2, 3});
    CHECK(k[2] == 3.5f);
    CHECK(k[4] == 1e-8f);
    CHECK(k[5] == -1e30f);
    CHECK(f.load("scalar").size() == 1);
    const Tensor h = f.load("half");
    CHECK(h[0] == 1.0f);
    CHECK(h[1] == -2.0f);
    CHECK(h[2] == 65504.0f);
    CHECK(h[3] == std::ldexp(1.0f, -24));
    const Tensor b = f.load("bf16");
    CHECK(b[0] == 1.0f);
    CHECK(b[1] == 3.140625f);
    CHECK(f.load("bytes")[2] == 255.0f);
    CHECK(f.load("empty").size() == 0);
    CHECK(f.info("half").dtype == DType::F16);
}

TEST_CASE("safetensors: errors name the file, the tensor, and expected vs found") {
    const std::string path = temp_path("named.safetensors");
    SafetensorsWriter w;
    w.add("conv2d_1/kernel", Tensor({3, 3, 3, 32}));
    w.write(path);
    SafetensorsFile f(path);
    try {
        f.load("conv2d_1/kernel", {3, 3, 3, 64});
        FAIL("wrong shape accepted");
    } catch (const Error& e) {
        const std::string m = e.what();
        CHECK(contains(m, path));
        CHECK(contains(m, "conv2d_1/kernel"));
        CHECK(contains(m, "3x3x3x64"));
        CHECK(contains(m, "3x3x3x32"));
    }
    try {
        f.load("conv2d_2/kernel");
        FAIL("missing tensor accepted");
    } catch (const Error& e) {
        CHECK(contains(e.what(), "conv2d_2/kernel"));
        CHECK(contains(e.what(), "not found"));
    }
    CHECK_THROWS_AS(SafetensorsFile(temp_path("does_not_exist.safetensors")), Error);
}

TEST_CASE("safetensors: malformed files are refused before any data is trusted") {
    const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const std::string eight(8, '\0');
    REQUIRE(load_error(make_file("{" + ok_entry + "}", eight)).empty());

    CHECK(contains(load_error(std::string("\x05\x00\x00", 3)), "shorter than the 8-byte header"));
    CHECK(contains(load_error(make_file("{" + ok_entry + "}", eight, 1000)), "header runs past the end"));
    CHECK(contains(load_error(make_file("{}", "", 1LL << 40)), "header length is absurd"));
    CHECK(contains(load_error(make_file("{\"t\":{\"dtype\":", eight)), "not valid JSON"));
    CHECK(contains(load_error(make_file("[1,2,3]", "")), "not a JSON object"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", eight)), "unknown dtype"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight)), "byte count does not match"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", eight)), "outside the data section"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight)), "outside the data section"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight)), "negative dimension"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", eight)), "non-integer"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight)), "data_offsets"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", eight)), "lacks dtype, shape or data_offsets"));
    // A product of dimensions that overflows 64 bits must not wrap around to a small byte count.
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"U8","shape":[4294967296,4294967296,1],"data_offsets":[0,8]}})", eight)), "larger than the file"));
    CHECK(contains(load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight)), "overlap"));
    CHECK(contains(load_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight)), "hole"));
    CHECK(contains(load_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight)), "bytes no tensor describes"));
    CHECK(contains(load_error(make_file(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight)), "duplicate tensor name"));
    CHECK(contains(load_error(make_file(R"({"__metadata__":{"k":3}})", "")), "values must be strings"));
    CHECK(contains(load_error(make_file(R"({"t":[1]})", "")), "not an object"));
}

TEST_CASE("safetensors: a failed write leaves no file behind") {
    SafetensorsWriter w;
    w.add("x", Tensor({1}));
    CHECK_THROWS_AS(w.write("/nonexistent-dir/out.safetensors"), Error);
    CHECK_THROWS_AS(w.add("x", Tensor({1})), Error);  // duplicate name
}

TEST_CASE("dtype: binary16 decoding covers subnormals, infinities and NaN") {
    CHECK(photong::half_to_float(0x0000) == 0.0f);
    CHECK(std::signbit(photong::half_to_float(0x8000)));
    CHECK(photong::half_to_float(0x0400) == std::ldexp(1.0f, -14));       // smallest normal
    CHECK(photong::half_to_float(0x03ff) == std::ldexp(1023.0f, -24));    // largest subnormal
    CHECK(photong::half_to_float(0x3555) == 0.333251953125f);
    CHECK(std::isinf(photong::half_to_float(0x7c00)));
    CHECK(std::isnan(photong::half_to_float(0x7e00)));
}

TEST_CASE("rng: stream matches the independent Python reference (tests/reference/rng_reference.py)") {
    photong::Rng r0(0), r42(42), rbig(9223372036854775813ULL);
    const std::uint64_t want0[] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL, 0x6aa594f1262d2d2cULL, 0xbba5ad4a1f842e59ULL};
    const std::uint64_t want42[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL, 0xfde6dc7fe2ec5e64ULL};
    const std::uint64_t wantbig[] = {0x2d064cc3000e3b15ULL, 0xe1c6ae926d7b8400ULL, 0x212465571f7c88ecULL, 0x5fba95c989727ed4ULL, 0x7fb15b82d0250d17ULL};
    for (int i = 0; i < 5; ++i) {
        CHECK(r0.next_u64() == want0[i]);
        CHECK(r42.next_u64() == want42[i]);
        CHECK(rbig.next_u64() == wantbig[i]);
    }
    photong::Rng u(42);
    CHECK(u.uniform() == 0.08386296033859253f);
    CHECK(u.uniform() == 0.37898021936416626f);
    photong::Rng a(7), b(7);
    for (int i = 0; i < 100; ++i) CHECK(a.below(10) == b.below(10));
    CHECK_THROWS_AS(a.below(0), Error);
}

TEST_CASE("rng: below() is unbiased enough and uniform() stays below 1 and at or above 0") {
    photong::Rng r(1);
    int counts[6] = {0};
    for (int i = 0; i < 60000; ++i) counts[r.below(6)]++;
    for (int c : counts) CHECK(std::abs(c - 10000) < 400);  // > 4 sigma away would be a bug
    for (int i = 0; i < 10000; ++i) {
        const float u = r.uniform();
        CHECK((u >= 0.0f && u < 1.0f));
    }
}

TEST_CASE("thread pool: every index runs once, exceptions propagate") {
    photong::ThreadPool pool(3);
    std::vector<int> hits(1000, 0);
    pool.for_each(1000, [&](std::int64_t i) { hits[std::size_t(i)]++; });
    for (int h : hits) CHECK(h == 1);
    CHECK_THROWS_AS(pool.for_each(10, [](std::int64_t i) { if (i == 5) throw Error("boom"); }), Error);
    int after = 0;
    pool.for_each(4, [&](std::int64_t) { static std::mutex m; std::lock_guard<std::mutex> l(m); ++after; });
    CHECK(after == 4);
}

TEST_CASE("thread pool: thousands of small jobs back to back, each item once, late workers take nothing of the next job") {
    // The caller waits for the items, not for the workers, so a worker may wake after its job is done; each job's items
    // carry its generation, and a count per index shows that no item ran twice or was lost.
    for (unsigned threads : {2u, 5u}) {
        photong::ThreadPool pool(threads);
        std::vector<std::atomic<int>> hits(97);
        std::vector<int> want(97, 0);
        for (int job = 0; job < 3000; ++job) {
            const int n = 1 + job % 97;
            for (int i = 0; i < n; ++i) ++want[std::size_t(i)];
            pool.for_each(n, [&](std::int64_t i) { hits[std::size_t(i)].fetch_add(1); });
            if (job % 500 == 0) CHECK_THROWS_AS(pool.for_each(40, [](std::int64_t i) { if (i == 3) throw Error("boom"); }), Error);
        }
        int wrong = 0;
        for (std::size_t i = 0; i < hits.size(); ++i) wrong += hits[i].load() != want[i];
        CHECK(wrong == 0);
    }
}

TEST_CASE("sha256: the SHA extensions' rounds equal the portable ones and coreutils' sha256sum, for any split") {
    photong::Rng rng(5);
    std::vector<unsigned char> data(300000);
    for (unsigned char& c : data) c = static_cast<unsigned char>(rng.next_u64());
    MESSAGE("SHA extensions on this machine: " << photong::Sha256().uses_hardware());
    for (std::size_t n : {0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 300000})
        for (std::size_t split : {std::size_t(0), std::size_t(1), std::size_t(63), n / 2, n}) {
            if (split > n) continue;
            photong::Sha256 hw(true), sw(false);
            hw.update(data.data(), split);
            hw.update(data.data() + split, n - split);
            sw.update(data.data(), n);
            CHECK_MESSAGE(hw.hex() == sw.hex(), "n " << n << " split " << split);
        }
    const std::string path = photong_test::temp_path("sha_random.bin");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
    std::FILE* p = ::popen(("sha256sum '" + path + "' 2>/dev/null").c_str(), "r");
    REQUIRE(p != nullptr);
    char out[65] = {};
    const std::size_t got = std::fread(out, 1, 64, p);
    ::pclose(p);
    if (got == 64) CHECK(photong::sha256_of_file(path) == std::string(out, 64));
    else MESSAGE("sha256sum is not installed: compared with the portable rounds only");
}

TEST_CASE("content checksum: any changed, swapped or missing word changes it") {
    photong::Rng rng(6);
    std::vector<unsigned char> data(1 << 16);
    for (unsigned char& c : data) c = static_cast<unsigned char>(rng.next_u64());
    const std::uint64_t base = photong::content_checksum(data.data(), data.size());
    for (std::size_t at : {std::size_t(0), std::size_t(1), std::size_t(777), data.size() - 1})
        for (int bit = 0; bit < 8; bit += 3) {
            data[at] ^= static_cast<unsigned char>(1u << bit);
            CHECK(photong::content_checksum(data.data(), data.size()) != base);
            data[at] ^= static_cast<unsigned char>(1u << bit);
        }
    std::swap_ranges(data.begin(), data.begin() + 4, data.begin() + 64);  // two words of the same lane trade places
    CHECK(photong::content_checksum(data.data(), data.size()) != base);
    std::swap_ranges(data.begin(), data.begin() + 4, data.begin() + 64);
    CHECK(photong::content_checksum(data.data(), data.size() - 1) != base);
    std::vector<unsigned char> longer = data;
    longer.push_back(0);  // a trailing zero byte still changes the length
    CHECK(photong::content_checksum(longer.data(), longer.size()) != base);
    CHECK(photong::content_checksum(data.data(), data.size()) == base);
}

TEST_CASE("sha256: FIPS 180-4's examples, and a checksum file beside a weights file") {
    auto hex_of = [](const std::string& s) {
        photong::Sha256 h;
        h.update(reinterpret_cast<const unsigned char*>(s.data()), s.size());
        return h.hex();
    };
    CHECK(hex_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex_of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(hex_of(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    const std::string w = photong_test::temp_path("sha_w.safetensors"), sum = photong_test::temp_path("sha_w.sha256");
    CHECK(photong::checksum_path_for(w) == sum);
    std::ofstream(w, std::ios::binary) << "abc";
    std::remove(sum.c_str());
    CHECK_FALSE(photong::verify_weights_checksum(w));  // no checksum file: nothing to check
    std::ofstream(sum) << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  sha_w.safetensors\n";
    CHECK(photong::verify_weights_checksum(w));
    std::ofstream(w, std::ios::binary) << "abd";
    try {
        photong::verify_weights_checksum(w);
        FAIL("a changed file passed its checksum");
    } catch (const photong::Error& e) {
        CHECK(e.context().file == w);
        CHECK(std::string(e.what()).find(sum) != std::string::npos);
        CHECK(e.context().expected == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
    std::ofstream(sum) << "not a checksum\n";
    CHECK_THROWS_WITH_AS(photong::verify_weights_checksum(w), doctest::Contains("sha256sum's format"), photong::Error);
}
