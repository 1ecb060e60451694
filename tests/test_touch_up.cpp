// Photong's touch-up (photong/music/touch_up.hpp): each rule on hand-made melodies with the
// expected notes written out, the edge cases (empty bars, all rests, notes across bar lines, the
// pitch range edges), determinism, key signatures, the tempo formula, and the MIDI file read back
// by photong's reader and by mido (tests/reference/check_touch_up_mido.py).
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <photong/music/touch_up.hpp>

#include "test_util.hpp"

using photong::ChordQuality;
using photong::Key;
using photong::MidiEventKind;
using photong::Note;
using photong::TouchUpOptions;

namespace {

Note N(int pitch, std::int64_t start, std::int64_t end, int velocity = 100) {
    Note n;
    n.pitch = pitch, n.velocity = velocity, n.start_step = start, n.end_step = end;
    return n;
}

/// (pitch, start, end) of notes, for comparisons that ignore seconds and ticks.
struct PSE {
    int pitch;
    std::int64_t start, end;
    bool operator==(const PSE& o) const { return pitch == o.pitch && start == o.start && end == o.end; }
};
doctest::String toString(const PSE& p) {
    return (std::to_string(p.pitch) + "@" + std::to_string(p.start) + ".." + std::to_string(p.end)).c_str();
}
std::vector<PSE> pse(const std::vector<Note>& v) {
    std::vector<PSE> out;
    for (const Note& n : v) out.push_back({n.pitch, n.start_step, n.end_step});
    return out;
}

const std::string kMidoScript = photong_test::source("tests/reference/check_touch_up_mido.py");

}  // namespace

TEST_CASE("touch-up: tempo from arousal is the paper's formula") {
    CHECK(photong::tempo_from_arousal(0.0) == doctest::Approx(52.137308803398966).epsilon(1e-12));
    CHECK(photong::tempo_from_arousal(0.5) == 120.0);
    CHECK(photong::tempo_from_arousal(1.0) == doctest::Approx(187.86269119660105).epsilon(1e-12));
    CHECK(std::round(photong::tempo_from_arousal(0.0) * 100) / 100 == doctest::Approx(52.14));
    CHECK(std::round(photong::tempo_from_arousal(1.0) * 100) / 100 == doctest::Approx(187.86));
    // Symmetric about (0.5, 120) and increasing.
    CHECK(photong::tempo_from_arousal(0.3) + photong::tempo_from_arousal(0.7) == doctest::Approx(240.0));
    CHECK(photong::tempo_from_arousal(0.3) < photong::tempo_from_arousal(0.31));
    // Clamped to [0, 1]; NaN refused.
    CHECK(photong::tempo_from_arousal(-3.0) == photong::tempo_from_arousal(0.0));
    CHECK(photong::tempo_from_arousal(7.0) == photong::tempo_from_arousal(1.0));
    CHECK(photong::tempo_from_arousal(std::numeric_limits<double>::infinity()) == photong::tempo_from_arousal(1.0));
    CHECK_THROWS_AS(photong::tempo_from_arousal(std::nan("")), photong::Error);
    // MIDI tempo event values.
    CHECK(photong::tempo_microseconds(120.0) == 500000);
    CHECK(photong::tempo_microseconds(photong::tempo_from_arousal(0.0)) == 1150807);
    CHECK(photong::tempo_microseconds(photong::tempo_from_arousal(1.0)) == 319382);
    CHECK_THROWS_AS(photong::tempo_microseconds(0.0), photong::Error);
    CHECK_THROWS_AS(photong::tempo_microseconds(1.0), photong::Error);  // 6e7 us does not fit 24 bits
}

TEST_CASE("touch-up: major if valence is at least 0.5") {
    CHECK(photong::major_from_valence(0.5));
    CHECK(photong::major_from_valence(0.93));
    CHECK_FALSE(photong::major_from_valence(0.4999));
    CHECK_FALSE(photong::major_from_valence(0.0));
    CHECK_THROWS_AS(photong::major_from_valence(std::nan("")), photong::Error);
}

