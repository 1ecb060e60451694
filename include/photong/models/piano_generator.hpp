// photong/models/piano_generator.hpp — how photong's pipeline asks the piano generator (performance_rnn.hpp) for a
// piece from a picture: the conditions it is given and how its events become the result's notes.
//
// Conditions, each explainable from the picture:
//   valence, arousal  the pipeline's (the affect bridges', the colour baseline's or the user's), as for the melody
//   note density      the density class EIMG's clips have at that arousal and valence: round(-1.94 + 9.06 * arousal
//                     + 2.08 * valence), clamped to 0..11 (least squares over the 2,413 training clips' mean class
//                     against their ratings, r = 0.82; arousal alone gives r = 0.81; tools/piano_dataset.py's data):
//                     calm pictures get sparse pieces, exciting ones dense pieces, happier ones a little denser
//   pitch histogram   the Krumhansl-Kessler major profile when valence >= 0.5, the minor one below (the melody's
//                     touch-up rule), on the tonic C + round(11 * brightness): brighter pictures in higher keys
// The model's hidden state starts from the picture's pooled InceptionV3 features.
#pragma once

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "photong/image/picture_attributes.hpp"
#include "photong/models/performance_rnn.hpp"
#include "photong/music/melody.hpp"
#include "photong/music/performance_events.hpp"
#include "photong/music/touch_up.hpp"

namespace photong {

/// What the piano generator is conditioned on for a picture, and the key that implies.
struct PianoPlan {
    PerformanceConditions conditions;
    Key key;
};

inline PianoPlan piano_plan(double valence, double arousal, const PictureAttributes& picture) {
    static constexpr std::array<float, 12> kMajor = {6.35f, 2.23f, 3.48f, 2.33f, 4.38f, 4.09f, 2.52f, 5.19f, 2.39f, 3.66f, 2.29f, 2.88f};
    static constexpr std::array<float, 12> kMinor = {6.33f, 2.68f, 3.52f, 5.38f, 2.60f, 3.53f, 2.54f, 4.75f, 3.98f, 2.69f, 3.34f, 3.17f};
    PianoPlan p;
    p.conditions.valence = valence, p.conditions.arousal = arousal;
    p.conditions.density = std::clamp(int(std::lround(-1.94 + 9.06 * arousal + 2.08 * valence)), 0, 11);
    p.key.major = valence >= 0.5;
    p.key.tonic_pitch_class = std::clamp(int(std::lround(11.0 * picture.brightness)), 0, 11);
    const auto& profile = p.key.major ? kMajor : kMinor;
    std::array<float, 12> h{};
    for (int k = 0; k < 12; ++k) h[std::size_t((k + p.key.tonic_pitch_class) % 12)] = profile[std::size_t(k)];
    p.conditions.pitch_histogram = h;
    return p;
}

/// Events for `seconds` of music: the generator emits ~29 events a second on EIMG-like material (8.7 M events over
/// the data's duration); 60 a second leaves room for dense pieces, and cut_performance trims the excess.
inline int piano_steps_for(double seconds) { return int(std::ceil(std::max(1.0, seconds) * 60.0)); }

/// The notes starting before `seconds`, each ending by seconds + 1 (a last chord may ring out briefly).
inline std::vector<PerformanceNote> cut_performance(const std::vector<PerformanceNote>& notes, double seconds) {
    std::vector<PerformanceNote> out;
    for (PerformanceNote n : notes) {
        if (n.start_s >= seconds) continue;
        n.end_s = std::min(n.end_s, seconds + 1.0);
        out.push_back(n);
    }
    return out;
}

/// Performance notes as the pipeline's Note list (channel 0): seconds kept, ticks at 960 a second (480 per quarter at
/// 120 bpm, as performance_to_midi writes them) and steps at 8 a second (16th notes at 120 bpm) for the piano roll.
inline std::vector<Note> performance_as_notes(const std::vector<PerformanceNote>& notes) {
    std::vector<Note> out;
    for (const PerformanceNote& p : notes) {
        Note n;
        n.pitch = p.pitch, n.velocity = std::clamp(p.velocity, 1, 127), n.channel = 0;
        n.start_s = p.start_s, n.end_s = p.end_s;
        n.start_tick = std::uint64_t(std::llround(p.start_s * 960)), n.end_tick = std::uint64_t(std::llround(p.end_s * 960));
        n.start_step = std::llround(p.start_s * 8), n.end_step = std::max(n.start_step + 1, std::int64_t(std::llround(p.end_s * 8)));
        out.push_back(n);
    }
    return out;
}

}  // namespace photong
