// photong/music/midi.hpp — reading and writing Standard MIDI Files (SMF 1.0, formats 0 and 1).
//
// The melody photong generates leaves the library as a .mid file, and test data (pop909,
// Nottingham, VGMIDI) arrives as .mid files, so both directions live here. Written from the
// Standard MIDI File 1.0 specification:
//   - a file is a sequence of chunks "<4-byte type><4-byte big-endian length><data>"; the first is
//     "MThd" (format, track count, division), then one "MTrk" per track; other chunk types are
//     skipped, as the specification asks of readers;
//   - inside a track every event is "<delta-time as variable-length quantity><event>", where the
//     event is a channel message (running status allowed), a sysex event (F0/F7 + VLQ length) or a
//     meta event (FF type + VLQ length).
// Reading never trusts a length: each one is checked against the bytes that remain, and every
// failure is a photong::Error naming the file, the track, the byte offset, and what was expected.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"

namespace photong {

/// What a MidiEvent holds. The meaning of MidiEvent's fields for each kind is listed there.
enum class MidiEventKind : std::uint8_t {
    note_on,           ///< channel, data1 = note, data2 = velocity (1..127 when read; see read_midi)
    note_off,          ///< channel, data1 = note, data2 = release velocity
    control_change,    ///< channel, data1 = controller, data2 = value
    program_change,    ///< channel, data1 = program
    pitch_bend,        ///< channel, value = bend, -8192..8191 (0 = centre)
    channel_pressure,  ///< channel, data1 = pressure
    poly_pressure,     ///< channel, data1 = note, data2 = pressure
    tempo,             ///< value = microseconds per quarter note, 1..0xFFFFFF
    time_signature,    ///< data1 = numerator, data2 = denominator as a power of 2, data3 = MIDI clocks per click, data4 = 32nds per quarter
    key_signature,     ///< data1 = sharps (>0) or flats (<0), -7..7; data2 = 0 major, 1 minor
    track_name,        ///< bytes = the name (meta type 3)
    end_of_track,      ///< meta type 0x2F; the writer adds it when missing
    meta,              ///< any other meta event: type = meta type (0..127), bytes = payload
    sysex,             ///< type = 0xF0 or 0xF7, bytes = payload after the length (for F0 usually ending in F7)
};

/// Name of a kind ("note_on", ...), for messages and dumps.
inline const char* to_string(MidiEventKind k) {
    switch (k) {
        case MidiEventKind::note_on: return "note_on";
        case MidiEventKind::note_off: return "note_off";
        case MidiEventKind::control_change: return "control_change";
        case MidiEventKind::program_change: return "program_change";
        case MidiEventKind::pitch_bend: return "pitch_bend";
        case MidiEventKind::channel_pressure: return "channel_pressure";
        case MidiEventKind::poly_pressure: return "poly_pressure";
        case MidiEventKind::tempo: return "tempo";
        case MidiEventKind::time_signature: return "time_signature";
        case MidiEventKind::key_signature: return "key_signature";
        case MidiEventKind::track_name: return "track_name";
        case MidiEventKind::end_of_track: return "end_of_track";
        case MidiEventKind::meta: return "meta";
        case MidiEventKind::sysex: return "sysex";
    }
    return "unknown";
}

/// One event at an absolute tick. A flat struct rather than a variant: events are small, they sort
/// and compare trivially, and the factories below are the readable way to make them.
struct MidiEvent {
    std::uint64_t tick = 0;  ///< absolute time in ticks from the start of the track
    MidiEventKind kind = MidiEventKind::meta;
    int channel = 0;  ///< 0..15, channel events only
    int data1 = 0, data2 = 0, data3 = 0, data4 = 0;  ///< see MidiEventKind
    int value = 0;    ///< pitch bend or tempo
    int type = 0;     ///< meta type for `meta`, 0xF0/0xF7 for `sysex`
    std::vector<std::uint8_t> bytes;  ///< track name, raw meta payload or sysex payload