TEST_CASE("touch-up: rule 1 - the tonic is the first note and the scales are major and natural minor") {
    // The first note is the earliest, not the first in the vector; equal starts: the higher pitch.
    const std::vector<Note> m = {N(67, 4, 8), N(62, 0, 4), N(74, 8, 12)};
    CHECK(photong::first_note_index(m) == 1);
    CHECK(photong::key_from_notes(m, true) == Key{2, true});
    CHECK(photong::key_from_notes({N(57, 0, 4), N(64, 0, 4)}, false) == Key{4, false});
    CHECK(photong::key_from_notes({}, false) == Key{0, false});
    CHECK(photong::first_note_index({}) == -1);

    const Key d_major{2, true}, e_minor{4, false};
    std::vector<int> dia;
    for (int p = 60; p < 72; ++p)
        if (photong::is_diatonic(p, d_major)) dia.push_back(p);
    CHECK(dia == std::vector<int>{61, 62, 64, 66, 67, 69, 71});  // D E F# G A B C#
    dia.clear();
    for (int p = 60; p < 72; ++p)
        if (photong::is_diatonic(p, e_minor)) dia.push_back(p);
    CHECK(dia == std::vector<int>{60, 62, 64, 66, 67, 69, 71});  // E F# G A B C D
    CHECK(photong::scale_degree(59, e_minor) == 7);
    CHECK(photong::scale_degree(21, Key{11, true}) == 10);
}

TEST_CASE("touch-up: every non-diatonic pitch class has diatonic neighbours on both sides") {
    CHECK(photong::diatonic_neighbours_both_sides(true));
    CHECK(photong::diatonic_neighbours_both_sides(false));
    // Spelled out: the pitch classes outside each scale, relative to the tonic.
    for (bool major : {true, false}) {
        std::vector<int> outside;
        for (int d = 0; d < 12; ++d)
            if (!photong::is_diatonic(d, Key{0, major})) outside.push_back(d);
        CHECK(outside == (major ? std::vector<int>{1, 3, 6, 8, 10} : std::vector<int>{1, 4, 6, 9, 11}));
    }
}

TEST_CASE("touch-up: rule 2 - non-diatonic notes move one semitone by the seeded coin") {
    const Key c_major{0, true};
    // Seed 0 draws coins up, up, down, down (tests/reference/rng_reference.py: top bits 1 1 0 0 1 1);
    // the notes are visited in time order, not vector order.
    const std::vector<Note> m = {N(63, 8, 12), N(60, 0, 4), N(61, 4, 8), N(62, 12, 14), N(66, 14, 16), N(70, 16, 20)};
    photong::Rng rng(0);
    const std::vector<Note> out = photong::snap_to_scale(m, c_major, rng);
    // 61 (t=4) up -> 62, 63 (t=8) up -> 64, 66 (t=14) down -> 65, 70 (t=16) down -> 69; vector order kept.
    CHECK(pse(out) == std::vector<PSE>{{64, 8, 12}, {60, 0, 4}, {62, 4, 8}, {62, 12, 14}, {65, 14, 16}, {69, 16, 20}});
    // Exactly one coin per non-diatonic note: the generator has moved on by four draws.
    photong::Rng probe(0);
    for (int i = 0; i < 4; ++i) probe.coin();
    CHECK(rng.next_u64() == probe.next_u64());

    // Seed 2 draws down, up, down, up.
    photong::Rng rng2(2);
    CHECK(pse(photong::snap_to_scale(m, c_major, rng2)) == std::vector<PSE>{{64, 8, 12}, {60, 0, 4}, {60, 4, 8}, {62, 12, 14}, {65, 14, 16}, {71, 16, 20}});

    // A minor key: G# (non-diatonic in A minor) goes to G or A.
    for (std::uint64_t seed = 0; seed < 16; ++seed) {
        photong::Rng r(seed);
        const int p = photong::snap_to_scale({N(69, 0, 4), N(68, 4, 8)}, Key{9, false}, r)[1].pitch;
        CHECK((p == 67 || p == 69));
    }
    // Whatever the seed, every note ends up diatonic, one semitone at most from where it was.
    std::vector<Note> chromatic;
    for (int p = 48; p < 84; ++p) chromatic.push_back(N(p, 2 * (p - 48), 2 * (p - 48) + 2));
    for (bool major : {true, false})
        for (int tonic = 0; tonic < 12; ++tonic)
            for (std::uint64_t seed = 0; seed < 4; ++seed) {
                photong::Rng r(seed);
                const Key k{tonic, major};
                const std::vector<Note> s = photong::snap_to_scale(chromatic, k, r);
                for (std::size_t i = 0; i < s.size(); ++i) {
                    CHECK(photong::is_diatonic(s[i].pitch, k));
                    CHECK(std::abs(s[i].pitch - chromatic[i].pitch) <= 1);
                    if (photong::is_diatonic(chromatic[i].pitch, k)) CHECK(s[i].pitch == chromatic[i].pitch);
                }
            }
}

