// photong/image/text.hpp — text drawn into an RGB Image, for the piano roll's labels.
//
// Which renderer, and why: stb_truetype (Debian's libstb-dev, already a build dependency for stb_image)
// with DejaVu Sans from Debian's fonts-dejavu-core, found at run time. A real outline font, antialiased,
// reads well at the 10–14 pixel sizes a piano roll needs, and DejaVu has every glyph a file name may
// hold. The font file is looked up, not embedded: $PHOTONG_FONT, then the usual Debian paths. Where
// none is installed the text falls back to stb_easy_font (the same package, no font file: plain
// segment glyphs, ASCII only), so a roll always has its labels; TextRenderer::truetype() says which.
//
// Coordinates: draw(x, top, ...) puts the text's line box (ascent + descent at `pixel_height`) with
// its top-left corner at (x, top); measure() gives that box's width and height. Pixels outside the
// image are clipped. Colours are blended by coverage.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/stb_warnings.hpp"

#ifndef PHOTONG_STB_TRUETYPE_PROVIDED
#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
PHOTONG_STB_WARNINGS_OFF
#include <stb/stb_truetype.h>
PHOTONG_STB_WARNINGS_ON
#endif
PHOTONG_STB_WARNINGS_OFF
#include <stb/stb_easy_font.h>
PHOTONG_STB_WARNINGS_ON

namespace photong {

struct TextColour {
    std::uint8_t r = 0, g = 0, b = 0;
};

class TextRenderer {
public:
    /// The default font: $PHOTONG_FONT, else DejaVu Sans (fonts-dejavu-core) or Liberation Sans; "" when none exists.
    static std::string find_font() {
        if (const char* env = std::getenv("PHOTONG_FONT"))
            if (*env) return env;
        for (const char* p : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                              "/usr/share/fonts/truetype/freefont/FreeSans.ttf"})
            if (std::ifstream(p).good()) return p;
        return "";
    }

    /// Loads `font_path` (a .ttf); "" means stb_easy_font. Throws photong::Error for a file that cannot be read or
    /// is not a TrueType font.
    explicit TextRenderer(const std::string& font_path = find_font()) : path_(font_path) {
        if (path_.empty()) return;
        std::ifstream in(path_, std::ios::binary);
        if (!in) throw Error("cannot open the font file", {path_});
        data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        const int offset = data_.empty() ? -1 : stbtt_GetFontOffsetForIndex(data_.data(), 0);
        if (offset < 0 || !stbtt_InitFont(&font_, data_.data(), offset))
            throw Error("not a TrueType font file", {path_, "", "a .ttf font", std::to_string(data_.size()) + " bytes"});
    }

    TextRenderer(const TextRenderer&) = delete;  // font_ points into data_
    TextRenderer& operator=(const TextRenderer&) = delete;

    /// True with a TrueType font, false with the stb_easy_font fallback.
    bool truetype() const { return !data_.empty(); }
    const std::string& font_path() const { return path_; }

    struct Box {
        int width = 0, height = 0;
    };

