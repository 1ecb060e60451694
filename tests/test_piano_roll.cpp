// Piano roll drawing and PNG encoding: pixels where notes are, geometry, limits, and the PNG read back
// by stb_image (the decoder photong already trusts for input).
#include <doctest/doctest.h>

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

TEST_CASE("piano roll: nothing to draw gives one empty bar over an octave; bad notes and sizes are refused") {
    const photong::Image empty = photong::piano_roll({}, {}, 16);
    CHECK(empty.width == 64);
    CHECK(empty.height == 16 * 6);  // 58..73 (60..71 padded by two)
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(200, 0, 1)}, {}, 16), doctest::Contains("pitch 0..127"), photong::Error);
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(60, 5, 2)}, {}, 16), doctest::Contains("start_step <= end_step"), photong::Error);
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(60, 0, 1)}, {}, 0), doctest::Contains("geometry"), photong::Error);
    CHECK_THROWS_WITH_AS(photong::piano_roll({note(60, 0, 1LL << 40)}, {}, 16), doctest::Contains("too large"), photong::Error);
}

TEST_CASE("PNG: what stb_image decodes is what was drawn; a failed write leaves nothing") {
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