TEST_CASE("touch-up: rule 2 - at the pitch range edges the only direction in range is taken") {
    // 21 (A0) is outside C minor: it can only go up, to 22 (Bb0). 108 (C8) is outside D major:
    // only down, to 107 (B7). The coin is still drawn for them, so the next note moves as the
    // second coin says.
    for (std::uint64_t seed = 0; seed < 32; ++seed) {
        photong::Rng r(seed), probe(seed);
        probe.coin();
        const bool second_up = probe.coin();
        const std::vector<Note> lo = photong::snap_to_scale({N(60, 0, 4), N(21, 4, 8), N(61, 8, 12)}, Key{0, false}, r);
        CHECK(lo[1].pitch == 22);
        CHECK(lo[2].pitch == (second_up ? 62 : 60));
        photong::Rng r2(seed);
        const std::vector<Note> hi = photong::snap_to_scale({N(108, 0, 4), N(63, 4, 8)}, Key{2, true}, r2);
        CHECK(hi[0].pitch == 107);
        CHECK(hi[1].pitch == (second_up ? 64 : 62));
    }
    // A custom range: 61 outside C major with range 61..100 must go up.
    photong::Rng r(0);
    CHECK(photong::snap_to_scale({N(61, 0, 4)}, Key{0, true}, r, 61, 100)[0].pitch == 62);
    // Notes outside the range, and invalid notes, throw.
    photong::Rng r3(0);
    CHECK_THROWS_AS(photong::snap_to_scale({N(20, 0, 4)}, Key{0, true}, r3), photong::Error);
    CHECK_THROWS_AS(photong::snap_to_scale({N(109, 0, 4)}, Key{0, true}, r3), photong::Error);
    CHECK_THROWS_AS(photong::snap_to_scale({N(60, 4, 4)}, Key{0, true}, r3), photong::Error);
    CHECK_THROWS_AS(photong::snap_to_scale({N(60, 0, 4, 0)}, Key{0, true}, r3), photong::Error);
    CHECK_THROWS_AS(photong::touch_up({N(60, -1, 4)}, TouchUpOptions{}), photong::Error);
}

TEST_CASE("touch-up: rule 3 - one bar of the first note's pitch on the next bar line") {
    // Last note ends inside bar 0 -> the tonic note fills bar 1; first note's velocity is kept.
    CHECK(pse(photong::return_to_tonic({N(64, 4, 8), N(62, 0, 4, 90), N(67, 8, 13)})) ==
          std::vector<PSE>{{62, 0, 4}, {64, 4, 8}, {67, 8, 13}, {62, 16, 32}});
    CHECK(photong::return_to_tonic({N(62, 0, 4, 90), N(67, 8, 13)}).back().velocity == 90);
    // Ending exactly on a bar line: the tonic starts there. Added even when the melody ends on it.
    CHECK(pse(photong::return_to_tonic({N(60, 0, 16), N(60, 16, 32)})) == std::vector<PSE>{{60, 0, 16}, {60, 16, 32}, {60, 32, 48}});
    // The last-ending note decides, not the last-starting one; a 16-bar melody gets a 17th bar.
    CHECK(pse(photong::return_to_tonic({N(50, 0, 40), N(55, 8, 12)})) == std::vector<PSE>{{50, 0, 40}, {55, 8, 12}, {50, 48, 64}});
    CHECK(photong::return_to_tonic({N(70, 0, 4), N(72, 250, 256)}).back().start_step == 256);
    // Other bar lengths; no notes -> nothing added.
    CHECK(pse(photong::return_to_tonic({N(60, 0, 5)}, 12)) == std::vector<PSE>{{60, 0, 5}, {60, 12, 24}});
    CHECK(photong::return_to_tonic({}).empty());
    CHECK(photong::next_bar_line(0, 16) == 0);
    CHECK(photong::next_bar_line(17, 16) == 32);
}

