// photong/models/song_form.hpp — a song form for the hierarchical decoder: which bars repeat which.
//
// Real tunes repeat: a 16-bar pop or folk melody is usually four 4-bar phrases such as A A B A or
// A B A B, the repeats often with a changed last bar (a different cadence). MusicVAE's hierarchical
// decoder has no notion of that: its conductor gives each bar its own embedding, and sampled bars
// almost never recur (issue 20 measured 0 repeated bars in 100 samples). A SongForm fixes it by
// construction, inside the model:
//
//   pattern   one letter per phrase ("AABA": 4 phrases of bars / 4 bars each; "ABAB", "AABB", ...).
//             A letter met before marks a repeat of the FIRST phrase with that letter.
//   repeat    a repeated bar is decoded again by the core decoder from the source bar's conductor
//             embedding with the source bar's random draws (the same uniforms, SamplingOptions): the
//             model re-plays the source bar, and only its first "previous event" (the last event of
//             the bar before it) differs, which can vary its opening — a varied, not a pasted, repeat.
//   ending    with vary_ending (the default) the LAST bar of every repeated phrase is decoded fresh
//             from its own embedding and draws, as in the form-less melody: a new cadence.
//
// Every bar's draws are the same uniforms the form-less decode would use at that bar (bar-major, then
// step, then batch row), so the fresh bars of a form are those of the form-less melody up to their
// first input, and the same seed gives the same file.
#pragma once

#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/safetensors.hpp"

namespace photong {

struct SongForm {
    std::string pattern;       ///< letters A-Z, one per phrase; empty = no form (every bar fresh)
    bool vary_ending = true;   ///< decode the last bar of each repeated phrase fresh (phrases of >= 2 bars)

    bool empty() const { return pattern.empty(); }

    /// "none" (or "") is no form; otherwise letters A-Z, with an optional "!" suffix for exact repeats
    /// (no varied ending): "AABA", "ABAB!". Throws photong::Error naming the text.
    static SongForm parse(const std::string& text) {
        SongForm f;
        if (text.empty() || text == "none") return f;
        std::string p = text;
        if (p.back() == '!') {
            f.vary_ending = false;
            p.pop_back();
        }
        require(!p.empty() && p.size() <= 64, "a song form is 1..64 phrase letters", {"", "form", "letters A-Z, e.g. AABA", text});
        for (char c : p) require(c >= 'A' && c <= 'Z', "a song form is made of the letters A-Z", {"", "form", "letters A-Z, e.g. AABA", text});
        f.pattern = p;
        return f;
    }

    /// The text parse() reads back: "none", or the pattern with "!" when repeats are exact.
    std::string name() const { return pattern.empty() ? "none" : pattern + (vary_ending ? "" : "!"); }

    /// For each of `bars` bars, the bar whose conductor embedding and draws it uses (itself when fresh).
    /// Throws photong::Error when the phrases do not divide the bars evenly.
    std::vector<int> sources(int bars) const {
        require(bars > 0, "a form needs at least one bar", {"", "bars", ">= 1", std::to_string(bars)});
        std::vector<int> src(static_cast<std::size_t>(bars));
        for (int b = 0; b < bars; ++b) src[std::size_t(b)] = b;
        if (pattern.empty()) return src;
        const int phrases = int(pattern.size());
        require(bars % phrases == 0, "the song form's phrases must divide the bars evenly",
                {"", "form " + name(), "a divisor of " + std::to_string(bars) + " phrases", std::to_string(phrases) + " phrases"});
        const int len = bars / phrases;
        for (int i = 0; i < phrases; ++i) {
            const int first = int(pattern.find(pattern[std::size_t(i)]));
            if (first == i) continue;
            for (int k = 0; k < len; ++k) {
                if (vary_ending && len > 1 && k == len - 1) continue;
                src[std::size_t(i * len + k)] = first * len + k;
            }
        }
        return src;
    }
};

/// The form a melody model's file recommends in `__metadata__.song_form` (SongForm::parse text, e.g. "AABA"),
/// or `fallback` when it names none. A malformed value throws photong::Error naming the file.
inline SongForm recommended_form(const SafetensorsFile& file, const SongForm& fallback = {}) {
    const std::string text = file.metadata_or("song_form", "");
    if (text.empty()) return fallback;
    try {
        return SongForm::parse(text);
    } catch (const Error&) {
        throw Error("bad song_form in metadata", {file.path(), "__metadata__.song_form", "none or letters A-Z (e.g. AABA)", text});
    }
}

}  // namespace photong