    /// The line box of `text` at `pixel_height`.
    Box measure(const std::string& text, int pixel_height) const {
        if (!truetype()) {
            const int scale = easy_scale(pixel_height);
            std::string t = text;
            return {stb_easy_font_width(&t[0]) * scale, 7 * scale};
        }
        const float s = stbtt_ScaleForPixelHeight(&font_, float(pixel_height));
        float x = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            int advance = 0, lsb = 0;
            stbtt_GetCodepointHMetrics(&font_, byte(text, i), &advance, &lsb);
            x += advance * s;
            if (i + 1 < text.size()) x += s * stbtt_GetCodepointKernAdvance(&font_, byte(text, i), byte(text, i + 1));
        }
        return {int(std::ceil(x)), line_height(pixel_height)};
    }

    /// Draws `text` with its line box's top-left corner at (x, top).
    void draw(Image& image, int x, int top, const std::string& text, int pixel_height, TextColour colour) const {
        if (!truetype()) return draw_easy(image, x, top, text, pixel_height, colour);
        const float s = stbtt_ScaleForPixelHeight(&font_, float(pixel_height));
        int ascent = 0, descent = 0, gap = 0;
        stbtt_GetFontVMetrics(&font_, &ascent, &descent, &gap);
        const int baseline = top + int(std::lround(ascent * s));
        float pen = float(x);
        std::vector<unsigned char> glyph;
        for (std::size_t i = 0; i < text.size(); ++i) {
            const int c = byte(text, i);
            int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
            const float shift = pen - std::floor(pen);
            stbtt_GetCodepointBitmapBoxSubpixel(&font_, c, s, s, shift, 0, &x0, &y0, &x1, &y1);
            const int w = x1 - x0, h = y1 - y0;
            if (w > 0 && h > 0) {
                glyph.assign(std::size_t(w) * std::size_t(h), 0);
                stbtt_MakeCodepointBitmapSubpixel(&font_, glyph.data(), w, h, w, s, s, shift, 0, c);
                blend(image, int(std::floor(pen)) + x0, baseline + y0, w, h, glyph.data(), colour);
            }
            int advance = 0, lsb = 0;
            stbtt_GetCodepointHMetrics(&font_, c, &advance, &lsb);
            pen += advance * s;
            if (i + 1 < text.size()) pen += s * stbtt_GetCodepointKernAdvance(&font_, c, byte(text, i + 1));
        }
    }

private:
    static int byte(const std::string& t, std::size_t i) { return static_cast<unsigned char>(t[i]); }

    int line_height(int pixel_height) const {
        const float s = stbtt_ScaleForPixelHeight(&font_, float(pixel_height));
        int ascent = 0, descent = 0, gap = 0;
        stbtt_GetFontVMetrics(&font_, &ascent, &descent, &gap);
        return int(std::lround((ascent - descent) * s));
    }

    /// stb_easy_font's glyphs are about 7 units tall: a whole-number scale near the asked height.
    static int easy_scale(int pixel_height) { return std::max(1, int(std::lround(pixel_height / 9.0))); }

    static void blend(Image& image, int x, int y, int w, int h, const unsigned char* coverage, TextColour c) {
        for (int j = 0; j < h; ++j)
            for (int i = 0; i < w; ++i) {
                const int px = x + i, py = y + j;
                if (px < 0 || py < 0 || px >= image.width || py >= image.height) continue;
                const int a = coverage[std::size_t(j) * std::size_t(w) + std::size_t(i)];
                if (a == 0) continue;
                std::uint8_t* p = &image.rgb[(std::size_t(py) * std::size_t(image.width) + std::size_t(px)) * 3];
                p[0] = std::uint8_t((p[0] * (255 - a) + c.r * a + 127) / 255);
                p[1] = std::uint8_t((p[1] * (255 - a) + c.g * a + 127) / 255);
                p[2] = std::uint8_t((p[2] * (255 - a) + c.b * a + 127) / 255);
            }
    }

    static void draw_easy(Image& image, int x, int top, const std::string& text, int pixel_height, TextColour c) {
        // stb_easy_font emits axis-aligned quads (4 vertices of x, y, z, colour) in unit coordinates.
        std::string t = text;
        std::vector<char> buffer(std::max<std::size_t>(1, t.size()) * 270 * 4);
        unsigned char rgba[4] = {c.r, c.g, c.b, 255};
        const int quads = stb_easy_font_print(0, 0, &t[0], rgba, buffer.data(), int(buffer.size()));
        const int scale = easy_scale(pixel_height);
        const float* v = reinterpret_cast<const float*>(buffer.data());
        const unsigned char full = 255;
        for (int q = 0; q < quads; ++q) {
            const float* a = v + q * 16;  // 4 vertices x 4 floats (x, y, z, packed colour)
            const int x0 = x + int(a[0]) * scale, y0 = top + int(a[1]) * scale, x1 = x + int(a[8]) * scale, y1 = top + int(a[9]) * scale;
            for (int py = y0; py < y1; ++py)
                for (int px = x0; px < x1; ++px) blend(image, px, py, 1, 1, &full, c);
        }
    }

    std::string path_;
    std::vector<unsigned char> data_;
    stbtt_fontinfo font_{};
};

}  // namespace photong
