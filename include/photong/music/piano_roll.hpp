// photong/music/piano_roll.hpp — a melody and its chords drawn as a piano roll (an RGB image).
//
// Time runs left to right, one column block per quantized step; pitch runs bottom to top, one row
// block per semitone, over the notes' range padded by two semitones (at least an octave is shown).
// Rows of black keys are shaded, bar lines are dark and beat lines light, chord notes are blue and
// melody notes orange with a darker first column, so that repeated notes of one pitch stay apart.
// Write it with photong::write_png (image/encode_png.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/image/decode.hpp"
#include "photong/music/melody.hpp"

namespace photong {

struct PianoRollStyle {
    int step_px = 4;            ///< pixels per step (a 16th note at 4 steps per quarter)
    int pitch_px = 6;           ///< pixels per semitone
    int steps_per_beat = 4;     ///< for the light beat lines
    static constexpr std::int64_t kMaxPixels = 64LL << 20;  ///< refuses rolls over 64 Mpixel
};

namespace piano_roll_detail {
struct Rgb { std::uint8_t r, g, b; };
constexpr Rgb kBackground{250, 250, 250}, kBlackKeyRow{232, 232, 236}, kBeatLine{214, 214, 214}, kBarLine{110, 110, 110},
    kMelody{236, 120, 32}, kMelodyOnset{150, 62, 0}, kChord{70, 120, 200}, kChordOnset{30, 60, 130};

inline bool black_key(int pitch) {
    const int pc = ((pitch % 12) + 12) % 12;
    return pc == 1 || pc == 3 || pc == 6 || pc == 8 || pc == 10;
}
}  // namespace piano_roll_detail

/// Draws `melody` over `chords` (either may be empty; steps from Note::start_step/end_step) with bars of
/// `steps_per_bar` steps; the roll covers whole bars up to the last note's end (at least one bar).
inline Image piano_roll(const std::vector<Note>& melody, const std::vector<Note>& chords, int steps_per_bar,
                        const PianoRollStyle& style = {}) {
    using namespace piano_roll_detail;
    require(steps_per_bar > 0 && style.step_px > 0 && style.pitch_px > 0 && style.steps_per_beat > 0, "bad piano-roll geometry",
            {"", "piano_roll", "steps_per_bar, step_px, pitch_px, steps_per_beat > 0",
             std::to_string(steps_per_bar) + ", " + std::to_string(style.step_px) + ", " + std::to_string(style.pitch_px) + ", " +
                 std::to_string(style.steps_per_beat)});
    int lo = 127, hi = 0;
    std::int64_t end = 0;
    for (const auto* list : {&melody, &chords})
        for (const Note& n : *list) {
            require(n.pitch >= 0 && n.pitch <= 127 && n.start_step >= 0 && n.end_step >= n.start_step, "a note cannot be drawn",
                    {"", "piano_roll", "pitch 0..127, 0 <= start_step <= end_step",
                     "pitch " + std::to_string(n.pitch) + ", steps " + std::to_string(n.start_step) + ".." + std::to_string(n.end_step)});
            lo = std::min(lo, n.pitch), hi = std::max(hi, n.pitch), end = std::max(end, n.end_step);
        }
    if (lo > hi) lo = 60, hi = 71;  // nothing to draw: one empty octave from middle C
    lo = std::max(0, lo - 2), hi = std::min(127, hi + 2);
    while (hi - lo < 11) (lo > 0 ? --lo : ++hi);
    const std::int64_t bars = std::max<std::int64_t>(1, (end + steps_per_bar - 1) / steps_per_bar);
    const std::int64_t steps = bars * steps_per_bar, rows = hi - lo + 1;
    const std::int64_t w = steps * style.step_px, h = rows * style.pitch_px;
    require(w * h <= PianoRollStyle::kMaxPixels, "the piano roll would be too large",
            {"", "piano_roll", "at most " + std::to_string(PianoRollStyle::kMaxPixels) + " pixels", std::to_string(w) + "x" + std::to_string(h)});

    Image img;
    img.width = int(w), img.height = int(h);
    img.rgb.resize(std::size_t(w * h * 3));
    auto fill = [&](std::int64_t x0, std::int64_t x1, std::int64_t y0, std::int64_t y1, Rgb c) {
        for (std::int64_t y = std::max<std::int64_t>(0, y0); y < std::min(h, y1); ++y)
            for (std::int64_t x = std::max<std::int64_t>(0, x0); x < std::min(w, x1); ++x) {
                std::uint8_t* p = &img.rgb[std::size_t((y * w + x) * 3)];
                p[0] = c.r, p[1] = c.g, p[2] = c.b;
            }
    };
    auto row_top = [&](int pitch) { return std::int64_t(hi - pitch) * style.pitch_px; };
    fill(0, w, 0, h, kBackground);
    for (int p = lo; p <= hi; ++p)
        if (black_key(p)) fill(0, w, row_top(p), row_top(p) + style.pitch_px, kBlackKeyRow);
    for (std::int64_t s = 0; s < steps; s += style.steps_per_beat) fill(s * style.step_px, s * style.step_px + 1, 0, h, kBeatLine);
    for (std::int64_t b = 0; b <= bars; ++b) {
        const std::int64_t x = std::min(w - 1, b * steps_per_bar * style.step_px);
        fill(x, x + 1, 0, h, kBarLine);
    }
    auto draw = [&](const std::vector<Note>& notes, Rgb body, Rgb onset) {
        for (const Note& n : notes) {
            const std::int64_t x0 = n.start_step * style.step_px, x1 = std::max(n.end_step * style.step_px, x0 + 1);
            const std::int64_t y0 = row_top(n.pitch) + (style.pitch_px > 2 ? 1 : 0), y1 = row_top(n.pitch) + style.pitch_px;
            fill(x0, x1, y0, y1, body);
            fill(x0, x0 + 1, y0, y1, onset);
        }
    };
    draw(chords, kChord, kChordOnset);
    draw(melody, kMelody, kMelodyOnset);  // on top: the melody is what the picture is about
    return img;
}

}  // namespace photong
