// The symbolic-music metrics of Kundu et al. (photong/music/metrics.hpp): pitch entropy, polyphony
// rate and groove consistency on hand-made note lists, each expected value worked out by hand in the
// comments (MusPy is not packaged for Debian, so these hand values are the reference), plus the
// edge cases (no notes, MusPy's extra bar, drums, clipping to a window, huge step numbers, bad input).
#include <cmath>
#include <cstdint>
#include <vector>

#include <photong/music/metrics.hpp>

#include "test_util.hpp"

using photong::Note;

namespace {

Note N(int pitch, std::int64_t start, std::int64_t end, int channel = 0) {
    Note n;
    n.pitch = pitch, n.start_step = start, n.end_step = end, n.channel = channel;
    return n;
}

/// C4 D4 E4 F4 G4 A4 B4 C5 as quarter notes (4 steps each) from step 0: two 16-step bars.
std::vector<Note> c_major_scale() {
    const int pitches[8] = {60, 62, 64, 65, 67, 69, 71, 72};
    std::vector<Note> v;
    for (int i = 0; i < 8; ++i) v.push_back(N(pitches[i], 4 * i, 4 * i + 4));
    return v;
}

}  // namespace

TEST_CASE("pitch entropy - C major scale, repeated note, equal pitches") {
    // Scale: 8 distinct pitches once each, P = 1/8 each: H = -8 * (1/8) log2(1/8) = 3 bits.
    CHECK(photong::pitch_entropy(c_major_scale()) == doctest::Approx(3.0).epsilon(1e-15));
    // Pitch classes: C twice (P = 2/8), D E F G A B once (P = 1/8):
    // H = -(1/4) log2(1/4) - 6 (1/8) log2(1/8) = 0.5 + 6 * 0.375 = 2.75 bits.
    CHECK(photong::pitch_class_entropy(c_major_scale()) == doctest::Approx(2.75).epsilon(1e-15));
    // One pitch repeated: P = 1, H = 0 (exactly, not -0).
    std::vector<Note> same;
    for (int i = 0; i < 16; ++i) same.push_back(N(60, i, i + 1));
    CHECK(photong::pitch_entropy(same) == 0.0);
    CHECK(!std::signbit(photong::pitch_entropy(same)));
    // Octaves are different pitches but the same class: 60, 72 -> 1 bit and 0 bits.
    CHECK(photong::pitch_entropy({N(60, 0, 4), N(72, 4, 8)}) == doctest::Approx(1.0));
    CHECK(photong::pitch_class_entropy({N(60, 0, 4), N(72, 4, 8)}) == 0.0);
    // Counts are per note, not per step: 60 for 15 steps and 62 for 1 step is still 1 bit.
    CHECK(photong::pitch_entropy({N(60, 0, 15), N(62, 15, 16)}) == doctest::Approx(1.0));
    // 60, 60, 64: P = 2/3, 1/3: H = (2/3) log2(3/2) + (1/3) log2 3 = 0.918295834054490 bits.
    CHECK(photong::pitch_entropy({N(60, 0, 4), N(60, 4, 8), N(64, 8, 12)}) == doctest::Approx(0.918295834054490).epsilon(1e-14));
    // Drum-channel notes are skipped (MusPy skips drum tracks): only 60 counts.
    CHECK(photong::pitch_entropy({N(60, 0, 4), N(36, 0, 1, 9), N(38, 4, 5, 9)}) == 0.0);
}

