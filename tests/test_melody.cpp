// Melodies as MusicVAE events (photong/music/melody.hpp): each note_seq rule on hand-made cases,
// round trips, bad input, and the first 20 POP909 songs against an independent Python
// implementation of note_seq's extraction (tests/reference/melody_reference.py, run by
// scripts/test.sh into build/fixtures/melody_pop909.json).
#include <algorithm>
#include <fstream>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>
#include <photong/music/melody.hpp>

#include "test_util.hpp"

using photong::kMelodyNoEvent;
using photong::kMelodyNoteOff;
using photong::Melody;
using photong::MelodyEncoding;
using photong::MelodyExtractOptions;
using photong::MidiEvent;
using photong::MidiFile;
using photong::Note;

namespace {

constexpr int H = kMelodyNoEvent, X = kMelodyNoteOff;  // note_seq events: hold, note off

Note qnote(int pitch, std::int64_t start, std::int64_t end, int velocity = 100, int channel = 0) {
    Note n;
    n.pitch = pitch, n.velocity = velocity, n.channel = channel, n.start_step = start, n.end_step = end;
    return n;
}

std::vector<std::tuple<int, std::int64_t, std::int64_t>> psteps(const std::vector<Note>& notes) {
    std::vector<std::tuple<int, std::int64_t, std::int64_t>> out;
    for (const Note& n : notes) out.emplace_back(n.pitch, n.start_step, n.end_step);
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const photong::Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("melody: encoding is 0 hold, 1 note off, 2..89 pitches 21..108") {
    const MelodyEncoding enc;
    CHECK(enc.num_classes() == 90);
    CHECK(photong::kHold == 0);
    CHECK(photong::kNoteOff == 1);
    CHECK(enc.encode(kMelodyNoEvent) == 0);
    CHECK(enc.encode(kMelodyNoteOff) == 1);
    CHECK(enc.encode(21) == 2);
    CHECK(enc.encode(60) == 41);
    CHECK(enc.encode(108) == 89);
    for (int c = 0; c < 90; ++c) CHECK(enc.encode(enc.decode(c)) == c);
    const MelodyEncoding small{48, 83};  // mel_2bar-style custom range
    CHECK(small.num_classes() == 38);
    CHECK(small.decode(2) == 48);
    CHECK(small.decode(37) == 83);
    CHECK(photong::classes_to_events({0, 1, 2, 89}) == std::vector<int>{H, X, 21, 108});
    CHECK(photong::events_to_classes({H, X, 21, 108}) == std::vector<int>{0, 1, 2, 89});
}

TEST_CASE("melody: a class outside 0..89 or an event without a class throws naming its index") {
    const std::string e1 = error_of([] { photong::melody_to_notes({2, 0, 1, 90}); });
    CHECK(e1.find("melody class out of range") != std::string::npos);
    CHECK(e1.find("melody event 3") != std::string::npos);
    CHECK(e1.find("0..89") != std::string::npos);
    CHECK(e1.find("[found: 90]") != std::string::npos);
    CHECK(error_of([] { photong::classes_to_events({0, -1}); }).find("melody event 1") != std::string::npos);
    const std::string e2 = error_of([] { photong::events_to_classes({60, H, 20}); });
    CHECK(e2.find("melody event 2") != std::string::npos);
    CHECK(e2.find("[found: 20]") != std::string::npos);
    CHECK_THROWS_AS(photong::events_to_classes({109}), photong::Error);
    CHECK_THROWS_AS(photong::events_to_classes({-3}), photong::Error);
    CHECK_THROWS_AS(photong::classes_to_events({0}, MelodyEncoding{60, 50}), photong::Error);
    CHECK_THROWS_AS(photong::melody_to_notes({2}, 0.0), photong::Error);
}

TEST_CASE("melody: events to notes follows Melody.to_sequence") {
    // Holds at the very start are silence; a note off with nothing sounding does nothing; holds
    // extend; a new onset ends the sounding note (same pitch too); the last note ends at the end.
    const std::vector<int> ev = {H, X, H, 60, H, H, X, X, H, 62, 62, H, 64, H};
    const std::vector<Note> notes = photong::melody_events_to_notes(ev);
    using T = std::tuple<int, std::int64_t, std::int64_t>;
    CHECK(psteps(notes) == std::vector<T>{{60, 3, 6}, {62, 9, 10}, {62, 10, 12}, {64, 12, 14}});
    // 120 qpm, 4 steps per quarter: 0.125 s per step; velocity 100 by default.
    CHECK(notes[0].start_s == doctest::Approx(0.375));
    CHECK(notes[0].end_s == doctest::Approx(0.75));
    CHECK(notes[3].end_s == doctest::Approx(1.75));
    CHECK(notes[0].velocity == 100);
    const std::vector<Note> slow = photong::melody_events_to_notes(ev, 60.0, 4, 80);
    CHECK(slow[0].start_s == doctest::Approx(0.75));
    CHECK(slow[0].velocity == 80);
    CHECK(photong::melody_events_to_notes({H, H, X}).empty());
    // The class form gives the same notes.
    CHECK(psteps(photong::melody_to_notes(photong::events_to_classes(ev))) == psteps(notes));
}

TEST_CASE("melody: classes to notes to classes round trip") {
    const std::vector<std::vector<int>> cases = {
        {41, 0, 0, 1, 0, 43, 43, 0, 1, 0, 0, 45},  // ends sounding
        {0, 0, 41, 1, 0, 0, 89, 2, 1, 0},          // starts with holds, ends in a rest
        {41, 0, 0, 0},
        {},
    };
    for (const auto& c : cases) {
        const auto notes = photong::melody_to_notes(c);
        CHECK(photong::notes_to_melody(notes, std::int64_t(c.size())) == c);
    }
    // A redundant note off (nothing sounding) carries no information and comes back as a hold.
    CHECK(photong::notes_to_melody(photong::melody_to_notes({1, 41, 1, 1}), 4) == std::vector<int>{0, 41, 1, 0});
    // Without a length the trailing note off is dropped, as from_quantized_sequence does.
    CHECK(photong::notes_to_melody({qnote(60, 0, 2)}) == std::vector<int>{41, 0});
    // Padding past a sounding end puts a note off there (Melody.set_length).
    CHECK(photong::notes_to_melody({qnote(60, 0, 2)}, 4) == std::vector<int>{41, 0, 1, 0});
    CHECK_THROWS_AS(photong::notes_to_melody({qnote(10, 0, 2)}), photong::Error);
}

TEST_CASE("melody: simultaneous onsets keep the highest pitch, a later onset cuts the sounding note") {
    MelodyExtractOptions o;
    o.pad_end = false;
    // 60 and 67 start together: 67 wins (sorted by descending pitch), whatever their order.
    Melody m = photong::melody_from_quantized_notes({qnote(60, 0, 8), qnote(67, 0, 4)}, 0, o);
    CHECK(m.events == std::vector<int>{67, H, H, H});
    // 64 starts while 60 sounds: 60 ends there, 64 plays to its own end even though 60 was longer.
    m = photong::melody_from_quantized_notes({qnote(60, 0, 8), qnote(64, 2, 4)}, 0, o);
    CHECK(m.events == std::vector<int>{60, H, 64, H});
    // And 60's remainder does not come back after 64 ends.
    m = photong::melody_from_quantized_notes({qnote(60, 0, 8), qnote(64, 2, 4), qnote(65, 6, 7)}, 0, o);
    CHECK(m.events == std::vector<int>{60, H, 64, H, X, H, 65});
    // A later note longer than the sounding one simply takes over.
    m = photong::melody_from_quantized_notes({qnote(60, 0, 3), qnote(59, 1, 5)}, 0, o);
    CHECK(m.events == std::vector<int>{60, 59, H, H, H});
    // Without ignoring polyphony, two onsets on a step throw, and extract_melodies gives nothing.
    o.ignore_polyphonic_notes = false;
    CHECK_THROWS_AS(photong::melody_from_quantized_notes({qnote(60, 0, 8), qnote(67, 0, 4)}, 0, o), photong::Error);
    CHECK(photong::extract_melodies({qnote(60, 0, 8), qnote(67, 0, 4)}, o).empty());
    CHECK(photong::extract_melodies({qnote(60, 0, 8), qnote(67, 4, 20)}, o).size() == 1);
}

TEST_CASE("melody: extraction starts on a bar line, skips drums and silent notes, pads to a bar") {
    Melody m = photong::melody_from_quantized_notes({qnote(60, 21, 23)});
    CHECK(m.start_step == 16);
    CHECK(m.events.size() == 16);
    CHECK(m.events[5] == 60);
    CHECK(m.events[7] == X);
    CHECK(m.end_step() == 32);
    // Drums (channel 9) and velocity 0 are skipped; the bar is still taken from the first note.
    m = photong::melody_from_quantized_notes({qnote(36, 3, 4, 100, 9), qnote(61, 20, 22, 0), qnote(62, 18, 19)});
    CHECK(m.start_step == 0);
    CHECK(m.events.size() == 32);
    CHECK(m.events[18] == 62);
    CHECK(std::count(m.events.begin(), m.events.end(), 61) == 0);
    MelodyExtractOptions o;
    o.filter_drums = false;
    CHECK(photong::melody_from_quantized_notes({qnote(36, 3, 4, 100, 9)}, 0, o).events[3] == 36);
    CHECK(photong::melody_from_quantized_notes({}).events.empty());
}

TEST_CASE("melody: a gap of a bar or more splits melodies") {
    // Off at 4; next onset at 19 (gap 15 < 16): one melody. Next at 20 (gap 16): two.
    auto ms = photong::extract_melodies({qnote(60, 0, 4), qnote(62, 19, 21)});
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].events.size() == 32);
    ms = photong::extract_melodies({qnote(60, 0, 4), qnote(62, 20, 22), qnote(64, 70, 71)});
    REQUIRE(ms.size() == 3);
    CHECK(ms[0].start_step == 0);
    CHECK(ms[0].events == std::vector<int>({60, H, H, H, X, H, H, H, H, H, H, H, H, H, H, H}));
    CHECK(ms[1].start_step == 16);
    CHECK(ms[1].events[4] == 62);
    CHECK(ms[2].start_step == 64);
    CHECK(ms[2].events[6] == 64);
    // gap_bars <= 0 never splits.
    MelodyExtractOptions o;
    o.gap_bars = 0;
    CHECK(photong::extract_melodies({qnote(60, 0, 4), qnote(62, 200, 202)}, o).size() == 1);
    // Longer than 100 bars: truncated to 1600 steps.
    std::vector<Note> many;
    for (int i = 0; i < 420; ++i) many.push_back(qnote(60 + i % 5, 4 * i, 4 * i + 3));
    ms = photong::extract_melodies(many);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].events.size() == 1600);
    // min_unique_pitches counts pitch classes.
    o = {};
    o.min_unique_pitches = 2;
    CHECK(photong::extract_melodies({qnote(60, 0, 4), qnote(72, 4, 8)}, o).empty());
    CHECK(photong::extract_melodies({qnote(60, 0, 4), qnote(73, 4, 8)}, o).size() == 1);
}

