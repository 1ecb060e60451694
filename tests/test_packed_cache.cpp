// The packed-weights cache (models/packed_weights_cache.hpp): built on the first load, mapped on the next, with
// features bit-identical to a load without it and within tolerance of torchvision's; rebuilt when the source
// changed, when the file is damaged, truncated, of another layout or of another Winograd plan; the source's checksum still enforced;
// a cache that cannot be written does not stop the load; files of deleted sources, and a source's files of an
// earlier format, are cleaned away.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/core/sha256.hpp>
#include <photong/models/inception_v3.hpp>

#include "test_util.hpp"

using photong::InceptionV3;
using photong::PackedCacheReport;
using photong::Tensor;
using Outcome = PackedCacheReport::Outcome;

namespace {

const std::string kWeights = photong_test::generated("inception_v3_random.safetensors");
const std::string kIO = photong_test::generated("inception_v3_random_io.safetensors");

/// A fresh folder under the test tree (emptied of what an earlier run left).
std::string fresh_dir(const std::string& name) {
    const std::string dir = photong_test::temp_path(name);
    std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
    return dir;
}

void copy_file(const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
    REQUIRE(out.good());
}

InceptionV3 load(const std::string& source, const std::string& cache_dir, bool verify = false) {
    InceptionV3::LoadOptions o;
    o.cache_dir = cache_dir;
    o.verify_checksum = verify;
    return InceptionV3(source, o);
}

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.size(), b.data());
}

/// The whole file's bytes.
std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Writes one byte at `offset` of `path` in place.
void poke(const std::string& path, long offset, unsigned char value) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f != nullptr);
    std::fseek(f, offset, SEEK_SET);
    std::fputc(value, f);
    std::fclose(f);
}

/// The cache is off on big-endian hosts (s390x under scripts/cross_test.sh): the tests that need one say so and stop.
bool cache_supported() {
    if (photong::packed_cache_detail::little_endian()) return true;
    MESSAGE("big-endian host: photong keeps no packed-weights cache (checked: it reports Off)");
    CHECK(photong::PackedWeightsCache("/tmp").enabled() == false);
    return false;
}

long file_size(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return long(st.st_size);
}

}  // namespace

TEST_CASE("packed cache: built once, then mapped, with the same bits as no cache and torchvision's mixed10") {
    if (!cache_supported()) return;
    REQUIRE_MESSAGE(photong_test::file_exists(kWeights), "missing " << kWeights << ": run scripts/test.sh, which generates it");
    const std::string dir = fresh_dir("pc_basic"), source = dir + "/inception_v3.safetensors", cache = dir + "/cache";
    copy_file(kWeights, source);
    const photong::SafetensorsFile io(kIO);
    const Tensor input = io.load("input"), input_b2 = io.load("input_b2");
    const InceptionV3 plain(source);
    CHECK(plain.cache_report().outcome == Outcome::Off);
    const Tensor want = plain.features(input), want_b2 = plain.features(input_b2);

    const InceptionV3 first = load(source, cache);
    CHECK(first.cache_report().outcome == Outcome::Built);
    CHECK(first.cache_report().reason == "no cache file");
    CHECK(photong_test::file_exists(first.cache_report().path));
    CHECK(first.cache_report().path == photong::PackedWeightsCache(cache).path_for(source));
    CHECK(same_bits(first.features(input), want));

    const InceptionV3 second = load(source, cache);
    CHECK(second.cache_report().outcome == Outcome::Hit);
    const Tensor got = second.features(input);
    CHECK(same_bits(got, want));
    CHECK(same_bits(second.features(input_b2), want_b2));
    // And against the outside reference, not only against ourselves.
    photong_test::check_close(got, io.load("mixed10"), 1e-4, 1e-4, "mixed10 from the cache");
    photong_test::check_close(second.features(input_b2), io.load("mixed10_b2"), 1e-4, 1e-4, "mixed10_b2 from the cache");
    // A relative path to the same file finds the same cache file.
    CHECK(photong::PackedWeightsCache(cache).path_for(dir + "/./inception_v3.safetensors") == second.cache_report().path);
}

