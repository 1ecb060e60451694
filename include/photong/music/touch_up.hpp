// photong/music/touch_up.hpp — Photong's music-theory touch-up: key, scale snapping, return to the
// tonic, one chord per bar, tempo from arousal, and the Standard MIDI File that carries them.
//
// Written from the Photong paper (seeds/photong.md, "Valence classifier" and "Arousal generator")
// and the project's DESIGN.md ("Touch-up"). The paper says: the tempo is
//     T(a) = 160 / (1 + e^(-5 (a - 0.5))) + 40 BPM, 0 <= a <= 1  (about 52.14 .. 187.86, T(0.5) = 120);
// valence picks a major or a minor tonality; "non-diatonic (out of the scale) notes are randomly
// moved up or down a semitone"; "the tonic is decided based on the first note of the melody and
// is returned to at the end"; "afterwards, one chord is added to every bar based on the first note
// of the bar"; and (Results) the chords sound "two octaves lower". DESIGN.md adds the threshold
// (major if v >= 0.5), the scales, the chord quality per scale degree and the voicings.
//
// The rules, in the paper's order, each a function of its own below:
//   1. key_from_notes     tonic = the pitch class of the first note; the scale is major
//                         {0,2,4,5,7,9,11} or minor {0,2,3,5,7,8,10} above it.
//   2. snap_to_scale      every non-diatonic note moves one semitone up or down, by a seeded coin.
//   3. return_to_tonic    one more note at the first note's pitch, on the next bar line.
//   4. bar_chords         at most one chord per bar, built on the first note starting in the bar.
//   5. tempo_from_arousal the notes keep their steps (decoded at 120 qpm); the file carries the
//                         tempo T as a meta event, so every time scales by 120 / T.
// touch_up runs them all; to_midi writes the result (type 1: conductor, melody, chords).
//
// Decisions where the paper and DESIGN.md are silent (each is repeated at its function):
//   - Every non-diatonic pitch class has diatonic neighbours on both sides, in both scales (neither
//     scale has two adjacent missing semitones), so one semitone in the chosen direction always
//     lands in the scale; diatonic_neighbours_both_sides() proves it and the tests check it.
//   - The coin is drawn for every non-diatonic note, in time order, even where a range edge
//     (pitches 21..108 by default) forces the direction; so a note at an edge never changes how
//     the other notes move.
//   - The note that returns to the tonic lasts one bar (a whole note in 4/4): a held final tonic,
//     which rule 4 then harmonizes with the tonic chord (I or i), the cadence the paper is after.
//     It is added even when the melody already ends on the tonic.
//   - A chord starts with the note it is built on (not at the bar line, if the bar opens with a
//     rest) and is held to the bar line. A bar in which no note starts (a rest bar, or a bar whose
//     only sound is a note held over from the previous bar) gets no chord: the paper's "every
//     bar" read as DESIGN.md's "at most one".
//   - A chord's root is the melody note itself two octaves lower (the tables name the triad on the
//     note's own scale degree: I ii iii IV V vi vii° in major, i ii° III iv v VI VII in minor);
//     when the root would fall below the lowest pitch (21) the whole chord moves up by octaves.
//   - All seven degrees of both scales have a chord in the tables, so after rule 2 every note has
//     one. A note outside the scale (only possible when bar_chords is called on its own) gets none.
//   - A melody without notes has no tonic: touch_up returns it unchanged with no chords, the key
//     {0 (C), mode from valence}, and to_midi writes no key signature for it.
//   - Ties in time (polyphonic input): the first note is the earliest, and among equal starts the
//     highest pitch (note_seq's melody-extraction rule).
//   - Key signatures: the spelling with fewer accidentals; at six (F# major / Gb major, D# minor /
//     Eb minor) sharps are written: F# major and D# minor are +6.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/rng.hpp"
#include "photong/music/melody.hpp"
#include "photong/music/midi.hpp"

namespace photong {

/// A key: a tonic pitch class (0 = C ... 11 = B) and a mode.
struct Key {
    int tonic_pitch_class = 0;  ///< 0..11
    bool major = true;          ///< true: major scale, false: natural minor

