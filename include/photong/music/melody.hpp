// photong/music/melody.hpp — monophonic melodies as MusicVAE events (note_seq's Melody semantics).
//
// MusicVAE's melody models (mel_2bar_small, hierdec-mel_16bar) read and write one event per 16th
// note: 90 classes, 0 = no event (the current note or rest goes on), 1 = note off, 2..89 = a note
// on at MIDI pitch 21..108. This header converts between those classes, notes, and MIDI tracks,
// following Magenta's code rule by rule. Written from these facts (magenta/note-seq @ 3582550,
// magenta/magenta @ 526d3eb), with the function each comes from:
//
//   note_seq/constants.py         MELODY_NO_EVENT = -2, MELODY_NOTE_OFF = -1, pitches 0..127 are
//                                 note-ons; DEFAULT_STEPS_PER_QUARTER = 4, DEFAULT_STEPS_PER_BAR = 16.
//   melody_encoder_decoder.py     MelodyOneHotEncoding(min_note, max_note exclusive).encode_event:
//                                 event < 0 -> event + 2; pitch -> pitch - min_note + 2; pitches
//                                 outside [min_note, max_note) are an error.
//   music_vae/data.py             OneHotMelodyConverter(min_pitch=21, max_pitch=108 inclusive) builds
//                                 MelodyOneHotEncoding(min_pitch, max_pitch + 1) = 90 classes, and
//                                 *drops* notes outside [min_pitch, max_pitch] before extraction
//                                 (_to_tensors_fn's is_valid); it does not transpose them.
//   melodies_lib.py Melody.to_sequence: a note-on ends any sounding note and starts a new one;
//                                 NOTE_OFF ends the sounding note (and does nothing when none is
//                                 sounding); NO_EVENT changes nothing (a hold at the very start is
//                                 silence); a note still sounding at the end ends at len * step.
//                                 seconds_per_step = 60 / qpm / steps_per_quarter.
//   melodies_lib.py Melody.from_quantized_sequence: notes sorted by (start step, -pitch) (Python's
//                                 stable sort); the melody starts at the bar holding the first
//                                 note; velocity-0 and drum notes are skipped; a note starting on
//                                 the same step as the last added note-on is skipped (ignore-
//                                 polyphony mode: the highest pitch, sorted first, wins; otherwise
//                                 PolyphonicMelodyError); a gap of >= gap_bars * steps_per_bar
//                                 steps from the last NOTE_OFF to the next note-on ends the melody;
//                                 _add_note sets the length to end + 1 (so a later-starting note
//                                 cuts the earlier one off: whatever followed its start is
//                                 overwritten and truncated), then pitch at start, NO_EVENT between,
//                                 NOTE_OFF at end; finally the trailing NOTE_OFF is removed and,
//                                 with pad_end, the length is rounded up to a whole bar.
//   melodies_lib.py Melody.transpose: octave shifting into [min_note, max_note): p < min ->
//                                 min + (p - min) mod 12; p >= max -> max - 12 + (p - max) mod 12.
//   magenta/pipelines/melody_pipelines.py extract_melodies: repeat from_quantized_sequence from
//                                 search_start_step, the next search starting at the first bar line
//                                 at or after the melody's end; discard melodies shorter than
//                                 min_bars bars; truncate longer than max_steps_truncate (to a
//                                 whole bar with pad_end); discard those with fewer than
//                                 min_unique_pitches pitch classes.
//   music_vae/configs.py          mel_16bar_converter = OneHotMelodyConverter(skip_polyphony=False,
//                                 max_bars=100, slice_bars=16, steps_per_quarter=4), so
//                                 extract_melodies runs with min_bars=1, gap_bars=1, min_unique_
//                                 pitches=1, ignore_polyphonic_notes=True, pad_end=True,
//                                 max_steps_truncate=1600.
//   music_vae/data.py LegacyEventListOneHotConverter.to_tensors: windows l[i - slice_steps : i] for
//                                 i in range(slice_steps, len(l) + 1, steps_per_bar) -- only whole
//                                 windows, hop one bar -- then deduplicated (an unordered set) and
//                                 at most max_tensors_per_notesequence (5) kept.
//   note_seq/sequences_lib.py     quantize_to_step(s, sps) = int(s * sps + (1 - QUANTIZE_CUTOFF)),
//                                 QUANTIZE_CUTOFF = 0.5 (so x.5 rounds up); _quantize_notes moves a
//                                 note quantized to zero length to end = start + 1.
//                                 quantize_note_sequence refuses more than one tempo
//                                 (MultipleTempoError); the converter splits on tempo changes first.
//   pretty_midi (note_seq/midi_io.py reads MIDI through it): a note-off (or note-on velocity 0)
//                                 closes every open note of its (channel, pitch) that started at an
//                                 earlier tick; notes opened at that same tick stay open only if
//                                 some earlier note was closed, otherwise they are dropped; notes
//                                 never closed are dropped; channel 9 is drums.
//
// Where photong differs on purpose (each is stated again at the function):
//   - quantization is done in ticks, exactly, with the same round-half-up rule: step =
//     floor(tick * steps_per_quarter / ticks_per_quarter + 0.5). Steps are 16th notes of the score,
//     so a tempo map (most POP909 files have one) does not move notes off the grid, where note_seq
//     would refuse the sequence or split it at every tempo change. With a single tempo the two agree
//     except where float rounding in seconds lands a tie on the other side.
//   - steps_per_bar is a parameter (default 16) instead of being read from the time signature; the
//     converter drops any sequence whose time signature is not 4/4 -- all of POP909 declares 2/4.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/music/midi.hpp"
#include "photong/music/tempo_map.hpp"

