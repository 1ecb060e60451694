// photong-embed — InceptionV3 features for a folder (or a CSV list) of images, in one safetensors
// file, for training the bridge models (embedding generator, valence and arousal models).
//
//   photong-embed [--weights W] [--pooled] [--dtype f32|f16] [--batch N] [--skip-bad]
//                 (--list FILE.csv [--image-dir D] | DIR [--recursive]) -o OUT.safetensors
//
// Writes `features` [N, 8, 8, 2048] (or `pooled` [N, 2048]), one F32 [N] tensor per numeric CSV
// column after the first, and metadata: `paths` (JSON list, relative to the input folder),
// `label_columns`, `skipped`, and the weights' file name, sha256, source and preprocessing.
// Every image is decoded once before the network runs, so a bad file stops the run in seconds;
// the output is written atomically at the end (on any error nothing is written).
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include <nlohmann/json.hpp>
#include <photong/core/sha256.hpp>
#include <photong/photong.hpp>

#ifndef PHOTONG_DEFAULT_WEIGHTS
#define PHOTONG_DEFAULT_WEIGHTS "weights/inception_v3.safetensors"
#endif

namespace fs = std::filesystem;

namespace {

int usage(const std::string& problem = "") {
    if (!problem.empty()) std::fprintf(stderr, "photong-embed: %s\n", problem.c_str());
    std::fprintf(stderr,
                 "usage: photong-embed [options] (--list FILE.csv | DIR) -o OUT.safetensors\n"
                 "  DIR               every image in DIR (jpg jpeg png bmp gif tga psd hdr pnm ppm pgm), sorted by name\n"
                 "  --recursive       with DIR: also the images in its subfolders\n"
                 "  --list FILE.csv   a CSV with a header row; first column an image path (relative to the CSV's\n"
                 "                    folder), every other all-numeric column is stored as an F32 [N] tensor\n"
                 "  --image-dir D     with --list: resolve the paths against D instead of the CSV's folder\n"
                 "  -o OUT            output safetensors file (required)\n"
                 "  --weights FILE    InceptionV3 safetensors (default: $PHOTONG_WEIGHTS or %s)\n"
                 "  --no-verify-weights  do not check FILE against the NAME.sha256 beside it\n"
                 "  --pooled          store the 2048 global averages [N,2048] instead of the 8x8x2048 maps\n"
                 "  --dtype f32|f16   feature dtype (default f32; f16 halves the file: 583 maps are 306 MB in f32)\n"
                 "  --batch N         images per InceptionV3 call (default 8; results equal batch 1 bit for bit)\n"
                 "  --skip-bad        skip unreadable images (listed on stderr and in metadata `skipped`)\n"
                 "                    instead of stopping with an error\n",
                 PHOTONG_DEFAULT_WEIGHTS);
    return 2;
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("photong-embed: " + what); }


// ---- inputs ----------------------------------------------------------------------------------
struct Item {
    std::string name;  ///< as stored in metadata `paths`: relative to the input folder
    std::string file;  ///< where to read it
    std::vector<float> labels;
};

bool is_image_name(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    static const std::set<std::string> known = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".psd", ".hdr", ".pnm", ".ppm", ".pgm"};
    return known.count(ext) != 0;
}

std::vector<Item> list_dir(const std::string& dir, bool recursive) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) fail("not a folder: " + dir);
    std::vector<Item> items;
    auto add = [&](const fs::directory_entry& e) {
        if (!e.is_regular_file(ec) || !is_image_name(e.path())) return;
        items.push_back({fs::relative(e.path(), dir, ec).generic_string(), e.path().string(), {}});
    };
    if (recursive) {
        // Symbolic links to folders are followed, but no folder twice (by device and inode): a link back up the
        // tree would otherwise list the same images until the path is too long.
        std::set<std::pair<dev_t, ino_t>> visited;
        auto first_visit = [&](const fs::path& p) {
            struct stat st {};
            return ::stat(p.c_str(), &st) == 0 && visited.insert({st.st_dev, st.st_ino}).second;
        };
        first_visit(dir);
        for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->is_directory(ec)) {
                if (!first_visit(it->path())) {
                    std::fprintf(stderr, "photong-embed: not entering %s again (a link to a folder already listed)\n", it->path().c_str());
                    it.disable_recursion_pending();
                }
                continue;
            }
            add(*it);
        }
    } else {
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) add(*it);
    }
    if (ec) fail("cannot list folder " + dir + ": " + ec.message());
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.name < b.name; });
    return items;
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines; CRLF or LF rows.
std::vector<std::vector<std::string>> read_csv(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot open list " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') { field += '"'; ++i; }
            else if (c == '"') quoted = false;
            else field += c;
        } else if (c == '"') { quoted = true; any = true; }
        else if (c == ',') { rows.back().push_back(field); field.clear(); any = true; }
        else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            if (any || !field.empty()) { rows.back().push_back(field); rows.emplace_back(); }
            field.clear();
            any = false;
        } else { field += c; any = true; }
    }
    if (quoted) fail("unterminated quoted field in " + path);
    if (any || !field.empty()) rows.back().push_back(field);
    if (rows.back().empty()) rows.pop_back();
    return rows;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// Plain decimal syntax only: [+-]digits[.digits][e[+-]digits] (strtod alone would also take inf, nan and 0x10).