TEST_CASE("touch-up: rule 4 - chord tables and voicings") {
    const ChordQuality M = ChordQuality::major, m = ChordQuality::minor, d = ChordQuality::diminished, x = ChordQuality::none;
    const std::vector<ChordQuality> major_key = {M, x, m, x, m, M, x, M, x, m, x, d};
    const std::vector<ChordQuality> minor_key = {m, x, d, M, x, m, x, m, M, x, M, x};
    for (int deg = 0; deg < 12; ++deg) {
        CAPTURE(deg);
        CHECK(photong::chord_quality(deg, true) == major_key[std::size_t(deg)]);
        CHECK(photong::chord_quality(deg, false) == minor_key[std::size_t(deg)]);
        // Every degree of the scale has a chord, and only those.
        CHECK((photong::chord_quality(deg, true) != x) == photong::is_diatonic(deg, Key{0, true}));
        CHECK((photong::chord_quality(deg, false) != x) == photong::is_diatonic(deg, Key{0, false}));
    }
    CHECK(photong::chord_voicing(M) == std::array<int, 4>{0, 4, 7, 12});
    CHECK(photong::chord_voicing(m) == std::array<int, 4>{0, 3, 7, 12});
    CHECK(photong::chord_voicing(d) == std::array<int, 4>{0, 3, 6, 12});
    CHECK_THROWS_AS(photong::chord_voicing(x), photong::Error);
    CHECK(photong::chord_root(60) == 36);
    CHECK(photong::chord_root(45) == 21);
    CHECK(photong::chord_root(44) == 32);  // 20 is below 21: up an octave
    CHECK(photong::chord_root(30) == 30);  // 6 -> 18 -> 30
    CHECK(photong::chord_root(108) == 84);
}

TEST_CASE("touch-up: rule 4 - one chord per bar on the first note starting in it") {
    const Key c_major{0, true};
    // bar 0: C then E; bar 1: a rest, then G from step 20 held across into bar 2; bar 2: nothing
    // starts (only the held G sounds) -> no chord; bar 3: D; bar 4: empty -> no chord.
    const std::vector<Note> m = {N(64, 4, 8), N(60, 0, 4), N(67, 20, 40), N(62, 48, 52), N(65, 52, 56)};
    const std::vector<Note> ch = photong::bar_chords(m, c_major);
    CHECK(pse(ch) == std::vector<PSE>{
                         {36, 0, 16}, {40, 0, 16}, {43, 0, 16}, {48, 0, 16},      // C major (I) two octaves below C4
                         {43, 20, 32}, {47, 20, 32}, {50, 20, 32}, {55, 20, 32},  // G major (V), from the note to the bar line
                         {38, 48, 64}, {41, 48, 64}, {45, 48, 64}, {50, 48, 64},  // D minor (ii)
                     });
    for (const Note& n : ch) {
        CHECK(n.channel == 1);
        CHECK(n.velocity == 100);
    }
    // Minor key: A minor -> i, ii° (B), III (C), and a diminished chord on the vii of a major key.
    CHECK(pse(photong::bar_chords({N(69, 0, 4), N(71, 16, 20), N(72, 32, 36)}, Key{9, false})) ==
          std::vector<PSE>{{45, 0, 16}, {48, 0, 16}, {52, 0, 16}, {57, 0, 16},
                           {47, 16, 32}, {50, 16, 32}, {53, 16, 32}, {59, 16, 32},
                           {48, 32, 48}, {52, 32, 48}, {55, 32, 48}, {60, 32, 48}});
    CHECK(pse(photong::bar_chords({N(71, 0, 4)}, c_major)) == std::vector<PSE>{{47, 0, 16}, {50, 0, 16}, {53, 0, 16}, {59, 0, 16}});
    // A non-diatonic first note (bar_chords called on its own) gives no chord for its bar.
    CHECK(photong::bar_chords({N(61, 0, 4), N(62, 4, 8)}, c_major).empty());
    // Low notes: E2 (40) in C major is iii, root 16 -> 28; A0 (21) as a tonic in A minor -> root 21.
    CHECK(pse(photong::bar_chords({N(40, 0, 4)}, c_major)) == std::vector<PSE>{{28, 0, 16}, {31, 0, 16}, {35, 0, 16}, {40, 0, 16}});
    CHECK(pse(photong::bar_chords({N(21, 0, 4)}, Key{9, false})) == std::vector<PSE>{{21, 0, 16}, {24, 0, 16}, {28, 0, 16}, {33, 0, 16}});
    CHECK(photong::bar_chords({}, c_major).empty());
}