TEST_CASE("melody: quantization rounds half a step up and gives zero-length notes one step") {
    // 480 ticks per quarter, 4 steps per quarter: 120 ticks per step, ties (60 mod 120) go up.
    CHECK(photong::quantize_tick(0, 480) == 0);
    CHECK(photong::quantize_tick(59, 480) == 0);
    CHECK(photong::quantize_tick(60, 480) == 1);
    CHECK(photong::quantize_tick(179, 480) == 1);
    CHECK(photong::quantize_tick(180, 480) == 2);
    CHECK(photong::quantize_tick(480ull * 1000000000ull + 60, 480) == 4000000001ll);
    CHECK(photong::quantize_tick(48, 96, 2) == 1);  // 8th notes at 96 ppq: 48 ticks per step, 24 is the tie
    CHECK(photong::quantize_tick(23, 96, 2) == 0);
    // note_seq's quantize_to_step: int(x * sps + 0.5).
    CHECK(photong::quantize_to_step(0.0624, 8.0) == 0);
    CHECK(photong::quantize_to_step(0.0625, 8.0) == 1);
    CHECK(photong::quantize_to_step(0.09, 8.0, 0.75) == 0);  // cutoff 0.75: 0.72 stays on step 0
    CHECK(photong::quantize_to_step(0.1, 8.0, 0.75) == 1);   // 0.8 is past it
    Note a, b;
    a.pitch = 60, a.start_tick = 100, a.end_tick = 130;  // both round to step 1: zero length -> one step
    b.pitch = 62, b.start_tick = 170, b.end_tick = 420;  // 1.42 -> 1, 3.5 -> 4
    const auto q = photong::quantize_notes({a, b}, 480);
    CHECK(q[0].start_step == 1);
    CHECK(q[0].end_step == 2);
    CHECK(q[1].start_step == 1);
    CHECK(q[1].end_step == 4);
    a.start_s = 0.5, a.end_s = 0.52;
    const auto qs = photong::quantize_notes_seconds({a}, 120);  // 8 steps per second: 4 .. 4.16
    CHECK(qs[0].start_step == 4);
    CHECK(qs[0].end_step == 5);
    a.start_s = -0.2;
    CHECK_THROWS_AS(photong::quantize_notes_seconds({a}, 120), photong::Error);
}

