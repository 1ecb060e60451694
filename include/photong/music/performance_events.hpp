// photong/music/performance_events.hpp — expressive piano as performance events (note-on, note-off,
// velocity, time shift) and back, in the two vocabularies a performance model's file may name:
//
// "tan_antony_240" — Tan & Antony's RNN as their code ran (sudongtan/synesthesia rnn/sequence.py, unchanged from
//   djosix/Performance-RNN-PyTorch; tools/performance_events.py is the Python twin used for training):
//     note_on 0-87 and note_off 88-175 for MIDI 21-108, velocity 176-207, time_shift 208-239 (1.15^k / 65 s,
//     15.4 ms .. 1.17 s); start event 239. Velocity bins are their np.arange(21, 109, 88/31): 31 values
//     21 + i * 88/31, a velocity (clipped to 21..108) taking the first bin >= it (slot 31 for 107-108 decodes as
//     slot 30). Each note gives velocity, note_on at its start and note_off at its end; events are ordered by time,
//     stably (equal times keep note order); each gap is cut greedily into the largest shifts that fit.
//     Decoding starts at velocity 64, closes a pitch's open note at max(t, start + 0.25 s), gives a never-closed
//     note 1 s and ignores an unmatched note_off. (The issue asking for this said 192 events over MIDI 33-96;
//     the code has 88 pitches, so this follows the code.) One deliberate change: a gap is measured from the time
//     the events so far decode to, so the sub-15 ms remainders do not accumulate (their encoder drifts by
//     seconds over a long piece); every onset decodes within 15.4 ms before its true time.
// "magenta_388" — Magenta's PerformanceRNN (note_seq performance_lib.py, performance_encoder_decoder.py):
//     note_on 0-127, note_off 128-255, time_shift 256-355 (1..100 steps of 10 ms), velocity 356-387 (bins 1..32
//     of 4 velocities: bin = (v - 1) / 4 + 1, back to 1 + (bin - 1) * 4); start event 355 (a 1 s shift, its
//     default event). Times are quantised to 10 ms (floor(t * 100 + 0.5), a zero-length note one step); events
//     are ordered by (step, note index in start order, onset before offset); a velocity event only when the
//     bin changes. Decoding closes the oldest open note of a pitch; zero-length notes are dropped.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/music/melody.hpp"
#include "photong/music/midi.hpp"
#include "photong/music/tempo_map.hpp"

namespace photong {

/// One note of a performance, in seconds.
struct PerformanceNote {
    int pitch = 60;
    int velocity = 64;
    double start_s = 0, end_s = 0;
    friend bool operator==(const PerformanceNote& a, const PerformanceNote& b) {
        return a.pitch == b.pitch && a.velocity == b.velocity && a.start_s == b.start_s && a.end_s == b.end_s;
    }
};

/// The note-density class and pitch-class histogram Tan & Antony condition each event on (see performance_controls).
struct PerformanceControl {
    int density = 0;                   ///< 0..11
    std::array<float, 12> histogram{};  ///< sums to 1
};

class PerformanceEncoding {
public:
    enum class Kind { TanAntony240, Magenta388 };

    static PerformanceEncoding tan_antony() { return PerformanceEncoding(Kind::TanAntony240); }
    static PerformanceEncoding magenta() { return PerformanceEncoding(Kind::Magenta388); }
    /// "tan_antony_240" or "magenta_388" (a weight file's `__metadata__.encoding`); anything else throws.
    static PerformanceEncoding by_name(const std::string& name) {
        if (name == "tan_antony_240") return tan_antony();
        if (name == "magenta_388") return magenta();
        throw Error("unknown performance encoding", {"", "encoding", "tan_antony_240 or magenta_388", name});
    }

    Kind kind() const { return kind_; }
    std::string name() const { return kind_ == Kind::TanAntony240 ? "tan_antony_240" : "magenta_388"; }
    int num_events() const { return kind_ == Kind::TanAntony240 ? 240 : 388; }
    /// The input before the first event (Tan & Antony: the longest shift, 239; Magenta: its default event, a 1 s shift).
    int start_event() const { return kind_ == Kind::TanAntony240 ? 239 : 355; }

    /// The events of `notes` (any order; pitches outside the vocabulary dropped, velocities clipped).
    std::vector<int> encode(const std::vector<PerformanceNote>& notes) const { return kind_ == Kind::TanAntony240 ? encode_tan(notes) : encode_magenta(notes); }

