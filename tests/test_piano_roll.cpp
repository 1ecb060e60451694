// Piano roll drawing and PNG encoding: pixels where notes are, geometry, limits, and the PNG read back
// by stb_image (the decoder photong already trusts for input).
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "photong/image/decode.hpp"
#include "photong/image/encode_png.hpp"
#include "photong/music/piano_roll.hpp"
#include "test_util.hpp"

namespace {

photong::Note note(int pitch, std::int64_t start, std::int64_t end) {
    photong::Note n;
    n.pitch = pitch, n.start_step = start, n.end_step = end;
    return n;
}

std::array<int, 3> pixel(const photong::Image& img, int x, int y) {
    const std::uint8_t* p = &img.rgb[std::size_t((y * img.width + x) * 3)];
    return {p[0], p[1], p[2]};
}

}  // namespace

TEST_CASE("piano roll: size from whole bars and the padded pitch range") {
    const std::vector<photong::Note> melody = {note(60, 0, 4), note(72, 4, 20)};  // ends in bar 2
    const std::vector<photong::Note> chords = {note(48, 0, 16)};
    const photong::PianoRollStyle style;  // 4 px per step, 6 per semitone
    const photong::Image img = photong::piano_roll(melody, chords, 16, style);
    CHECK(img.width == 2 * 16 * 4);
    CHECK(img.height == (72 + 2 - (48 - 2) + 1) * 6);  // 46..74
    CHECK(img.rgb.size() == std::size_t(img.width) * img.height * 3);
    // The melody note 72 at step 10 (inside its body, not its onset column), row of pitch 72.
    const int y72 = (74 - 72) * 6 + 3, y48 = (74 - 48) * 6 + 3;
    CHECK(pixel(img, 10 * 4 + 2, y72) == std::array<int, 3>{236, 120, 32});
    CHECK(pixel(img, 4 * 4, y72) == std::array<int, 3>{150, 62, 0});   // its onset column
    CHECK(pixel(img, 8 * 4 + 2, y48) == std::array<int, 3>{70, 120, 200});  // the chord note
    CHECK(pixel(img, 24 * 4 + 2, y48) != std::array<int, 3>{70, 120, 200});  // after the chord ended
    CHECK(pixel(img, 16 * 4, 0) == std::array<int, 3>{110, 110, 110});  // bar line at step 16
}

TEST_CASE("piano roll: nothing to draw gives one empty bar over an octave - bad notes and sizes are refused") {
    const photong::Image empty = photong::piano_roll({}, {}, 16);
    CHECK(empty.width == 64);
    CHECK(empty.height == 16 * 6);  // 58..73 (60..71 padded by two)
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(200, 0, 1)}, {}, 16), doctest::Contains("pitch 0..127"), photong::Error);
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(60, 5, 2)}, {}, 16), doctest::Contains("start_step <= end_step"), photong::Error);
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(60, 0, 1)}, {}, 0), doctest::Contains("geometry"), photong::Error);
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(60, 0, 1LL << 40)}, {}, 16), doctest::Contains("too large"), photong::Error);
}

TEST_CASE("PNG: what stb_image decodes is what was drawn - a failed write leaves nothing") {
    const photong::Image img = photong::piano_roll({note(64, 2, 9)}, {note(40, 0, 16)}, 16);
    const std::string path = std::string(PHOTONG_TEST_TMP_DIR) + "/roll_test.png";
    std::remove(path.c_str());
    photong::write_png(img, path);
    const photong::Image back = photong::load_image(path);
    CHECK(back.width == img.width);
    CHECK(back.height == img.height);
    CHECK(back.rgb == img.rgb);
    CHECK_THROWS_AS(photong::write_png(img, std::string(PHOTONG_TEST_TMP_DIR) + "/no_such_dir/x.png"), photong::Error);
    photong::Image bad;
    bad.width = 2, bad.height = 2;
    CHECK_THROWS_WITH_AS(photong::encode_png(bad), doctest::Contains("width * height * 3"), photong::Error);
}

namespace {

/// Dark text pixels (all channels < 128) inside [x0, x1) x [y0, y1).
int ink(const photong::Image& img, int x0, int x1, int y0, int y1) {
    int n = 0;
    for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y)
        for (int x = std::max(0, x0); x < std::min(img.width, x1); ++x) {
            const auto p = pixel(img, x, y);
            n += p[0] < 128 && p[1] < 128 && p[2] < 128;
        }
    return n;
}

bool has_colour(const photong::Image& img, int y0, int y1, std::array<int, 3> c) {
    for (int y = std::max(0, y0); y < std::min(img.height, y1); ++y)
        for (int x = 0; x < img.width; ++x)
            if (pixel(img, x, y) == c) return true;
    return false;
}

}  // namespace

