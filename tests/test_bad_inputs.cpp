// The bad-input catalogue (issue 7): malformed and hostile images, weight files, MIDI files and API
// calls, each of which must throw photong::Error whose message names the problem — never crash,
// hang, allocate without bound or leave a half-written file. Inputs are built here byte by byte
// (or, for the three image containers C++ cannot write, by Pillow: tests/reference/gen_bad_images.py),
// so each entry says exactly what is wrong with it. A few hostile-looking inputs are valid and have
// a defined result (CMYK JPEG, 16-bit PNG and PNM, animated GIF, a track without end-of-track, reusing a
// seed); they are checked for that result below, not counted as errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <photong/core/safetensors.hpp>
#include <photong/image/decode.hpp>
#include <photong/image/encode_png.hpp>
#include <photong/models/bridges.hpp>
#include <photong/models/music_vae_hier.hpp>
#include <photong/music/melody.hpp>
#include <photong/music/midi.hpp>

#include "random_pipeline_weights.hpp"
#include "test_util.hpp"

namespace {

using Bytes = std::vector<unsigned char>;

struct BadInput {
    const char* category;  ///< image, weights, midi, api
    const char* what;      ///< what is wrong with it
    std::function<void()> run;
    const char* message;   ///< a fragment the error's message must contain
};

void put_u32be(Bytes& b, std::uint32_t v) { for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s)); }
void put_u16be(Bytes& b, std::uint32_t v) { b.push_back(std::uint8_t(v >> 8)), b.push_back(std::uint8_t(v)); }

// ---- images -------------------------------------------------------------------------------------

Bytes small_png() {
    photong::Image img;
    img.width = 8, img.height = 4;
    img.rgb.assign(8 * 4 * 3, 0);
    for (std::size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = std::uint8_t(i * 37);
    return photong::encode_png(img);
}

/// A PNG whose IHDR claims w x h (CRC left wrong: stb_image does not check it, which is the point:
/// the header alone must not make the decoder allocate).
Bytes png_claiming(std::uint32_t w, std::uint32_t h) {
    Bytes b = small_png();
    Bytes dims;
    put_u32be(dims, w), put_u32be(dims, h);
    std::copy(dims.begin(), dims.end(), b.begin() + 16);  // signature 8 + length 4 + "IHDR" 4
    return b;
}

/// The zlib CRC-32 of a chunk's type and data, as PNG stores it (stb ignores it; other readers check it).
std::uint32_t png_crc(const unsigned char* p, std::size_t n) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

/// small_png() with an empty IDAT chunk (length 0, valid CRC) inserted before the chunk of type
/// `before` ("IDAT" or "IEND"); with `crc` false the 4 CRC bytes are left out (a file that then
/// makes sense only cut right after it).
Bytes png_with_empty_idat_before(const char* before, bool crc = true) {
    Bytes b = small_png();
    std::size_t pos = 8;
    while (std::memcmp(b.data() + pos + 4, before, 4) != 0)
        pos += 12 + (std::size_t(b[pos]) << 24 | std::size_t(b[pos + 1]) << 16 | std::size_t(b[pos + 2]) << 8 | b[pos + 3]);
    Bytes chunk;
    put_u32be(chunk, 0);
    chunk.insert(chunk.end(), {'I', 'D', 'A', 'T'});
    if (crc) put_u32be(chunk, png_crc(chunk.data() + 4, 4));
    b.insert(b.begin() + std::ptrdiff_t(pos), chunk.begin(), chunk.end());
    return b;
}

/// SOI, then a DHT segment whose 16 code counts add up to 16 x 255 = 4080 (the JPEG limit is 256).
Bytes jpeg_with_oversized_huffman_table() {
    Bytes b = {0xFF, 0xD8, 0xFF, 0xC4};
    put_u16be(b, 2 + 17);
    b.push_back(0x00);  // class 0 (DC), table 0
    for (int i = 0; i < 16; ++i) b.push_back(0xFF);
    b.resize(b.size() + 64, 0);
    return b;
}

/// An 8 x 8 grey baseline JPEG (quantisation table, frame, scan, entropy bytes) with no DHT
/// segment: its scan names DC and AC table 0, which nothing defined. stb 2.27 decodes with
/// whatever its malloc'd tables held (fuzz_image: UBSan "shift exponent 32" in
/// stbi__jpeg_huff_decode; reproduced with ASAN_OPTIONS=malloc_fill_byte=32).
Bytes jpeg_scan_without_huffman_tables() {
    Bytes b = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    b.resize(b.size() + 64, 1);
    b.insert(b.end(), {0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00});
    b.insert(b.end(), {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00});
    for (int i = 0; i < 64; ++i) b.push_back(std::uint8_t(0x5A + 37 * i));
    b.insert(b.end(), {0xFF, 0xD9});
    return b;
}

/// A grey 8 x 8 JPEG (SOF0, or SOF2 when progressive) with one-code DC and AC tables, then `scans`
/// scans of its one component (Ss..Se = 0..63, or 0..0 when progressive), each one entropy byte.
Bytes jpeg_with_scans(int scans, bool progressive) {
    Bytes b = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    b.resize(b.size() + 64, 1);
    b.insert(b.end(), {0xFF, std::uint8_t(progressive ? 0xC2 : 0xC0), 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00});
    for (std::uint8_t table_class : {0x00, 0x10}) {  // DHT: one code of length 1, symbol 0
        b.insert(b.end(), {0xFF, 0xC4, 0x00, 0x14, table_class, 0x01});
        b.resize(b.size() + 15, 0);
        b.push_back(0x00);
    }
    for (int s = 0; s < scans; ++s) b.insert(b.end(), {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, std::uint8_t(progressive ? 0x00 : 0x3F), 0x00, 0x00});
    b.insert(b.end(), {0xFF, 0xD9});
    return b;
}

/// A grey JPEG, `width` x 8 (SOF0), whose DC and AC tables each hold one code of `code_length` bits
/// (DC symbol 0; AC symbol `ac_symbol`), a restart interval of `restart` MCUs when not 0, and one
/// scan whose coded data is `coded` (restart markers included) followed by EOI when `eoi`.
Bytes jpeg_with_coded_data(int width, int code_length, std::uint8_t ac_symbol, int restart, const Bytes& coded, bool eoi = true) {
    Bytes b = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    b.resize(b.size() + 64, 1);
    b.insert(b.end(), {0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, std::uint8_t(width), 0x01, 0x01, 0x11, 0x00});
    for (std::uint8_t table_class : {0x00, 0x10}) {
        b.insert(b.end(), {0xFF, 0xC4, 0x00, 0x14, table_class});
        for (int len = 1; len <= 16; ++len) b.push_back(len == code_length ? 1 : 0);
        b.push_back(table_class ? ac_symbol : 0x00);
    }
    if (restart) b.insert(b.end(), {0xFF, 0xDD, 0x00, 0x04, 0x00, std::uint8_t(restart)});
    b.insert(b.end(), {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00});
    b.insert(b.end(), coded.begin(), coded.end());
    if (eoi) b.insert(b.end(), {0xFF, 0xD9});
    return b;
}

/// fuzz_image's shape, built by hand (144 bytes): DC and AC codes 16 bits long, the AC symbol a
/// 15-bit coefficient, and 4 bytes of coded data before EOI. stb 2.27 reads the 32 bits, takes 16
/// for DC and 16 for the AC code, meets EOI while fetching the coefficient's 15 bits, takes them
/// anyway (its bit count falls to -15) and then shifts by 24 + 15 = 39: UBSan "shift exponent 39".
Bytes jpeg_ending_mid_block() { return jpeg_with_coded_data(8, 16, 0x0F, 0, {0, 0, 0, 0}); }

/// A PGM or PPM header (and samples) written as text.
Bytes pnm_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

void decode(const Bytes& b, const photong::ImageLimits& limits = {}) { (void)photong::decode_image(b.data(), b.size(), "bad.img", limits); }

// ---- weights --------------------------------------------------------------------------------------

Bytes safetensors(const std::string& header, const Bytes& data) {
    Bytes b(8 + header.size() + data.size());
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) b[std::size_t(i)] = std::uint8_t(n >> (8 * i));
    std::copy(header.begin(), header.end(), b.begin() + 8);
    std::copy(data.begin(), data.end(), b.begin() + 8 + std::ptrdiff_t(header.size()));
    return b;
}