TEST_CASE("polyphony rate - monophonic, chords, same pitch twice, leading silence") {
    // A monophonic scale: no step has two pitches: 0 / 32.
    CHECK(photong::polyphony_rate(c_major_scale()) == 0.0);
    // C E G on steps 0..7, a lone C5 on 8..11, C5 + E5 on 12..15; length 16.
    const std::vector<Note> chords = {N(60, 0, 8), N(64, 0, 8), N(67, 0, 8), N(72, 8, 16), N(76, 12, 16)};
    // >= 2 pitches: steps 0..7 (three) and 12..15 (two): (8 + 4) / 16 = 0.75.
    CHECK(photong::polyphony_rate(chords) == doctest::Approx(0.75).epsilon(1e-15));
    // >= 3 pitches (= muspy.polyphony_rate with threshold 2): steps 0..7: 8 / 16 = 0.5.
    CHECK(photong::polyphony_rate(chords, 0, 3) == doctest::Approx(0.5).epsilon(1e-15));
    // >= 4 pitches never: 0. >= 1 pitch: every step sounds: 1.
    CHECK(photong::polyphony_rate(chords, 0, 4) == 0.0);
    CHECK(photong::polyphony_rate(chords, 0, 1) == doctest::Approx(1.0));
    // Their pitch entropy: five distinct pitches once each: log2 5 = 2.321928094887362.
    CHECK(photong::pitch_entropy(chords) == doctest::Approx(2.321928094887362).epsilon(1e-14));
    // The same pitch twice at once counts once (a piano roll is boolean): 60 on 0..7 and 4..11.
    CHECK(photong::polyphony_rate({N(60, 0, 8), N(60, 4, 12)}) == 0.0);
    // Leading silence counts (the roll starts at step 0): a dyad on 8..15 -> 8 / 16 = 0.5.
    CHECK(photong::polyphony_rate({N(60, 8, 16), N(67, 8, 16)}) == doctest::Approx(0.5));
    // A drum note under a melody note is not a second pitch.
    CHECK(photong::polyphony_rate({N(60, 0, 16), N(36, 0, 16, 9)}) == 0.0);
    // ...but a drum note still sets the length (MusPy: the latest end over all tracks): dyad 0..7
    // and a drum note ending at 32 -> 8 / 32 = 0.25.
    CHECK(photong::polyphony_rate({N(60, 0, 8), N(64, 0, 8), N(36, 31, 32, 9)}) == doctest::Approx(0.25));
    // Touching notes (end == next start) do not overlap: 60 on 0..3, 64 on 4..7 -> 0.
    CHECK(photong::polyphony_rate({N(60, 0, 4), N(64, 4, 8)}) == 0.0);
}

TEST_CASE("polyphony rate - a fixed window clips and pads") {
    // A dyad on 0..31. Window 16 steps: all 16 polyphonic -> 1. Window 64: 32 / 64 = 0.5.
    const std::vector<Note> dyad = {N(60, 0, 32), N(64, 0, 32)};
    CHECK(photong::polyphony_rate(dyad) == doctest::Approx(1.0));
    CHECK(photong::polyphony_rate(dyad, 16) == doctest::Approx(1.0));
    CHECK(photong::polyphony_rate(dyad, 64) == doctest::Approx(0.5));
    // A note starting after the window is ignored: dyad 20..23 in a 16-step window -> 0.
    CHECK(photong::polyphony_rate({N(60, 20, 24), N(64, 20, 24)}, 16) == 0.0);
}