    static MidiEvent channel_event(std::uint64_t t, MidiEventKind k, int ch, int d1, int d2 = 0) {
        MidiEvent e;
        e.tick = t, e.kind = k, e.channel = ch, e.data1 = d1, e.data2 = d2;
        return e;
    }
    static MidiEvent note_on(std::uint64_t t, int ch, int note, int velocity) { return channel_event(t, MidiEventKind::note_on, ch, note, velocity); }
    static MidiEvent note_off(std::uint64_t t, int ch, int note, int velocity = 0) { return channel_event(t, MidiEventKind::note_off, ch, note, velocity); }
    static MidiEvent control_change(std::uint64_t t, int ch, int controller, int v) { return channel_event(t, MidiEventKind::control_change, ch, controller, v); }
    static MidiEvent program_change(std::uint64_t t, int ch, int program) { return channel_event(t, MidiEventKind::program_change, ch, program); }
    static MidiEvent channel_pressure(std::uint64_t t, int ch, int pressure) { return channel_event(t, MidiEventKind::channel_pressure, ch, pressure); }
    static MidiEvent poly_pressure(std::uint64_t t, int ch, int note, int pressure) { return channel_event(t, MidiEventKind::poly_pressure, ch, note, pressure); }
    static MidiEvent pitch_bend(std::uint64_t t, int ch, int bend) {
        MidiEvent e = channel_event(t, MidiEventKind::pitch_bend, ch, 0);
        e.value = bend;
        return e;
    }
    static MidiEvent tempo(std::uint64_t t, int us_per_quarter) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::tempo, e.value = us_per_quarter;
        return e;
    }
    static MidiEvent time_signature(std::uint64_t t, int numerator, int denominator_power, int clocks_per_click = 24, int thirty_seconds_per_quarter = 8) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::time_signature;
        e.data1 = numerator, e.data2 = denominator_power, e.data3 = clocks_per_click, e.data4 = thirty_seconds_per_quarter;
        return e;
    }
    static MidiEvent key_signature(std::uint64_t t, int sharps, bool minor) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::key_signature, e.data1 = sharps, e.data2 = minor ? 1 : 0;
        return e;
    }
    static MidiEvent track_name(std::uint64_t t, const std::string& name) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::track_name, e.bytes.assign(name.begin(), name.end());
        return e;
    }
    static MidiEvent end_of_track(std::uint64_t t) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::end_of_track;
        return e;
    }
    static MidiEvent meta_event(std::uint64_t t, int meta_type, std::vector<std::uint8_t> payload) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::meta, e.type = meta_type, e.bytes = std::move(payload);
        return e;
    }
    static MidiEvent sysex_event(std::uint64_t t, int status, std::vector<std::uint8_t> payload) {
        MidiEvent e;
        e.tick = t, e.kind = MidiEventKind::sysex, e.type = status, e.bytes = std::move(payload);
        return e;
    }

    bool is_channel_event() const { return kind <= MidiEventKind::poly_pressure; }

    friend bool operator==(const MidiEvent& a, const MidiEvent& b) {
        return a.tick == b.tick && a.kind == b.kind && a.channel == b.channel && a.data1 == b.data1 && a.data2 == b.data2 &&
               a.data3 == b.data3 && a.data4 == b.data4 && a.value == b.value && a.type == b.type && a.bytes == b.bytes;
    }
    friend bool operator!=(const MidiEvent& a, const MidiEvent& b) { return !(a == b); }
};

/// One track: its name (from the first track-name meta event when read) and its events.
struct MidiTrack {
    std::string name;
    std::vector<MidiEvent> events;
};

/// A whole file. format 0: one track holding everything; format 1: simultaneous tracks, the
/// tempo map in track 0. ticks_per_quarter is the header's division (metrical time only).
struct MidiFile {
    int format = 1;
    int ticks_per_quarter = 480;
    std::vector<MidiTrack> tracks;
};

namespace midi_detail {

inline std::string track_label(std::size_t track) { return "track " + std::to_string(track); }

// Big-endian and VLQ encoding done byte by byte so the output does not depend on host byte order.
inline void put_u16(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(std::uint8_t((v >> 8) & 0xFF));
    out.push_back(std::uint8_t(v & 0xFF));
}
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(std::uint8_t((v >> s) & 0xFF));
}
/// Variable-length quantity: 7 bits per byte, most significant first, high bit set on all but the
/// last. The specification caps it at 4 bytes, i.e. values up to 0x0FFFFFFF.
inline void put_vlq(std::vector<std::uint8_t>& out, std::uint32_t v) {
    std::uint8_t buf[4];
    int n = 0;
    buf[n++] = std::uint8_t(v & 0x7F);
    while ((v >>= 7) != 0) buf[n++] = std::uint8_t(0x80 | (v & 0x7F));
    while (n > 0) out.push_back(buf[--n]);
}