    /// The notes `events` describe, in note-on order; throws photong::Error naming an index outside the vocabulary.
    std::vector<PerformanceNote> decode(const std::vector<int>& events) const {
        for (std::size_t i = 0; i < events.size(); ++i)
            require(events[i] >= 0 && events[i] < num_events(), "performance event outside the vocabulary",
                    {"", "event " + std::to_string(i), "0.." + std::to_string(num_events() - 1) + " (" + name() + ")", std::to_string(events[i])});
        return kind_ == Kind::TanAntony240 ? decode_tan(events) : decode_magenta(events);
    }

    /// Seconds the time shifts before event i add up to, for each i (where each event happens).
    std::vector<double> event_times(const std::vector<int>& events) const {
        std::vector<double> t(events.size());
        double now = 0;
        for (std::size_t i = 0; i < events.size(); ++i) {
            t[i] = now;
            now += shift_seconds(events[i]);
        }
        return t;
    }
    /// The pitch an event turns on, or -1.
    int note_on_pitch(int e) const {
        if (kind_ == Kind::TanAntony240) return e >= 0 && e < 88 ? e + 21 : -1;
        return e >= 0 && e < 128 ? e : -1;
    }
    /// Seconds an event shifts time by (0 for the others).
    double shift_seconds(int e) const {
        if (kind_ == Kind::TanAntony240) return e >= 208 && e < 240 ? tan_shift(e - 208) : 0.0;
        return e >= 256 && e < 356 ? (e - 255) * 0.01 : 0.0;
    }
    /// A short description ("note_on 60", "time_shift 0.0354 s", ...), for messages.
    std::string describe(int e) const;

    // Tan & Antony's bins (their expressions, evaluated in double).
    static double tan_shift(int k) { return std::pow(1.15, k) / 65.0; }
    static double tan_velocity(int slot) { return 21.0 + std::min(slot, 30) * 88.0 / 31.0; }
    static int tan_velocity_slot(int velocity) {
        const double v = std::clamp(velocity, 21, 108);
        int slot = 0;
        while (slot < 31 && 21.0 + slot * 88.0 / 31.0 < v) ++slot;  // first bin >= v (searchsorted, side left)
        return slot;
    }

private:
    explicit PerformanceEncoding(Kind k) : kind_(k) {}