TEST_CASE("groove consistency - constant rhythm, MusPy's extra bar, alternating bars") {
    // Scale: bars 0 and 1 both have onsets {0, 4, 8, 12}. Length 32 -> MusPy's T = 32 / 16 + 1 = 3:
    // bar 2 is empty. d(0,1) = 0, d(1,2) = 4 positions. 1 - (0 + 4) / (16 * 2) = 0.875.
    CHECK(photong::groove_consistency(c_major_scale()) == doctest::Approx(0.875).epsilon(1e-15));
    // With T fixed to 2 bars: 1 - 0 / 16 = 1.
    CHECK(photong::groove_consistency(c_major_scale(), 16, 2) == 1.0);
    // Constant rhythm, changing pitches: eighth notes (onsets every 2 steps) over 4 bars: 1.
    std::vector<Note> eighths;
    for (int i = 0; i < 32; ++i) eighths.push_back(N(60 + i % 7, 2 * i, 2 * i + 2));
    CHECK(photong::groove_consistency(eighths, 16, 4) == 1.0);
    // Same with MusPy's T = 64 / 16 + 1 = 5: the last pair differs in 8 positions: 1 - 8 / 64 = 0.875.
    CHECK(photong::groove_consistency(eighths) == doctest::Approx(0.875));
    // A whole note repeated in 4 bars: onsets {0} each; MusPy's T = 5: d = 0, 0, 0, 1:
    // 1 - 1 / (16 * 4) = 0.984375. With T = 4: 1.
    std::vector<Note> whole;
    for (int b = 0; b < 4; ++b) whole.push_back(N(60, 16 * b, 16 * b + 16));
    CHECK(photong::groove_consistency(whole) == doctest::Approx(0.984375).epsilon(1e-15));
    CHECK(photong::groove_consistency(whole, 16, 4) == 1.0);
    CHECK(photong::pitch_entropy(whole) == 0.0);
    CHECK(photong::polyphony_rate(whole) == 0.0);
    // Alternating bars ABAB, A = quarters {0, 4, 8, 12}, B = halves {0, 8}: each d = 2 (positions 4
    // and 12), 3 pairs: 1 - 6 / (16 * 3) = 0.875.
    std::vector<Note> abab;
    for (int b = 0; b < 4; ++b) {
        const int step = b % 2 == 0 ? 4 : 8;
        for (int s = 0; s < 16; s += step) abab.push_back(N(62, 16 * b + s, 16 * b + s + step));
    }
    CHECK(photong::groove_consistency(abab, 16, 4) == doctest::Approx(0.875).epsilon(1e-15));
    // A = {0, 4, 8, 12}, B = {2, 6, 10, 14} (shifted by an eighth): each d = 8, 3 pairs:
    // 1 - 24 / 48 = 0.5.
    std::vector<Note> shifted;
    for (int b = 0; b < 4; ++b)
        for (int s = (b % 2) * 2; s < 16; s += 4) shifted.push_back(N(64, 16 * b + s, 16 * b + s + 2));
    CHECK(photong::groove_consistency(shifted, 16, 4) == doctest::Approx(0.5).epsilon(1e-15));
    // Chords: several notes on one onset are one onset. C E G at 0, C5 at 8, E5 at 12, length 16:
    // MusPy's T = 2, bar 0 = {0, 8, 12}, bar 1 empty: 1 - 3 / 16 = 0.8125.
    const std::vector<Note> chords = {N(60, 0, 8), N(64, 0, 8), N(67, 0, 8), N(72, 8, 16), N(76, 12, 16)};
    CHECK(photong::groove_consistency(chords) == doctest::Approx(0.8125).epsilon(1e-15));
    // Drum onsets count (MusPy does not skip drums here): melody onsets {0} in bars 0 and 1, a drum
    // onset at position 4 of bar 1 only: d = 1: 1 - 1 / 16 = 0.9375.
    CHECK(photong::groove_consistency({N(60, 0, 16), N(60, 16, 32), N(36, 20, 21, 9)}, 16, 2) == doctest::Approx(0.9375));
    // Another resolution: 12 steps per bar (3/4 in 16ths), bars {0, 6} and {0}: 1 - 1 / 12.
    CHECK(photong::groove_consistency({N(60, 0, 6), N(62, 6, 12), N(64, 12, 24)}, 12, 2) == doctest::Approx(1.0 - 1.0 / 12.0));
    // Onsets at or after a fixed window are ignored: bars 0 and 1 {0}, a note in bar 2 dropped.
    CHECK(photong::groove_consistency({N(60, 0, 16), N(60, 16, 32), N(60, 37, 40)}, 16, 2) == 1.0);
}

