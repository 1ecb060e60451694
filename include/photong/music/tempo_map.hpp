// photong/music/tempo_map.hpp — ticks to seconds through a MIDI file's tempo map.
//
// The map is read once and then answers each tick with a binary search: turning every note of a
// track into seconds by re-reading the tempo events per note cost notes x tempo events (fuzz_midi
// spent a tenth of its time there on a 3 KB file; a real file with a tempo change per beat and
// tens of thousands of notes would take seconds).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/music/midi.hpp"

namespace photong {

/// The tempo events of track 0 (in format 1 the conductor track holds them; in format 0 it is the
/// only track), 500000 us per quarter (120 bpm) before the first one, as the specification defaults.
/// Several tempo events at one tick: the last in the track's order holds from that tick on.
class TempoMap {
public:
    explicit TempoMap(const MidiFile& file) : ticks_per_quarter_(file.ticks_per_quarter) {
        if (file.ticks_per_quarter <= 0)
            throw Error("ticks per quarter must be positive", {"", "header", ">= 1", std::to_string(file.ticks_per_quarter)});
        if (!file.tracks.empty())
            for (const MidiEvent& e : file.tracks[0].events)
                if (e.kind == MidiEventKind::tempo) changes_.push_back({e.tick, e.value, 0.0});
        std::stable_sort(changes_.begin(), changes_.end(), [](const Change& a, const Change& b) { return a.tick < b.tick; });
        // Microseconds at each change, summed segment by segment in tick order.
        double us = 0;
        std::uint64_t at = 0;
        int tempo = kDefaultTempo;
        for (Change& c : changes_) {
            us += double(c.tick - at) * tempo;
            c.us = us;
            at = c.tick, tempo = c.tempo;
        }
    }

    /// Seconds from the start to `tick`. O(log tempo events).
    double seconds(std::uint64_t tick) const {
        // The last change strictly before `tick` (one at `tick` itself adds no time before it).
        const auto after = std::lower_bound(changes_.begin(), changes_.end(), tick, [](const Change& c, std::uint64_t t) { return c.tick < t; });
        double us = double(tick) * kDefaultTempo;
        if (after != changes_.begin()) {
            const Change& c = *std::prev(after);
            us = c.us + double(tick - c.tick) * c.tempo;
        }
        return us / (1e6 * ticks_per_quarter_);
    }

private:
    static constexpr int kDefaultTempo = 500000;  ///< us per quarter
    struct Change {
        std::uint64_t tick;
        int tempo;  ///< us per quarter from this tick on
        double us;  ///< microseconds from the start to this tick
    };
    int ticks_per_quarter_;
    std::vector<Change> changes_;
};

/// Seconds from the start to `tick` (TempoMap(file).seconds(tick): reads the tempo map each call,
/// so for many ticks of one file build one TempoMap).
inline double tick_to_seconds(const MidiFile& file, std::uint64_t tick) { return TempoMap(file).seconds(tick); }

}  // namespace photong