TEST_CASE("packed cache: rebuilt when the source changed, damaged, truncated, of another layout or Winograd plan") {
    if (!cache_supported()) return;
    REQUIRE(photong_test::file_exists(kWeights));
    const std::string dir = fresh_dir("pc_rebuild"), source = dir + "/inception_v3.safetensors", cache = dir + "/cache";
    copy_file(kWeights, source);
    const photong::SafetensorsFile io(kIO);
    const Tensor input = io.load("input_b2");
    const Tensor want = InceptionV3(source).features(input);
    const std::string path = load(source, cache).cache_report().path;
    REQUIRE(load(source, cache).cache_report().outcome == Outcome::Hit);

    SUBCASE("stale: the source's modification time changed") {
        struct timeval times[2] = {{1000000000, 0}, {1000000000, 0}};
        REQUIRE(::utimes(source.c_str(), times) == 0);
        const InceptionV3 net = load(source, cache);
        CHECK(net.cache_report().outcome == Outcome::Rebuilt);
        CHECK(net.cache_report().reason.find("stale") == 0);
        CHECK(same_bits(net.features(input), want));
        CHECK(load(source, cache).cache_report().outcome == Outcome::Hit);
    }
    SUBCASE("corrupt: one byte of the packed weights changed") {
        const long at = file_size(path) / 2;
        std::ifstream in(path, std::ios::binary);
        in.seekg(at);
        const int old = in.get();
        in.close();
        poke(path, at, static_cast<unsigned char>(old ^ 0x01));
        const InceptionV3 net = load(source, cache);
        CHECK(net.cache_report().outcome == Outcome::Rebuilt);
        CHECK(net.cache_report().reason == "corrupt: its contents do not match their checksum");
        CHECK(same_bits(net.features(input), want));
        CHECK(load(source, cache).cache_report().outcome == Outcome::Hit);
    }
    SUBCASE("corrupt: truncated") {
        REQUIRE(::truncate(path.c_str(), file_size(path) - 4096) == 0);
        const InceptionV3 net = load(source, cache);
        CHECK(net.cache_report().outcome == Outcome::Rebuilt);
        CHECK(net.cache_report().reason.find("corrupt: ") == 0);
        CHECK(same_bits(net.features(input), want));
    }
    SUBCASE("another kernel layout or format") {
        const photong::SafetensorsFile f(path);
        photong::SafetensorsWriter w;
        for (const auto& kv : f.metadata()) w.set_metadata(kv.first, kv.second);
        w.set_metadata("layout", "panel8-winograd2x3-le");
        w.add("x", Tensor({1}));
        w.write(path);
        const InceptionV3 net = load(source, cache);
        CHECK(net.cache_report().outcome == Outcome::Rebuilt);
        CHECK(net.cache_report().reason == "another format or kernel layout");
        CHECK(same_bits(net.features(input), want));
    }
    SUBCASE("another Winograd plan (a cache written by a version with other tiles)") {
        // conv2d_2's description says F(4x4) weights; make it say tile 2, as a version with F(2x2) there wrote it.
        std::string bytes = file_bytes(path);
        const std::string from = "winograd 4 conv2d_2\"", to = "winograd 2 conv2d_2\"";
        const std::size_t at = bytes.find(from);
        REQUIRE(at != std::string::npos);
        bytes.replace(at, from.size(), to);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        const InceptionV3 net = load(source, cache);
        CHECK(net.cache_report().outcome == Outcome::Rebuilt);
        CHECK(net.cache_report().reason == "another Winograd plan: written by another version");
        CHECK(same_bits(net.features(input), want));
        CHECK(load(source, cache).cache_report().outcome == Outcome::Hit);
    }
    SUBCASE("not a safetensors file at all") {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a cache";
        const InceptionV3 net = load(source, cache);
        CHECK(net.cache_report().outcome == Outcome::Rebuilt);
        CHECK(net.cache_report().reason.find("corrupt: ") == 0);
    }
}