bool is_decimal(const std::string& s) {
    std::size_t i = 0, digits = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t exp = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
        if (exp == 0) return false;
    }
    return i == s.size();
}

/// A label cell: a finite decimal that fits F32 -> true. A cell strtod would read but that is not such a number
/// (inf, nan, 0x10, 1e999) sets `refused`; text returns false with `refused` unset.
bool parse_number(const std::string& raw, float& out, bool* refused = nullptr) {
    const std::string s = trim(raw);
    if (refused) *refused = false;
    if (s.empty()) return false;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return false;
    if (!is_decimal(s) || !std::isfinite(float(v))) {
        if (refused) *refused = true;
        return false;
    }
    out = float(v);
    return true;
}

std::vector<Item> list_csv(const std::string& csv, const std::string& image_dir, std::vector<std::string>& label_names,
                           std::vector<std::string>& ignored) {
    const auto rows = read_csv(csv);
    if (rows.size() < 2) fail("list " + csv + " needs a header row and at least one image row");
    const auto& header = rows[0];
    for (std::size_t r = 1; r < rows.size(); ++r)
        if (rows[r].size() != header.size())
            fail("list " + csv + " row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) + " fields, the header " +
                 std::to_string(header.size()));
    // A column is carried when every cell is a number (empty cells count as NaN, but not all of them).
    // A number photong cannot store faithfully (inf, nan, hex, beyond F32) in an otherwise numeric column is an error,
    // named by row and column, rather than a column silently dropped or a label that is not what the file says.
    std::vector<std::size_t> numeric;
    for (std::size_t c = 1; c < header.size(); ++c) {
        bool text = false, some = false;
        std::size_t refused_row = 0;
        float v;
        for (std::size_t r = 1; r < rows.size() && !text; ++r) {
            if (trim(rows[r][c]).empty()) continue;
            bool refused = false;
            if (!parse_number(rows[r][c], v, &refused)) {
                if (refused) refused_row = refused_row ? refused_row : r;
                else text = true;
            }
            some = true;
        }
        if (!text && refused_row)
            fail("list " + csv + " row " + std::to_string(refused_row + 1) + " column '" + trim(header[c]) + "': '" + trim(rows[refused_row][c]) +
                 "' is not a finite decimal number within F32's range (labels are stored as F32)");
        if (!text && some) numeric.push_back(c);
        else ignored.push_back(trim(header[c]));
    }
    std::set<std::string> names = {"features", "pooled"};
    for (std::size_t c : numeric) {
        const std::string n = trim(header[c]);
        if (n.empty()) fail("list " + csv + ": numeric column " + std::to_string(c + 1) + " has no name in the header");
        if (!names.insert(n).second) fail("list " + csv + ": column name '" + n + "' is repeated or reserved (features, pooled)");
        label_names.push_back(n);
    }
    const fs::path base = image_dir.empty() ? fs::path(csv).parent_path() : fs::path(image_dir);
    std::vector<Item> items;
    for (std::size_t r = 1; r < rows.size(); ++r) {
        Item it;
        it.name = trim(rows[r][0]);
        if (it.name.empty()) fail("list " + csv + " row " + std::to_string(r + 1) + " has no image path");
        const fs::path p(it.name);
        it.file = (p.is_absolute() ? p : base / p).string();
        for (std::size_t c : numeric) {
            float v = std::nanf("");
            parse_number(rows[r][c], v);
            it.labels.push_back(v);
        }
        items.push_back(std::move(it));
    }
    return items;
}

