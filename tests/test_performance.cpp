// Performance events (music/performance_events.hpp): hand-worked encodings in both vocabularies, the Python encoder
// the piano model was trained with (tools/performance_events.py, via tests/reference/gen_performance_fixture.py)
// reproduced event for event on real MIDI, round trips on real MIDI (onsets within the time resolution, velocities
// within a bin), Tan & Antony's controls, and the SMF writer (chords, overlapping notes, channel and program).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <photong/music/midi.hpp>
#include <photong/music/performance_events.hpp>

#include "test_util.hpp"

using photong::PerformanceEncoding;
using photong::PerformanceNote;

namespace {

const std::string kShared = photong_test::source("../shared/data/");

std::vector<std::string> real_files() {
    return {"vgmidi/phrases/Banjo-Kazooie_N64_Banjo-Kazooie_Ending_0.mid", "vgmidi/phrases/Banjo-Kazooie_N64_Banjo-Kazooie_Boggys Igloo Sad_0.mid",
            "pop909/001/001.mid", "pop909/437/437.mid"};
}

}  // namespace

TEST_CASE("performance events: one note worked by hand in both vocabularies") {
    const std::vector<PerformanceNote> notes = {{60, 64, 0.0, 0.5}};
    // Tan & Antony: velocity 64 -> the first bin >= 64 is 21 + 16 * 88/31 = 66.4 (slot 16, event 192); note_on 60 -> 39;
    // 0.5 s = 1.15^24/65 (0.4404 s, event 232) + 1.15^9/65 (0.0541 s, event 217), 5.5 ms left (under the smallest
    // bin); note_off 60 -> 88 + 39 = 127.
    CHECK(PerformanceEncoding::tan_antony().encode(notes) == std::vector<int>{192, 39, 232, 217, 127});
    // Magenta: velocity bin (64 - 1) / 4 + 1 = 16 -> 355 + 16 = 371; note_on 60; 50 steps -> 255 + 50 = 305; note_off 128 + 60.
    CHECK(PerformanceEncoding::magenta().encode(notes) == std::vector<int>{371, 60, 305, 188});
    const auto back = PerformanceEncoding::magenta().decode({371, 60, 305, 188});
    REQUIRE(back.size() == 1);
    CHECK(back[0].pitch == 60);
    CHECK(back[0].velocity == 61);  // 1 + 15 * 4
    CHECK(back[0].end_s == doctest::Approx(0.5));
    // Decoding rules: an unmatched note_off is ignored, a note never closed lasts 1 s (Tan) / to the end (Magenta),
    // a short note lasts at least 0.25 s (Tan), velocity slot 31 decodes as slot 30.
    const auto tan = PerformanceEncoding::tan_antony().decode({88 + 5, 207, 40, 208, 88 + 40, 41});
    REQUIRE(tan.size() == 2);
    CHECK(tan[0].velocity == int(21 + 30 * 88.0 / 31));
    CHECK(tan[0].end_s == doctest::Approx(0.25));
    CHECK(tan[1].end_s - tan[1].start_s == doctest::Approx(1.0));
    CHECK_THROWS_WITH_AS(PerformanceEncoding::tan_antony().decode({240}), doctest::Contains("outside the vocabulary"), photong::Error);
    CHECK_THROWS_AS(PerformanceEncoding::by_name("tan_antony_192"), photong::Error);
    CHECK(PerformanceEncoding::by_name("magenta_388").num_events() == 388);
}