TEST_CASE("melody: notes are paired from a MIDI track as pretty_midi pairs them") {
    MidiFile f;
    f.ticks_per_quarter = 480;
    f.tracks.resize(2);
    f.tracks[0].events = {MidiEvent::tempo(0, 1000000)};  // 60 qpm: 1 s per quarter
    f.tracks[1].name = "MELODY";
    f.tracks[1].events = {
        MidiEvent::note_on(0, 0, 60, 90),
        MidiEvent::note_on(240, 0, 60, 91),    // a second 60 while the first is open
        MidiEvent::note_off(480, 0, 60),       // closes both
        MidiEvent::note_off(500, 0, 61),       // nothing open: ignored
        MidiEvent::note_on(960, 0, 62, 92),
        MidiEvent::note_off(1440, 0, 62),
        MidiEvent::note_on(1440, 0, 62, 93),   // re-struck on the off's tick: stays open
        MidiEvent::note_off(1920, 0, 62),
        MidiEvent::note_on(1920, 0, 64, 94),
        MidiEvent::note_off(1920, 0, 64),      // opened on this very tick with nothing else: dropped
        MidiEvent::note_on(2400, 1, 65, 95),   // another channel
        MidiEvent::note_off(2880, 1, 65),
        MidiEvent::note_on(2880, 0, 67, 96),   // never closed: dropped
    };
    CHECK(photong::find_track(f, "MELODY") == 1);
    CHECK(error_of([&] { photong::find_track(f, "BASS"); }).find("\"MELODY\"") != std::string::npos);
    const auto notes = photong::notes_from_track(f, 1);
    REQUIRE(notes.size() == 5);
    CHECK(notes[0].start_tick == 0);
    CHECK(notes[0].velocity == 90);
    CHECK(notes[1].start_tick == 240);
    CHECK(notes[1].end_tick == 480);
    CHECK(notes[2].start_tick == 960);
    CHECK(notes[3].start_tick == 1440);
    CHECK(notes[3].end_tick == 1920);
    CHECK(notes[3].start_s == doctest::Approx(3.0));
    CHECK(notes[4].channel == 1);
    CHECK(photong::notes_from_track(f, 1, 0).size() == 4);
    CHECK_THROWS_AS(photong::notes_from_track(f, 2), photong::Error);
    // Whole pipeline: 60 at step 0 (two onsets: 0 and 2), 62 at 8, 62 at 12, 65 at 20.
    const auto ms = photong::melodies_from_track(f, 1);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].events == std::vector<int>({60, H, 60, H, X, H, H, H, 62, H, H, H, 62, H, H, H, X, H, H, H, 65, H, H, H, X, H, H, H, H, H, H, H}));
}

