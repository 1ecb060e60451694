// photong/music/piano_roll.hpp — a melody and its chords drawn as a piano roll (an RGB image).
//
// Time runs left to right, one column block per quantized step; pitch runs bottom to top, one row
// block per semitone, over the notes' range padded by two semitones (at least an octave is shown).
// Rows of black keys are shaded, bar lines are dark and beat lines light, chord notes are blue and
// melody notes orange with a darker first column, so that repeated notes of one pitch stay apart.
// Write it with photong::write_png (image/encode_png.hpp).
//
// labelled_piano_roll() puts the roll on a canvas a musician can read: a title (the picture, tempo and
// key), the octave of every C on the left, bar numbers on top and a legend below, with text from
// image/text.hpp (DejaVu Sans through stb_truetype). Rows are at least 8 pixels there, so that 16 bars
// of notes stay readable.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/text.hpp"
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

/// The pitch rows (hi at the top) and whole bars a roll of these notes covers.
struct Layout {
    int lo = 60, hi = 71;
    std::int64_t bars = 1;
};

inline Layout layout(const std::vector<Note>& melody, const std::vector<Note>& chords, int steps_per_bar) {
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
    return {lo, hi, std::max<std::int64_t>(1, (end + steps_per_bar - 1) / steps_per_bar)};
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
    const Layout L = layout(melody, chords, steps_per_bar);
    const int lo = L.lo, hi = L.hi;
    const std::int64_t bars = L.bars;
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

/// What labelled_piano_roll writes around the roll.
struct PianoRollLabels {
    std::string title;          ///< e.g. "chelsea.png - 54 BPM, A major"
    int text_px = 13;           ///< text height in pixels
    const TextRenderer* text = nullptr;  ///< the renderer (default: one with TextRenderer::find_font(), made once)
};

/// Geometry of a labelled roll, for callers and tests: where the roll sits and where each label went.
struct LabelledRollGeometry {
    int roll_left = 0, roll_top = 0, roll_width = 0, roll_height = 0;
    int lo = 0, hi = 0, pitch_px = 0, bar_px = 0;
    std::int64_t bars = 0;
    int title_top = 0, bar_numbers_top = 0, legend_top = 0;
};

/// The piano roll with a title, pitch names (every C, with its octave: C4 = MIDI 60), bar numbers and a legend.
inline Image labelled_piano_roll(const std::vector<Note>& melody, const std::vector<Note>& chords, int steps_per_bar,
                                 const PianoRollLabels& labels = {}, PianoRollStyle style = {}, LabelledRollGeometry* geometry = nullptr) {
    using namespace piano_roll_detail;
    require(labels.text_px >= 6 && labels.text_px <= 200, "piano-roll text size out of range", {"", "PianoRollLabels::text_px", "6..200", std::to_string(labels.text_px)});
    style.pitch_px = std::max(style.pitch_px, 8);  // readable rows for 16 bars
    const Image roll = piano_roll(melody, chords, steps_per_bar, style);
    const Layout L = layout(melody, chords, steps_per_bar);
    static const TextRenderer default_text;
    const TextRenderer& text = labels.text ? *labels.text : default_text;
    const int px = labels.text_px, gap = std::max(3, px / 3);
    int label_w = 0;
    for (int p = L.lo; p <= L.hi; ++p)
        if (p % 12 == 0) label_w = std::max(label_w, text.measure("C" + std::to_string(p / 12 - 1), px).width);
    const int line = text.measure("Cg", px).height;
    LabelledRollGeometry g;
    g.roll_left = label_w + 2 * gap + 4;
    g.title_top = gap;
    g.bar_numbers_top = g.title_top + line + gap;
    g.roll_top = g.bar_numbers_top + line + 2;
    g.roll_width = roll.width, g.roll_height = roll.height;
    g.legend_top = g.roll_top + roll.height + gap;
    g.lo = L.lo, g.hi = L.hi, g.pitch_px = style.pitch_px, g.bar_px = steps_per_bar * style.step_px, g.bars = L.bars;
    const int legend_w = 2 * (px + gap) + text.measure("melody", px).width + text.measure("chords", px).width + 3 * gap;
    const std::int64_t w = std::max<std::int64_t>(std::int64_t(g.roll_left) + roll.width + gap,
                                                  std::max(g.roll_left + legend_w, g.roll_left + text.measure(labels.title, px).width + gap));
    const std::int64_t h = std::int64_t(g.legend_top) + line + gap;
    require(w * h <= PianoRollStyle::kMaxPixels, "the piano roll would be too large",
            {"", "piano_roll", "at most " + std::to_string(PianoRollStyle::kMaxPixels) + " pixels", std::to_string(w) + "x" + std::to_string(h)});
    Image img;
    img.width = int(w), img.height = int(h);
    img.rgb.assign(std::size_t(w * h * 3), 255);
    auto fill = [&](int x0, int x1, int y0, int y1, Rgb c) {
        for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y)
            for (int x = std::max(0, x0); x < std::min(img.width, x1); ++x) {
                std::uint8_t* p = &img.rgb[(std::size_t(y) * std::size_t(img.width) + std::size_t(x)) * 3];
                p[0] = c.r, p[1] = c.g, p[2] = c.b;
            }
    };
    for (int y = 0; y < roll.height; ++y)
        std::copy_n(&roll.rgb[std::size_t(y) * std::size_t(roll.width) * 3], std::size_t(roll.width) * 3,
                    &img.rgb[((std::size_t(g.roll_top) + std::size_t(y)) * std::size_t(img.width) + std::size_t(g.roll_left)) * 3]);
    const TextColour ink{40, 40, 40}, soft{90, 90, 90};
    text.draw(img, g.roll_left, g.title_top, labels.title, px, ink);
    for (std::int64_t b = 0; b < L.bars; ++b)
        text.draw(img, g.roll_left + int(b) * g.bar_px + 2, g.bar_numbers_top, std::to_string(b + 1), px, soft);
    for (int p = L.lo; p <= L.hi; ++p) {
        if (p % 12 != 0) continue;
        const std::string name = "C" + std::to_string(p / 12 - 1);
        const int row_mid = g.roll_top + (L.hi - p) * style.pitch_px + style.pitch_px / 2;
        text.draw(img, g.roll_left - gap - 4 - text.measure(name, px).width, row_mid - line / 2, name, px, ink);
        fill(g.roll_left - 4, g.roll_left, row_mid, row_mid + 1, kBarLine);  // a tick to the row
    }
    int x = g.roll_left;
    for (const auto& item : {std::pair<Rgb, const char*>{kMelody, "melody"}, std::pair<Rgb, const char*>{kChord, "chords"}}) {
        fill(x, x + px, g.legend_top + line / 2 - px / 3, g.legend_top + line / 2 + px / 3, item.first);
        x += px + gap;
        text.draw(img, x, g.legend_top, item.second, px, ink);
        x += text.measure(item.second, px).width + 2 * gap;
    }
    if (geometry) *geometry = g;
    return img;
}

}  // namespace photong