TEST_CASE("packed cache: the source's SHA-256 is checked when the cache is built and compared when it is used") {
    if (!cache_supported()) return;
    REQUIRE(photong_test::file_exists(kWeights));
    const std::string dir = fresh_dir("pc_verify"), source = dir + "/inception_v3.safetensors", sum = dir + "/inception_v3.sha256";
    const std::string cache = dir + "/cache";
    copy_file(kWeights, source);
    const std::string digest = photong::sha256_of_file(source);
    std::ofstream(sum) << std::string(64, '0') << "  inception_v3.safetensors\n";
    // Built without verification: the cache still records the source's real digest.
    CHECK(load(source, cache, false).cache_report().outcome == Outcome::Built);
    CHECK(photong::SafetensorsFile(photong::PackedWeightsCache(cache).path_for(source)).metadata_at("source_sha256") == digest);
    // With verification the cache's digest is not the one beside the source: the source is hashed and refused.
    CHECK_THROWS_WITH_AS(load(source, cache, true), doctest::Contains("its SHA-256 differs from"), photong::Error);
    std::ofstream(sum, std::ios::trunc) << digest << "  inception_v3.safetensors\n";
    const InceptionV3 ok = load(source, cache, true);
    CHECK(ok.cache_report().outcome == Outcome::Hit);
    // Without a cache directory the check is the plain one.
    std::ofstream(sum, std::ios::trunc) << std::string(64, 'a') << "  inception_v3.safetensors\n";
    CHECK_THROWS_WITH_AS(load(source, "off", true), doctest::Contains("its SHA-256 differs from"), photong::Error);
}

TEST_CASE("packed cache: a cache that cannot be written costs only time, and off means off") {
    if (!cache_supported()) return;
    REQUIRE(photong_test::file_exists(kWeights));
    const std::string dir = fresh_dir("pc_unwritable"), source = dir + "/inception_v3.safetensors", blocker = dir + "/a_file";
    copy_file(kWeights, source);
    std::ofstream(blocker) << "a file where the cache folder would be";
    const photong::SafetensorsFile io(kIO);
    const Tensor want = InceptionV3(source).features(io.load("input_b2"));
    const InceptionV3 net = load(source, blocker + "/cache");
    CHECK(net.cache_report().outcome == Outcome::NotWritten);
    CHECK(net.cache_report().reason.find("cannot create the cache directory") != std::string::npos);
    CHECK(same_bits(net.features(io.load("input_b2")), want));
    for (const std::string off : {"", "off"}) {
        const InceptionV3 none = load(source, off);
        CHECK(none.cache_report().outcome == Outcome::Off);
        CHECK(none.cache_report().path.empty());
    }
}

TEST_CASE("packed cache: files of sources that are gone are deleted, and two loads at once both succeed") {
    if (!cache_supported()) return;
    REQUIRE(photong_test::file_exists(kWeights));
    const std::string dir = fresh_dir("pc_orphans"), cache = dir + "/cache";
    const std::string a = dir + "/a.safetensors", b = dir + "/b.safetensors";
    copy_file(kWeights, a);
    copy_file(kWeights, b);
    const std::string cache_a = load(a, cache).cache_report().path;
    REQUIRE(photong_test::file_exists(cache_a));
    REQUIRE(std::remove(a.c_str()) == 0);
    std::vector<Outcome> outcomes(2);
    std::vector<std::thread> loaders;
    for (int i = 0; i < 2; ++i) loaders.emplace_back([&, i] { outcomes[std::size_t(i)] = load(b, cache).cache_report().outcome; });
    for (std::thread& t : loaders) t.join();
    for (Outcome o : outcomes) CHECK((o == Outcome::Built || o == Outcome::Hit));
    CHECK_FALSE(photong_test::file_exists(cache_a));
    CHECK(load(b, cache).cache_report().outcome == Outcome::Hit);
}