TEST_CASE("performance events: the C++ encoder gives tools/performance_events.py's events and controls on real MIDI") {
    const std::string fixture = photong_test::generated("performance_events.json");
    REQUIRE_MESSAGE(photong_test::file_exists(fixture), "missing " << fixture << ": run scripts/test.sh, which generates it");
    std::ifstream in(fixture);
    const nlohmann::json j = nlohmann::json::parse(in);
    REQUIRE(j.size() >= 2);
    const PerformanceEncoding enc = PerformanceEncoding::tan_antony();
    for (const auto& [name, want] : j.items()) {
        INFO(name);
        const std::vector<int> events = enc.encode(photong::performance_notes(photong::read_midi(kShared + name)));
        const std::vector<int> expected = want["events"].get<std::vector<int>>();
        CHECK(events == expected);
        for (std::size_t i = 0; i < std::min(events.size(), expected.size()); ++i)
            if (events[i] != expected[i]) {
                MESSAGE("first difference at event " << i << ": " << enc.describe(events[i]) << " vs " << enc.describe(expected[i]));
                break;
            }
        const auto controls = photong::performance_controls(enc, expected);
        const auto density = want["density"].get<std::vector<int>>();
        long density_mismatch = 0;
        for (std::size_t i = 0; i < density.size(); ++i) density_mismatch += controls[i].density != density[i];
        CHECK(density_mismatch == 0);
        const int stride = want["hist_stride"].get<int>();
        double worst = 0;
        for (std::size_t k = 0; k < want["hist"].size(); ++k)
            for (int c = 0; c < 12; ++c) worst = std::max(worst, std::fabs(controls[k * std::size_t(stride)].histogram[std::size_t(c)] - want["hist"][k][c].get<double>()));
        CHECK(worst <= 1e-6);
        MESSAGE(name << ": " << events.size() << " events, equal: " << (events == expected));
    }
}

TEST_CASE("performance events: round trips of real MIDI keep every onset within the time resolution and every velocity within a bin") {
    for (const std::string& rel : real_files()) {
        if (!photong_test::file_exists(kShared + rel)) continue;
        const std::vector<PerformanceNote> notes = photong::performance_notes(photong::read_midi(kShared + rel));
        for (const PerformanceEncoding& enc : {PerformanceEncoding::tan_antony(), PerformanceEncoding::magenta()}) {
            INFO(rel << " " << enc.name());
            std::vector<PerformanceNote> kept;
            for (const PerformanceNote& n : notes)
                if (enc.kind() == PerformanceEncoding::Kind::Magenta388 || (n.pitch >= 21 && n.pitch <= 108)) kept.push_back(n);
            const std::vector<PerformanceNote> back = enc.decode(enc.encode(kept));
            REQUIRE(back.size() == kept.size());
            // Match per pitch in onset order (quantising onsets keeps each pitch's notes in order; notes of different
            // pitches within one time step may swap places in the list).
            std::map<int, std::vector<const PerformanceNote*>> want, got;
            for (const auto& n : kept) want[n.pitch].push_back(&n);
            for (const auto& n : back) got[n.pitch].push_back(&n);
            double onset = 0;
            int velocity = 0;
            long pitch_mismatch = 0;
            for (auto& [pitch, list] : want) {
                auto& other = got[pitch];
                pitch_mismatch += long(list.size()) - long(other.size());
                auto by_onset = [](const PerformanceNote* x, const PerformanceNote* y) { return x->start_s < y->start_s; };
                std::stable_sort(list.begin(), list.end(), by_onset), std::stable_sort(other.begin(), other.end(), by_onset);
                for (std::size_t i = 0; i < std::min(list.size(), other.size()); ++i) {
                    onset = std::max(onset, std::fabs(list[i]->start_s - other[i]->start_s));
                    const bool tan = enc.kind() == PerformanceEncoding::Kind::TanAntony240;  // its velocities span 21..108
                    velocity = std::max(velocity, std::abs((tan ? std::clamp(list[i]->velocity, 21, 108) : list[i]->velocity) - other[i]->velocity));
                }
            }
            CHECK(pitch_mismatch == 0);
            const bool tan = enc.kind() == PerformanceEncoding::Kind::TanAntony240;
            CHECK(onset <= (tan ? PerformanceEncoding::tan_shift(0) : 0.005 + 1e-9));  // 15.4 ms / half a 10 ms step
            CHECK(velocity <= 3);  // a bin: Tan rounds up to the next of bins 88/31 apart (<= 2), Magenta down to a multiple of 4 (<= 3)
            MESSAGE(rel << " " << enc.name() << ": " << kept.size() << " notes, worst onset " << onset * 1e3 << " ms, worst velocity " << velocity);
        }
    }
}