Bytes f32_bytes(const std::vector<float>& v) {
    photong::SafetensorsWriter w;
    photong::Tensor t({std::int64_t(v.size())});
    std::copy(v.begin(), v.end(), t.data());
    w.add("t", t);
    const Bytes file = w.to_bytes();
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= std::uint64_t(file[std::size_t(i)]) << (8 * i);
    return Bytes(file.begin() + 8 + std::ptrdiff_t(n), file.end());
}

void open_st(const Bytes& b) { (void)photong::SafetensorsFile("bad.safetensors", b); }
void load_st(const Bytes& b, const std::string& name) { (void)photong::SafetensorsFile("bad.safetensors", b).load_weight(name); }

/// A valid pooling + dense(4 -> 1, sigmoid) bridge, with `edit` applied to its writer first.
Bytes bridge_file(const std::function<void(photong::SafetensorsWriter&)>& edit, bool with_bias = true, std::int64_t kernel_rows = 4) {
    photong::Rng rng(3);
    photong::SafetensorsWriter w;
    w.add("dense/kernel", photong_test::random_tensor({kernel_rows, 1}, 0.5f, rng));
    if (with_bias) w.add("dense/bias", photong_test::random_tensor({1}, 0.1f, rng));
    w.set_metadata("model", "bridge");
    w.set_metadata("bridge", "arousal");
    w.set_metadata("input_shape", "[1, 1, 4]");
    w.set_metadata("architecture", R"([{"type":"global_average_pooling2d","name":"pool"},{"type":"dense","name":"dense","activation":"sigmoid"}])");
    edit(w);
    return w.to_bytes();
}

void load_bridge(const Bytes& b) { (void)photong::BridgeModel(photong::SafetensorsFile("bad_bridge.safetensors", b)); }

// ---- MIDI ----------------------------------------------------------------------------------------

Bytes midi(std::uint16_t format, std::uint16_t tracks, std::uint16_t division, const std::vector<Bytes>& bodies,
           std::int64_t length_delta = 0) {
    Bytes b = {'M', 'T', 'h', 'd'};
    put_u32be(b, 6), put_u16be(b, format), put_u16be(b, tracks), put_u16be(b, division);
    for (const Bytes& body : bodies) {
        b.insert(b.end(), {'M', 'T', 'r', 'k'});
        put_u32be(b, std::uint32_t(std::int64_t(body.size()) + length_delta));
        b.insert(b.end(), body.begin(), body.end());
    }
    return b;
}

const Bytes kNoteTrack = {0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00};

void read_midi(const Bytes& b) { (void)photong::read_midi_bytes(b.data(), b.size(), "bad.mid"); }

// ---- the catalogue ----------------------------------------------------------------------------------

std::string tiny_decoder_path() {
    const std::string p = photong_test::temp_path("bad_inputs_hierdec.safetensors");
    if (!photong_test::file_exists(p)) photong_test::write_random_hierdec(p, 5, 4, 3, 90);
    return p;
}