TEST_CASE("metrics - empty melody and other NaN cases") {
    const std::vector<Note> none;
    // MusPy's conventions: no note -> pitch entropy NaN; length 0 -> polyphony rate NaN; T =
    // 0 / 16 + 1 = 1 < 2 bars -> groove consistency NaN.
    CHECK(std::isnan(photong::pitch_entropy(none)));
    CHECK(std::isnan(photong::pitch_class_entropy(none)));
    CHECK(std::isnan(photong::polyphony_rate(none)));
    CHECK(std::isnan(photong::groove_consistency(none)));
    // With a fixed window an empty melody is well defined: no step polyphonic (0 / 256), all 16
    // bars alike (1).
    CHECK(photong::polyphony_rate(none, 256) == 0.0);
    CHECK(photong::groove_consistency(none, 16, 16) == 1.0);
    // A piece shorter than a bar: length 8 -> MusPy's T = 8 / 16 + 1 = 1 bar: NaN.
    CHECK(std::isnan(photong::groove_consistency({N(60, 0, 8)})));
    // One fixed bar: T - 1 = 0 pairs: NaN.
    CHECK(std::isnan(photong::groove_consistency(c_major_scale(), 16, 1)));
    // Only drums: no pitched note -> entropy NaN; polyphony 0 over the drums' length.
    CHECK(std::isnan(photong::pitch_entropy({N(36, 0, 4, 9)})));
    CHECK(photong::polyphony_rate({N(36, 0, 4, 9), N(38, 0, 4, 9)}) == 0.0);
    // A zero-length note at step 0: counted by pitch entropy, sounds nowhere, length 0 -> NaN rate.
    CHECK(photong::pitch_entropy({N(60, 0, 0)}) == 0.0);
    CHECK(std::isnan(photong::polyphony_rate({N(60, 0, 0)})));
}

TEST_CASE("symbolic_metrics - the three together on a 2-bar window") {
    // Scale with num_bars = 2: entropy 3, polyphony 0 / 32, groove 1.
    photong::MetricOptions opt;
    opt.num_bars = 2;
    const auto m = photong::symbolic_metrics(c_major_scale(), opt);
    CHECK(m.pitch_entropy == doctest::Approx(3.0));
    CHECK(m.polyphony_rate == 0.0);
    CHECK(m.groove_consistency == 1.0);
    // MusPy's lengths (num_bars = 0): groove 0.875 as above.
    const auto d = photong::symbolic_metrics(c_major_scale());
    CHECK(d.groove_consistency == doctest::Approx(0.875));
}

TEST_CASE("metrics - huge step numbers cost nothing") {
    // Onsets at step 0 and at 10^12 (= 16 * 62500000000, position 0): length 10^12 + 1,
    // T = 62500000001 bars; d = 1 for the pair (0, 1) and for (T-2, T-1): 1 - 2 / (16 * (T - 1)).
    const std::int64_t far = 1000000000000LL;
    const std::vector<Note> v = {N(60, 0, 1), N(62, far, far + 1)};
    CHECK(photong::groove_consistency(v) == doctest::Approx(1.0 - 2.0 / (16.0 * 62500000000.0)).epsilon(1e-15));
    CHECK(photong::polyphony_rate(v) == 0.0);
    // A dyad covering the whole length: rate 1.
    CHECK(photong::polyphony_rate({N(60, 0, far), N(64, 0, far)}) == 1.0);
}

TEST_CASE("metrics - invalid input throws") {
    CHECK_THROWS_AS(photong::pitch_entropy({N(128, 0, 1)}), photong::Error);
    CHECK_THROWS_AS(photong::pitch_entropy({N(-1, 0, 1)}), photong::Error);
    CHECK_THROWS_AS(photong::polyphony_rate({N(60, -1, 1)}), photong::Error);
    CHECK_THROWS_AS(photong::groove_consistency({N(60, 4, 2)}), photong::Error);
    CHECK_THROWS_AS(photong::groove_consistency(c_major_scale(), 0), photong::Error);
    CHECK_THROWS_AS(photong::groove_consistency(c_major_scale(), 16, -1), photong::Error);
    CHECK_THROWS_AS(photong::polyphony_rate(c_major_scale(), -5), photong::Error);
    CHECK_THROWS_AS(photong::polyphony_rate(c_major_scale(), 0, 0), photong::Error);
}