namespace photong {

/// note_seq's melody events: pitches 0..127 are note-ons, these two are the special events.
constexpr int kMelodyNoEvent = -2;  ///< note_seq MELODY_NO_EVENT: the current note or rest goes on
constexpr int kMelodyNoteOff = -1;  ///< note_seq MELODY_NOTE_OFF: the sounding note stops here

/// MusicVAE's one-hot classes for those events.
constexpr int kHold = 0;     ///< class of MELODY_NO_EVENT
constexpr int kNoteOff = 1;  ///< class of MELODY_NOTE_OFF
constexpr int kFirstPitchClass = 2;  ///< class of the lowest pitch (min_pitch)

/// The melody encoding of OneHotMelodyConverter: classes 0 (hold), 1 (note off), and one class per
/// pitch of min_pitch..max_pitch (both inclusive, as the converter's arguments are). The defaults
/// are the piano range 21..108 of every MusicVAE melody model: 90 classes.
struct MelodyEncoding {
    int min_pitch = 21;   ///< lowest MIDI pitch with a class (inclusive)
    int max_pitch = 108;  ///< highest MIDI pitch with a class (inclusive)

    /// Number of classes: 2 + the number of pitches (90 for the defaults).
    int num_classes() const { return kFirstPitchClass + max_pitch - min_pitch + 1; }
    /// True when `pitch` has a class.
    bool has_pitch(int pitch) const { return pitch >= min_pitch && pitch <= max_pitch; }
    /// Checks the range itself (0 <= min <= max <= 127), as MelodyOneHotEncoding's constructor does.
    void validate() const {
        require(min_pitch >= 0 && max_pitch <= 127 && min_pitch <= max_pitch, "melody encoding pitch range is invalid",
                {"", "MelodyEncoding", "0 <= min_pitch <= max_pitch <= 127", std::to_string(min_pitch) + ".." + std::to_string(max_pitch)});
    }
    /// note_seq event (-2, -1 or a pitch) -> class; throws photong::Error for an event without a class.
    /// `index` is only used in the message (the event's position in its sequence).
    int encode(int event, std::size_t index = 0) const {
        if (event == kMelodyNoEvent) return kHold;
        if (event == kMelodyNoteOff) return kNoteOff;
        if (!has_pitch(event))
            throw Error("melody event has no class in this encoding",
                        {"", "melody event " + std::to_string(index), "-2, -1 or a pitch in " + std::to_string(min_pitch) + ".." + std::to_string(max_pitch),
                         std::to_string(event)});
        return event - min_pitch + kFirstPitchClass;
    }
    /// class -> note_seq event; throws photong::Error naming `index` for a class outside 0..num_classes()-1.
    int decode(int cls, std::size_t index = 0) const {
        if (cls < 0 || cls >= num_classes())
            throw Error("melody class out of range", {"", "melody event " + std::to_string(index), "0.." + std::to_string(num_classes() - 1), std::to_string(cls)});
        if (cls == kHold) return kMelodyNoEvent;
        if (cls == kNoteOff) return kMelodyNoteOff;
        return cls - kFirstPitchClass + min_pitch;
    }
};

/// Classes (e.g. a decoder's output) -> note_seq events. Throws photong::Error naming the first bad index.
inline std::vector<int> classes_to_events(const std::vector<int>& classes, const MelodyEncoding& enc = {}) {
    enc.validate();
    std::vector<int> out(classes.size());
    for (std::size_t i = 0; i < classes.size(); ++i) out[i] = enc.decode(classes[i], i);
    return out;
}

/// note_seq events -> classes. Throws photong::Error naming the first event without a class
/// (a pitch outside the encoding's range, or a value below -2).
inline std::vector<int> events_to_classes(const std::vector<int>& events, const MelodyEncoding& enc = {}) {
    enc.validate();
    std::vector<int> out(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) out[i] = enc.encode(events[i], i);
    return out;
}

/// One note. Which time fields are filled depends on where it came from: notes_from_track fills
/// ticks and seconds, the quantize_* functions fill steps, melody_to_notes fills steps and seconds.
struct Note {
    int pitch = 60;       ///< MIDI pitch 0..127
    int velocity = 100;   ///< 1..127 (0 is skipped by melody extraction, as note_seq does)
    int channel = 0;      ///< MIDI channel 0..15 (9 = drums)
    std::int64_t start_step = 0, end_step = 0;   ///< quantized 16th-note (by default) steps; end exclusive
    double start_s = 0, end_s = 0;               ///< seconds from the start of the file
    std::uint64_t start_tick = 0, end_tick = 0;  ///< MIDI ticks, when read from a file

    friend bool operator==(const Note& a, const Note& b) {
        return a.pitch == b.pitch && a.velocity == b.velocity && a.channel == b.channel && a.start_step == b.start_step && a.end_step == b.end_step &&
               a.start_s == b.start_s && a.end_s == b.end_s && a.start_tick == b.start_tick && a.end_tick == b.end_tick;
    }
};

/// A melody as note_seq events, one per step, placed at `start_step` of its source (a bar line
/// for extracted melodies).
struct Melody {
    std::vector<int> events;      ///< -2 (no event), -1 (note off) or a pitch, one per step
    std::int64_t start_step = 0;  ///< first step, relative to the source sequence
    int steps_per_bar = 16;
    int steps_per_quarter = 4;