    std::vector<int> encode_tan(const std::vector<PerformanceNote>& notes) const {
        std::vector<PerformanceNote> sorted;
        for (const PerformanceNote& n : notes)
            if (n.pitch >= 21 && n.pitch <= 108 && n.end_s >= n.start_s) sorted.push_back(n);
        std::stable_sort(sorted.begin(), sorted.end(), [](const PerformanceNote& a, const PerformanceNote& b) { return a.start_s < b.start_s; });
        std::vector<std::pair<double, int>> timed;  // (time, event)
        for (const PerformanceNote& n : sorted) {
            timed.emplace_back(n.start_s, 176 + tan_velocity_slot(n.velocity));
            timed.emplace_back(n.start_s, n.pitch - 21);
            timed.emplace_back(n.end_s, 88 + n.pitch - 21);
        }
        std::stable_sort(timed.begin(), timed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<int> events;
        double now = 0;  // the time the events so far decode to
        for (std::size_t i = 0; i < timed.size(); ++i) {
            events.push_back(timed[i].second);
            if (i + 1 == timed.size()) break;
            const double interval = timed[i + 1].first - now;
            double shift = 0;
            while (interval - shift >= tan_shift(0)) {
                int k = 31;
                while (k > 0 && tan_shift(k) > interval - shift) --k;  // the largest bin <= the remainder
                events.push_back(208 + k);
                shift += tan_shift(k);
            }
            now += shift;
        }
        return events;
    }

    std::vector<PerformanceNote> decode_tan(const std::vector<int>& events) const {
        double t = 0, velocity = 64;
        std::vector<PerformanceNote> notes;
        std::vector<bool> closed;
        std::map<int, std::size_t> open;  // pitch -> its latest note
        for (int e : events) {
            if (e < 88) {
                notes.push_back({e + 21, int(velocity), t, -1.0});
                closed.push_back(false);
                open[e + 21] = notes.size() - 1;
            } else if (e < 176) {
                auto it = open.find(e - 88 + 21);
                if (it == open.end()) continue;
                PerformanceNote& n = notes[it->second];
                n.end_s = std::max(t, n.start_s + 0.25);
                closed[it->second] = true;
                open.erase(it);
            } else if (e < 208) {
                velocity = tan_velocity(e - 176);
            } else {
                t += tan_shift(e - 208);
            }
        }
        for (std::size_t i = 0; i < notes.size(); ++i)
            if (!closed[i]) notes[i].end_s = notes[i].start_s + 1.0;
        return notes;
    }

    static std::int64_t magenta_step(double seconds) { return std::int64_t(std::floor(seconds * 100.0 + 0.5)); }

    std::vector<int> encode_magenta(const std::vector<PerformanceNote>& notes) const {
        std::vector<PerformanceNote> sorted;
        for (const PerformanceNote& n : notes)
            if (n.pitch >= 0 && n.pitch <= 127 && n.end_s >= n.start_s) sorted.push_back(n);
        std::stable_sort(sorted.begin(), sorted.end(), [](const PerformanceNote& a, const PerformanceNote& b) {
            return a.start_s < b.start_s || (a.start_s == b.start_s && a.pitch < b.pitch);
        });
        std::vector<std::tuple<std::int64_t, std::size_t, bool>> marks;  // (step, note index, is offset)
        for (std::size_t i = 0; i < sorted.size(); ++i) {
            const std::int64_t s = magenta_step(sorted[i].start_s);
            const std::int64_t e = std::max(magenta_step(sorted[i].end_s), s + 1);
            marks.emplace_back(s, i, false);
            marks.emplace_back(e, i, true);
        }
        std::sort(marks.begin(), marks.end());
        std::vector<int> events;
        std::int64_t step = 0;
        int bin = 0;
        for (const auto& [at, i, offset] : marks) {
            for (; at > step + 100; step += 100) events.push_back(355);
            if (at > step) events.push_back(255 + int(at - step)), step = at;
            const int b = (std::clamp(sorted[i].velocity, 1, 127) - 1) / 4 + 1;
            if (!offset && b != bin) bin = b, events.push_back(355 + b);
            events.push_back((offset ? 128 : 0) + sorted[i].pitch);
        }
        return events;
    }

    std::vector<PerformanceNote> decode_magenta(const std::vector<int>& events) const {
        struct Open { std::int64_t start; int velocity; std::size_t ordinal; };
        std::int64_t step = 0;
        int velocity = 64;
        std::size_t ordinal = 0;
        std::map<int, std::vector<Open>> open;                      // pitch -> its open notes, oldest first
        std::vector<std::pair<std::size_t, PerformanceNote>> notes;  // (note-on ordinal, note)
        auto close = [&](int pitch, const Open& o, std::int64_t end) {
            if (end != o.start) notes.emplace_back(o.ordinal, PerformanceNote{pitch, o.velocity, o.start * 0.01, end * 0.01});  // zero length: dropped
        };
        for (int e : events) {
            if (e < 128) {
                open[e].push_back({step, velocity, ordinal++});
            } else if (e < 256) {
                auto it = open.find(e - 128);
                if (it == open.end() || it->second.empty()) continue;  // nothing open: ignored
                close(e - 128, it->second.front(), step);
                it->second.erase(it->second.begin());
            } else if (e < 356) {
                step += e - 255;
            } else {
                velocity = 1 + (e - 356) * 4;
            }
        }
        for (const auto& [pitch, list] : open)
            for (const Open& o : list) close(pitch, o, step);
        std::sort(notes.begin(), notes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<PerformanceNote> out;
        for (const auto& n : notes) out.push_back(n.second);
        return out;
    }

    Kind kind_;
};

inline std::string PerformanceEncoding::describe(int e) const {
    if (e < 0 || e >= num_events()) return "invalid " + std::to_string(e);
    if (note_on_pitch(e) >= 0) return "note_on " + std::to_string(note_on_pitch(e));
    if (shift_seconds(e) > 0) return "time_shift " + std::to_string(shift_seconds(e)) + " s";
    if (kind_ == Kind::TanAntony240) return e < 176 ? "note_off " + std::to_string(e - 88 + 21) : "velocity " + std::to_string(int(tan_velocity(e - 176)));
    return e < 256 ? "note_off " + std::to_string(e - 128) : "velocity " + std::to_string(1 + (e - 356) * 4);
}

/// Tan & Antony's control for each event i: over the note-ons j >= i with t_j - t_i <= 2 s (their 4-beat window,
/// looking forward, inclusive), the note-density class (counts 0-3 -> 0, 4-6 -> 1, ..., >= 34 -> 11) and the pitch
/// classes' histogram (uniform when there is no note). Times are where the events decode to.
inline std::vector<PerformanceControl> performance_controls(const PerformanceEncoding& enc, const std::vector<int>& events) {
    const std::vector<double> t = enc.event_times(events);
    std::vector<PerformanceControl> out(events.size());
    std::array<int, 12> counts{};
    int total = 0;
    std::size_t j = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        for (; j < events.size() && t[j] - t[i] <= 2.0; ++j)
            if (enc.note_on_pitch(events[j]) >= 0) ++counts[std::size_t(enc.note_on_pitch(events[j]) % 12)], ++total;
        PerformanceControl& c = out[i];
        c.density = total == 0 ? 0 : std::min(11, (total - 1) / 3);
        for (int k = 0; k < 12; ++k) c.histogram[std::size_t(k)] = total ? float(counts[std::size_t(k)]) / float(total) : 1.0f / 12.0f;
        if (enc.note_on_pitch(events[i]) >= 0) --counts[std::size_t(enc.note_on_pitch(events[i]) % 12)], --total;
    }
    return out;
}

/// Every note of a MIDI file but the drums (channel 10) as muspy_notes (melody.hpp) pairs them: a note-off (or note-on
/// of velocity 0) closing the oldest open note of its channel and pitch, notes left open closed at their track's last event;
/// seconds through the tempo map, shifted so that the first note starts at 0; ordered by start, pitch, end, velocity.
inline std::vector<PerformanceNote> performance_notes(const MidiFile& file) {
    const TempoMap tempo(file);
    std::vector<PerformanceNote> notes;
    for (const Note& n : muspy_notes(file))
        if (n.channel != 9) notes.push_back({n.pitch, n.velocity, tempo.seconds(n.start_tick), tempo.seconds(n.end_tick)});
    std::sort(notes.begin(), notes.end(), [](const PerformanceNote& a, const PerformanceNote& b) {
        return std::tie(a.start_s, a.pitch, a.end_s, a.velocity) < std::tie(b.start_s, b.pitch, b.end_s, b.velocity);
    });
    if (!notes.empty()) {
        const double first = notes.front().start_s;
        for (PerformanceNote& n : notes) n.start_s -= first, n.end_s -= first;
    }
    return notes;
}

/// A one-track SMF of `notes` (120 bpm, 480 ticks per quarter: 960 ticks a second) on `channel` with `program`.
/// Two notes of one pitch cannot sound at once on one MIDI channel: where they overlap, the earlier one is ended
/// where the later one starts, so every note keeps its onset and the later note its full length (an earlier note
/// left with no length, struck again at the same moment, is dropped).
inline MidiFile performance_to_midi(std::vector<PerformanceNote> notes, int program = 0, int channel = 0) {
    require(program >= 0 && program <= 127 && channel >= 0 && channel <= 15, "bad MIDI program or channel",
            {"", "performance_to_midi", "program 0..127, channel 0..15", std::to_string(program) + ", " + std::to_string(channel)});
    std::stable_sort(notes.begin(), notes.end(), [](const PerformanceNote& a, const PerformanceNote& b) { return a.start_s < b.start_s; });
    std::map<int, std::size_t> latest;
    std::vector<bool> dropped(notes.size(), false);
    for (std::size_t i = 0; i < notes.size(); ++i) {
        auto it = latest.find(notes[i].pitch);
        if (it != latest.end() && notes[it->second].end_s > notes[i].start_s) {
            notes[it->second].end_s = notes[i].start_s;
            dropped[it->second] = notes[it->second].end_s <= notes[it->second].start_s;  // struck again at once: one note
        }
        latest[notes[i].pitch] = i;
    }
    auto tick = [](double s) { return std::uint64_t(std::llround(std::max(0.0, s) * 960.0)); };
    MidiFile file;
    file.ticks_per_quarter = 480;
    MidiTrack track;
    track.events.push_back(MidiEvent::tempo(0, 500000));
    track.events.push_back(MidiEvent::program_change(0, channel, program));
    std::vector<MidiEvent> timed;
    for (std::size_t i = 0; i < notes.size(); ++i) {
        if (dropped[i]) continue;
        const PerformanceNote& n = notes[i];
        const std::uint64_t on = tick(n.start_s), off = std::max(tick(n.end_s), on + 1);
        timed.push_back(MidiEvent::note_on(on, channel, std::clamp(n.pitch, 0, 127), std::clamp(n.velocity, 1, 127)));
        timed.push_back(MidiEvent::note_off(off, channel, std::clamp(n.pitch, 0, 127)));
    }
    // Offs before ons at one tick, so a repeated pitch is released before it sounds again.
    std::stable_sort(timed.begin(), timed.end(), [](const MidiEvent& a, const MidiEvent& b) {
        return a.tick < b.tick || (a.tick == b.tick && a.kind == MidiEventKind::note_off && b.kind == MidiEventKind::note_on);
    });
    track.events.insert(track.events.end(), timed.begin(), timed.end());
    file.tracks.push_back(std::move(track));
    return file;
}

}  // namespace photong
