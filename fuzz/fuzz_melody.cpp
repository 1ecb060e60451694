// fuzz/fuzz_melody.cpp — the melody-event decoder on arbitrary class sequences: classes to
// note_seq events, events to notes, the touch-up (key, scale snap, tonic, chords, tempo), the
// MIDI it writes, and the piano roll. The first bytes choose valence, arousal, seed and grid;
// the rest are decoder classes (some deliberately outside the 90 of the encoding).
#include <vector>

#include <photong/music/melody.hpp>
#include <photong/music/midi.hpp>
#include <photong/music/touch_up.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    photong_fuzz::ByteSource in(data, size);
    photong::TouchUpOptions opt;
    opt.valence = in.unit();
    opt.arousal = in.unit();
    opt.seed = in.u32();
    const std::uint8_t grid = in.u8();
    opt.steps_per_bar = 1 + grid % 32;
    std::vector<int> classes;
    while (in.left()) classes.push_back(int(in.u8()) - 2);  // -2..253: mostly outside 0..89 only by a little
    for (int& c : classes) c = c < 96 ? c : c % 92;
    photong_fuzz::expect_only_photong_errors([&] {
        const photong::TouchedUpMelody t = photong::touch_up_classes(classes, opt);
        const photong::MidiFile midi = photong::to_midi(t);
        const std::vector<std::uint8_t> bytes = photong::encode_midi(midi);
        const photong::MidiFile back = photong::read_midi_bytes(bytes.data(), bytes.size(), "<touched-up>");
        photong_fuzz::check(back.tracks.size() == midi.tracks.size(), "touched-up MIDI reads back");
        std::size_t note_ons = 0;
        for (const auto& track : back.tracks)
            for (const auto& e : track.events) note_ons += e.kind == photong::MidiEventKind::note_on;
        photong_fuzz::check(note_ons == t.melody.size() + t.chords.size(), "every note of the touch-up is in the MIDI");
    });
    return 0;
}