    /// Step just past the melody (note_seq's end_step = start_step + len).
    std::int64_t end_step() const { return start_step + std::int64_t(events.size()); }
};

/// Events -> notes, as Melody.to_sequence: a pitch ends any sounding note and starts one; a note
/// off ends the sounding note (nothing happens when none sounds); a hold changes nothing, so holds
/// before the first note are silence; a note sounding at the end lasts to events.size(). Steps are
/// relative to the first event; seconds are step * 60 / qpm / steps_per_quarter (+ start_s).
/// Notes get `velocity` (note_seq's default 100; MusicVAE's from_tensors uses 80).
inline std::vector<Note> melody_events_to_notes(const std::vector<int>& events, double qpm = 120, int steps_per_quarter = 4, int velocity = 100,
                                                double start_s = 0) {
    require(qpm > 0 && std::isfinite(qpm), "tempo must be positive", {"", "qpm", "> 0", std::to_string(qpm)});
    require(steps_per_quarter > 0, "steps per quarter must be positive", {"", "steps_per_quarter", ">= 1", std::to_string(steps_per_quarter)});
    require(velocity >= 1 && velocity <= 127, "note velocity out of range", {"", "velocity", "1..127", std::to_string(velocity)});
    const double sps = 60.0 / qpm / steps_per_quarter;
    std::vector<Note> notes;
    bool sounding = false;
    auto close = [&](std::int64_t step) {
        if (!sounding) return;
        notes.back().end_step = step;
        notes.back().end_s = double(step) * sps + start_s;
        sounding = false;
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
        const int e = events[i];
        const std::int64_t step = std::int64_t(i);
        if (e >= 0 && e <= 127) {
            close(step);
            Note n;
            n.pitch = e, n.velocity = velocity;
            n.start_step = step, n.start_s = double(step) * sps + start_s;
            notes.push_back(n);
            sounding = true;
        } else if (e == kMelodyNoteOff) {
            close(step);
        } else if (e != kMelodyNoEvent) {
            throw Error("melody event out of range", {"", "melody event " + std::to_string(i), "-2..127", std::to_string(e)});
        }
    }
    close(std::int64_t(events.size()));
    return notes;
}

/// Classes -> notes (see melody_events_to_notes for the rules and units). This is how a decoded
/// MusicVAE sequence becomes music: 120 qpm and 4 steps per quarter give 0.125 s per step.
/// Throws photong::Error naming the index of a class outside 0..num_classes()-1.
inline std::vector<Note> melody_to_notes(const std::vector<int>& classes, double qpm = 120, int steps_per_quarter = 4, int velocity = 100,
                                         const MelodyEncoding& enc = {}) {
    return melody_events_to_notes(classes_to_events(classes, enc), qpm, steps_per_quarter, velocity);
}

namespace melody_detail {

/// note_seq's Melody event list being built (_add_note and Melody.set_length), stored sparsely.
///
/// Melody._add_note overwrites everything from the note's start on: the list becomes
/// [... prefix, pitch, NO_EVENT..., NOTE_OFF] of length end + 1. So the list is kept as a
/// materialised prefix `ev` (the steps before the last note) and that last note as a "tail":
/// the pitch at on_, a NOTE_OFF at off_ when off_ < size_, NO_EVENT elsewhere up to size_. The
/// tail is written out only up to the next note's start, and not past `keep` steps: the work is
/// O(notes + min(length, keep)), whatever the notes' lengths. Writing every step of every note,
/// as note_seq does, let a small MIDI file of long overlapping notes cost a billion writes
/// (fuzz_midi found several).
class Builder {
public:
    static constexpr std::int64_t kMaxSteps = std::int64_t(1) << 24;

    /// An empty list; steps at or after `keep` are tracked in size() but not stored.
    explicit Builder(std::size_t keep = std::numeric_limits<std::size_t>::max()) : keep_(keep) {}

    bool empty() const { return size_ == 0; }
    std::int64_t size() const { return size_; }

    /// Melody._add_note: length end + 1, pitch at start, NO_EVENT inside, NOTE_OFF at end.
    void add_note(int pitch, std::int64_t start, std::int64_t end) {
        if (start >= end)
            throw Error("note start step does not precede its end step", {"", "note", "start < end", std::to_string(start) + " >= " + std::to_string(end)});
        if (start < 0) throw Error("note at a negative step", {"", "note", ">= 0", std::to_string(start)});
        // A MIDI file of a few bytes can hold a note lasting 2^28 ticks; at 4 steps per quarter and
        // one tick per quarter that is a billion events. 2^24 steps (a million 4/4 bars, 64 MB of
        // events) is far beyond any real melody and keeps a hostile file from exhausting memory.
        if (end >= kMaxSteps)
            throw Error("melody too long: a note ends beyond the longest melody photong builds", {"", "note", "end step < " + std::to_string(kMaxSteps), std::to_string(end)});
        // Steps before `start` keep their events (set_length grows the list with NO_EVENT, and a
        // NOTE_OFF where a note was sounding); steps from `start` on are the new tail.
        set_length(start);
        materialise(start);
        has_tail_ = true;
        pitch_ = pitch, on_ = start, off_ = end, size_ = end + 1;
    }