TEST_CASE("melody: pitches outside 21..108 are dropped (converter) or octave shifted (Melody.transpose)") {
    const std::vector<Note> notes = {qnote(20, 0, 1), qnote(21, 1, 2), qnote(108, 2, 3), qnote(109, 3, 4), qnote(127, 4, 5), qnote(0, 5, 6)};
    const auto dropped = photong::fit_pitch_range(notes);
    REQUIRE(dropped.size() == 2);
    CHECK(dropped[0].pitch == 21);
    CHECK(dropped[1].pitch == 108);
    const auto shifted = photong::fit_pitch_range(notes, photong::PitchRangePolicy::octave_shift);
    REQUIRE(shifted.size() == 6);
    CHECK(shifted[0].pitch == 32);   // 20 + 12
    CHECK(shifted[3].pitch == 97);   // 109 - 12
    CHECK(shifted[4].pitch == 103);  // 127 - 24
    CHECK(shifted[5].pitch == 24);   // 0 + 24
    CHECK_THROWS_AS(photong::fit_pitch_range(notes, photong::PitchRangePolicy::octave_shift, MelodyEncoding{60, 65}), photong::Error);
}

TEST_CASE("melody: 16-bar windows hop one bar over whole windows only") {
    Melody m;
    auto with_bars = [&](int bars) {
        m.events.assign(std::size_t(bars) * 16, H);
        for (std::size_t i = 0; i < m.events.size(); i += 4) m.events[i] = 60 + int(i / 16) % 3;
        return photong::slice_melody(m);
    };
    CHECK(with_bars(15).empty());
    CHECK(with_bars(16).size() == 1);
    const auto w = with_bars(20);
    REQUIRE(w.size() == 5);
    CHECK(w[0].size() == 256);
    CHECK(w[1][0] == 61);  // second window starts at bar 1
    CHECK(photong::slice_melody(m, 16, 64).size() == 2);  // hop of 4 bars: windows at 0 and 64
    CHECK(photong::slice_melody(m, 2).size() == 19);
    // The pitches repeat every 3 bars, so with dedupe 2-bar windows come in 3 kinds.
    CHECK(photong::slice_melody(m, 2, 0, false, true).size() == 3);
    // skip_empty drops windows without an onset.
    m.events.assign(32 * 16, H);
    m.events[0] = 60;
    CHECK(photong::slice_melody(m).size() == 17);
    CHECK(photong::slice_melody(m, 16, 0, true).size() == 1);
}