    friend bool operator==(const Key& a, const Key& b) { return a.tonic_pitch_class == b.tonic_pitch_class && a.major == b.major; }
    friend bool operator!=(const Key& a, const Key& b) { return !(a == b); }
};

/// Chord qualities of the touch-up; `none` for a scale degree without a chord.
enum class ChordQuality { none, major, minor, diminished };

/// Everything touch_up needs besides the notes.
struct TouchUpOptions {
    double valence = 0.5;       ///< valence model output in [0, 1]: major if >= 0.5 (major_from_valence)
    double arousal = 0.5;       ///< arousal model output in [0, 1]: tempo (tempo_from_arousal)
    std::uint64_t seed = 0;     ///< seeds the Rng of the up/down choices (snap_to_scale)
    int steps_per_quarter = 4;  ///< time grid of the notes' steps (MusicVAE: 4)
    int steps_per_bar = 16;     ///< steps per bar (4/4 at 4 steps per quarter)
    int min_pitch = 21;         ///< lowest pitch a note may be moved to or a chord may use (MusicVAE's 21)
    int max_pitch = 108;        ///< highest pitch a note may be moved to (MusicVAE's 108)
    int ticks_per_quarter = 480;  ///< MIDI division for to_midi; a multiple of steps_per_quarter
};

/// The touched-up music: the melody (with its return to the tonic), the chords, the key and the
/// tempo. Steps are as in the input; ticks (at ticks_per_quarter) and seconds (at bpm) are filled.
struct TouchedUpMelody {
    std::vector<Note> melody;  ///< channel 0, sorted by start step
    std::vector<Note> chords;  ///< channel 1, four notes per chord, sorted by start step then pitch
    Key key;                   ///< the key rule 1 found (or {0, mode} for a melody without notes)
    double bpm = 120;          ///< the tempo T in quarter notes per minute
    int steps_per_quarter = 4;
    int steps_per_bar = 16;
    int ticks_per_quarter = 480;
};

// ---------------------------------------------------------------------------------------------
// Emotion -> tempo and mode
// ---------------------------------------------------------------------------------------------

/// The paper's tempo T(a) = 160 / (1 + e^(-5 (a - 0.5))) + 40 BPM: T(0) ~ 52.14, T(0.5) = 120,
/// T(1) ~ 187.86. `a` is clamped to [0, 1] (the paper's domain; +-inf clamp too); NaN throws
/// photong::Error, since no tempo is a sensible answer to a failed model.
inline double tempo_from_arousal(double a) {
    require(!std::isnan(a), "arousal is NaN", {"", "arousal", "a number in [0, 1]", "nan"});
    a = std::min(1.0, std::max(0.0, a));
    return 160.0 / (1.0 + std::exp(-5.0 * (a - 0.5))) + 40.0;
}

/// DESIGN.md's tonality rule: major if v >= 0.5, minor otherwise. NaN throws photong::Error.
inline bool major_from_valence(double v) {
    require(!std::isnan(v), "valence is NaN", {"", "valence", "a number in [0, 1]", "nan"});
    return v >= 0.5;
}

/// A tempo in BPM as the MIDI tempo meta event's microseconds per quarter note, rounded to the
/// nearest (120 BPM -> 500000). Throws photong::Error unless 60e6 / bpm fits the event (1..0xFFFFFF).
inline int tempo_microseconds(double bpm) {
    require(std::isfinite(bpm) && bpm > 0, "tempo must be positive and finite", {"", "bpm", "> 0", std::to_string(bpm)});
    const double us = std::round(60e6 / bpm);
    require(us >= 1 && us <= double(0xFFFFFF), "tempo does not fit a MIDI tempo event", {"", "bpm", "about 3.58 .. 6e7", std::to_string(bpm)});
    return int(us);
}

// ---------------------------------------------------------------------------------------------
// Rule 1: key and scale
// ---------------------------------------------------------------------------------------------

/// The scale's pitch classes above the tonic: major {0,2,4,5,7,9,11}, minor {0,2,3,5,7,8,10}.
inline const std::array<int, 7>& scale_intervals(bool major) {
    static const std::array<int, 7> kMajor = {0, 2, 4, 5, 7, 9, 11};
    static const std::array<int, 7> kMinor = {0, 2, 3, 5, 7, 8, 10};
    return major ? kMajor : kMinor;
}

/// x mod 12 in 0..11 for any int.
inline int pitch_class(int pitch) { return ((pitch % 12) + 12) % 12; }

/// The scale degree of `pitch` in semitones above the key's tonic, 0..11.
inline int scale_degree(int pitch, const Key& key) { return pitch_class(pitch - key.tonic_pitch_class); }

/// True when `pitch` belongs to the key's scale.
inline bool is_diatonic(int pitch, const Key& key) {
    const auto& s = scale_intervals(key.major);
    return std::find(s.begin(), s.end(), scale_degree(pitch, key)) != s.end();
}

/// True when, for the given mode, every pitch class outside the scale has scale members one
/// semitone below and one semitone above it. It holds for both modes (neither scale has two
/// adjacent missing semitones: major misses 1,3,6,8,10 and minor 1,4,6,9,11), which is why
/// snap_to_scale never needs a second step.
inline bool diatonic_neighbours_both_sides(bool major) {
    const Key k{0, major};
    for (int d = 0; d < 12; ++d)
        if (!is_diatonic(d, k) && !(is_diatonic(d - 1, k) && is_diatonic(d + 1, k))) return false;
    return true;
}

namespace touch_up_detail {

inline void check_notes(const std::vector<Note>& notes, const char* what) {
    // The message strings are built only for a bad note: building them for every note made this
    // check the touch-up's largest cost.
    for (std::size_t i = 0; i < notes.size(); ++i) {
        const Note& n = notes[i];
        const bool pitch_ok = n.pitch >= 0 && n.pitch <= 127, velocity_ok = n.velocity >= 1 && n.velocity <= 127,
                   steps_ok = n.start_step >= 0 && n.end_step > n.start_step;
        if (pitch_ok && velocity_ok && steps_ok) continue;
        const std::string where = std::string(what) + " note " + std::to_string(i);
        require(pitch_ok, "note pitch out of range", {"", where, "0..127", std::to_string(n.pitch)});
        require(velocity_ok, "note velocity out of range", {"", where, "1..127", std::to_string(n.velocity)});
        require(steps_ok, "note steps are invalid",
                {"", where, "0 <= start_step < end_step", std::to_string(n.start_step) + ".." + std::to_string(n.end_step)});
    }
}

/// Indices of `notes` in time order: start step ascending, ties by descending pitch, then input order.
inline std::vector<std::size_t> time_order(const std::vector<Note>& notes) {
    std::vector<std::size_t> idx(notes.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        if (notes[a].start_step != notes[b].start_step) return notes[a].start_step < notes[b].start_step;
        return notes[a].pitch > notes[b].pitch;
    });
    return idx;
}

inline void check_grid(int steps_per_bar, int min_pitch, int max_pitch) {
    require(steps_per_bar > 0, "steps per bar must be positive", {"", "steps_per_bar", ">= 1", std::to_string(steps_per_bar)});
    require(min_pitch >= 0 && max_pitch <= 127 && max_pitch - min_pitch >= 12, "touch-up pitch range is invalid",
            {"", "min_pitch..max_pitch", "0 <= min, max <= 127, at least an octave", std::to_string(min_pitch) + ".." + std::to_string(max_pitch)});
}

}  // namespace touch_up_detail