/// `where()` names the event; it runs only on failure, so a passing check builds no string.
template <class Where>
void check_range(long long v, long long lo, long long hi, const char* what, const std::string& path, const Where& where) {
    if (v < lo || v > hi)
        throw Error(std::string(what) + " out of range", {path, where(), std::to_string(lo) + ".." + std::to_string(hi), std::to_string(v)});
}

/// Serializes one validated track into an MTrk chunk body.
inline std::vector<std::uint8_t> encode_track(const MidiTrack& track, std::size_t ti, const std::string& path) {
    // Stable sort by tick: events at the same tick keep the caller's order (a note_off before the
    // next note_on of the same pitch must stay that way).
    std::vector<const MidiEvent*> evs;
    std::uint64_t end_tick = 0;
    bool has_name = false;
    for (const MidiEvent& e : track.events) {
        end_tick = std::max(end_tick, e.tick);
        if (e.kind == MidiEventKind::end_of_track) continue;  // re-added once, as the very last event
        if (e.kind == MidiEventKind::track_name) has_name = true;
        evs.push_back(&e);
    }
    std::stable_sort(evs.begin(), evs.end(), [](const MidiEvent* a, const MidiEvent* b) { return a->tick < b->tick; });

    std::vector<std::uint8_t> out;
    std::uint64_t last = 0;
    int running = -1;  // last channel status written; sysex and meta events cancel it (SMF 1.0)
    // `where()` names the event in an error message; it runs only when something is wrong.
    auto delta = [&](std::uint64_t t, const auto& where) {
        const std::uint64_t d = t - last;
        if (d > 0x0FFFFFFF) throw Error("delta time too large for a 4-byte variable-length quantity", {path, where(), "<= 268435455", std::to_string(d)});
        put_vlq(out, std::uint32_t(d));
        last = t;
    };
    auto meta = [&](int type, const std::uint8_t* p, std::size_t n, const auto& where) {
        if (n > 0x0FFFFFFF) throw Error("meta event too long", {path, where(), "<= 268435455 bytes", std::to_string(n)});
        out.push_back(0xFF);
        out.push_back(std::uint8_t(type));
        put_vlq(out, std::uint32_t(n));
        out.insert(out.end(), p, p + n);
        running = -1;
    };
    if (!has_name && !track.name.empty()) {
        const auto where = [&] { return track_label(ti) + " name"; };
        delta(0, where);
        meta(0x03, reinterpret_cast<const std::uint8_t*>(track.name.data()), track.name.size(), where);
    }
    for (std::size_t k = 0; k < evs.size(); ++k) {
        const MidiEvent& e = *evs[k];
        const std::size_t index = std::size_t(&e - track.events.data());
        const auto where = [&] { return track_label(ti) + " event " + std::to_string(index) + " (" + to_string(e.kind) + ")"; };
        delta(e.tick, where);
        if (e.is_channel_event()) {
            check_range(e.channel, 0, 15, "MIDI channel", path, where);
            int status = 0, n = 2;
            int d1 = e.data1, d2 = e.data2;
            switch (e.kind) {
                case MidiEventKind::note_off: status = 0x80; break;
                case MidiEventKind::note_on: status = 0x90; break;
                case MidiEventKind::poly_pressure: status = 0xA0; break;
                case MidiEventKind::control_change: status = 0xB0; break;
                case MidiEventKind::program_change: status = 0xC0, n = 1; break;
                case MidiEventKind::channel_pressure: status = 0xD0, n = 1; break;
                case MidiEventKind::pitch_bend:
                    status = 0xE0;
                    check_range(e.value, -8192, 8191, "pitch bend", path, where);
                    d1 = (e.value + 8192) & 0x7F, d2 = (e.value + 8192) >> 7;  // 14 bits, LSB first
                    break;
                default: break;
            }
            check_range(d1, 0, 127, "data byte 1", path, where);
            if (n == 2) check_range(d2, 0, 127, "data byte 2", path, where);
            status |= e.channel;
            // Running status: repeat statuses are left out, which the specification allows and
            // every reader must accept; it makes note-dense tracks about a third smaller.
            if (status != running) out.push_back(std::uint8_t(status));
            running = status;
            out.push_back(std::uint8_t(d1));
            if (n == 2) out.push_back(std::uint8_t(d2));
            continue;
        }
        switch (e.kind) {
            case MidiEventKind::tempo: {
                check_range(e.value, 1, 0xFFFFFF, "tempo (microseconds per quarter)", path, where);
                const std::uint8_t p[3] = {std::uint8_t(e.value >> 16), std::uint8_t(e.value >> 8), std::uint8_t(e.value)};
                meta(0x51, p, 3, where);
                break;
            }
            case MidiEventKind::time_signature: {
                check_range(e.data1, 1, 255, "time signature numerator", path, where);
                check_range(e.data2, 0, 255, "time signature denominator power", path, where);
                check_range(e.data3, 0, 255, "MIDI clocks per metronome click", path, where);
                check_range(e.data4, 1, 255, "32nd notes per quarter", path, where);
                const std::uint8_t p[4] = {std::uint8_t(e.data1), std::uint8_t(e.data2), std::uint8_t(e.data3), std::uint8_t(e.data4)};
                meta(0x58, p, 4, where);
                break;
            }
            case MidiEventKind::key_signature: {
                check_range(e.data1, -7, 7, "key signature sharps/flats", path, where);
                check_range(e.data2, 0, 1, "key signature minor flag", path, where);
                const std::uint8_t p[2] = {std::uint8_t(std::int8_t(e.data1)), std::uint8_t(e.data2)};
                meta(0x59, p, 2, where);
                break;
            }
            case MidiEventKind::track_name: meta(0x03, e.bytes.data(), e.bytes.size(), where); break;
            case MidiEventKind::meta:
                check_range(e.type, 0, 127, "meta event type", path, where);
                if (e.type == 0x2F) throw Error("end of track must be given as kind end_of_track", {path, where()});
                meta(e.type, e.bytes.data(), e.bytes.size(), where);
                break;
            case MidiEventKind::sysex:
                if (e.type != 0xF0 && e.type != 0xF7) throw Error("sysex status must be F0 or F7", {path, where(), "240 or 247", std::to_string(e.type)});
                if (e.bytes.size() > 0x0FFFFFFF) throw Error("sysex event too long", {path, where(), "<= 268435455 bytes", std::to_string(e.bytes.size())});
                out.push_back(std::uint8_t(e.type));
                put_vlq(out, std::uint32_t(e.bytes.size()));
                out.insert(out.end(), e.bytes.begin(), e.bytes.end());
                running = -1;
                break;
            default: break;
        }
    }
    const auto end_where = [&] { return track_label(ti) + " end of track"; };
    delta(std::max(end_tick, last), end_where);
    meta(0x2F, nullptr, 0, end_where);
    return out;
}

}  // namespace midi_detail

