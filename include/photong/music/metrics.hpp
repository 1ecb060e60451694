// photong/music/metrics.hpp — the symbolic-music quality metrics of Kundu et al.: pitch entropy,
// polyphony rate and groove consistency, on quantized notes.
//
// Kundu et al. ("emotion-guided image-to-music generation", section 4.1) evaluate generated MIDI
// with three metrics "as in the paper [23]" (Mendis & Bandara 2022). Their formulas are MusPy's
// (muspy.pitch_entropy, muspy.polyphony_rate, muspy.groove_consistency; salu133445/muspy,
// muspy/metrics/metrics.py @ 42a01d8, docstrings and code read as facts). Definitions used here:
//
//   Pitch entropy     Kundu 4.1.1: "Pitch Entropy = -sum_{i=0}^{127} P(pitch = i) log2 P(pitch = i)
//                     ... P(pitch = i) is the probability of the i-th pitch occurring in the music,
//                     where i can belong to the range 0 to 127 of all possible MIDI pitches."
//                     So: the histogram of the 128 MIDI pitches (not pitch classes), base-2 logs
//                     (bits), 0 log 0 = 0. MusPy counts each note once (duration does not weigh),
//                     skips drum tracks, and returns NaN when there is no note. Same here (drums =
//                     channel 9). `pitch_class_entropy` is MusPy's 12-bin variant, for comparison.
//   Polyphony rate    Kundu 4.1.2: "MPA_time_steps / time_steps ... the number of time steps out of
//                     total time_steps during which multiple pitches are played simultaneously."
//                     MusPy: a boolean piano roll of `length` steps (length = the latest note end
//                     over all tracks; the roll starts at time 0, so leading silence counts), drums
//                     skipped, a pitch sounding on steps [start, end) (the same pitch twice at once
//                     counts once); NaN when length is zero. One difference of wording: MusPy's
//                     code counts steps whose pitch count is *greater than* `threshold`, default 2,
//                     i.e. three or more pitches; Kundu's text says "multiple pitches" (two or more).
//                     Here the count is ">= min_pitches" with min_pitches = 2 (Kundu's text) by
//                     default; min_pitches = 3 gives muspy.polyphony_rate(music) (threshold = 2).
//   Groove            Kundu 4.1.3: "1 - 1/(T-1) sum_{i=1}^{T-1} d(g_i, g_{i+1}) ... T is the total
//   consistency       number of measures ... g_i is the binary onset vector for the i-th measure
//                     ... d is the Hamming distance between the onset vectors of consecutive
//                     measures." As in MusPy, d is the Hamming distance divided by the vector length
//                     (steps per bar), so the value lies in [0, 1] (1 = every bar has the same onset
//                     pattern). MusPy takes T = floor(length / measure_resolution) + 1 (so a piece
//                     ending exactly on a bar line gets one more, empty, bar), counts onsets of all
//                     tracks (drums included), and returns NaN when T < 2. Same here by default;
//                     `num_bars > 0` fixes T instead (16 for photong's 16-bar melodies), and onsets
//                     at or after num_bars * steps_per_bar are then ignored.
//
// Resolution. All three work on the notes' own step grid (`start_step`, `end_step`; 16th notes in
// photong). Pitch entropy does not depend on the grid; the polyphony rate does not change when each
// step is split into k equal sub-steps (MusPy at 24 ticks per quarter gives the same rate as 4 per
// quarter for notes on the 16th grid). Groove consistency does depend on it: the Hamming distance is
// divided by the positions per bar, so steps_per_bar must be the grid MusPy would be given as
// measure_resolution (16 for 16th notes in 4/4; MusPy at resolution 24 would use 96 and report
// 1 - d/96 where this reports 1 - d/16 for the same onsets). No metric needs steps per quarter.
//
// Invalid input (a pitch outside 0..127, a negative start, an end before the start, steps_per_bar
// < 1, num_bars < 0, min_pitches < 1) throws photong::Error. A zero-length note (end == start) counts
// for pitch entropy and as an onset, and sounds on no step, as in MusPy.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/music/melody.hpp"