TEST_CASE("metrics: Kundu's Music Quality Loss reproduces every row of their Tables 1 and 2 from the metric columns") {
    struct Row { const char* model; double mql, polyphony, entropy, groove; };
    // Kundu et al., Table 1 (ablation, after 2 epochs) and Table 2 (VA loss, after 15 epochs), 4 decimals as printed.
    const Row rows[] = {{"LSTM_enc2 (baseline)", 1.9157, 0.0317, 0.1204, 0.9978}, {"Trans_enc3_dec3_VGG", 0.8216, 0.6975, 1.9974, 0.9995},
                        {"Trans_enc3_dec3_Inception", 0.8514, 0.6289, 1.3642, 0.9998}, {"Trans_enc4", 1.3368, 0.0905, 1.9931, 0.9997},
                        {"Trans_enc2_dec2", 2.0077, 0.0, 0.0, 0.9999}, {"Trans_enc3_dec3", 1.2853, 0.0087, 2.8137, 0.9997},
                        {"Trans_enc3_dec3_VA_Loss", 0.7061, 0.7818, 3.0932, 0.9998}};
    for (const Row& r : rows) {
        INFO(r.model);
        // The printed metrics are rounded to 1e-4; through the three ratios that moves the loss by at most ~2.5e-4.
        CHECK(std::fabs(photong::music_quality_loss(r.polyphony, r.entropy, r.groove) - r.mql) <= 3e-4);
    }
    CHECK(std::isnan(photong::music_quality_loss(std::nan(""), 1, 1)));
}

TEST_CASE("metrics: Kundu's metrics of a MIDI file as MusPy computes them (ticks, threshold 2, 4-tick measures), worked by hand") {
    // C4 E4 G4 on ticks [0, 8), D4 on [8, 12), a drum hit on channel 9 at [0, 2); 480 ticks per quarter.
    photong::MidiFile f;
    f.ticks_per_quarter = 480;
    photong::MidiTrack t;
    for (int p : {60, 64, 67}) t.events.push_back(photong::MidiEvent::note_on(0, 0, p, 90));
    t.events.push_back(photong::MidiEvent::note_on(0, 9, 36, 100));
    t.events.push_back(photong::MidiEvent::note_off(2, 9, 36));
    for (int p : {60, 64, 67}) t.events.push_back(photong::MidiEvent::note_off(8, 0, p));
    t.events.push_back(photong::MidiEvent::note_on(8, 0, 62, 90));
    t.events.push_back(photong::MidiEvent::note_on(12, 0, 62, 0));  // velocity 0: a note-off
    f.tracks.push_back(t);
    const photong::SymbolicMetrics m = photong::kundu_metrics(f);
    CHECK(m.polyphony_rate == doctest::Approx(8.0 / 12.0));  // ticks 0-7 hold 3 pitches (> 2), the drum is skipped; length 12
    CHECK(m.pitch_entropy == doctest::Approx(2.0));           // C, E, G, D once each
    CHECK(m.groove_consistency == doctest::Approx(0.75));     // 4 measures of 4 ticks: 1000 0000 1000 0000 -> 3 flips / 12
    CHECK(photong::music_quality_loss(m.polyphony_rate, m.pitch_entropy, m.groove_consistency) ==
          doctest::Approx((8.0 / 12 - 0.5302987662965006) / 0.5302987662965006 + (3.986320228665771 - 2) / 3.986320228665771 +
                          (0.9921825307541308 - 0.75) / 0.9921825307541308));
}