/// Encodes `file` as SMF bytes (what write_midi stores). Throws photong::Error naming the track
/// and event for invalid input: channel outside 0..15, data byte outside 0..127, tempo outside
/// 1..0xFFFFFF, ticks_per_quarter outside 1..0x7FFF, format other than 0/1, format 0 without
/// exactly one track. Events are written sorted stably by tick, with an end-of-track meta event
/// at the last tick (any end_of_track given is moved there); a non-empty MidiTrack::name is
/// written as a track-name event when the events carry none.
inline std::vector<std::uint8_t> encode_midi(const MidiFile& file, const std::string& path = "") {
    using namespace midi_detail;
    check_range(file.format, 0, 1, "MIDI file format", path, [] { return std::string("header"); });
    check_range(file.ticks_per_quarter, 1, 0x7FFF, "ticks per quarter", path, [] { return std::string("header"); });
    if (file.format == 0 && file.tracks.size() != 1)
        throw Error("a format 0 MIDI file holds exactly one track", {path, "header", "1", std::to_string(file.tracks.size())});
    if (file.tracks.empty() || file.tracks.size() > 0xFFFF)
        throw Error("track count out of range", {path, "header", "1..65535", std::to_string(file.tracks.size())});
    std::vector<std::uint8_t> out = {'M', 'T', 'h', 'd'};
    put_u32(out, 6);
    put_u16(out, std::uint32_t(file.format));
    put_u16(out, std::uint32_t(file.tracks.size()));
    put_u16(out, std::uint32_t(file.ticks_per_quarter));
    for (std::size_t t = 0; t < file.tracks.size(); ++t) {
        const std::vector<std::uint8_t> body = encode_track(file.tracks[t], t, path);
        if (body.size() > 0xFFFFFFFFull) throw Error("track too long for a chunk", {path, track_label(t), "<= 4294967295 bytes", std::to_string(body.size())});
        out.insert(out.end(), {'M', 'T', 'r', 'k'});
        put_u32(out, std::uint32_t(body.size()));
        out.insert(out.end(), body.begin(), body.end());
    }
    return out;
}