/// Index of the melody's first note: the earliest start step, the highest pitch among equal
/// starts. Returns -1 when there are no notes.
inline std::ptrdiff_t first_note_index(const std::vector<Note>& notes) {
    if (notes.empty()) return -1;
    return std::ptrdiff_t(touch_up_detail::time_order(notes).front());
}

/// Rule 1: the key whose tonic is the pitch class of the first note (first_note_index), in the
/// given mode. A melody without notes gets tonic 0 (C). Throws photong::Error for invalid notes.
inline Key key_from_notes(const std::vector<Note>& notes, bool major) {
    touch_up_detail::check_notes(notes, "melody");
    const std::ptrdiff_t f = first_note_index(notes);
    return Key{f < 0 ? 0 : pitch_class(notes[std::size_t(f)].pitch), major};
}

// ---------------------------------------------------------------------------------------------
// Rule 2: non-diatonic notes move a semitone
// ---------------------------------------------------------------------------------------------

/// Rule 2: every note outside the key's scale moves one semitone, up when rng.coin() is true and
/// down otherwise. One coin is drawn per non-diatonic note, in time order (time_order: start,
/// then descending pitch); diatonic notes draw nothing. A move never leaves [min_pitch, max_pitch]:
/// at an edge the note takes the only direction in range (the coin is still drawn, so the other
/// notes' moves do not depend on it). Either direction lands in the scale
/// (diatonic_neighbours_both_sides). Returns the notes in input order, only pitches changed.
/// Throws photong::Error for invalid notes, a range narrower than an octave, or a note outside
/// [min_pitch, max_pitch] (fit_pitch_range brings notes into range first).
inline std::vector<Note> snap_to_scale(std::vector<Note> notes, const Key& key, Rng& rng, int min_pitch = 21, int max_pitch = 108) {
    touch_up_detail::check_notes(notes, "melody");
    touch_up_detail::check_grid(1, min_pitch, max_pitch);
    for (std::size_t i = 0; i < notes.size(); ++i)
        require(notes[i].pitch >= min_pitch && notes[i].pitch <= max_pitch, "note pitch outside the touch-up range",
                {"", "melody note " + std::to_string(i), std::to_string(min_pitch) + ".." + std::to_string(max_pitch), std::to_string(notes[i].pitch)});
    for (std::size_t i : touch_up_detail::time_order(notes)) {
        Note& n = notes[i];
        if (is_diatonic(n.pitch, key)) continue;
        bool up = rng.coin();
        if (n.pitch + 1 > max_pitch) up = false;
        if (n.pitch - 1 < min_pitch) up = true;
        n.pitch += up ? 1 : -1;
    }
    return notes;
}