// ---- progress --------------------------------------------------------------------------------
class Progress {
public:
    explicit Progress(std::size_t total) : total_(total), start_(clock::now()) {
#if defined(__unix__) || defined(__APPLE__)
        tty_ = isatty(2) != 0;
#endif
    }
    void update(std::size_t done, const std::string& name) {
        const double t = seconds();
        if (t < 1.0 && done < total_) return;  // fast runs stay quiet
        const int pct = int(100 * done / std::max<std::size_t>(total_, 1));
        if (!tty_) {
            if (pct / 10 == last_decile_ && done < total_) return;
            last_decile_ = pct / 10;
        }
        if (t < 1.0 && !shown_) return;  // finished within a second
        const double rate = done / std::max(t, 1e-9);
        const double eta = rate > 0 ? (total_ - done) / rate : 0.0;
        const int width = int(std::to_string(total_).size());
        std::fprintf(stderr, "%s[%*zu/%zu] %d%%  %.1f img/s  eta %.0f s  %s%s", tty_ ? "\r\033[K" : "", width, done, total_, pct, rate,
                     eta, name.c_str(), tty_ ? "" : "\n");
        std::fflush(stderr);
        shown_ = true;
    }
    void finish() {
        if (tty_ && shown_) std::fputc('\n', stderr);
    }
    double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

private:
    using clock = std::chrono::steady_clock;
    std::size_t total_;
    clock::time_point start_;
    bool tty_ = false, shown_ = false;
    int last_decile_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    std::string weights = std::getenv("PHOTONG_WEIGHTS") ? std::getenv("PHOTONG_WEIGHTS") : PHOTONG_DEFAULT_WEIGHTS;
    std::string list, image_dir, dir, out, dtype = "f32";
    bool pooled = false, recursive = false, skip_bad = false, verify = true;
    long batch = 8;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--weights" && has_value) weights = argv[++i];
        else if (a == "--list" && has_value) list = argv[++i];
        else if (a == "--image-dir" && has_value) image_dir = argv[++i];
        else if (a == "-o" && has_value) out = argv[++i];
        else if (a == "--dtype" && has_value) dtype = argv[++i];
        else if (a == "--batch" && has_value) {
            char* end = nullptr;
            batch = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || batch < 1 || batch > 1024) return usage("--batch wants an integer 1..1024, got '" + std::string(argv[i]) + "'");
        } else if (a == "--pooled") pooled = true;
        else if (a == "--no-verify-weights") verify = false;
        else if (a == "--recursive") recursive = true;
        else if (a == "--skip-bad") skip_bad = true;
        else if (a == "-h" || a == "--help") return usage();
        else if (!a.empty() && a[0] == '-') return usage(has_value || a.size() < 2 ? "unknown option '" + a + "'" : "unknown or incomplete option '" + a + "'");
        else if (dir.empty()) dir = a;
        else return usage("one input folder only, got '" + dir + "' and '" + a + "'");
    }
    if (out.empty()) return usage("-o OUT.safetensors is required");
    if (list.empty() && dir.empty()) return usage("give a folder of images or --list FILE.csv");
    if (!list.empty() && !dir.empty()) return usage("give a folder or --list, not both (got '" + dir + "' and --list '" + list + "')");
    if (dtype != "f32" && dtype != "f16") return usage("--dtype must be f32 or f16, got '" + dtype + "'");
    if (!image_dir.empty() && list.empty()) return usage("--image-dir only goes with --list");
    if (recursive && dir.empty()) return usage("--recursive only goes with a folder");
    try {
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        std::vector<std::string> label_names, ignored;
        std::vector<Item> items = list.empty() ? list_dir(dir, recursive) : list_csv(list, image_dir, label_names, ignored);
        if (items.empty()) fail("no images in " + (list.empty() ? dir : list));
        photong::remove_temporaries_on_signals();
        std::vector<std::pair<std::string, std::string>> inputs = {{"--weights", weights}, {"--list", list}};
        for (const Item& it : items) inputs.push_back({"image", it.file});
        photong::require_distinct_files(inputs, {{"-o", out}});
        photong::PendingFile out_file(out);  // its folder is checked before the hour of features, not after
        if (!ignored.empty()) {
            std::string s;
            for (auto& n : ignored) s += (s.empty() ? "" : ", ") + n;
            std::fprintf(stderr, "photong-embed: not numeric, not stored: %s\n", s.c_str());
        }

        if (verify) photong::verify_weights_checksum(weights);
        const photong::SafetensorsFile wfile(weights);
        const photong::InceptionV3 net(wfile);
        const std::string weights_sha = photong::sha256_of_file(weights);

        // Decode everything once up front: a bad file fails the run now, not after an hour.
        nlohmann::json skipped = nlohmann::json::array();
        {
            std::vector<Item> good;
            for (auto& it : items) {
                try {
                    (void)photong::load_image(it.file);
                    good.push_back(std::move(it));
                } catch (const std::exception& e) {
                    if (!skip_bad) fail("cannot read image " + it.file + " (" + e.what() + "); --skip-bad skips such files");
                    std::fprintf(stderr, "photong-embed: skipping %s: %s\n", it.file.c_str(), e.what());
                    skipped.push_back({{"path", it.name}, {"error", e.what()}});
                }
            }
            items.swap(good);
        }
        if (items.empty()) fail("no readable images");
        const auto t1 = clock::now();

        const std::size_t n = items.size();
        const photong::DType out_type = dtype == "f16" ? photong::DType::F16 : photong::DType::F32;
        std::vector<unsigned char> bytes;
        std::vector<std::int64_t> map_shape;  // per image, from the first batch
        Progress progress(n);
        const int size = net.preprocessing().size;
        const std::size_t input_values = std::size_t(size) * size * 3;
        for (std::size_t start = 0; start < n; start += std::size_t(batch)) {
            const std::size_t b = std::min(std::size_t(batch), n - start);
            photong::Tensor input({std::int64_t(b), size, size, 3});
            for (std::size_t k = 0; k < b; ++k) {
                const Item& it = items[start + k];
                photong::Tensor x;
                try {
                    x = net.preprocessing().apply(photong::load_image(it.file));
                } catch (const std::exception& e) {  // changed on disk since the first pass
                    fail("cannot read image " + it.file + " (" + e.what() + ")");
                }
                std::copy_n(x.data(), input_values, input.data() + k * input_values);
            }
            photong::Tensor y = net.features(input);
            if (pooled) y = photong::InceptionV3::pooled(y);
            if (map_shape.empty()) {
                map_shape.assign(y.shape().begin() + 1, y.shape().end());
                bytes.reserve(n * (y.size() / b) * photong::dtype_size(out_type));
            }
            const std::size_t at = bytes.size();
            bytes.resize(at + y.size() * photong::dtype_size(out_type));
            if (out_type == photong::DType::F16) photong::encode_f16(y.data(), y.size(), bytes.data() + at);
            else photong::encode_f32(y.data(), y.size(), bytes.data() + at);
            progress.update(start + b, items[start + b - 1].name);
        }
        progress.finish();
        const auto t2 = clock::now();

        photong::SafetensorsWriter writer;
        std::vector<std::int64_t> shape = {std::int64_t(n)};
        shape.insert(shape.end(), map_shape.begin(), map_shape.end());
        const std::string tensor = pooled ? "pooled" : "features";
        writer.add_raw(tensor, out_type, shape, std::move(bytes));
        for (std::size_t c = 0; c < label_names.size(); ++c) {
            photong::Tensor t({std::int64_t(n)});
            for (std::size_t i = 0; i < n; ++i) t[i] = items[i].labels[c];
            writer.add(label_names[c], t);
        }
        nlohmann::json paths = nlohmann::json::array();
        for (auto& it : items) paths.push_back(it.name);
        writer.set_metadata("producer", "photong-embed");
        writer.set_metadata("features", pooled ? "InceptionV3 mixed10 global average [N,2048]" : "InceptionV3 mixed10 [N,8,8,2048] NHWC");
        writer.set_metadata("paths", paths.dump());
        writer.set_metadata("input", list.empty() ? dir : list);
        writer.set_metadata("label_columns", nlohmann::json(label_names).dump());
        if (!ignored.empty()) writer.set_metadata("ignored_columns", nlohmann::json(ignored).dump());
        writer.set_metadata("skipped", skipped.dump());
        writer.set_metadata("weights_file", fs::path(weights).filename().string());
        writer.set_metadata("weights_sha256", weights_sha);
        for (const char* key : {"source", "model", "input_size", "resize", "preprocess"})
            writer.set_metadata(std::string("weights_") + key, wfile.metadata_or(key, ""));
        writer.write(out_file);
        out_file.commit();
        const auto t3 = clock::now();

        const auto sec = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
        std::printf("%zu images (%zu skipped) -> %s: %s %s %s", n, skipped.size(), out.c_str(), tensor.c_str(),
                    photong::shape_to_string(shape).c_str(), photong::dtype_name(out_type));
        for (auto& l : label_names) std::printf(", %s", l.c_str());
        std::printf("\ntime      weights + check %.1f s, InceptionV3 %.1f s (%.2f img/s, batch %ld, %u threads), write %.1f s\n",
                    sec(t0, t1), sec(t1, t2), n / std::max(sec(t1, t2), 1e-9), batch, photong::default_thread_pool().size(), sec(t2, t3));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
