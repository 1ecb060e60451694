// Standard MIDI File reading and writing (photong/music/midi.hpp): round trips, a cross-check
// with mido in both directions (tests/reference/midi_mido_check.py), the real .mid files under
// ../shared/data, malformed inputs, and atomic writes.
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <photong/core/rng.hpp>
#include <photong/music/midi.hpp>
#include <photong/music/tempo_map.hpp>

#include "test_util.hpp"

using photong::MidiEvent;
using photong::MidiEventKind;
using photong::MidiFile;

namespace {

std::string hex(const std::vector<std::uint8_t>& b) {
    if (b.empty()) return "-";
    static const char* d = "0123456789abcdef";
    std::string s;
    for (std::uint8_t x : b) s += d[x >> 4], s += d[x & 15];
    return s;
}

/// The dump format shared with midi_mido_check.py: one line per event.
std::string dump(const MidiFile& f) {
    std::ostringstream os;
    os << "format " << f.format << " ppq " << f.ticks_per_quarter << " tracks " << f.tracks.size() << "\n";
    for (std::size_t t = 0; t < f.tracks.size(); ++t) {
        for (const MidiEvent& e : f.tracks[t].events) {
            os << t << " " << e.tick << " " << photong::to_string(e.kind);
            switch (e.kind) {
                case MidiEventKind::note_on:
                case MidiEventKind::note_off:
                case MidiEventKind::control_change:
                case MidiEventKind::poly_pressure: os << " " << e.channel << " " << e.data1 << " " << e.data2; break;
                case MidiEventKind::program_change:
                case MidiEventKind::channel_pressure: os << " " << e.channel << " " << e.data1; break;
                case MidiEventKind::pitch_bend: os << " " << e.channel << " " << e.value; break;
                case MidiEventKind::tempo: os << " " << e.value; break;
                case MidiEventKind::time_signature: os << " " << e.data1 << " " << e.data2 << " " << e.data3 << " " << e.data4; break;
                case MidiEventKind::key_signature: os << " " << e.data1 << " " << e.data2; break;
                case MidiEventKind::track_name: os << " " << hex(e.bytes); break;
                case MidiEventKind::end_of_track: break;
                case MidiEventKind::meta:
                case MidiEventKind::sysex: os << " " << e.type << " " << hex(e.bytes); break;
            }
            os << "\n";
        }
    }
    return os.str();
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

const std::string kScript = photong_test::source("tests/reference/midi_mido_check.py");

/// Type 1, three tracks: conductor (two tempi, time and key signature), a melody on channel 0
/// with a program change and overlapping notes, a bass on channel 1 with pitch bend and CC.
MidiFile demo_file() {
    MidiFile f;
    f.format = 1;
    f.ticks_per_quarter = 480;
    f.tracks.resize(3);
    auto& c = f.tracks[0].events;
    f.tracks[0].name = "conductor";
    c = {MidiEvent::tempo(0, 500000), MidiEvent::time_signature(0, 4, 2, 24, 8), MidiEvent::key_signature(0, -3, true),
         MidiEvent::tempo(1920, 375000), MidiEvent::time_signature(3840, 3, 2, 24, 8)};
    auto& m = f.tracks[1].events;
    f.tracks[1].name = "melody";
    m.push_back(MidiEvent::program_change(0, 0, 73));
    // Given out of tick order on purpose: the writer sorts stably.
    for (int i = 7; i >= 0; --i) {
        m.push_back(MidiEvent::note_on(std::uint64_t(i) * 480, 0, 60 + i, 64 + i));
        m.push_back(MidiEvent::note_off(std::uint64_t(i) * 480 + 720, 0, 60 + i, 0));  // overlaps the next note by 240
    }
    m.push_back(MidiEvent::end_of_track(5000));
    auto& b = f.tracks[2].events;
    f.tracks[2].name = "bass";
    b = {MidiEvent::program_change(0, 1, 33), MidiEvent::control_change(0, 1, 7, 100), MidiEvent::note_on(0, 1, 36, 100),
         MidiEvent::note_on(240, 1, 43, 90),  MidiEvent::pitch_bend(480, 1, -8192), MidiEvent::pitch_bend(600, 1, 8191),
         MidiEvent::pitch_bend(720, 1, 0),    MidiEvent::note_off(1920, 1, 36, 64), MidiEvent::note_off(1920, 1, 43, 0),
         MidiEvent::channel_pressure(1920, 1, 50), MidiEvent::poly_pressure(1921, 1, 36, 20)};
    return f;
}

std::vector<std::string> shared_midi_files() {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    const fs::path root = photong_test::source("../shared/data");
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::string ext = it->path().extension().string();
        for (char& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        if (ext == ".mid" || ext == ".midi") out.push_back(it->path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

MidiFile from_bytes(const std::vector<unsigned char>& b) { return photong::read_midi_bytes(b.data(), b.size(), "malformed.mid"); }

/// Header chunk bytes + the given tail.
std::vector<unsigned char> smf(int format, int ntracks, int division, std::vector<unsigned char> tail) {
    std::vector<unsigned char> b = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, (unsigned char)format, (unsigned char)(ntracks >> 8), (unsigned char)ntracks,
                                    (unsigned char)(division >> 8), (unsigned char)division};
    for (unsigned char x : tail) b.push_back(x);  // (insert() trips a GCC 12 -Warray-bounds false positive)
    return b;
}
std::vector<unsigned char> mtrk(std::vector<unsigned char> body) {
    const std::size_t n = body.size();
    std::vector<unsigned char> b = {'M', 'T', 'r', 'k', (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    for (unsigned char x : body) b.push_back(x);
    return b;
}

std::string error_of(const std::vector<unsigned char>& b) {
    try {
        from_bytes(b);
    } catch (const photong::Error& e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("midi: write, read back, byte layout") {
    const MidiFile f = demo_file();
    const std::string path = photong_test::temp_path("demo.mid");
    photong::write_midi(f, path);
    const MidiFile g = photong::read_midi(path);
    CHECK(g.format == 1);
    CHECK(g.ticks_per_quarter == 480);
    REQUIRE(g.tracks.size() == 3);
    CHECK(g.tracks[0].name == "conductor");
    CHECK(g.tracks[1].name == "melody");
    CHECK(g.tracks[2].name == "bass");
    // Melody: name, then events sorted stably by tick, end of track at 5000.
    const auto& m = g.tracks[1].events;
    REQUIRE(m.size() == 1 + 1 + 16 + 1);
    CHECK(m.front().kind == MidiEventKind::track_name);
    CHECK(m[1] == MidiEvent::program_change(0, 0, 73));
    for (std::size_t i = 1; i < m.size(); ++i) CHECK(m[i - 1].tick <= m[i].tick);
    CHECK(m.back() == MidiEvent::end_of_track(5000));
    // Bass keeps every value, pitch bend extremes included; end of track added at the last tick.
    const auto& b = g.tracks[2].events;
    const auto& want = f.tracks[2].events;
    REQUIRE(b.size() == want.size() + 2);
    for (std::size_t i = 0; i < want.size(); ++i) CHECK(b[i + 1] == want[i]);
    CHECK(b.back() == MidiEvent::end_of_track(1921));
    // Header bytes, big-endian, exactly as the specification lays them out.
    const std::string bytes = slurp(path);
    const std::string head("MThd\0\0\0\x06\0\x01\0\x03\x01\xe0MTrk", 18);
    CHECK(bytes.substr(0, 18) == head);
    // Encoding again what was read gives the same bytes.
    CHECK(photong::encode_midi(g) == std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    std::remove(path.c_str());
}

TEST_CASE("midi: tick_to_seconds follows the tempo map") {
    const MidiFile f = demo_file();  // 500000 us/q until tick 1920, then 375000
    CHECK(photong::tick_to_seconds(f, 0) == doctest::Approx(0.0));
    CHECK(photong::tick_to_seconds(f, 480) == doctest::Approx(0.5));
    CHECK(photong::tick_to_seconds(f, 1920) == doctest::Approx(2.0));
    CHECK(photong::tick_to_seconds(f, 2400) == doctest::Approx(2.375));
    MidiFile none;
    none.ticks_per_quarter = 96;
    none.tracks.resize(1);
    CHECK(photong::tick_to_seconds(none, 96 * 3) == doctest::Approx(1.5));  // default 120 bpm
}

TEST_CASE("midi: TempoMap: of several tempo events at one tick the last holds - unsorted events are put in tick order") {
    MidiFile f;
    f.ticks_per_quarter = 100;
    f.tracks.resize(1);
    using photong::MidiEvent;
    f.tracks[0].events = {MidiEvent::tempo(200, 250000), MidiEvent::tempo(100, 1000000), MidiEvent::tempo(100, 2000000)};
    const photong::TempoMap map(f);
    CHECK(map.seconds(100) == doctest::Approx(0.5));        // 100 ticks at 120 bpm
    CHECK(map.seconds(150) == doctest::Approx(0.5 + 1.0));  // then 2 s per quarter (the second event at 100)
    CHECK(map.seconds(300) == doctest::Approx(0.5 + 2.0 + 0.25));
}

TEST_CASE("midi: TempoMap gives what summing the tempo segments up to each tick gives, on random maps") {
    // The reference reads the map afresh for every tick: segment by segment, in tick order.
    auto summed = [](const MidiFile& f, std::uint64_t tick) {
        std::vector<std::pair<std::uint64_t, int>> tempi;
        for (const photong::MidiEvent& e : f.tracks[0].events)
            if (e.kind == photong::MidiEventKind::tempo) tempi.emplace_back(e.tick, e.value);
        std::stable_sort(tempi.begin(), tempi.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        double us = 0;
        std::uint64_t at = 0;
        int tempo = 500000;
        for (const auto& [t, v] : tempi) {
            if (t >= tick) break;
            us += double(t - at) * tempo;
            at = t, tempo = v;
        }
        return (us + double(tick - at) * tempo) / (1e6 * f.ticks_per_quarter);
    };
    photong::Rng rng(7);
    for (int trial = 0; trial < 20; ++trial) {
        MidiFile f;
        f.ticks_per_quarter = 1 + int(rng.next_u64() % 960);
        f.tracks.resize(1);
        const int n = int(rng.next_u64() % 40);
        for (int i = 0; i < n; ++i)  // few distinct ticks, so several changes share one
            f.tracks[0].events.push_back(photong::MidiEvent::tempo(rng.next_u64() % 50 * 37, 1 + int(rng.next_u64() % 16777215)));
        const photong::TempoMap map(f);
        for (std::uint64_t tick = 0; tick < 2000; tick += 1 + rng.next_u64() % 13) {
            CHECK(map.seconds(tick) == summed(f, tick));  // the same sums in the same order: bit for bit
            CHECK(photong::tick_to_seconds(f, tick) == map.seconds(tick));
        }
    }
}

TEST_CASE("midi: mido reads our type-1 file with identical events") {
    const std::string path = photong_test::temp_path("mido_check.mid"), dump_path = photong_test::temp_path("mido_check.txt");
    photong::write_midi(demo_file(), path);
    spit(dump_path, dump(photong::read_midi(path)));
    const std::string cmd = "/usr/bin/python3 " + kScript + " check " + path + " " + dump_path;
    CHECK_MESSAGE(std::system(cmd.c_str()) == 0, "mido disagreed or failed: " << cmd);
}

TEST_CASE("midi: files written by mido read back with identical events") {
    const std::string dir = photong_test::temp_path("mido_written");
    const std::string cmd = "/usr/bin/python3 " + kScript + " write " + dir;
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
    for (const char* name : {"mido_type0_ppq96", "mido_type1_ppq480"}) {
        INFO(name);
        const MidiFile f = photong::read_midi(dir + "/" + name + ".mid");
        CHECK(dump(f) == slurp(dir + "/" + name + ".txt"));
    }
    const MidiFile t0 = photong::read_midi(dir + "/mido_type0_ppq96.mid");
    CHECK(t0.format == 0);
    CHECK(t0.ticks_per_quarter == 96);
    CHECK(t0.tracks[0].name == "mido type 0");
    // mido wrote the ten channel-0 note events with running status: 0x90 appears once.
    const std::string raw = slurp(dir + "/mido_type0_ppq96.mid");
    CHECK(std::count(raw.begin(), raw.end(), char(0x90)) == 1);
}

TEST_CASE("midi: every .mid under ../shared/data reads without error") {
    const std::vector<std::string> all = shared_midi_files();
    if (all.empty()) {
        MESSAGE("no ../shared/data: skipped");
        return;
    }
    // The whole set takes a few seconds; a fixed sample of 250 keeps the suite quick.
    // PHOTONG_MIDI_ALL=1 reads every file.
    std::vector<std::string> files;
    const bool everything = std::getenv("PHOTONG_MIDI_ALL") != nullptr;
    const std::size_t want = 250;
    if (everything || all.size() <= want) {
        files = all;
    } else {
        for (std::size_t i = 0; i < want; ++i) files.push_back(all[i * all.size() / want]);
    }
    std::size_t ok = 0, events = 0, notes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::string& p : files) {
        try {
            const MidiFile f = photong::read_midi(p);
            for (const auto& t : f.tracks) {
                events += t.events.size();
                for (const auto& e : t.events) notes += e.kind == MidiEventKind::note_on;
            }
            ++ok;
        } catch (const photong::Error& e) {
            FAIL_CHECK(e.what());
        }
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("read " << ok << " of " << files.size() << " files (" << all.size() << " found), " << events << " events, " << notes << " notes, " << ms
                    << " ms");
    CHECK(ok == files.size());
    CHECK(files.size() >= std::min<std::size_t>(200, all.size()));
}

TEST_CASE("midi: malformed inputs throw photong::Error naming the problem") {
    const std::vector<unsigned char> good_track = mtrk({0x00, 0x90, 60, 100, 0x60, 60, 0, 0x00, 0xFF, 0x2F, 0x00});
    REQUIRE_NOTHROW(from_bytes(smf(0, 1, 96, good_track)));
    const MidiFile ok = from_bytes(smf(0, 1, 96, good_track));
    REQUIRE(ok.tracks[0].events.size() == 3);
    CHECK(ok.tracks[0].events[1] == MidiEvent::note_off(96, 0, 60, 0));  // running status, velocity 0 = note off

    auto has = [](const std::string& what, const std::string& part) {
        INFO(what);
        CHECK(what.find(part) != std::string::npos);
    };
    // Truncated header.
    std::vector<unsigned char> b = smf(0, 1, 96, {});
    b.resize(10);
    has(error_of(b), "truncated");
    has(error_of(b), "malformed.mid");
    // Truncated track chunk: the declared length runs past the end.
    b = smf(0, 1, 96, good_track);
    b.resize(b.size() - 3);
    has(error_of(b), "chunk length runs past the end");
    has(error_of(b), "track 0");
    // Absurd chunk length.
    b = smf(0, 1, 96, {'M', 'T', 'r', 'k', 0xFF, 0xFF, 0xFF, 0xFF, 0x00});
    has(error_of(b), "chunk length runs past the end");
    // A VLQ of 5 bytes.
    b = smf(0, 1, 96, mtrk({0x81, 0x80, 0x80, 0x80, 0x00, 0x90, 60, 100}));
    has(error_of(b), "longer than 4 bytes");
    has(error_of(b), "byte offset 22");
    // Track count mismatch, both ways.
    b = smf(1, 2, 96, good_track);
    has(error_of(b), "track count does not match");
    b = smf(1, 1, 96, good_track);
    b.insert(b.end(), good_track.begin(), good_track.end());
    has(error_of(b), "more MTrk chunks than the header's track count");
    // Running status with no status before it.
    b = smf(0, 1, 96, mtrk({0x00, 60, 100, 0x00, 0xFF, 0x2F, 0x00}));
    has(error_of(b), "running status with no previous status");
    has(error_of(b), "track 0, byte offset 23");
    // Event cut off inside the track chunk.
    b = smf(0, 1, 96, mtrk({0x00, 0x90, 60}));
    has(error_of(b), "runs past the end of the track chunk");
    // Meta length past the chunk end.
    b = smf(0, 1, 96, mtrk({0x00, 0xFF, 0x03, 0x40, 'a'}));
    has(error_of(b), "meta event data");
    // SMPTE division, zero PPQ, format 2, not a MIDI file.
    has(error_of(smf(1, 1, 0xE728, good_track)), "SMPTE");
    has(error_of(smf(1, 1, 0, good_track)), "zero ticks per quarter");
    has(error_of(smf(2, 1, 96, good_track)), "format 2");
    has(error_of({'R', 'I', 'F', 'F', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96}), "not a Standard MIDI File");
    // Every one of them is a photong::Error.
    CHECK_THROWS_AS(from_bytes(smf(1, 1, 0, good_track)), photong::Error);
}

namespace {
/// Whether a temporary of `path` (file_io.hpp: "." + its name + ".tmp" + 6 characters, beside it) is left.
bool leftover_temporary(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    const std::string dir = path.substr(0, slash), prefix = "." + path.substr(slash + 1) + ".tmp";
    bool found = false;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) found = found || std::string(e->d_name).rfind(prefix, 0) == 0;
        ::closedir(d);
    }
    return found;
}
}  // namespace

TEST_CASE("midi: invalid input and unwritable paths leave no file") {
    MidiFile f = demo_file();
    const std::string path = photong_test::temp_path("invalid.mid");
    std::remove(path.c_str());
    auto message = [&](const MidiFile& x) -> std::string {
        try {
            photong::write_midi(x, path);
        } catch (const photong::Error& e) {
            return e.what();
        }
        return "<no error>";
    };
    f.tracks[2].events[3].channel = 16;
    std::string m = message(f);
    CHECK(m.find("MIDI channel out of range") != std::string::npos);
    CHECK(m.find("track 2 event 3 (note_on)") != std::string::npos);
    CHECK(m.find("[expected: 0..15] [found: 16]") != std::string::npos);
    f = demo_file();
    f.tracks[1].events[1].data2 = 128;
    CHECK(message(f).find("data byte 2 out of range") != std::string::npos);
    f = demo_file();
    f.tracks[0].events[3].value = 0x1000000;
    CHECK(message(f).find("tempo") != std::string::npos);
    f = demo_file();
    f.ticks_per_quarter = 0x8000;
    CHECK(message(f).find("ticks per quarter") != std::string::npos);
    f = demo_file();
    f.format = 0;
    CHECK(message(f).find("format 0 MIDI file holds exactly one track") != std::string::npos);
    CHECK_FALSE(photong_test::file_exists(path));
    CHECK_FALSE(leftover_temporary(path));

    const std::string bad = photong_test::temp_path("no_such_dir/x.mid");
    CHECK_THROWS_AS(photong::write_midi(demo_file(), bad), photong::Error);
    CHECK_FALSE(photong_test::file_exists(bad));
    CHECK_FALSE(leftover_temporary(bad));
}