TEST_CASE("melody: the first 20 POP909 songs match an independent note_seq-style extraction") {
    const std::string fixture = photong_test::generated("melody_pop909.json");
    REQUIRE_MESSAGE(photong_test::file_exists(fixture), "missing " << fixture << ": run scripts/test.sh (needs ../shared/data/pop909)");
    std::ifstream in(fixture);
    const nlohmann::json j = nlohmann::json::parse(in);
    const std::string root = photong_test::source("../shared/data/pop909/");
    std::size_t songs = 0, melodies = 0, events = 0, windows = 0, agree_events = 0, ties = 0;
    for (const auto& s : j.at("songs")) {
        const std::string path = root + s.at("file").get<std::string>();
        INFO(path);
        REQUIRE_MESSAGE(photong_test::file_exists(path), "missing " << path);
        const MidiFile f = photong::read_midi(path);
        const auto ms = photong::melodies_from_track(f, photong::find_track(f, "MELODY"));
        const auto& want = s.at("melodies");
        CHECK(ms.size() == want.size());
        std::size_t wins = 0;
        for (std::size_t k = 0; k < ms.size() && k < want.size(); ++k) {
            INFO("melody " << k);
            const auto classes = photong::events_to_classes(ms[k].events);
            const auto expected = want[k].at("classes").get<std::vector<int>>();
            CHECK(ms[k].start_step == want[k].at("start_step").get<std::int64_t>());
            CHECK(classes == expected);
            if (classes == expected) agree_events += classes.size();
            events += expected.size();
            wins += photong::slice_melody(ms[k]).size();
        }
        CHECK(wins == s.at("windows_16bar").get<std::size_t>());
        ++songs, melodies += want.size(), windows += wins, ties += s.at("float_ties_flipped").get<std::size_t>();
    }
    CHECK(songs == 20);
    CHECK(agree_events == events);
    MESSAGE(songs << " songs, " << melodies << " melodies, " << agree_events << " of " << events << " events identical, " << windows << " 16-bar windows (exact tick quantization; note_seq's float seconds would round "
                   << ties << " half-step ties the other way)");
}