    /// Melody._get_last_on_off_events: index of the last note-on and of the first NOTE_OFF after
    /// it (the length when there is none). Without a tail it scans what is stored, so with a
    /// `keep` it is exact only while a note has been added since the last cut.
    std::pair<std::int64_t, std::int64_t> last_on_off() const {
        if (has_tail_) return {on_, off_ < size_ ? off_ : size_};
        std::int64_t last_off = size_;
        for (std::size_t i = ev_.size(); i-- > 0;) {
            if (ev_[i] == kMelodyNoteOff) last_off = std::int64_t(i);
            if (ev_[i] >= 0) return {std::int64_t(i), last_off};
        }
        return {-1, last_off};
    }

    /// Removes a NOTE_OFF at the very end (from_quantized_sequence drops it; a note that ends
    /// with the melody needs none). A list without a tail is checked in what is stored.
    void drop_trailing_note_off() {
        if (size_ == 0) return;
        const bool off_at_end = has_tail_ ? off_ == size_ - 1 : std::size_t(size_) == ev_.size() && ev_.back() == kMelodyNoteOff;
        if (off_at_end) set_length(size_ - 1);
    }

    /// Melody.set_length: pad with NO_EVENT or truncate; when growing, a note still sounding at
    /// the old end gets a NOTE_OFF there.
    void set_length(std::int64_t n) {
        if (n <= size_) {
            if (has_tail_ && n > on_) {
                size_ = n;  // the tail is cut; a NOTE_OFF at or past n is simply outside it
                return;
            }
            materialise(n);
            size_ = n;
            return;
        }
        const std::int64_t old = size_;
        if (has_tail_) {
            if (off_ >= old) off_ = old;  // the tail's note was sounding at the old end
            size_ = n;
            return;
        }
        // Past `keep` nothing is stored, and the NOTE_OFF set_length may add goes at step `old`:
        // when old >= keep neither the old events nor the new ones are stored.
        const std::size_t stored = std::min<std::size_t>(std::size_t(n), keep_);
        if (stored > ev_.size()) {
            ev_.resize(stored, kMelodyNoEvent);
            for (std::size_t i = std::size_t(old); i-- > 0;) {
                if (ev_[i] == kMelodyNoteOff) break;
                if (ev_[i] != kMelodyNoEvent) {
                    ev_[std::size_t(old)] = kMelodyNoteOff;
                    break;
                }
            }
        }
        size_ = n;
    }

    /// The events, steps [0, min(size(), keep)); the builder is left empty.
    std::vector<int> take() {
        materialise(size_);
        std::vector<int> out = std::move(ev_);
        *this = Builder(keep_);
        return out;
    }

private:
    /// Writes the tail out up to step n (n <= size_) and makes the list all prefix, of length n.
    void materialise(std::int64_t n) {
        const std::size_t stored = std::min<std::size_t>(std::size_t(n), keep_);
        if (!has_tail_) {
            if (stored < ev_.size()) ev_.resize(stored);
            return;
        }
        has_tail_ = false;
        if (std::size_t(on_) >= stored) {
            ev_.resize(stored);
            return;
        }
        ev_.reserve(stored);
        ev_.push_back(pitch_);
        ev_.resize(stored, kMelodyNoEvent);
        if (off_ < n && std::size_t(off_) < stored) ev_[std::size_t(off_)] = kMelodyNoteOff;
    }