/// Writes `file` to `path` as a Standard MIDI File (see encode_midi for validation and layout).
/// The bytes are built and validated in memory first and then written through AtomicFileWriter,
/// so an error leaves neither a partial file nor a temporary behind.
inline void write_midi(const MidiFile& file, const std::string& path) {
    const std::vector<std::uint8_t> bytes = encode_midi(file, path);
    AtomicFileWriter out(path);
    out.write(bytes.data(), bytes.size());
    out.commit();
}

namespace midi_detail {

/// Bounds-checked cursor over one region of the input; every read names the file, track and
/// absolute byte offset when it runs out.
class Reader {
public:
    Reader(const unsigned char* data, std::size_t begin, std::size_t end, const std::string& name, std::string where)
        : d_(data), pos_(begin), end_(end), name_(name), where_(std::move(where)) {}
    std::size_t pos() const { return pos_; }
    std::size_t remaining() const { return end_ - pos_; }
    bool done() const { return pos_ >= end_; }
    [[noreturn]] void fail(const std::string& msg, const std::string& expected = {}, const std::string& found = {}, std::size_t at = SIZE_MAX) const {
        throw Error(msg, {name_, where_ + ", byte offset " + std::to_string(at == SIZE_MAX ? pos_ : at), expected, found});
    }
    void need(std::size_t n, const char* what) const {
        if (n > remaining()) fail(std::string("truncated MIDI data: ") + what + " runs past the end of the " + (where_.rfind("track", 0) == 0 ? "track chunk" : "file"),
                                  std::to_string(n) + " bytes", std::to_string(remaining()) + " bytes left");
    }
    std::uint8_t u8(const char* what) {
        need(1, what);
        return d_[pos_++];
    }
    std::uint8_t peek(const char* what) const {
        need(1, what);
        return d_[pos_];
    }
    std::uint32_t u16(const char* what) {
        need(2, what);
        const std::uint32_t v = (std::uint32_t(d_[pos_]) << 8) | d_[pos_ + 1];
        pos_ += 2;
        return v;
    }
    std::uint32_t u32(const char* what) {
        need(4, what);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v << 8) | d_[pos_ + i];
        pos_ += 4;
        return v;
    }
    std::uint32_t vlq(const char* what) {
        const std::size_t start = pos_;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const std::uint8_t b = u8(what);
            v = (v << 7) | (b & 0x7F);
            if (!(b & 0x80)) return v;
        }
        fail(std::string("variable-length quantity longer than 4 bytes (") + what + ")", "at most 4 bytes", "a 5th continuation byte", start);
    }
    const unsigned char* take(std::size_t n, const char* what) {
        need(n, what);
        const unsigned char* p = d_ + pos_;
        pos_ += n;
        return p;
    }

private:
    const unsigned char* d_;
    std::size_t pos_, end_;
    const std::string& name_;
    std::string where_;
};

/// `n` bytes at `p` as a vector. Empty data is never copied: GCC 12 for aarch64 warns
/// (-Wnonnull) about vector::assign's memmove into an empty vector's null buffer.
inline std::vector<std::uint8_t> bytes_of(const unsigned char* p, std::size_t n) {
    return n ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>();
}