TEST_CASE("performance controls: note density and pitch classes over the next 2 s, worked by hand") {
    const PerformanceEncoding enc = PerformanceEncoding::tan_antony();
    // Notes at 0 s (C4, E4, G4: a chord), then A4 at 2.5 s: at the start 3 notes within 2 s (density 0), C:E:G 1:1:1.
    std::vector<PerformanceNote> notes = {{60, 80, 0, 0.4}, {64, 80, 0, 0.4}, {67, 80, 0, 0.4}, {69, 80, 2.5, 3.0}};
    for (int k = 0; k < 5; ++k) notes.push_back({72 + k, 80, 3.0 + 0.1 * k, 3.05 + 0.1 * k});  // 5 more from 3.0 s: with A4, 6 in 2 s
    const std::vector<int> events = enc.encode(notes);
    const auto controls = photong::performance_controls(enc, events);
    CHECK(controls[0].density == 0);
    CHECK(controls[0].histogram[0] == doctest::Approx(1.0 / 3));
    CHECK(controls[0].histogram[4] == doctest::Approx(1.0 / 3));
    CHECK(controls[0].histogram[7] == doctest::Approx(1.0 / 3));
    const auto a4 = std::find(events.begin(), events.end(), 69 - 21) - events.begin();
    CHECK(controls[std::size_t(a4)].density == 1);  // 6 note-ons in [2.49 s, 4.49 s]: 4..6 -> class 1
    CHECK(controls.back().histogram[0] == doctest::Approx(1.0 / 12));  // the last event (a note_off): none ahead, uniform
}

TEST_CASE("performance_to_midi: chords, overlapping notes of one pitch, channel and program survive the SMF round trip") {
    const std::vector<PerformanceNote> notes = {{60, 90, 0.0, 1.0}, {64, 80, 0.0, 1.0}, {67, 70, 0.0, 1.0},  // a chord
                                                {72, 100, 1.0, 3.0}, {72, 50, 2.0, 2.5},                   // C5 struck again while sounding
                                                {48, 60, 0.5, 0.75}};
    const photong::MidiFile file = photong::performance_to_midi(notes, 40, 3);
    const photong::MidiFile back = photong::read_midi_bytes(photong::encode_midi(file).data(), photong::encode_midi(file).size());
    bool program = false;
    for (const auto& e : back.tracks.at(0).events) {
        if (e.kind == photong::MidiEventKind::program_change) program = e.channel == 3 && e.data1 == 40;
        if (e.kind == photong::MidiEventKind::note_on) CHECK(e.channel == 3);
    }
    CHECK(program);
    const std::vector<PerformanceNote> got = photong::performance_notes(back);
    REQUIRE(got.size() == 6);
    std::map<std::pair<int, int>, PerformanceNote> by;  // (pitch, velocity) -> note
    for (const auto& n : got) by[{n.pitch, n.velocity}] = n;
    CHECK(by.at({60, 90}).end_s == doctest::Approx(1.0).epsilon(1e-3));
    CHECK(by.at({67, 70}).start_s == doctest::Approx(0.0));
    CHECK(by.at({72, 100}).end_s == doctest::Approx(2.0).epsilon(1e-3));  // ended where the second C5 begins
    CHECK(by.at({72, 50}).start_s == doctest::Approx(2.0).epsilon(1e-3));
    CHECK(by.at({72, 50}).end_s == doctest::Approx(2.5).epsilon(1e-3));
    CHECK(by.at({48, 60}).start_s == doctest::Approx(0.5).epsilon(1e-3));
}