    std::vector<int> ev_;            ///< steps [0, min(on_ or size_, keep_))
    std::int64_t size_ = 0;          ///< the list's length in steps
    bool has_tail_ = false;          ///< the last note's steps [on_, size_) are not in ev_
    int pitch_ = 0;
    std::int64_t on_ = 0, off_ = 0;  ///< the tail's note-on and NOTE_OFF steps (off_ >= size_: none)
    std::size_t keep_ = std::numeric_limits<std::size_t>::max();
};

inline std::int64_t floor_mod(std::int64_t a, std::int64_t m) { return ((a % m) + m) % m; }

/// Notes in note_seq's extraction order: stable sort by (start step, descending pitch).
inline std::vector<const Note*> sorted_notes(const std::vector<Note>& notes) {
    std::vector<const Note*> v;
    v.reserve(notes.size());
    for (const Note& n : notes) v.push_back(&n);
    std::stable_sort(v.begin(), v.end(), [](const Note* a, const Note* b) {
        if (a->start_step != b->start_step) return a->start_step < b->start_step;
        return a->pitch > b->pitch;
    });
    return v;
}

inline void check_steps(const Note& n, std::size_t i) {
    if (n.start_step < 0 || n.end_step < 0)
        throw Error("note at a negative step", {"", "note " + std::to_string(i), ">= 0", std::to_string(n.start_step) + ".." + std::to_string(n.end_step)});
    if (n.pitch < 0 || n.pitch > 127) throw Error("note pitch out of range", {"", "note " + std::to_string(i), "0..127", std::to_string(n.pitch)});
}

}  // namespace melody_detail

/// Options of melody extraction; the defaults are MusicVAE's mel_16bar_converter (see the top).
struct MelodyExtractOptions {
    int steps_per_bar = 16;             ///< steps in a bar: 4 steps per quarter x 4 quarters
    int steps_per_quarter = 4;          ///< recorded in the Melody; the notes are already in steps
    double gap_bars = 1.0;              ///< a silence this long (in bars) ends a melody; <= 0 = never
    bool ignore_polyphonic_notes = true;  ///< true: highest of simultaneous onsets wins; false: the whole instrument is discarded
    bool pad_end = true;                ///< round each melody's length up to a whole bar
    bool filter_drums = true;           ///< skip notes on channel 9 (pretty_midi's is_drum)
    int min_bars = 1;                   ///< discard shorter melodies
    std::int64_t max_steps_truncate = 1600;  ///< truncate longer melodies (100 bars); <= 0 = never
    std::int64_t max_steps_discard = 0;      ///< discard longer melodies; <= 0 = never
    int min_unique_pitches = 1;         ///< discard melodies with fewer distinct pitch classes
};

/// One melody from quantized notes (start_step/end_step filled, one instrument), exactly as
/// note_seq's Melody.from_quantized_sequence with search_start_step (assumed to be a bar line):
/// see the top of this file for the rule. Returns an empty Melody when no note starts at or after
/// search_start_step. Throws photong::Error for polyphony (two onsets on one step) when
/// opts.ignore_polyphonic_notes is false, for negative steps, and for a note with end <= start.
inline Melody melody_from_quantized_notes(const std::vector<Note>& notes, std::int64_t search_start_step = 0, const MelodyExtractOptions& opts = {});

namespace melody_detail {
/// One from_quantized_sequence result: the melody (events stored up to `keep` steps) and its
/// whole length, which decides where extraction searches next and the min/max bar filters.
struct Extracted {
    Melody melody;
    std::int64_t length = 0;   ///< melody length in steps (melody.events may hold fewer)
    bool polyphonic = false;   ///< two onsets on one step with ignore_polyphonic_notes false
    std::int64_t polyphonic_step = 0;  ///< where, in the source's steps
};

/// from_quantized_sequence's body on notes already checked and in extraction order, starting at
/// sorted[first], the first note at or after search_start_step.
inline Extracted from_sorted(const std::vector<const Note*>& sorted, std::size_t first, std::int64_t search_start_step, const MelodyExtractOptions& opts,
                             std::size_t keep) {
    require(opts.steps_per_bar > 0, "steps per bar must be positive", {"", "steps_per_bar", ">= 1", std::to_string(opts.steps_per_bar)});
    Extracted out;
    out.melody.steps_per_bar = opts.steps_per_bar, out.melody.steps_per_quarter = opts.steps_per_quarter;
    if (first >= sorted.size()) return out;
    // The first bar line at or before the first note (note_seq uses the first note in sorted order,
    // before its drum and zero-velocity filters).
    const std::int64_t melody_start = sorted[first]->start_step - floor_mod(sorted[first]->start_step - search_start_step, opts.steps_per_bar);
    const double gap_steps = opts.gap_bars > 0 ? opts.gap_bars * opts.steps_per_bar : std::numeric_limits<double>::infinity();
    Builder b(keep);
    for (std::size_t i = first; i < sorted.size(); ++i) {
        const Note* n = sorted[i];
        if (opts.filter_drums && n->channel == 9) continue;
        if (n->velocity == 0) continue;
        const std::int64_t start = n->start_step - melody_start, end = n->end_step - melody_start;
        if (b.empty()) {
            b.add_note(n->pitch, start, end);
            continue;
        }
        const auto [last_on, last_off] = b.last_on_off();
        const std::int64_t on_distance = start - last_on, off_distance = start - last_off;
        if (on_distance == 0) {
            if (opts.ignore_polyphonic_notes) continue;  // sorted by descending pitch: the one already there is the highest
            out.polyphonic = true, out.polyphonic_step = n->start_step;
            return out;
        }
        if (double(off_distance) >= gap_steps) break;
        b.add_note(n->pitch, start, end);
    }
    if (b.empty()) return out;
    out.melody.start_step = melody_start;
    b.drop_trailing_note_off();
    std::int64_t length = b.size();
    if (opts.pad_end) length += floor_mod(-length, opts.steps_per_bar);
    b.set_length(length);
    out.length = length;
    out.melody.events = b.take();
    return out;
}

/// Checks every note (extraction throws on the first bad one, whatever the search start) and
/// sorts them once, so extracting many melodies costs one sort.
inline std::vector<const Note*> checked_sorted_notes(const std::vector<Note>& notes) {
    for (std::size_t i = 0; i < notes.size(); ++i) check_steps(notes[i], i);
    return sorted_notes(notes);
}

/// Index of the first note (in extraction order) starting at or after `step`.
inline std::size_t first_at_or_after(const std::vector<const Note*>& sorted, std::int64_t step) {
    return std::size_t(std::lower_bound(sorted.begin(), sorted.end(), step, [](const Note* n, std::int64_t s) { return n->start_step < s; }) - sorted.begin());
}
}  // namespace melody_detail

inline Melody melody_from_quantized_notes(const std::vector<Note>& notes, std::int64_t search_start_step, const MelodyExtractOptions& opts) {
    const std::vector<const Note*> sorted = melody_detail::checked_sorted_notes(notes);
    melody_detail::Extracted x =
        melody_detail::from_sorted(sorted, melody_detail::first_at_or_after(sorted, search_start_step), search_start_step, opts, std::numeric_limits<std::size_t>::max());
    if (x.polyphonic) throw Error("polyphonic melody: two notes start on the same step", {"", "step " + std::to_string(x.polyphonic_step), "one onset per step", "more"});
    return std::move(x.melody);
}

/// All melodies of one instrument's quantized notes, as magenta's extract_melodies: extraction
/// restarts at the first bar line at or after each melody's end, until no note is left; melodies
/// shorter than min_bars are discarded, longer than max_steps_truncate truncated (to a whole bar
/// when pad_end), with fewer than min_unique_pitches pitch classes discarded. With polyphony and
/// ignore_polyphonic_notes false the instrument yields nothing (extract_melodies discards it).
/// Work is O(notes log notes + steps kept): events past max_steps_truncate are never written.
inline std::vector<Melody> extract_melodies(const std::vector<Note>& notes, const MelodyExtractOptions& opts = {}, std::int64_t search_start_step = 0) {
    const std::vector<const Note*> sorted = melody_detail::checked_sorted_notes(notes);
    const std::size_t keep = opts.max_steps_truncate > 0 ? std::size_t(opts.max_steps_truncate) : std::numeric_limits<std::size_t>::max();
    std::vector<Melody> out;
    std::int64_t search = search_start_step;
    while (true) {
        melody_detail::Extracted x = melody_detail::from_sorted(sorted, melody_detail::first_at_or_after(sorted, search), search, opts, keep);
        if (x.polyphonic) return {};
        Melody& m = x.melody;
        const std::int64_t end = m.start_step + x.length;
        search = end + melody_detail::floor_mod(search_start_step - end, opts.steps_per_bar);
        if (x.length == 0) break;
        if (x.length < std::int64_t(opts.steps_per_bar) * opts.min_bars) continue;
        if (opts.max_steps_discard > 0 && x.length > opts.max_steps_discard) continue;
        if (opts.max_steps_truncate > 0 && x.length > opts.max_steps_truncate) {
            std::int64_t len = opts.max_steps_truncate;
            if (opts.pad_end) len -= opts.max_steps_truncate % opts.steps_per_bar;
            m.events.resize(std::size_t(len));  // events hold min(length, keep) >= len steps: a plain cut
        }
        std::set<int> pitch_classes;
        for (int e : m.events)
            if (e >= 0) pitch_classes.insert(e % 12);
        if (int(pitch_classes.size()) < opts.min_unique_pitches) continue;
        out.push_back(std::move(m));
    }
    return out;
}

/// Quantized monophonic notes -> classes: the inverse of melody_to_notes. Events are placed at
/// absolute steps from 0 (no bar alignment, no gap splitting) with from_quantized_sequence's
/// rules (highest pitch wins a shared onset, a later onset cuts the sounding note), the trailing
/// note off is dropped, and the result is padded with holds (or truncated) to `length` steps when
/// length >= 0 (a note sounding past a padded end gets a note off there, as Melody.set_length).
/// melody_to_notes then notes_to_melody gives the classes back when they hold no redundant note
/// off (a note off with nothing sounding, which carries no information). Throws photong::Error for
/// a pitch without a class (drop or shift them first, see fit_pitch_range).
inline std::vector<int> notes_to_melody(const std::vector<Note>& notes, std::int64_t length = -1, const MelodyEncoding& enc = {}) {
    for (std::size_t i = 0; i < notes.size(); ++i) melody_detail::check_steps(notes[i], i);
    melody_detail::Builder b;
    for (const Note* n : melody_detail::sorted_notes(notes)) {
        if (n->velocity == 0) continue;
        if (!b.empty() && b.last_on_off().first == n->start_step) continue;
        b.add_note(n->pitch, n->start_step, n->end_step);
    }
    b.drop_trailing_note_off();
    if (length >= 0) b.set_length(length);
    return events_to_classes(b.take(), enc);
}

/// What to do with notes whose pitch has no class.
enum class PitchRangePolicy {
    drop,          ///< remove them (OneHotMelodyConverter's behaviour; the default)
    octave_shift,  ///< move them by octaves into range (Melody.transpose's rule)
};

/// Applies `policy` to notes outside enc's pitch range: drop them (as OneHotMelodyConverter does
/// before extraction) or shift them by whole octaves into [min_pitch, max_pitch] (Melody.transpose
/// with min_note = min_pitch, max_note = max_pitch + 1). Octave shifting needs a range of at least
/// 12 pitches.
inline std::vector<Note> fit_pitch_range(const std::vector<Note>& notes, PitchRangePolicy policy = PitchRangePolicy::drop, const MelodyEncoding& enc = {}) {
    enc.validate();
    std::vector<Note> out;
    out.reserve(notes.size());
    const int lo = enc.min_pitch, hi = enc.max_pitch + 1;  // [lo, hi)
    if (policy == PitchRangePolicy::octave_shift)
        require(hi - lo >= 12, "octave shifting needs a pitch range of at least one octave", {"", "MelodyEncoding", ">= 12 pitches", std::to_string(hi - lo)});
    for (Note n : notes) {
        if (!enc.has_pitch(n.pitch)) {
            if (policy == PitchRangePolicy::drop) continue;
            if (n.pitch < lo)
                n.pitch = lo + int(melody_detail::floor_mod(n.pitch - lo, 12));
            else
                n.pitch = hi - 12 + int(melody_detail::floor_mod(n.pitch - hi, 12));
        }
        out.push_back(n);
    }
    return out;
}

/// note_seq's quantize_to_step: seconds -> the step int(seconds * steps_per_second + 1 - cutoff)
/// (Python int() truncates toward zero). With the default cutoff 0.5 a time exactly half way
/// between two steps goes to the later one.
inline std::int64_t quantize_to_step(double seconds, double steps_per_second, double cutoff = 0.5) {
    return std::int64_t(std::trunc(seconds * steps_per_second + (1.0 - cutoff)));
}

/// Ticks -> the nearest step, ties to the later step (note_seq's 0.5 cutoff), computed exactly in
/// integers: floor(tick * steps_per_quarter / ticks_per_quarter + 1/2).
inline std::int64_t quantize_tick(std::uint64_t tick, int ticks_per_quarter, int steps_per_quarter = 4) {
    require(ticks_per_quarter > 0 && steps_per_quarter > 0, "quantization needs positive ticks and steps per quarter", [&] {  // per note: lazy
        return ErrorContext{"", "quantize_tick", ">= 1", std::to_string(ticks_per_quarter) + ", " + std::to_string(steps_per_quarter)};
    });
    // Whole quarters first, so nothing overflows: r < ticks_per_quarter.
    const std::uint64_t tpq = std::uint64_t(ticks_per_quarter), spq = std::uint64_t(steps_per_quarter);
    const std::uint64_t q = tick / tpq, r = tick % tpq;
    return std::int64_t(q * spq + (2 * r * spq + tpq) / (2 * tpq));
}

/// Fills start_step/end_step from the notes' ticks (quantize_tick), and moves a note quantized to
/// zero length to end = start + 1, as note_seq's _quantize_notes does. Photong quantizes in ticks,
/// not seconds: steps are 16th notes of the score whatever the tempo map says (note_seq itself
/// only quantizes single-tempo sequences, for which both give the same steps up to float ties).
inline std::vector<Note> quantize_notes(std::vector<Note> notes, int ticks_per_quarter, int steps_per_quarter = 4) {
    for (Note& n : notes) {
        n.start_step = quantize_tick(n.start_tick, ticks_per_quarter, steps_per_quarter);
        n.end_step = quantize_tick(n.end_tick, ticks_per_quarter, steps_per_quarter);
        if (n.end_step == n.start_step) n.end_step += 1;
    }
    return notes;
}

/// Fills start_step/end_step from the notes' seconds at one tempo `qpm`, exactly as note_seq's
/// quantize_note_sequence: steps_per_second = steps_per_quarter * qpm / 60, quantize_to_step, then
/// zero-length notes get one step. Throws photong::Error for a note at negative time.
inline std::vector<Note> quantize_notes_seconds(std::vector<Note> notes, double qpm = 120, int steps_per_quarter = 4) {
    require(qpm > 0 && std::isfinite(qpm), "tempo must be positive", {"", "qpm", "> 0", std::to_string(qpm)});
    const double sps = steps_per_quarter * qpm / 60.0;
    for (std::size_t i = 0; i < notes.size(); ++i) {
        Note& n = notes[i];
        n.start_step = quantize_to_step(n.start_s, sps);
        n.end_step = quantize_to_step(n.end_s, sps);
        if (n.end_step == n.start_step) n.end_step += 1;
        if (n.start_step < 0 || n.end_step < 0)
            throw Error("note at negative time", {"", "note " + std::to_string(i), ">= 0 s", std::to_string(n.start_s) + " s"});
    }
    return notes;
}

/// Index of the first track named `name` (e.g. POP909's "MELODY"); throws photong::Error listing
/// the names there are when none matches.
inline std::size_t find_track(const MidiFile& file, const std::string& name) {
    std::string names;
    for (std::size_t i = 0; i < file.tracks.size(); ++i) {
        if (file.tracks[i].name == name) return i;
        names += (i ? ", \"" : "\"") + file.tracks[i].name + "\"";
    }
    throw Error("no MIDI track with this name", {"", "track \"" + name + "\"", "a track named " + name, names.empty() ? "no tracks" : names});
}

/// The notes of one track, paired as pretty_midi does (so as note_seq sees them): a note-off, or
/// note-on of velocity 0, closes every open note of its (channel, pitch) opened at an earlier tick;
/// notes opened on that very tick stay open when an earlier one was closed and are dropped
/// otherwise; notes never closed are dropped. Notes come in the order they are closed. `channel`
/// >= 0 keeps that channel only (-1: all; note_seq would treat each channel and program as its own
/// instrument). Ticks are filled, and seconds through the tempo map (TempoMap).
inline std::vector<Note> notes_from_track(const MidiFile& file, std::size_t track, int channel = -1) {
    require(track < file.tracks.size(), "MIDI track index out of range",
            {"", "track " + std::to_string(track), "< " + std::to_string(file.tracks.size()), std::to_string(track)});
    std::map<std::pair<int, int>, std::vector<std::pair<std::uint64_t, int>>> open;  // (channel, pitch) -> (start tick, velocity)
    std::vector<Note> notes;
    const TempoMap tempo_map(file);
    for (const MidiEvent& e : file.tracks[track].events) {
        if (e.kind != MidiEventKind::note_on && e.kind != MidiEventKind::note_off) continue;
        if (channel >= 0 && e.channel != channel) continue;
        const std::pair<int, int> key{e.channel, e.data1};
        if (e.kind == MidiEventKind::note_on && e.data2 > 0) {
            open[key].emplace_back(e.tick, e.data2);
            continue;
        }
        auto it = open.find(key);
        if (it == open.end()) continue;  // a note-off with nothing open
        std::vector<std::pair<std::uint64_t, int>> keep;
        bool closed = false;
        for (const auto& [start, vel] : it->second) {
            if (start == e.tick) {
                keep.emplace_back(start, vel);
                continue;
            }
            Note n;
            n.pitch = e.data1, n.velocity = vel, n.channel = e.channel;
            n.start_tick = start, n.end_tick = e.tick;
            n.start_s = tempo_map.seconds(start), n.end_s = tempo_map.seconds(e.tick);
            notes.push_back(n);
            closed = true;
        }
        if (closed && !keep.empty())
            it->second = std::move(keep);
        else
            open.erase(it);
    }
    return notes;
}

/// Every note of a MIDI file as muspy.read_midi (mido backend) gives them, in ticks (start_step/end_step and
/// start_tick/end_tick both hold ticks): per track, a note-on of velocity 0 or a note-off closes the oldest open
/// note of its channel and pitch ("fifo"), an unmatched note-off is skipped, notes still open end at the track's
/// last event; channel 9 (drums) kept, with its channel, for the caller to skip or count (metrics.hpp's kundu_metrics,
/// performance_events.hpp's performance_notes). Unlike notes_from_track, every track, and a same-tick re-strike is a note.
inline std::vector<Note> muspy_notes(const MidiFile& file) {
    std::vector<Note> notes;
    for (const MidiTrack& track : file.tracks) {
        std::map<std::pair<int, int>, std::vector<std::pair<std::uint64_t, int>>> open;
        std::uint64_t last = 0;
        auto add = [&](int channel, int pitch, std::uint64_t start, std::uint64_t end, int velocity) {
            Note n;
            n.pitch = pitch, n.velocity = velocity, n.channel = channel;
            n.start_tick = start, n.end_tick = end;
            n.start_step = std::int64_t(start), n.end_step = std::int64_t(end);
            notes.push_back(n);
        };
        for (const MidiEvent& e : track.events) {
            last = std::max(last, e.tick);
            if (e.kind != MidiEventKind::note_on && e.kind != MidiEventKind::note_off) continue;
            auto& list = open[{e.channel, e.data1}];
            if (e.kind == MidiEventKind::note_on && e.data2 > 0) {
                list.emplace_back(e.tick, e.data2);
            } else if (!list.empty()) {
                add(e.channel, e.data1, list.front().first, e.tick, list.front().second);
                list.erase(list.begin());
            }
        }
        for (const auto& [key, list] : open)
            for (const auto& [start, vel] : list) add(key.first, key.second, start, last, vel);
    }
    return notes;
}

/// Windows of one melody for a model of `slice_bars` bars, as LegacyEventListOneHotConverter
/// slices: events[i - slice_steps, i) for i = slice_steps, slice_steps + hop, ... <= size (whole
/// windows only; hop one bar by default). skip_empty (not magenta's behaviour) drops windows
/// without a note-on; dedupe keeps the first of equal windows (magenta dedupes through an unordered
/// set, then keeps at most 5 per file -- left to the caller).
inline std::vector<std::vector<int>> slice_melody(const Melody& m, int slice_bars = 16, int hop_steps = 0, bool skip_empty = false, bool dedupe = false) {
    require(slice_bars > 0 && m.steps_per_bar > 0, "slicing needs positive bars and steps per bar",
            {"", "slice_melody", ">= 1", std::to_string(slice_bars) + " x " + std::to_string(m.steps_per_bar)});
    const std::size_t slice = std::size_t(slice_bars) * std::size_t(m.steps_per_bar);
    const std::size_t hop = hop_steps > 0 ? std::size_t(hop_steps) : std::size_t(m.steps_per_bar);
    std::vector<std::vector<int>> out;
    std::set<std::vector<int>> seen;
    for (std::size_t i = slice; i <= m.events.size(); i += hop) {
        std::vector<int> w(m.events.begin() + std::ptrdiff_t(i - slice), m.events.begin() + std::ptrdiff_t(i));
        if (skip_empty && std::none_of(w.begin(), w.end(), [](int e) { return e >= 0; })) continue;
        if (dedupe && !seen.insert(w).second) continue;
        out.push_back(std::move(w));
    }
    return out;
}

/// Everything from a MIDI track to melodies: notes_from_track (all channels), fit_pitch_range with
/// `policy`, quantize_notes in ticks, extract_melodies with `opts`. These are what MusicVAE's
/// converter slices into 16-bar windows (slice_melody) and encodes (events_to_classes).
inline std::vector<Melody> melodies_from_track(const MidiFile& file, std::size_t track, const MelodyExtractOptions& opts = {},
                                               PitchRangePolicy policy = PitchRangePolicy::drop, const MelodyEncoding& enc = {}) {
    const std::vector<Note> notes = quantize_notes(fit_pitch_range(notes_from_track(file, track), policy, enc), file.ticks_per_quarter, opts.steps_per_quarter);
    return extract_melodies(notes, opts);
}

}  // namespace photong