namespace photong {

/// MIDI channel 9 (0-based) is the General MIDI drum channel: skipped by the pitch metrics, as
/// MusPy skips drum tracks.
constexpr int kMetricsDrumChannel = 9;

namespace metrics_detail {

inline void validate(const std::vector<Note>& notes) {
    for (std::size_t i = 0; i < notes.size(); ++i) {
        const Note& n = notes[i];
        const std::string where = "note " + std::to_string(i);
        require(n.pitch >= 0 && n.pitch <= 127, "note pitch is outside 0..127", {"", where, "0..127", std::to_string(n.pitch)});
        require(n.start_step >= 0, "note starts before step 0", {"", where, "start_step >= 0", std::to_string(n.start_step)});
        require(n.end_step >= n.start_step, "note ends before it starts",
                {"", where, "end_step >= start_step", std::to_string(n.start_step) + ".." + std::to_string(n.end_step)});
    }
}

/// MusPy's length: the latest note end over all notes (drums included); 0 without notes.
inline std::int64_t length_of(const std::vector<Note>& notes) {
    std::int64_t length = 0;
    for (const Note& n : notes) length = std::max(length, n.end_step);
    return length;
}

/// Shannon entropy in bits of a histogram; NaN when the histogram is empty.
template <std::size_t N>
double entropy_bits(const std::array<std::int64_t, N>& counts) {
    std::int64_t total = 0;
    for (std::int64_t c : counts) total += c;
    if (total == 0) return std::numeric_limits<double>::quiet_NaN();
    double h = 0;
    for (std::int64_t c : counts) {
        if (c == 0) continue;  // 0 log 0 = 0
        const double p = double(c) / double(total);
        h -= p * std::log2(p);
    }
    return h == 0 ? 0.0 : h;  // no -0
}

}  // namespace metrics_detail

/// Shannon entropy (bits) of the histogram of the 128 MIDI pitches, one count per note; drum-
/// channel notes skipped. NaN when no note is counted (MusPy's convention). 0 for a single pitch,
/// log2(k) for k pitches used equally often.
inline double pitch_entropy(const std::vector<Note>& notes) {
    metrics_detail::validate(notes);
    std::array<std::int64_t, 128> counts{};
    for (const Note& n : notes)
        if (n.channel != kMetricsDrumChannel) ++counts[std::size_t(n.pitch)];
    return metrics_detail::entropy_bits(counts);
}

/// MusPy's pitch_class_entropy: the same over the 12 pitch classes (pitch mod 12). NaN without notes.
inline double pitch_class_entropy(const std::vector<Note>& notes) {
    metrics_detail::validate(notes);
    std::array<std::int64_t, 12> counts{};
    for (const Note& n : notes)
        if (n.channel != kMetricsDrumChannel) ++counts[std::size_t(n.pitch % 12)];
    return metrics_detail::entropy_bits(counts);
}

/// Fraction of the steps 0..total-1 on which at least `min_pitches` distinct pitches sound (a note
/// sounds on [start_step, end_step); drum-channel notes skipped). total = `total_steps` when > 0,
/// otherwise MusPy's length (the latest note end). NaN when total is 0 (no notes, or only zero-length
/// notes at step 0). min_pitches = 2 is Kundu's "multiple pitches"; min_pitches = 3 reproduces
/// muspy.polyphony_rate with its default threshold = 2 (it counts "> threshold").
/// Cost O(n log n) in the number of notes, independent of the length.
inline double polyphony_rate(const std::vector<Note>& notes, std::int64_t total_steps = 0, int min_pitches = 2) {
    metrics_detail::validate(notes);
    require(total_steps >= 0, "total_steps must be >= 0 (0 = up to the last note end)", {"", "total_steps", ">= 0", std::to_string(total_steps)});
    require(min_pitches >= 1, "min_pitches must be >= 1", {"", "min_pitches", ">= 1", std::to_string(min_pitches)});
    const std::int64_t total = total_steps > 0 ? total_steps : metrics_detail::length_of(notes);
    if (total < 1) return std::numeric_limits<double>::quiet_NaN();

    // Per pitch, the union of its sounding intervals clipped to [0, total): a pitch is on or off.
    std::array<std::vector<std::pair<std::int64_t, std::int64_t>>, 128> per_pitch;
    for (const Note& n : notes) {
        if (n.channel == kMetricsDrumChannel) continue;
        const std::int64_t s = n.start_step, e = std::min(n.end_step, total);
        if (e > s) per_pitch[std::size_t(n.pitch)].emplace_back(s, e);
    }
    std::map<std::int64_t, int> delta;  // step -> change in the number of sounding pitches
    for (auto& iv : per_pitch) {
        if (iv.empty()) continue;
        std::sort(iv.begin(), iv.end());
        std::int64_t s = iv[0].first, e = iv[0].second;
        for (std::size_t i = 1; i <= iv.size(); ++i) {
            if (i < iv.size() && iv[i].first <= e) {
                e = std::max(e, iv[i].second);
                continue;
            }
            ++delta[s];
            --delta[e];
            if (i < iv.size()) s = iv[i].first, e = iv[i].second;
        }
    }
    std::int64_t poly_steps = 0, prev = 0;
    int sounding = 0;
    for (const auto& [step, d] : delta) {
        if (sounding >= min_pitches) poly_steps += step - prev;
        sounding += d;
        prev = step;
    }
    return double(poly_steps) / double(total);
}

/// Groove consistency: 1 - (1/(T-1)) sum_{i=1}^{T-1} hamming(g_i, g_{i+1}) / steps_per_bar, g_i the
/// binary onset vector (steps_per_bar positions) of bar i; onsets of all notes, drums included, as
/// in MusPy. T = `num_bars` when > 0 (onsets at or after num_bars * steps_per_bar are ignored),
/// otherwise MusPy's floor(length / steps_per_bar) + 1 with length the latest note end. NaN when
/// T < 2 (MusPy's convention; an empty note list gives T = 1). In [0, 1]; 1 when every bar has the
/// same onset pattern (including all bars empty).
inline double groove_consistency(const std::vector<Note>& notes, int steps_per_bar = 16, std::int64_t num_bars = 0) {
    metrics_detail::validate(notes);
    require(steps_per_bar >= 1, "steps_per_bar must be >= 1", {"", "steps_per_bar", ">= 1", std::to_string(steps_per_bar)});
    require(num_bars >= 0, "num_bars must be >= 0 (0 = MusPy's count)", {"", "num_bars", ">= 0", std::to_string(num_bars)});
    const std::int64_t bars = num_bars > 0 ? num_bars : metrics_detail::length_of(notes) / steps_per_bar + 1;
    if (bars < 2) return std::numeric_limits<double>::quiet_NaN();

    // Only bars with onsets (and their neighbours) contribute, so the cost does not grow with T.
    std::map<std::int64_t, std::set<std::int64_t>> onsets;  // bar -> onset positions in it
    for (const Note& n : notes) {
        const std::int64_t bar = n.start_step / steps_per_bar;
        if (bar < bars) onsets[bar].insert(n.start_step % steps_per_bar);
    }
    static const std::set<std::int64_t> kEmpty;
    auto pattern = [&](std::int64_t bar) -> const std::set<std::int64_t>& {
        const auto it = onsets.find(bar);
        return it == onsets.end() ? kEmpty : it->second;
    };
    std::set<std::int64_t> pairs;  // i: the pair (bar i, bar i + 1), 0 <= i <= bars - 2
    for (const auto& kv : onsets) {
        if (kv.first >= 1) pairs.insert(kv.first - 1);
        if (kv.first <= bars - 2) pairs.insert(kv.first);
    }
    std::int64_t hamming = 0;
    for (std::int64_t i : pairs) {
        const auto& a = pattern(i);
        const auto& b = pattern(i + 1);
        std::int64_t common = 0;
        for (std::int64_t p : a) common += b.count(p);
        hamming += std::int64_t(a.size()) + std::int64_t(b.size()) - 2 * common;
    }
    return 1.0 - double(hamming) / (double(steps_per_bar) * double(bars - 1));
}

/// Where the three metrics look: `steps_per_bar` positions per bar (16 = 16th notes in 4/4) and,
/// when num_bars > 0, a fixed window of num_bars bars (num_bars * steps_per_bar steps for the
/// polyphony rate); 0 = MusPy's lengths. min_polyphony_pitches as in polyphony_rate.
struct MetricOptions {
    int steps_per_bar = 16;
    std::int64_t num_bars = 0;
    int min_polyphony_pitches = 2;
};

/// The three metrics of Kundu et al. for one piece (each may be NaN, see the functions).
struct SymbolicMetrics {
    double pitch_entropy = 0;
    double polyphony_rate = 0;
    double groove_consistency = 0;
};

inline SymbolicMetrics symbolic_metrics(const std::vector<Note>& notes, const MetricOptions& options = {}) {
    require(options.steps_per_bar >= 1, "steps_per_bar must be >= 1", {"", "steps_per_bar", ">= 1", std::to_string(options.steps_per_bar)});
    require(options.num_bars >= 0 && options.num_bars <= std::numeric_limits<std::int64_t>::max() / options.steps_per_bar,
            "num_bars is out of range", {"", "num_bars", ">= 0", std::to_string(options.num_bars)});
    SymbolicMetrics m;
    m.pitch_entropy = pitch_entropy(notes);
    m.polyphony_rate = polyphony_rate(notes, options.num_bars * options.steps_per_bar, options.min_polyphony_pitches);
    m.groove_consistency = groove_consistency(notes, options.steps_per_bar, options.num_bars);
    return m;
}

/// Kundu et al.'s reference values for the Music Quality Loss (their Music_Quality.py): polyphony rate, pitch entropy,
/// groove consistency, in that order.
constexpr std::array<double, 3> kKunduReference = {0.5302987662965006, 3.986320228665771, 0.9921825307541308};

/// Kundu et al.'s Music Quality Loss: sum over the three metrics of |m - ref| / ref (kKunduReference). NaN when a
/// metric is NaN (their code averaged NaNs in as they came). Their Table 1 and 2 rows follow from their metric
/// columns by this formula (tests/test_metrics.cpp).
inline double music_quality_loss(double polyphony_rate, double pitch_entropy, double groove_consistency) {
    const double m[3] = {polyphony_rate, pitch_entropy, groove_consistency};
    double loss = 0;
    for (int i = 0; i < 3; ++i) loss += std::fabs(m[i] - kKunduReference[std::size_t(i)]) / kKunduReference[std::size_t(i)];
    return loss;
}

/// Kundu et al.'s three metrics of a MIDI file exactly as their Music_Quality.py computes them through MusPy: on
/// ticks at the file's resolution, muspy.polyphony_rate(threshold = 2) (steps with three or more pitches),
/// muspy.pitch_entropy, and muspy.groove_consistency(measure_resolution = 4): a "measure" of 4 ticks, which is why
/// their groove values sit near 0.999 whatever the music (seed-facts.md).
inline SymbolicMetrics kundu_metrics(const MidiFile& file) {
    const std::vector<Note> notes = muspy_notes(file);
    SymbolicMetrics m;
    m.pitch_entropy = pitch_entropy(notes);
    m.polyphony_rate = polyphony_rate(notes, 0, 3);
    m.groove_consistency = groove_consistency(notes, 4, 0);
    return m;
}

}  // namespace photong