TEST_CASE("touch-up: key signatures") {
    struct Case {
        Key key;
        int sf;
    };
    const Case cases[] = {
        {{0, true}, 0},   {{7, true}, 1},   {{2, true}, 2},    {{9, true}, 3},   {{4, true}, 4},   {{11, true}, 5},
        {{6, true}, 6},   {{1, true}, -5},  {{8, true}, -4},   {{3, true}, -3},  {{10, true}, -2}, {{5, true}, -1},
        {{9, false}, 0},  {{4, false}, 1},  {{11, false}, 2},  {{6, false}, 3},  {{1, false}, 4},  {{8, false}, 5},
        {{3, false}, 6},  {{10, false}, -5}, {{5, false}, -4}, {{0, false}, -3}, {{7, false}, -2}, {{2, false}, -1},
    };
    for (const Case& c : cases) {
        CAPTURE(c.key.tonic_pitch_class);
        CAPTURE(c.key.major);
        CHECK(photong::key_signature_sharps(c.key) == c.sf);
    }
}

TEST_CASE("touch-up: the whole pipeline on a hand-made melody") {
    // C4 C#4 D#4 F#4 G4(held across bar 1 -> 2) | bar 2 empty | A#4 B4. Valence 0.8 -> C major.
    const std::vector<Note> m = {N(60, 0, 4), N(61, 4, 8), N(63, 8, 16), N(66, 16, 24), N(67, 24, 40), N(70, 52, 56), N(71, 56, 60)};
    TouchUpOptions o;
    o.valence = 0.8, o.arousal = 0.5, o.seed = 0;  // coins up, up, down, down
    const photong::TouchedUpMelody t = photong::touch_up(m, o);
    CHECK(t.key == Key{0, true});
    CHECK(t.bpm == 120.0);
    CHECK(pse(t.melody) == std::vector<PSE>{{60, 0, 4}, {62, 4, 8}, {64, 8, 16}, {65, 16, 24}, {67, 24, 40}, {69, 52, 56}, {71, 56, 60}, {60, 64, 80}});
    CHECK(pse(t.chords) == std::vector<PSE>{
                               {36, 0, 16}, {40, 0, 16}, {43, 0, 16}, {48, 0, 16},     // bar 0: C (I)
                               {41, 16, 32}, {45, 16, 32}, {48, 16, 32}, {53, 16, 32}, // bar 1: F (IV)
                               {45, 52, 64}, {48, 52, 64}, {52, 52, 64}, {57, 52, 64}, // bar 3: A minor (vi), from step 52
                               {36, 64, 80}, {40, 64, 80}, {43, 64, 80}, {48, 64, 80}, // bar 4: the return, C (I)
                           });
    // Seconds at 120 BPM: 0.125 s per step; ticks at 480 per quarter: 120 per step.
    CHECK(t.melody[1].start_s == 0.5);
    CHECK(t.melody.back().end_s == 10.0);
    CHECK(t.melody.back().end_tick == 9600);
    for (const Note& n : t.melody) CHECK(n.channel == 0);

    // Determinism, and another seed (down, up, down, up) gives another melody.
    CHECK(pse(photong::touch_up(m, o).melody) == pse(t.melody));
    o.seed = 2;
    const photong::TouchedUpMelody t2 = photong::touch_up(m, o);
    CHECK(pse(t2.melody) == std::vector<PSE>{{60, 0, 4}, {60, 4, 8}, {64, 8, 16}, {65, 16, 24}, {67, 24, 40}, {71, 52, 56}, {71, 56, 60}, {60, 64, 80}});
    // Bar 3 now starts on B: the diminished vii chord.
    CHECK(pse(t2.chords)[8] == PSE{47, 52, 64});
    CHECK(pse(t2.chords)[10] == PSE{53, 52, 64});

    // Minor (valence below 0.5) and a slow tempo: times scale by 120 / T.
    o.valence = 0.2, o.arousal = 0.0, o.seed = 0;
    const photong::TouchedUpMelody t3 = photong::touch_up(m, o);
    CHECK(t3.key == Key{0, false});
    CHECK(t3.bpm == doctest::Approx(52.137308803398966));
    CHECK(t3.melody.back().end_s == doctest::Approx(10.0 * 120.0 / t3.bpm));
    // C minor {C D Eb F G Ab Bb}: D# (Eb) and A# (Bb) are diatonic now; the coins (up, up, down)
    // go to C# -> D, F# -> G, B -> Bb.
    CHECK(pse(t3.melody) == std::vector<PSE>{{60, 0, 4}, {62, 4, 8}, {63, 8, 16}, {67, 16, 24}, {67, 24, 40}, {70, 52, 56}, {70, 56, 60}, {60, 64, 80}});

    // Many random choices: seeds give different melodies, the same seed the same one.
    std::vector<Note> chromatic;
    for (int p = 60; p < 84; ++p) chromatic.push_back(N(p, 4 * (p - 60), 4 * (p - 60) + 4));
    TouchUpOptions oc;
    oc.seed = 11;
    const auto a = pse(photong::touch_up(chromatic, oc).melody);
    CHECK(a == pse(photong::touch_up(chromatic, oc).melody));
    oc.seed = 12;
    CHECK(a != pse(photong::touch_up(chromatic, oc).melody));
}