inline MidiTrack parse_track(const unsigned char* data, std::size_t begin, std::size_t end, std::size_t ti, const std::string& name) {
    Reader r(data, begin, end, name, track_label(ti));
    MidiTrack track;
    std::uint64_t tick = 0;
    int running = -1;
    bool named = false;
    while (!r.done()) {
        tick += r.vlq("delta time");
        const std::size_t at = r.pos();
        std::uint8_t status = r.peek("event status");
        if (status < 0x80) {
            // Running status: a data byte where a status is due repeats the last channel status.
            if (running < 0) r.fail("running status with no previous status byte", "a status byte (0x80..0xEF)", "data byte " + std::to_string(status));
            status = std::uint8_t(running);
        } else {
            r.u8("event status");
        }
        MidiEvent e;
        e.tick = tick;
        if (status < 0xF0) {
            // Meta and sysex events are said to cancel running status, but writers in the wild
            // rely on it surviving them and no valid file is misread by keeping it, so it stays.
            running = status;
            const int hi = status & 0xF0;
            e.channel = status & 0x0F;
            const int n = (hi == 0xC0 || hi == 0xD0) ? 1 : 2;
            int d[2] = {0, 0};
            for (int i = 0; i < n; ++i) {
                const std::uint8_t b = r.u8("channel message data");
                if (b & 0x80) r.fail("data byte with the high bit set in a channel message", "0..127", std::to_string(b), r.pos() - 1);
                d[i] = b;
            }
            e.data1 = d[0], e.data2 = d[1];
            switch (hi) {
                case 0x80: e.kind = MidiEventKind::note_off; break;
                case 0x90: e.kind = d[1] == 0 ? MidiEventKind::note_off : MidiEventKind::note_on; break;
                case 0xA0: e.kind = MidiEventKind::poly_pressure; break;
                case 0xB0: e.kind = MidiEventKind::control_change; break;
                case 0xC0: e.kind = MidiEventKind::program_change; break;
                case 0xD0: e.kind = MidiEventKind::channel_pressure; break;
                default:
                    e.kind = MidiEventKind::pitch_bend;
                    e.value = ((d[1] << 7) | d[0]) - 8192;
                    e.data1 = e.data2 = 0;
                    break;
            }
            track.events.push_back(std::move(e));
        } else if (status == 0xFF) {
            const int type = r.u8("meta event type");
            if (type & 0x80) r.fail("meta event type with the high bit set", "0..127", std::to_string(type), at + 1);
            const std::uint32_t len = r.vlq("meta event length");
            const unsigned char* p = r.take(len, "meta event data");
            if (type == 0x2F) {
                e.kind = MidiEventKind::end_of_track;
                track.events.push_back(std::move(e));
                break;  // anything after end-of-track inside the chunk is not part of the track
            }
            if (type == 0x51 && len == 3) {
                e.kind = MidiEventKind::tempo;
                e.value = int((std::uint32_t(p[0]) << 16) | (std::uint32_t(p[1]) << 8) | p[2]);
            } else if (type == 0x58 && len == 4) {
                e.kind = MidiEventKind::time_signature;
                e.data1 = p[0], e.data2 = p[1], e.data3 = p[2], e.data4 = p[3];
            } else if (type == 0x59 && len == 2) {
                e.kind = MidiEventKind::key_signature;
                e.data1 = std::int8_t(p[0]), e.data2 = p[1];
            } else if (type == 0x03) {
                e.kind = MidiEventKind::track_name;
                e.bytes = bytes_of(p, len);
                if (!named) track.name.assign(e.bytes.begin(), e.bytes.end()), named = true;
            } else {
                // Other meta events, and the three above with a length the spec does not give
                // them, are kept byte for byte rather than guessed at.
                e.kind = MidiEventKind::meta;
                e.type = type;
                e.bytes = bytes_of(p, len);
            }
            track.events.push_back(std::move(e));
        } else if (status == 0xF0 || status == 0xF7) {
            const std::uint32_t len = r.vlq("sysex length");
            const unsigned char* p = r.take(len, "sysex data");
            e.kind = MidiEventKind::sysex;
            e.type = status;
            e.bytes = bytes_of(p, len);
            track.events.push_back(std::move(e));
        } else {
            r.fail("status byte not allowed in a MIDI file (system common/real-time)", "0x80..0xEF, 0xF0, 0xF7 or 0xFF", std::to_string(status), at);
        }
    }
    return track;
}

}  // namespace midi_detail