TEST_CASE("text: glyphs land inside the measured box, with DejaVu Sans and with the stb_easy_font fallback") {
    const std::string font = photong::TextRenderer::find_font();
    MESSAGE("font: " << (font.empty() ? "(none: stb_easy_font)" : font));
    for (const std::string& path : {font, std::string()}) {
        const photong::TextRenderer text(path);
        CHECK(text.truetype() == !path.empty());
        photong::Image img;
        img.width = 120, img.height = 40;
        img.rgb.assign(std::size_t(img.width * img.height * 3), 255);
        const auto box = text.measure("C4 bar 12", 14);
        CHECK(box.width > 30);
        CHECK(box.height >= 10);
        text.draw(img, 10, 5, "C4 bar 12", 14, {0, 0, 0});
        const int inside = ink(img, 10, 10 + box.width + 1, 5, 5 + box.height + 1);
        CHECK(inside > 20);
        CHECK(ink(img, 0, img.width, 0, img.height) == inside);  // nothing outside the box
    }
    CHECK_THROWS_WITH_AS(photong::TextRenderer(photong_test::temp_path("no_such_font.ttf")), doctest::Contains("cannot open the font file"), photong::Error);
    const std::string not_font = photong_test::temp_path("not_a_font.ttf");
    std::ofstream(not_font) << "hello";
    CHECK_THROWS_WITH_AS(photong::TextRenderer{not_font}, doctest::Contains("not a TrueType font"), photong::Error);
}

TEST_CASE("labelled piano roll: the roll itself, pitch names at every C, bar numbers over each bar, a title and a legend") {
    // Melody from C4 (60) to G5 (79) over 3 bars, one chord note.
    const std::vector<photong::Note> melody = {note(60, 0, 4), note(64, 4, 8), note(79, 16, 20), note(72, 36, 48)};
    const std::vector<photong::Note> chords = {note(48, 0, 16)};
    photong::PianoRollLabels labels;
    labels.title = "test.png - 120 BPM, C major";
    photong::LabelledRollGeometry g;
    const photong::Image img = photong::labelled_piano_roll(melody, chords, 16, labels, {}, &g);
    CHECK(g.pitch_px == 8);  // at least 8 pixels a row
    CHECK(g.bars == 3);
    CHECK(g.lo == 46);
    CHECK(g.hi == 81);
    // The roll is the plain roll at the same style, pixel for pixel.
    photong::PianoRollStyle style;
    style.pitch_px = 8;
    const photong::Image plain = photong::piano_roll(melody, chords, 16, style);
    REQUIRE(plain.width == g.roll_width);
    REQUIRE(plain.height == g.roll_height);
    bool same = true;
    for (int y = 0; y < plain.height && same; ++y)
        for (int x = 0; x < plain.width && same; ++x) same = pixel(plain, x, y) == pixel(img, g.roll_left + x, g.roll_top + y);
    CHECK(same);
    // Pitch names: ink in the left margin beside C3, C4, C5 and C6 (48, 60, 72; 84 is above hi), none beside F#4.
    const int half = 6;
    for (int p : {48, 60, 72}) {
        const int mid = g.roll_top + (g.hi - p) * g.pitch_px + g.pitch_px / 2;
        INFO("C row of pitch " << p);
        CHECK(ink(img, 0, g.roll_left - 4, mid - half, mid + half) > 10);
    }
    const int fsharp = g.roll_top + (g.hi - 66) * g.pitch_px + g.pitch_px / 2;
    CHECK(ink(img, 0, g.roll_left - 4, fsharp - half, fsharp + half) == 0);
    // Bar numbers: ink at the start of each bar in the band above the roll, none in the bar's second half.
    for (int b = 0; b < 3; ++b) {
        const int x = g.roll_left + b * g.bar_px;
        INFO("bar " << b + 1);
        CHECK(ink(img, x, x + g.bar_px / 3, g.bar_numbers_top, g.roll_top) > 5);
        CHECK(ink(img, x + g.bar_px / 2, x + g.bar_px, g.bar_numbers_top, g.roll_top) == 0);
    }
    // Title from the roll's left edge; nothing left of it in the title band.
    CHECK(ink(img, g.roll_left, img.width, g.title_top, g.bar_numbers_top) > 50);
    CHECK(ink(img, 0, g.roll_left, g.title_top, g.bar_numbers_top) == 0);
    // Legend: the melody and chord colours as swatches below the roll, with text.
    CHECK(has_colour(img, g.legend_top, img.height, {236, 120, 32}));
    CHECK(has_colour(img, g.legend_top, img.height, {70, 120, 200}));
    CHECK(ink(img, 0, img.width, g.legend_top, img.height) > 20);
    const std::string out = photong_test::temp_path("labelled_roll.png");
    photong::write_png(img, out);
    MESSAGE("labelled roll written to " << out << " (" << img.width << "x" << img.height << ")");
}