TEST_CASE("touch-up: a melody of rests only comes back empty, with no chords") {
    TouchUpOptions o;
    o.valence = 0.1, o.arousal = 1.0;
    const photong::TouchedUpMelody t = photong::touch_up({}, o);
    CHECK(t.melody.empty());
    CHECK(t.chords.empty());
    CHECK(t.key == Key{0, false});
    CHECK(t.bpm == doctest::Approx(187.86269119660105));
    // From the decoder's classes: 256 holds (and note offs) are silence.
    std::vector<int> classes(256, photong::kHold);
    classes[3] = photong::kNoteOff;
    const photong::TouchedUpMelody tc = photong::touch_up_classes(classes, o);
    CHECK(tc.melody.empty());
    CHECK(tc.chords.empty());
    // The file has the tempo and time signature but no key signature, and empty note tracks.
    const photong::MidiFile f = photong::to_midi(t);
    REQUIRE(f.tracks.size() == 3);
    int keysigs = 0;
    for (const auto& e : f.tracks[0].events) keysigs += e.kind == MidiEventKind::key_signature;
    CHECK(keysigs == 0);
    CHECK(f.tracks[1].events.empty());
    CHECK(f.tracks[2].events.empty());
    const std::string path = photong_test::temp_path("touch_up_empty.mid");
    photong::write_midi(f, path);
    const std::string cmd = "/usr/bin/python3 " + kMidoScript + " " + path + " 187.86269119660105 - 0 0";
    CHECK_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

TEST_CASE("touch-up: decoder classes in, pitches near the range edges") {
    // Classes 2..89 are pitches 21..108. A0 (class 2) first: A minor/major tonic at the bottom.
    // Melody: A0, A#0 (class 3), C8 (class 89): in A major A#0 moves to A0 or B0, C8 is outside
    // A major (degree 3) and may only go down... it is 108, and 107 (B7) is diatonic: so down.
    std::vector<int> classes(32, photong::kHold);
    classes[0] = 2, classes[4] = 3, classes[8] = 89, classes[12] = photong::kNoteOff;
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
        TouchUpOptions o;
        o.valence = 0.9, o.seed = seed;
        const photong::TouchedUpMelody t = photong::touch_up_classes(classes, o);
        CHECK(t.key == Key{9, true});
        REQUIRE(t.melody.size() == 4);
        CHECK((t.melody[1].pitch == 21 || t.melody[1].pitch == 23));
        CHECK(t.melody[2].pitch == 107);
        CHECK(t.melody[3].pitch == 21);
        CHECK(t.melody[3].start_step == 16);
        // Bar 0's chord on A0: A major with its root moved up to 21 (21 25 28 33); bar 1's on the returned A0.
        CHECK(pse(t.chords) == std::vector<PSE>{{21, 0, 16}, {25, 0, 16}, {28, 0, 16}, {33, 0, 16}, {21, 16, 32}, {25, 16, 32}, {28, 16, 32}, {33, 16, 32}});
        for (const Note& n : t.chords) CHECK(n.velocity == 100);
    }
    // A melody at the top: B7 (107) tonic, B major; its chord two octaves below: 83 (B5).
    std::vector<int> top(16, photong::kHold);
    top[0] = 88;
    TouchUpOptions o;
    const photong::TouchedUpMelody t = photong::touch_up_classes(top, o);
    CHECK(pse(t.chords)[0] == PSE{83, 0, 16});
    CHECK(pse(t.chords)[3] == PSE{95, 0, 16});
}