TEST_CASE("packed cache: a file of the same source in an earlier format is deleted when the cache is written") {
    if (!cache_supported()) return;
    REQUIRE(photong_test::file_exists(kWeights));
    const std::string dir = fresh_dir("pc_earlier"), cache = dir + "/cache", source = dir + "/w.safetensors";
    copy_file(kWeights, source);
    const std::string current = load(source, cache).cache_report().path;
    REQUIRE(photong_test::file_exists(current));
    // What an earlier version left: this cache with the previous format number, under another layout's file name.
    std::string bytes = file_bytes(current);
    const std::string format = photong::packed_cache_detail::kFormat;
    std::string earlier_format = format;
    earlier_format.back() = char(earlier_format.back() - 1);
    const std::size_t at = bytes.find(format);
    REQUIRE(at != std::string::npos);
    bytes.replace(at, format.size(), earlier_format);
    const std::string earlier = cache + "/w-0000000000000000-panel8-winograd2x3-le" + photong::packed_cache_detail::kSuffix;
    std::ofstream(earlier, std::ios::binary) << bytes;
    // Another build's file of this format (a different layout name) is not an earlier version's: it stays.
    const std::string other_build = cache + "/w-0000000000000000-panel16-le" + photong::packed_cache_detail::kSuffix;
    copy_file(current, other_build);
    REQUIRE(std::remove(current.c_str()) == 0);
    CHECK(load(source, cache).cache_report().outcome == Outcome::Built);
    CHECK_FALSE(photong_test::file_exists(earlier));
    CHECK(photong_test::file_exists(other_build));
    CHECK(photong_test::file_exists(current));
}

TEST_CASE("packed cache: the checksum of a large range is the same for any pool size and block boundary") {
    photong::Rng rng(8);
    std::vector<unsigned char> data((9u << 20) + 13);  // two whole 4 MiB blocks and a ragged third
    for (unsigned char& c : data) c = static_cast<unsigned char>(rng.next_u64());
    photong::ThreadPool one(1), three(3);
    const std::uint64_t a = photong::packed_cache_detail::checksum(data.data(), data.size(), one);
    CHECK(a == photong::packed_cache_detail::checksum(data.data(), data.size(), three));
    data[(4u << 20) + 5] ^= 0x80;
    CHECK(a != photong::packed_cache_detail::checksum(data.data(), data.size(), three));
}

TEST_CASE("packed cache: default folder from PHOTONG_CACHE_DIR, XDG_CACHE_HOME or HOME") {
    struct Env {
        const char* name;
        std::string old;
        bool had;
        explicit Env(const char* n) : name(n), had(std::getenv(n) != nullptr) { if (had) old = std::getenv(n); }
        ~Env() { had ? ::setenv(name, old.c_str(), 1) : ::unsetenv(name); }
    } cache("PHOTONG_CACHE_DIR"), xdg("XDG_CACHE_HOME"), home("HOME");
    ::setenv("PHOTONG_CACHE_DIR", "/x/y", 1);
    CHECK(photong::PackedWeightsCache::default_dir() == "/x/y");
    ::unsetenv("PHOTONG_CACHE_DIR");
    ::setenv("XDG_CACHE_HOME", "/xdg", 1);
    CHECK(photong::PackedWeightsCache::default_dir() == "/xdg/photong");
    ::unsetenv("XDG_CACHE_HOME");
    ::setenv("HOME", "/home/u", 1);
    CHECK(photong::PackedWeightsCache::default_dir() == "/home/u/.cache/photong");
    ::setenv("PHOTONG_CACHE_DIR", "off", 1);
    CHECK_FALSE(photong::PackedWeightsCache(photong::PackedWeightsCache::default_dir()).enabled());
}