// ---------------------------------------------------------------------------------------------
// Rule 3: return to the tonic
// ---------------------------------------------------------------------------------------------

/// The first bar line at or after `step` (bars of steps_per_bar steps from step 0).
inline std::int64_t next_bar_line(std::int64_t step, int steps_per_bar) {
    require(steps_per_bar > 0, "steps per bar must be positive", {"", "steps_per_bar", ">= 1", std::to_string(steps_per_bar)});
    return (step + steps_per_bar - 1) / steps_per_bar * steps_per_bar;
}

/// Rule 3: appends one note at the first note's pitch (and velocity, channel), starting on the
/// first bar line at or after the end of the last-ending note and lasting one bar. It is added even
/// when the melody already ends on the tonic. No notes: returned unchanged. The result is sorted
/// by time (time_order). Throws photong::Error for invalid notes.
inline std::vector<Note> return_to_tonic(std::vector<Note> notes, int steps_per_bar = 16) {
    touch_up_detail::check_notes(notes, "melody");
    touch_up_detail::check_grid(steps_per_bar, 0, 127);
    if (notes.empty()) return notes;
    const Note& first = notes[std::size_t(first_note_index(notes))];
    std::int64_t last_end = 0;
    for (const Note& n : notes) last_end = std::max(last_end, n.end_step);
    Note t;
    t.pitch = first.pitch, t.velocity = first.velocity, t.channel = first.channel;
    t.start_step = next_bar_line(last_end, steps_per_bar);
    t.end_step = t.start_step + steps_per_bar;
    std::vector<Note> out;
    out.reserve(notes.size() + 1);
    for (std::size_t i : touch_up_detail::time_order(notes)) out.push_back(notes[i]);
    out.push_back(t);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Rule 4: one chord per bar
// ---------------------------------------------------------------------------------------------

/// DESIGN.md's chord quality for a scale degree (semitones above the tonic): major key — major on
/// {0,5,7}, minor on {2,4,9}, diminished on {11}; minor key — major on {3,8,10}, minor on {0,5,7},
/// diminished on {2}. Degrees outside the scale give ChordQuality::none.
inline ChordQuality chord_quality(int degree, bool major) {
    const int d = pitch_class(degree);
    if (major) {
        if (d == 0 || d == 5 || d == 7) return ChordQuality::major;
        if (d == 2 || d == 4 || d == 9) return ChordQuality::minor;
        if (d == 11) return ChordQuality::diminished;
    } else {
        if (d == 3 || d == 8 || d == 10) return ChordQuality::major;
        if (d == 0 || d == 5 || d == 7) return ChordQuality::minor;
        if (d == 2) return ChordQuality::diminished;
    }
    return ChordQuality::none;
}

/// Semitones above the chord root: major {0,4,7,12}, minor {0,3,7,12}, diminished {0,3,6,12}.
/// Throws photong::Error for ChordQuality::none.
inline std::array<int, 4> chord_voicing(ChordQuality q) {
    switch (q) {
        case ChordQuality::major: return {0, 4, 7, 12};
        case ChordQuality::minor: return {0, 3, 7, 12};
        case ChordQuality::diminished: return {0, 3, 6, 12};
        case ChordQuality::none: break;
    }
    throw Error("no voicing for a note without a chord", {"", "chord_voicing", "major, minor or diminished", "none"});
}

/// The chord root for a melody pitch: two octaves below it (pitch - 24), moved up by whole octaves
/// while below `min_pitch`.
inline int chord_root(int pitch, int min_pitch = 21) {
    int r = pitch - 24;
    while (r < min_pitch) r += 12;
    return r;
}

/// Rule 4: at most one chord per bar. For each bar [b * steps_per_bar, (b + 1) * steps_per_bar)
/// the first note starting in it (time_order) carries the chord: root chord_root(pitch), quality
/// chord_quality(its scale degree), voicing chord_voicing, starting with that note and held to the
/// bar line, with that note's velocity, on `channel`. A bar in which no note starts (rests only,
/// or a note held over from an earlier bar) gets no chord, nor does a note outside the scale.
/// Returns the chord notes sorted by start step, then pitch. Throws photong::Error for invalid
/// notes or grid.
inline std::vector<Note> bar_chords(const std::vector<Note>& notes, const Key& key, int steps_per_bar = 16, int min_pitch = 21, int channel = 1) {
    touch_up_detail::check_notes(notes, "melody");
    require(steps_per_bar > 0, "steps per bar must be positive", {"", "steps_per_bar", ">= 1", std::to_string(steps_per_bar)});
    require(min_pitch >= 0 && min_pitch <= 104, "lowest chord pitch out of range", {"", "min_pitch", "0..104", std::to_string(min_pitch)});
    require(channel >= 0 && channel <= 15, "MIDI channel out of range", {"", "chord channel", "0..15", std::to_string(channel)});
    std::vector<Note> out;
    std::int64_t last_bar = -1;
    for (std::size_t i : touch_up_detail::time_order(notes)) {
        const Note& n = notes[i];
        const std::int64_t bar = n.start_step / steps_per_bar;
        if (bar == last_bar) continue;
        last_bar = bar;
        const ChordQuality q = chord_quality(scale_degree(n.pitch, key), key.major);
        if (q == ChordQuality::none) continue;
        const int root = chord_root(n.pitch, min_pitch);  // <= max(pitch - 24, min_pitch + 11) <= 115
        for (int iv : chord_voicing(q)) {
            Note c;
            c.pitch = root + iv, c.velocity = n.velocity, c.channel = channel;
            c.start_step = n.start_step, c.end_step = (bar + 1) * steps_per_bar;
            out.push_back(c);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Rule 5 and the whole pipeline
// ---------------------------------------------------------------------------------------------

/// Rule 5: fills each note's seconds at `bpm` (step * 60 / bpm / steps_per_quarter, i.e. the
/// 120-qpm times scaled by 120 / bpm) and its ticks at ticks_per_quarter (step * tpq / spq, exact:
/// tpq must be a multiple of spq). Steps are unchanged. Throws photong::Error for a bad grid.
inline std::vector<Note> retime(std::vector<Note> notes, double bpm, int steps_per_quarter = 4, int ticks_per_quarter = 480) {
    require(std::isfinite(bpm) && bpm > 0, "tempo must be positive and finite", {"", "bpm", "> 0", std::to_string(bpm)});
    require(steps_per_quarter > 0 && ticks_per_quarter > 0 && ticks_per_quarter <= 0x7FFF && ticks_per_quarter % steps_per_quarter == 0,
            "ticks per quarter must be a multiple of steps per quarter",
            {"", "ticks_per_quarter", "1..32767, a multiple of " + std::to_string(steps_per_quarter), std::to_string(ticks_per_quarter)});
    const double sps = 60.0 / bpm / steps_per_quarter;
    const std::uint64_t tps = std::uint64_t(ticks_per_quarter / steps_per_quarter);
    for (Note& n : notes) {
        n.start_s = double(n.start_step) * sps, n.end_s = double(n.end_step) * sps;
        n.start_tick = std::uint64_t(n.start_step) * tps, n.end_tick = std::uint64_t(n.end_step) * tps;
    }
    return notes;
}

/// The whole touch-up on a melody's notes (steps filled, e.g. from melody_to_notes): mode from
/// options.valence, key from the first note (rule 1), non-diatonic notes moved by an Rng seeded
/// with options.seed (rule 2), the return to the tonic (rule 3), the bar chords (rule 4) on
/// channel 1, the tempo from options.arousal (rule 5) with seconds and ticks filled. The melody
/// goes to channel 0. A melody without notes comes back empty, with no chords and key {0, mode}.
/// Deterministic for given notes and options. Throws photong::Error for invalid notes or options.
inline TouchedUpMelody touch_up(const std::vector<Note>& notes, const TouchUpOptions& options) {
    touch_up_detail::check_grid(options.steps_per_bar, options.min_pitch, options.max_pitch);
    TouchedUpMelody r;
    r.bpm = tempo_from_arousal(options.arousal);
    r.key = key_from_notes(notes, major_from_valence(options.valence));
    r.steps_per_quarter = options.steps_per_quarter, r.steps_per_bar = options.steps_per_bar, r.ticks_per_quarter = options.ticks_per_quarter;
    std::vector<Note> mel = notes;
    for (Note& n : mel) n.channel = 0;
    Rng rng(options.seed);
    mel = return_to_tonic(snap_to_scale(std::move(mel), r.key, rng, options.min_pitch, options.max_pitch), options.steps_per_bar);
    r.chords = bar_chords(mel, r.key, options.steps_per_bar, options.min_pitch, 1);
    r.melody = retime(std::move(mel), r.bpm, options.steps_per_quarter, options.ticks_per_quarter);
    r.chords = retime(std::move(r.chords), r.bpm, options.steps_per_quarter, options.ticks_per_quarter);
    return r;
}

/// touch_up on a decoder's classes (melody_to_notes at 4 steps per quarter, velocity 100, then
/// touch_up). Throws photong::Error for a class outside the encoding.
inline TouchedUpMelody touch_up_classes(const std::vector<int>& classes, const TouchUpOptions& options, const MelodyEncoding& enc = {}) {
    return touch_up(melody_to_notes(classes, 120, options.steps_per_quarter, 100, enc), options);
}

/// The key signature meta event's sf for a key: sharps (> 0) or flats (< 0) of the major key, or
/// of the relative major (tonic + 3) for a minor key, with the fewer accidentals (-5..+6): C 0,
/// G 1, D 2, A 3, E 4, B 5, F# 6, Db -5, Ab -4, Eb -3, Bb -2, F -1; A minor 0, F minor -4, D# minor 6.
inline int key_signature_sharps(const Key& key) {
    const int major_tonic = pitch_class(key.tonic_pitch_class + (key.major ? 0 : 3));
    const int sf = (7 * major_tonic) % 12;
    return sf > 6 ? sf - 12 : sf;
}

/// The touched-up music as a Standard MIDI File, type 1, at t.ticks_per_quarter: track 0
/// "photong" holds the tempo (tempo_microseconds(t.bpm)), the 4/4 time signature and the key
/// signature (key_signature_sharps; left out when the melody has no notes); track 1 "melody" the
/// melody on channel 0; track 2 "chords" the chords on channel 1. Ticks are step * tpq / spq
/// (retime). At equal ticks note-offs come before note-ons, then lower pitches first, so the
/// bytes depend only on the notes. Throws photong::Error for a bad grid or out-of-range notes.
inline MidiFile to_midi(const TouchedUpMelody& t) {
    MidiFile f;
    f.format = 1;
    f.ticks_per_quarter = t.ticks_per_quarter;
    require(t.steps_per_bar > 0 && t.steps_per_quarter > 0 && t.steps_per_bar % t.steps_per_quarter == 0, "bar is not a whole number of quarters",
            {"", "steps_per_bar", "a multiple of " + std::to_string(t.steps_per_quarter), std::to_string(t.steps_per_bar)});
    MidiTrack conductor;
    conductor.name = "photong";
    conductor.events.push_back(MidiEvent::tempo(0, tempo_microseconds(t.bpm)));
    conductor.events.push_back(MidiEvent::time_signature(0, t.steps_per_bar / t.steps_per_quarter, 2));
    if (!t.melody.empty()) conductor.events.push_back(MidiEvent::key_signature(0, key_signature_sharps(t.key), !t.key.major));
    auto track = [&](const std::vector<Note>& notes, const char* name, int channel) {
        const std::vector<Note> timed = retime(notes, t.bpm, t.steps_per_quarter, t.ticks_per_quarter);
        MidiTrack tr;
        tr.name = name;
        std::vector<MidiEvent> ev;
        for (const Note& n : timed) {
            ev.push_back(MidiEvent::note_on(n.start_tick, channel, n.pitch, n.velocity));
            ev.push_back(MidiEvent::note_off(n.end_tick, channel, n.pitch, 0));
        }
        std::stable_sort(ev.begin(), ev.end(), [](const MidiEvent& a, const MidiEvent& b) {
            if (a.tick != b.tick) return a.tick < b.tick;
            if (a.kind != b.kind) return a.kind == MidiEventKind::note_off;
            return a.data1 < b.data1;
        });
        tr.events = std::move(ev);
        return tr;
    };
    f.tracks.push_back(std::move(conductor));
    f.tracks.push_back(track(t.melody, "melody", 0));
    f.tracks.push_back(track(t.chords, "chords", 1));
    return f;
}

}  // namespace photong