TEST_CASE("touch-up: the MIDI file, read back by photong and by mido") {
    const std::vector<Note> m = {N(64, 0, 4), N(66, 4, 8), N(68, 8, 20), N(71, 20, 24), N(70, 24, 40)};
    struct Case {
        double valence, arousal;
        int sf;
        bool minor;
        const char* mido_key;
    };
    // E major: 4 sharps; E minor: 1 sharp; mido spells them "E", "Em".
    const Case cases[] = {{0.7, 0.0, 4, false, "E"}, {0.3, 1.0, 1, true, "Em"}, {0.5, 0.5, 4, false, "E"}};
    for (const Case& c : cases) {
        TouchUpOptions o;
        o.valence = c.valence, o.arousal = c.arousal, o.seed = 5;
        const photong::TouchedUpMelody t = photong::touch_up(m, o);
        const photong::MidiFile f = photong::to_midi(t);
        const std::string path = photong_test::temp_path("touch_up.mid");
        photong::write_midi(f, path);
        // Deterministic bytes.
        CHECK(photong::encode_midi(photong::to_midi(photong::touch_up(m, o)), path) == photong::encode_midi(f, path));

        const photong::MidiFile back = photong::read_midi(path);
        CHECK(back.format == 1);
        CHECK(back.ticks_per_quarter == 480);
        REQUIRE(back.tracks.size() == 3);
        CHECK(back.tracks[1].name == "melody");
        CHECK(back.tracks[2].name == "chords");
        int tempo = 0, sf = 99, mi = -1, num = 0, den = 0;
        for (const auto& e : back.tracks[0].events) {
            CHECK(e.tick == 0);
            if (e.kind == MidiEventKind::tempo) tempo = e.value;
            if (e.kind == MidiEventKind::key_signature) sf = e.data1, mi = e.data2;
            if (e.kind == MidiEventKind::time_signature) num = e.data1, den = e.data2;
        }
        CHECK(60e6 / tempo == doctest::Approx(photong::tempo_from_arousal(c.arousal)).epsilon(1e-6));
        CHECK(sf == c.sf);
        CHECK(mi == (c.minor ? 1 : 0));
        CHECK(num == 4);
        CHECK(den == 2);
        // The notes come back with their pitches, ticks and seconds at the tempo T.
        const std::vector<Note> mel = photong::notes_from_track(back, 1);
        const std::vector<Note> chords = photong::notes_from_track(back, 2);
        REQUIRE(mel.size() == t.melody.size());
        REQUIRE(chords.size() == t.chords.size());
        for (std::size_t i = 0; i < mel.size(); ++i) {
            CHECK(mel[i].pitch == t.melody[i].pitch);
            CHECK(mel[i].channel == 0);
            CHECK(mel[i].start_tick == std::uint64_t(t.melody[i].start_step) * 120);
            CHECK(mel[i].end_tick == t.melody[i].end_tick);
            CHECK(mel[i].start_s == doctest::Approx(t.melody[i].start_s).epsilon(1e-6));
            CHECK(mel[i].end_s == doctest::Approx(t.melody[i].end_step * 15.0 / t.bpm).epsilon(1e-6));
        }
        for (const Note& n : chords) CHECK(n.channel == 1);
        const std::string cmd = "/usr/bin/python3 " + kMidoScript + " " + path + " " + std::to_string(60e6 / tempo) + " " + c.mido_key + " " +
                                std::to_string(t.melody.size()) + " " + std::to_string(t.chords.size());
        CHECK_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
    }
    // F minor -> 4 flats, F# major -> 6 sharps, through the file.
    struct KeyCase {
        int pitch;
        double valence;
        int sf;
    };
    for (const KeyCase& k : {KeyCase{65, 0.1, -4}, KeyCase{66, 0.9, 6}, KeyCase{61, 0.9, -5}}) {
        TouchUpOptions o;
        o.valence = k.valence;
        const int sf = k.sf;
        const photong::MidiFile f = photong::to_midi(photong::touch_up({N(k.pitch, 0, 4)}, o));
        const std::string path = photong_test::temp_path("touch_up_key.mid");
        photong::write_midi(f, path);
        int got = 99;
        // Bound to a name: in `for (e : read_midi(path).tracks[0].events)` the file would die before
        // the loop runs (a range-for extends only the outermost temporary; ASan caught it).
        const photong::MidiFile back = photong::read_midi(path);
        for (const auto& e : back.tracks[0].events)
            if (e.kind == MidiEventKind::key_signature) got = e.data1;
        CHECK(got == sf);
    }
}