/// Parses SMF bytes; `name` is used in error messages only. Accepts formats 0 and 1 with any
/// ticks-per-quarter division; refuses format 2 (independent sequences, which photong has no use
/// for) and SMPTE time-code division, each with a clear error.
///
/// Events come back in file order with absolute ticks. A note-on with velocity 0 is reported as
/// note_off with velocity 0 (the specification makes them equivalent), so note_on events always
/// have velocity >= 1. Running status is followed; a data byte where a status is due at the start
/// of a track throws. Sysex events (F0 and F7, VLQ length) and meta events other than tempo, time
/// and key signature, track name and end of track are kept as raw bytes. Chunks other than MTrk
/// are skipped. Reading a track stops at its end-of-track event; a chunk that ends without one is
/// accepted as it stands (some writers leave it out).
///
/// Every length is checked against the bytes that remain before it is used; truncated chunks,
/// a variable-length quantity longer than 4 bytes, a header track count that does not match the
/// MTrk chunks, and running status without a previous status each throw photong::Error naming the
/// file, the track index and the byte offset.
inline MidiFile read_midi_bytes(const unsigned char* data, std::size_t size, const std::string& name = "<memory>") {
    midi_detail::Reader hdr(data, 0, size, name, "header");
    const unsigned char* magic = hdr.take(4, "header chunk type");
    if (std::string(reinterpret_cast<const char*>(magic), 4) != "MThd")
        hdr.fail("not a Standard MIDI File", "chunk type MThd", std::string(reinterpret_cast<const char*>(magic), 4), 0);
    const std::uint32_t hlen = hdr.u32("header chunk length");
    if (hlen < 6) hdr.fail("MIDI header chunk too short", ">= 6 bytes", std::to_string(hlen), 4);
    hdr.need(hlen, "header chunk");
    const std::size_t body_end = hdr.pos() + hlen;  // longer headers are allowed; extra bytes are skipped
    MidiFile file;
    file.format = int(hdr.u16("format"));
    const std::uint32_t ntracks = hdr.u16("track count");
    const std::uint32_t division = hdr.u16("division");
    if (file.format == 2) hdr.fail("MIDI format 2 (independent sequences) is not supported", "format 0 or 1", "2", 8);
    if (file.format > 2) hdr.fail("unknown MIDI file format", "format 0 or 1", std::to_string(file.format), 8);
    if (division & 0x8000) hdr.fail("SMPTE time-code division is not supported", "ticks per quarter note (top bit clear)", "SMPTE division " + std::to_string(division), 12);
    if (division == 0) hdr.fail("MIDI division of zero ticks per quarter", "1..32767", "0", 12);
    if (file.format == 0 && ntracks != 1) hdr.fail("a format 0 MIDI file holds exactly one track", "1", std::to_string(ntracks), 10);
    file.ticks_per_quarter = int(division);

    std::size_t pos = body_end;
    std::size_t ti = 0;
    while (pos < size) {
        midi_detail::Reader chunk(data, pos, size, name, midi_detail::track_label(ti) + " chunk header");
        if (ti == ntracks) {
            // All declared tracks are read; what follows may only be padding or alien chunks, but
            // another MTrk means the header's count is wrong.
            if (chunk.remaining() >= 4 && std::string(reinterpret_cast<const char*>(data + pos), 4) == "MTrk")
                chunk.fail("more MTrk chunks than the header's track count", std::to_string(ntracks) + " tracks", "another MTrk chunk");
            if (chunk.remaining() < 8) break;  // trailing padding some writers leave
        }
        const unsigned char* type = chunk.take(4, "chunk type");
        const std::uint32_t len = chunk.u32("chunk length");
        if (len > chunk.remaining())
            chunk.fail("chunk length runs past the end of the file (truncated or corrupt chunk)", "<= " + std::to_string(chunk.remaining()) + " bytes",
                       std::to_string(len) + " bytes", pos + 4);
        const std::size_t begin = chunk.pos(), end = begin + len;
        if (std::string(reinterpret_cast<const char*>(type), 4) == "MTrk") {
            if (ti >= ntracks) chunk.fail("more MTrk chunks than the header's track count", std::to_string(ntracks) + " tracks", "another MTrk chunk", pos);
            file.tracks.push_back(midi_detail::parse_track(data, begin, end, ti, name));
            ++ti;
        }
        pos = end;
    }
    if (ti != ntracks)
        throw Error("the header's track count does not match the MTrk chunks", {name, midi_detail::track_label(ti) + ", byte offset " + std::to_string(size),
                                                                                 std::to_string(ntracks) + " tracks", std::to_string(ti) + " tracks"});
    return file;
}

/// Reads a .mid file from disk (see read_midi_bytes for what is accepted and reported).
inline MidiFile read_midi(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open MIDI file", {path});
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw Error("reading the MIDI file failed", {path});
    return read_midi_bytes(bytes.data(), bytes.size(), path);
}

}  // namespace photong