std::vector<BadInput> catalogue() {
    std::vector<BadInput> c;
    auto add = [&](const char* cat, const char* what, std::function<void()> run, const char* msg) { c.push_back({cat, what, std::move(run), msg}); };

    // Images.
    add("image", "zero-byte file", [] { decode({}); }, "image file is empty");
    add("image", "PNG cut in half", [] { Bytes b = small_png(); b.resize(b.size() / 2); decode(b); }, "chunk's length runs past the end");
    add("image", "PNG declaring a 1.8 GB IDAT chunk in 55 bytes (stb would allocate it)", [] {
        Bytes b = small_png();
        b.resize(33);  // signature + IHDR chunk
        Bytes idat;
        put_u32be(idat, 0x6C000CB6u);
        idat.insert(idat.end(), {'I', 'D', 'A', 'T', 0x78, 0xA5, 0xCC, 0xAD});
        b.insert(b.end(), idat.begin(), idat.end());
        decode(b);
    }, "chunk's length runs past the end");
    add("image", "PNG whose only IDAT chunk is empty (stb 2.27 copies it to a null pointer)", [] {
        Bytes b = png_with_empty_idat_before("IDAT");
        std::size_t real = 8 + 25 + 12;  // signature, IHDR chunk, the empty IDAT chunk
        const std::size_t length = std::size_t(b[real]) << 24 | std::size_t(b[real + 1]) << 16 | std::size_t(b[real + 2]) << 8 | b[real + 3];
        REQUIRE(std::memcmp(b.data() + real + 4, "IDAT", 4) == 0);
        b.erase(b.begin() + std::ptrdiff_t(real), b.begin() + std::ptrdiff_t(real + 12 + length));  // the real one out
        decode(b);
    }, "cannot decode image: no IDAT");
    add("image", "PNG cut after its signature", [] { Bytes b = small_png(); b.resize(12); decode(b); }, "not a readable image");
    add("image", "PNG header claiming 100000 x 100000", [] { decode(png_claiming(100000, 100000)); }, "image has too many pixels");
    add("image", "PNG header claiming 0 x 4", [] { decode(png_claiming(0, 4)); }, "image has zero size");
    add("image", "PNG header claiming 2^31 x 1", [] { decode(png_claiming(0x80000000u, 1)); }, "image has too many pixels");
    add("image", "noise that is no image format", [] { decode(Bytes(300, 0x5A)); }, "not a readable image");
    add("image", "JPEG Huffman table with 4080 codes (stb 2.27 heap overflow)", [] { decode(jpeg_with_oversized_huffman_table()); }, "more than 256 codes");
    add("image", "JPEG scan using Huffman tables no DHT defined (stb reads uninitialised memory)", [] { decode(jpeg_scan_without_huffman_tables()); },
        "Huffman table that was never defined");
    add("image", "baseline JPEG repeating a scan of its component (each rescan decodes the frame again)", [] { decode(jpeg_with_scans(2, false)); },
        "codes a component in two scans");
    add("image", "progressive JPEG of 257 scans", [] { decode(jpeg_with_scans(257, true)); }, "more scans than the limit");
    add("image", "JPEG whose coded data ends at EOI in the middle of a block (stb 2.27 shifts by 39: fuzz_image)", [] { decode(jpeg_ending_mid_block()); },
        "ends at a marker in the middle of a block");
    add("image", "JPEG whose first restart interval ends in the middle of a block", [] {
        decode(jpeg_with_coded_data(16, 16, 0x00, 1, {0, 0, 0, 0xFF, 0xD0, 0, 0, 0, 0}));
    }, "ends at a marker in the middle of a block");
    add("image", "JPEG frame header claiming 65535 x 65535", [] {
        Bytes b = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x03};
        b.resize(b.size() + 64, 0x11);
        decode(b);
    }, "image has too many pixels");
    add("image", "PGM maxval of 21 digits (stb 2.27's int overflows: fuzz_image)", [] { decode(pnm_bytes("P5\n48 32\n255111111111111111111\n")); },
        "maxval does not fit in 31 bits");
    add("image", "PPM width of 2^31 behind a comment", [] { decode(pnm_bytes("P6 # a comment 9\n2147483648 1\n255\n")); }, "width does not fit in 31 bits");
    add("image", "PGM maxval 65536 (Netpbm allows 65535)", [] { decode(pnm_bytes("P5\n1 1\n65536\n\1\1")); }, "maxval above 65535");
    add("image", "PPM header claiming 100000 x 100000", [] { decode(pnm_bytes("P6\n100000 100000\n255\n")); }, "image has too many pixels");
    add("image", "GIF screen of 0 x 10", [] { decode({'G', 'I', 'F', '8', '9', 'a', 0, 0, 10, 0, 0, 0, 0}); }, "image has zero size");
    add("image", "a WebP file", [] { decode({'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '}); }, "WebP images are not supported: photong reads JPEG, PNG");
    add("image", "a TIFF file", [] { decode({'I', 'I', '*', 0, 8, 0, 0, 0}); }, "TIFF images are not supported");
    add("image", "a JPEG 2000 file", [] { decode({0, 0, 0, 12, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'}); }, "JPEG 2000 images are not supported");
    add("image", "a HEIC file", [] { decode({0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0}); }, "HEIC/HEIF images are not supported");
    add("image", "text that is no image", [] { decode({'h', 'e', 'l', 'l', 'o', '\n'}); }, "unknown image type; photong reads JPEG, PNG");
    add("image", "JPEG start marker and nothing else", [] { decode({0xFF, 0xD8}); }, "not a readable image");
    add("image", "file over the caller's size limit", [] { photong::ImageLimits l; l.max_file_bytes = 16; decode(small_png(), l); }, "image file is too large");
    add("image", "image over the caller's pixel limit", [] { photong::ImageLimits l; l.max_pixels = 31; decode(small_png(), l); }, "image has too many pixels");
    add("image", "image path that does not exist", [] { (void)photong::load_image(photong_test::temp_path("no_such_image.png")); },
        "cannot open image file (No such file or directory)");
    add("image", "a directory given as the image", [] { (void)photong::load_image(PHOTONG_TEST_TMP_DIR); }, "the image file is a directory");

    // Weights.
    add("weights", "file shorter than the 8-byte header length", [] { open_st({1, 0, 0}); }, "shorter than the 8-byte header length");
    add("weights", "header length past the end of the file", [] { Bytes b = safetensors("{}", {}); b[0] = 200; open_st(b); }, "header runs past the end");
    add("weights", "header length of 2^60", [] { Bytes b = safetensors("{}", {}); b[7] = 0x10; open_st(b); }, "header length is absurd");
    add("weights", "a PNG image given as weights", [] { open_st(small_png()); }, "not a safetensors file (it looks like a PNG image)");
    add("weights", "a JPEG image given as weights", [] { Bytes b = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0}; open_st(b); },
        "not a safetensors file (it looks like a JPEG image)");
    add("weights", "a Keras .h5 given as weights", [] { Bytes b = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1A, '\n', 0, 0, 0, 0}; open_st(b); },
        "keras_h5_to_safetensors.py converts it");
    add("weights", "header that is not JSON", [] { open_st(safetensors("{\"t\": [", {})); }, "header is not valid JSON");
    add("weights", "offsets lying past the data", [] { open_st(safetensors(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", Bytes(4))); }, "data_offsets outside the data section");
    add("weights", "overlapping tensors", [] {
        open_st(safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", Bytes(12)));
    }, "tensors overlap");
    add("weights", "shape whose product overflows 64 bits", [] {
        open_st(safetensors(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", Bytes(4)));
    }, "shape is larger than the file");
    add("weights", "byte count that does not match dtype and shape", [] { open_st(safetensors(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", Bytes(8))); }, "byte count does not match");
    add("weights", "unknown dtype", [] { open_st(safetensors(R"({"t":{"dtype":"F8_E9","shape":[1],"data_offsets":[0,1]}})", Bytes(1))); }, "unknown dtype");
    add("weights", "negative dimension", [] { open_st(safetensors(R"({"t":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", Bytes(1))); }, "non-integer or negative dimension");
    add("weights", "the same tensor name twice", [] {
        open_st(safetensors(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", Bytes(2)));
    }, "duplicate tensor name");
    add("weights", "data bytes no tensor describes", [] { open_st(safetensors(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", Bytes(9))); }, "bytes no tensor describes");
    add("weights", "NaN in a weight", [] { load_st(safetensors(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})", f32_bytes({1, std::nanf(""), 2})), "t"); }, "NaN or infinite");
    add("weights", "infinity in a weight", [] { load_st(safetensors(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32_bytes({-INFINITY, 0})), "t"); }, "NaN or infinite");
    add("weights", "bridge without its dense bias (missing tensor)", [] {
        load_bridge(bridge_file([](photong::SafetensorsWriter& w) { (void)w; }, false));
    }, "tensor missing from bridge weight file");
    add("weights", "bridge kernel stored as I32 (wrong dtype)", [] {
        photong::Rng rng(1);
        photong::SafetensorsWriter w;
        w.add_raw("dense/kernel", photong::DType::I32, {4, 1}, Bytes(16, 0));
        w.add("dense/bias", photong_test::random_tensor({1}, 0.1f, rng));
        w.set_metadata("model", "bridge"), w.set_metadata("bridge", "arousal"), w.set_metadata("input_shape", "[1, 1, 4]");
        w.set_metadata("architecture", R"([{"type":"global_average_pooling2d","name":"pool"},{"type":"dense","name":"dense","activation":"sigmoid"}])");
        load_bridge(w.to_bytes());
    }, "non-floating dtype");
    add("weights", "extra tensor the architecture does not use", [] {
        load_bridge(bridge_file([](photong::SafetensorsWriter& w) { w.add("stray/kernel", photong::Tensor({2})); }));
    }, "not used by its architecture");
    add("weights", "bridge kernel of the wrong shape", [] {
        load_bridge(bridge_file([](photong::SafetensorsWriter&) {}, true, 5));
    }, "wrong shape");
    add("weights", "decoder file missing its conductor", [] {
        photong::SafetensorsWriter w;
        w.add("decoder/unrelated", photong::Tensor({1}));
        (void)photong::HierarchicalLstmDecoder(photong::SafetensorsFile("bad_decoder.safetensors", w.to_bytes()));
    }, "tensor not found in weight file");
    add("weights", "weight file path that does not exist", [] { (void)photong::SafetensorsFile(photong_test::temp_path("no_such.safetensors")); }, "cannot open");

    // MIDI.
    add("midi", "not a MIDI file", [] { read_midi(Bytes(20, 'x')); }, "not a Standard MIDI File");
    add("midi", "track chunk length past the end of the file", [] { read_midi(midi(1, 1, 480, {kNoteTrack}, 1000)); }, "chunk length runs past the end");
    add("midi", "track chunk length of 4 GiB", [] { Bytes b = midi(1, 1, 480, {kNoteTrack}); b[18] = b[19] = b[20] = b[21] = 0xFF; read_midi(b); }, "chunk length runs past the end");
    add("midi", "header chunk shorter than 6 bytes", [] { Bytes b = midi(1, 1, 480, {kNoteTrack}); b[7] = 2; read_midi(b); }, "header chunk too short");
    add("midi", "zero ticks per quarter", [] { read_midi(midi(1, 1, 0, {kNoteTrack})); }, "division of zero");
    add("midi", "SMPTE time division (-25 fps, 40 ticks)", [] { read_midi(midi(1, 1, 0xE728, {kNoteTrack})); }, "SMPTE");
    add("midi", "format 2", [] { read_midi(midi(2, 1, 480, {kNoteTrack})); }, "format 2");
    add("midi", "header promises 3 tracks, file has 1", [] { read_midi(midi(1, 3, 480, {kNoteTrack})); }, "track count does not match");
    add("midi", "running status with no status before it", [] { read_midi(midi(1, 1, 480, {{0x00, 60, 100, 0x00, 0xFF, 0x2F, 0x00}})); }, "running status with no previous status");
    add("midi", "running status to the end of the chunk, last event cut", [] {
        Bytes body = {0x00, 0x90, 60, 100};
        for (int i = 0; i < 1000; ++i) body.insert(body.end(), {0x00, 61, 90});
        body.insert(body.end(), {0x00, 62});
        read_midi(midi(1, 1, 480, {body}));
    }, "truncated MIDI data");
    add("midi", "delta time longer than 4 bytes", [] { read_midi(midi(1, 1, 480, {{0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 60, 100}})); }, "longer than 4 bytes");
    add("midi", "meta event longer than its track", [] { read_midi(midi(1, 1, 480, {{0x00, 0xFF, 0x01, 0x7F, 'a', 'b'}})); }, "truncated MIDI data");
    add("midi", "system real-time byte as a status", [] { read_midi(midi(1, 1, 480, {{0x00, 0xF8, 0x00, 0xFF, 0x2F, 0x00}})); }, "not allowed in a MIDI file");
    add("midi", "note data byte with the high bit set", [] { read_midi(midi(1, 1, 480, {{0x00, 0x90, 0xBC, 100}})); }, "high bit set");
    add("midi", "a note lasting 2^25 steps (a few bytes of MIDI at one tick per quarter)", [] {
        photong::Note n;
        n.start_step = 0, n.end_step = std::int64_t(1) << 25;
        (void)photong::melody_from_quantized_notes({n});
    }, "melody too long");
    add("midi", "writing a format 0 file of two tracks", [] {
        photong::MidiFile f;
        f.format = 0;
        f.tracks.resize(2);
        (void)photong::encode_midi(f, "bad_out.mid");
    }, "format 0 MIDI file holds exactly one track");

    // API misuse.
    add("api", "latent code of the wrong size", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        (void)d.decode(photong::Tensor({1, 5}), 1, 4);
    }, "latent code has the wrong size");
    add("api", "negative temperature", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        photong::Rng rng(1);
        (void)d.decode(photong::Tensor({1, 4}), 1, 4, -0.5f, &rng);
    }, "temperature must be a finite number >= 0");
    add("api", "NaN temperature", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        photong::Rng rng(1);
        (void)d.decode(photong::Tensor({1, 4}), 1, 4, std::nanf(""), &rng);
    }, "temperature must be a finite number >= 0");
    add("api", "sampling temperature without an Rng", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        (void)d.decode(photong::Tensor({1, 4}), 1, 4, 0.5f, nullptr);
    }, "needs an Rng");
    add("api", "top-p of 0 (nothing could be kept)", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        photong::Rng rng(1);
        photong::SamplingOptions s;
        s.temperature = 1.0f, s.top_p = 0.0f;
        (void)d.decode(photong::Tensor({1, 4}), 1, 4, s, &rng);
    }, "top_p must be in (0, 1]");
    add("api", "negative top-k", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        photong::Rng rng(1);
        photong::SamplingOptions s;
        s.temperature = 1.0f, s.top_k = -2;
        (void)d.decode(photong::Tensor({1, 4}), 1, 4, s, &rng);
    }, "top_k must be >= 0");
    add("api", "song form whose 3 phrases do not divide 16 bars", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        (void)d.decode(photong::Tensor({1, 4}), 16, 4, photong::SamplingOptions{}, nullptr, photong::SongForm::parse("ABA"));
    }, "phrases must divide the bars");
    add("api", "song form with a lowercase letter", [] { (void)photong::SongForm::parse("AaBA"); }, "letters A-Z");
    add("weights", "melody file whose sampling_top_p metadata is 2", [] {
        const std::string p = photong_test::temp_path("bad_inputs_top_p.safetensors");
        photong_test::write_random_hierdec(p, 5, 4, 3, 90, "", {{"sampling_top_p", "2"}});
        (void)photong::recommended_sampling(photong::SafetensorsFile(p));
    }, "bad sampling_top_p in metadata");
    add("api", "zero bars", [] {
        const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
        (void)d.decode(photong::Tensor({1, 4}), 0, 4);
    }, "at least one bar");
    add("api", "load of a tensor the file does not hold", [] { load_st(safetensors(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f32_bytes({1})), "u"); }, "u");
    return c;
}

void check_category(const char* category) {
    int n = 0;
    for (const BadInput& b : catalogue()) {
        if (std::string(b.category) != category) continue;
        ++n;
        INFO("input: " << std::string(b.what));
        bool threw = false;
        try {
            b.run();
        } catch (const photong::Error& e) {
            threw = true;
            INFO("error: " << std::string(e.what()) << "; wanted: " << std::string(b.message));
            CHECK(std::string(e.what()).find(b.message) != std::string::npos);
        }
        CHECK_MESSAGE(threw, "no photong::Error for: " << b.what);
    }
    CHECK(n > 0);
}

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("bad-input catalogue: at least 30 distinct hostile inputs, each with its own description") {
    const std::vector<BadInput> c = catalogue();
    std::set<std::string> names;
    for (const BadInput& b : c) names.insert(b.what);
    MESSAGE("bad-input catalogue: " << c.size() << " inputs that must throw photong::Error");
    CHECK(c.size() >= 30);
    CHECK(names.size() == c.size());
}

TEST_CASE("bad-input catalogue: images") { check_category("image"); }
TEST_CASE("bad-input catalogue: weight files") { check_category("weights"); }
TEST_CASE("bad-input catalogue: MIDI files") { check_category("midi"); }
TEST_CASE("bad-input catalogue: API misuse") { check_category("api"); }

TEST_CASE("hostile-looking but valid images decode to their defined result (Pillow-written fixtures)") {
    const std::string d = photong_test::generated("bad_inputs/");
    if (!photong_test::file_exists(d + "cmyk.jpg")) {
        MESSAGE("skipped: run tests/reference/gen_bad_images.py (scripts/test.sh does)");
        return;
    }
    auto px = [](const photong::Image& im, int x, int y, int c) { return int(im.rgb[std::size_t((y * im.width + x) * 3 + c)]); };
    // CMYK JPEG (Adobe inverted CMYK) of pure red: stb converts it to RGB.
    const photong::Image cmyk = photong::load_image(d + "cmyk.jpg");
    CHECK(cmyk.width == 16);
    CHECK(cmyk.height == 8);
    CHECK(px(cmyk, 5, 3, 0) >= 240);
    CHECK(px(cmyk, 5, 3, 1) <= 15);
    CHECK(px(cmyk, 5, 3, 2) <= 15);
    // 16-bit PNG: 0x1234, 0x80FF, 0xFEDC reduced to 8 bits (stb rounds value * 255 / 65535 down to the high byte or so).
    const photong::Image rgb16 = photong::load_image(d + "rgb16.png");
    CHECK(std::abs(px(rgb16, 0, 0, 0) - 0x12) <= 1);
    CHECK(std::abs(px(rgb16, 7, 5, 1) - 0x80) <= 1);
    CHECK(std::abs(px(rgb16, 15, 7, 2) - 0xFE) <= 1);
    // 16-bit grey PGM, 0x1234 | 0xABCD: the high bytes, replicated (stb 2.27 alone overran its buffer
    // and, on little-endian machines, kept the low bytes).
    const photong::Image grey16 = photong::load_image(d + "grey16.pgm");
    CHECK(grey16.width == 16);
    CHECK(grey16.height == 8);
    for (int c = 0; c < 3; ++c) {
        CHECK(px(grey16, 0, 0, c) == 0x12);
        CHECK(px(grey16, 15, 7, c) == 0xAB);
    }
    // Animated GIF: the first frame (blue), not the second (yellow).
    const photong::Image gif = photong::load_image(d + "animated.gif");
    CHECK(px(gif, 3, 3, 0) == 0);
    CHECK(px(gif, 3, 3, 1) == 0);
    CHECK(px(gif, 3, 3, 2) == 255);
}

TEST_CASE("PNG: empty IDAT chunks (valid, length 0) change nothing - fuzz_image's null-pointer copy in stb") {
    photong::Image want;
    want.width = 8, want.height = 4;
    want.rgb.assign(8 * 4 * 3, 0);
    for (std::size_t i = 0; i < want.rgb.size(); ++i) want.rgb[i] = std::uint8_t(i * 37);  // small_png()'s pixels
    const Bytes plain = small_png();
    REQUIRE(photong::decode_image(plain.data(), plain.size()).rgb == want.rgb);
    // stb 2.27 copies an empty first IDAT chunk with memcpy(NULL, p, 0); under UBSan that is a finding.
    for (const Bytes& b : {png_with_empty_idat_before("IDAT"), png_with_empty_idat_before("IEND")}) {
        REQUIRE(b.size() >= plain.size() + 8);
        const photong::Image got = photong::decode_image(b.data(), b.size(), "empty_idat.png");
        CHECK(got.width == 8);
        CHECK(got.height == 4);
        CHECK(got.rgb == want.rgb);
    }
    Bytes two = png_with_empty_idat_before("IDAT");  // two empty chunks before the data
    const Bytes one_more(two.begin() + 33, two.begin() + 45);
    two.insert(two.begin() + 33, one_more.begin(), one_more.end());
    CHECK(photong::decode_image(two.data(), two.size(), "two_empty_idat.png").rgb == want.rgb);
    // The copy keeps every other chunk and is only made when there is an empty IDAT chunk.
    CHECK(photong::png_without_empty_idat(plain.data(), plain.size()) == plain);
    CHECK(photong::png_without_empty_idat(two.data(), two.size()) == plain);
    CHECK_FALSE(photong::check_png_chunk_lengths(plain.data(), plain.size(), "plain.png").has_empty_idat);
    CHECK(photong::check_png_chunk_lengths(two.data(), two.size(), "two.png").has_empty_idat);
    // An empty IDAT chunk ending the file without its CRC (and no IEND) goes too; stb then refuses
    // the file as it refuses it without that chunk.
    Bytes no_end = png_with_empty_idat_before("IEND", false);
    no_end.resize(no_end.size() - 12);  // IEND off
    const Bytes without(plain.begin(), plain.end() - 12);
    CHECK(photong::png_without_empty_idat(no_end.data(), no_end.size()) == without);
    std::string refused, refused_without;
    try { (void)photong::decode_image(no_end.data(), no_end.size(), "x.png"); } catch (const photong::Error& e) { refused = e.what(); }
    try { (void)photong::decode_image(without.data(), without.size(), "x.png"); } catch (const photong::Error& e) { refused_without = e.what(); }
    CHECK(refused.find("cannot decode image") != std::string::npos);
    CHECK(refused == refused_without);
}

TEST_CASE("JPEG coded data: a block needing bits past a marker is refused, data ending with the file is not") {
    // The fuzzer's shape names the marker and where it is.
    const Bytes cut = jpeg_ending_mid_block();
    REQUIRE(cut.size() == 144);
    CHECK_THROWS_WITH_AS(decode(cut), doctest::Contains("marker 0xFFD9 at byte 142 first"), photong::Error);
    // The same bits with no EOI: past the end of the file stb reads zeros (defined), so the walk lets
    // it through, and stb decodes the block, then refuses the file for its missing end marker.
    CHECK_THROWS_WITH_AS(decode(jpeg_with_coded_data(8, 16, 0x0F, 0, {0, 0, 0, 0}, false)), doctest::Contains("cannot decode image: expected marker"), photong::Error);
    // Two MCUs in two restart intervals: each block takes 32 bits (16-bit DC code, 16-bit end of block).
    const Bytes whole = jpeg_with_coded_data(16, 16, 0x00, 1, {0, 0, 0, 0, 0xFF, 0xD0, 0, 0, 0, 0});
    const photong::Image two = photong::decode_image(whole.data(), whole.size(), "restart.jpg");
    CHECK(two.width == 16);
    const Bytes short_second = jpeg_with_coded_data(16, 16, 0x00, 1, {0, 0, 0, 0, 0xFF, 0xD0, 0, 0});
    CHECK_THROWS_WITH_AS(decode(short_second), doctest::Contains("marker 0xFFD9"), photong::Error);
    // Stuffed 0xFF 0x00 pairs are data, fill bytes before a marker are not: 1-bit codes, the AC symbol
    // a 15-bit coefficient, so the block takes 1 + 63 x 16 bits, every odd byte all coefficient bits.
    Bytes coded;
    for (int i = 0; i < 128; ++i) {
        if (i % 2) coded.insert(coded.end(), {0xFF, 0x00});
        else coded.push_back(0x00);
    }
    coded.insert(coded.end(), {0xFF, 0xFF});  // fill before EOI
    const Bytes stuffed = jpeg_with_coded_data(8, 1, 0x0F, 0, coded);
    CHECK(photong::decode_image(stuffed.data(), stuffed.size(), "stuffed.jpg").width == 8);
    coded.resize(coded.size() - 5);  // fill, 0xFF 0x00, 0x00 off: 126 data bytes, 1008 bits, one short
    CHECK_THROWS_WITH_AS(decode(jpeg_with_coded_data(8, 1, 0x0F, 0, coded)), doctest::Contains("middle of a block"), photong::Error);
}

TEST_CASE("JPEG coded data: Pillow's progressive 4:2:0 and baseline 4:2:2 photos decode as Pillow decodes them") {
    const std::string d = photong_test::generated("bad_inputs/");
    if (!photong_test::file_exists(d + "progressive420.jpg")) {
        MESSAGE("skipped: run tests/reference/gen_bad_images.py (scripts/test.sh does)");
        return;
    }
    for (const char* name : {"progressive420", "baseline422"}) {
        INFO(std::string(name));
        const photong::Image ours = photong::load_image(d + name + ".jpg");
        const photong::Image pillow = photong::load_image(d + name + "_pillow.png");
        REQUIRE(ours.width == pillow.width);
        REQUIRE(ours.height == pillow.height);
        double sum = 0;
        int worst = 0;
        for (std::size_t i = 0; i < ours.rgb.size(); ++i) {
            const int diff = std::abs(int(ours.rgb[i]) - int(pillow.rgb[i]));
            sum += diff, worst = std::max(worst, diff);
        }
        const double mean = sum / double(ours.rgb.size());
        MESSAGE(std::string(name) << ": mean |stb - libjpeg| " << mean << ", max " << worst);
        // Two decoders of one file differ in IDCT rounding and chroma upsampling: measured mean 0.07
        // and 0.10, max 3 and 5 (x86-64). A walk that cut the data short would leave grey blocks.
        CHECK(mean < 0.5);
        CHECK(worst <= 8);
    }
}

TEST_CASE("16-bit PNM decodes to each sample's high byte, in the file's byte order (fuzz_image's overflow)") {
    auto pnm = [](const std::string& header, const Bytes& samples) {
        Bytes b = pnm_bytes(header);
        b.insert(b.end(), samples.begin(), samples.end());
        return b;
    };
    // Netpbm: a maxval above 255 means two bytes per sample, most significant first.
    const Bytes grey = pnm("P5\n2 1\n65535\n", {0x12, 0x34, 0xAB, 0xCD});
    const photong::Image g = photong::decode_image(grey.data(), grey.size(), "grey16.pgm");
    CHECK(g.width == 2);
    CHECK(g.height == 1);
    CHECK(g.rgb == Bytes{0x12, 0x12, 0x12, 0xAB, 0xAB, 0xAB});
    const Bytes rgb = pnm("P6\n1 2\n65535\n", {0x01, 0x02, 0x80, 0x81, 0xFF, 0x00, 0x7F, 0x00, 0x00, 0x00, 0xFF, 0xFF});
    const photong::Image c = photong::decode_image(rgb.data(), rgb.size(), "rgb16.ppm");
    CHECK(c.width == 1);
    CHECK(c.height == 2);
    CHECK(c.rgb == Bytes{0x01, 0x80, 0xFF, 0x7F, 0x00, 0xFF});
    // The fuzzer's shape: a grey 48 x 32 PGM with maxval 2552 and almost no samples. stb 2.27
    // converted it to RGB with its 8-bit converter and read 9216 bytes of 16-bit samples from the
    // 4608-byte result (ASan: heap-buffer-overflow in stbi__convert_16_to_8). Now it decodes (stb
    // 2.27 leaves a truncated PNM's missing samples zero) or is refused; under scripts/sanitize.sh
    // any overflow fails the test.
    const Bytes cut = pnm("P5\n48 32\n2552\n", {0x8D, 0x00, 0x8B, 0x0A, 0x00, 0x8D, 0x8B, 0x32});
    try {
        const photong::Image t = photong::decode_image(cut.data(), cut.size(), "cut16.pgm");
        CHECK(t.width == 48);
        CHECK(t.rgb.size() == 48u * 32u * 3u);
    } catch (const photong::Error& e) {
        CHECK(std::string(e.what()).find("cut16.pgm") != std::string::npos);
    }
}

TEST_CASE("a track that runs on in running status without end-of-track is read, bounded by its chunk") {
    Bytes body = {0x00, 0x90, 60, 100};
    for (int i = 0; i < 100000; ++i) body.insert(body.end(), {0x01, std::uint8_t(40 + i % 40), std::uint8_t(i % 2 ? 0 : 90)});
    const Bytes b = midi(1, 1, 480, {body});
    const photong::MidiFile f = photong::read_midi_bytes(b.data(), b.size(), "endless.mid");
    REQUIRE(f.tracks.size() == 1);
    CHECK(f.tracks[0].events.size() == 100001);
    CHECK(f.tracks[0].events.back().tick == 100000);
}

TEST_CASE("reusing a seed is defined: the same seed gives the same events, another seed other events") {
    const photong::HierarchicalLstmDecoder d{photong::SafetensorsFile(tiny_decoder_path())};
    photong::Tensor z({1, 4});
    for (int i = 0; i < 4; ++i) z.data()[i] = 0.3f * float(i) - 0.4f;
    auto events = [&](std::uint64_t seed) {
        photong::Rng rng(seed);
        return d.decode(z, 4, 16, 1.0f, &rng).events[0];
    };
    CHECK(events(42) == events(42));
    CHECK(events(42) != events(43));
}

TEST_CASE("failed writes leave no file and no temporary behind - a failed overwrite keeps the old file") {
    namespace fs = std::filesystem;
    const std::string dir = photong_test::temp_path("bad_writes");
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto leftovers = [&] { int n = 0; for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string() != "keep.mid"; return n; };

    // An invalid MidiFile is refused before anything touches the disk, and an existing file survives.
    const std::string keep = dir + "/keep.mid";
    { std::ofstream(keep, std::ios::binary) << "old contents"; }
    photong::MidiFile bad;
    bad.format = 0;
    bad.tracks.resize(2);
    CHECK_THROWS_AS(photong::write_midi(bad, keep), photong::Error);
    CHECK(slurp(keep) == "old contents");
    CHECK(leftovers() == 0);

    // A path in a missing directory: an error naming the path, and nothing created.
    const std::string missing = dir + "/no/such/dir/out.mid";
    photong::MidiFile ok;
    ok.tracks.resize(1);
    try {
        photong::write_midi(ok, missing);
        FAIL("write_midi into a missing directory did not throw");
    } catch (const photong::Error& e) {
        CHECK(std::string(e.what()).find(missing) != std::string::npos);
    }
    photong::Image img;
    img.width = img.height = 1;
    img.rgb = {1, 2, 3};
    CHECK_THROWS_AS(photong::write_png(img, dir + "/no/such/dir/out.png"), photong::Error);
    photong::SafetensorsWriter w;
    w.add("t", photong::Tensor({1}));
    CHECK_THROWS_AS(w.write(dir + "/no/such/dir/out.safetensors"), photong::Error);
    CHECK(leftovers() == 0);
}

TEST_CASE("melody extraction stays linear when every note overlaps a long tail (fuzz_midi's slow input)") {
    // 2000 notes 16 steps apart, each held for 500000 steps: note_seq's rule lets each onset cut the
    // previous note short. Extraction used to scan back over the whole held tail for every note
    // (2000 x 500000 steps); now the last onset is cached. The events must be note_seq's.
    std::vector<photong::Note> notes(2000);
    for (std::size_t i = 0; i < notes.size(); ++i) {
        notes[i].pitch = 40 + int(i % 40);
        notes[i].start_step = std::int64_t(16 * i), notes[i].end_step = std::int64_t(16 * i) + 500000;
    }
    const photong::Melody m = photong::melody_from_quantized_notes(notes);
    REQUIRE(m.events.size() == std::size_t(16 * 1999 + 500000));
    int onsets = 0;
    bool ok = true;
    for (std::size_t t = 0; t < m.events.size(); ++t) {
        const int want = t % 16 == 0 && t / 16 < notes.size() ? 40 + int((t / 16) % 40) : photong::kMelodyNoEvent;
        onsets += m.events[t] >= 0;
        ok = ok && m.events[t] == want;
    }
    CHECK(ok);
    CHECK(onsets == 2000);
}

namespace {
/// note_seq's Melody built the plain way, one list write per step (Melody._add_note, set_length,
/// _get_last_on_off_events, from_quantized_sequence's loop), to check the sparse Builder against.
std::vector<int> dense_note_seq_melody(std::vector<photong::Note> notes) {
    std::stable_sort(notes.begin(), notes.end(), [](const photong::Note& a, const photong::Note& b) {
        return a.start_step != b.start_step ? a.start_step < b.start_step : a.pitch > b.pitch;
    });
    std::vector<int> ev;
    auto set_length = [&](std::size_t n) {
        const std::size_t old = ev.size();
        if (n <= old) return ev.resize(n);
        ev.resize(n, photong::kMelodyNoEvent);
        for (std::size_t i = old; i-- > 0;) {
            if (ev[i] == photong::kMelodyNoteOff) break;
            if (ev[i] != photong::kMelodyNoEvent) return void(ev[old] = photong::kMelodyNoteOff);
        }
    };
    for (const photong::Note& n : notes) {
        if (!ev.empty()) {
            std::int64_t last_on = -1, last_off = std::int64_t(ev.size());
            for (std::size_t i = ev.size(); i-- > 0;) {
                if (ev[i] == photong::kMelodyNoteOff) last_off = std::int64_t(i);
                if (ev[i] >= 0) {
                    last_on = std::int64_t(i);
                    break;
                }
            }
            if (n.start_step == last_on) continue;
            if (n.start_step - last_off >= 16) break;
        }
        set_length(std::size_t(n.end_step + 1));
        ev[std::size_t(n.start_step)] = n.pitch;
        for (std::int64_t i = n.start_step + 1; i < n.end_step; ++i) ev[std::size_t(i)] = photong::kMelodyNoEvent;
        ev[std::size_t(n.end_step)] = photong::kMelodyNoteOff;
    }
    if (!ev.empty() && ev.back() == photong::kMelodyNoteOff) ev.pop_back();
    set_length(ev.size() + std::size_t((16 - ev.size() % 16) % 16));
    return ev;
}
}  // namespace

TEST_CASE("the sparse melody builder gives note_seq's events on random overlapping notes") {
    photong::Rng rng(11);
    for (int trial = 0; trial < 300; ++trial) {
        auto below = [&](std::uint64_t n) { return std::int64_t(rng.next_u64() % n); };
        std::vector<photong::Note> notes(std::size_t(1 + below(12)));
        std::int64_t t = 0;  // the first note on step 0, so the melody starts there
        for (photong::Note& n : notes) {
            n.pitch = 40 + int(below(30));
            n.start_step = t, n.end_step = t + 1 + below(below(3) == 0 ? 60 : 6);
            t += below(4) == 0 ? 0 : below(20);  // shared onsets, gaps of more than a bar
        }
        INFO("trial " << trial);
        CHECK(photong::melody_from_quantized_notes(notes).events == dense_note_seq_melody(notes));
        // extract_melodies stores only max_steps_truncate steps: the same as truncating a full build.
        photong::MelodyExtractOptions full, cut;
        full.max_steps_truncate = 0, cut.max_steps_truncate = 32;
        std::vector<photong::Melody> a = photong::extract_melodies(notes, full);
        const std::vector<photong::Melody> b = photong::extract_melodies(notes, cut);
        REQUIRE(a.size() == b.size());
        for (std::size_t k = 0; k < a.size(); ++k) {
            if (a[k].events.size() > 32) a[k].events.resize(32);
            CHECK(a[k].events == b[k].events);
            CHECK(a[k].start_step == b[k].start_step);
        }
    }
}

TEST_CASE("melody extraction does work in notes and kept steps, not in the notes' lengths (fuzz_midi's timeout)") {
    // fuzz_midi's slow input: many overlapping notes, each millions of steps long, alternating with
    // short ones (each onset cuts the held note; each long note regrows the list). Writing every
    // step, as note_seq does, is 4000 x 2^24 writes; the builder writes each kept step once.
    std::vector<photong::Note> notes(4000);
    const std::int64_t far = photong::melody_detail::Builder::kMaxSteps - 1;
    for (std::size_t i = 0; i < notes.size(); ++i) {
        notes[i].pitch = 40 + int(i % 40);
        notes[i].start_step = std::int64_t(i), notes[i].end_step = i % 2 ? std::int64_t(i) + 2 : far;
    }
    const std::vector<photong::Melody> ms = photong::extract_melodies(notes);  // max_steps_truncate 1600
    REQUIRE(ms.size() == 1);
    REQUIRE(ms[0].events.size() == 1600);
    for (std::size_t t = 0; t < 1600; ++t) CHECK(ms[0].events[t] == 40 + int(t % 40));
    // 300 melodies a bar apart, each 2^24 - 16 steps long: only 1600 steps of each are written.
    std::vector<photong::Note> apart(300);
    for (std::size_t i = 0; i < apart.size(); ++i) {
        apart[i].start_step = std::int64_t(i) * (far + 32);
        apart[i].end_step = apart[i].start_step + far - 16;
    }
    const std::vector<photong::Melody> many = photong::extract_melodies(apart);
    REQUIRE(many.size() == 300);
    for (const photong::Melody& m : many) CHECK(m.events.size() == 1600);
}
