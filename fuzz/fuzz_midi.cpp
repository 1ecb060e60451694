// fuzz/fuzz_midi.cpp — the MIDI reader (music/midi.hpp) and everything photong builds on it
// (notes_from_track, melody extraction, slicing, the tempo map) on arbitrary bytes. An accepted
// file must re-encode with encode_midi, and the re-encoded bytes must read back.
#include <vector>

#include <photong/music/melody.hpp>
#include <photong/music/midi.hpp>
#include <photong/music/tempo_map.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using photong_fuzz::expect_only_photong_errors;
    expect_only_photong_errors([&] {
        const photong::MidiFile file = photong::read_midi_bytes(data, size, "<fuzz input>");
        for (std::size_t t = 0; t < file.tracks.size(); ++t) {
            expect_only_photong_errors([&] {
                for (const photong::Melody& m : photong::melodies_from_track(file, t))
                    (void)photong::slice_melody(m, 2, 16, true, true);
            });
            if (!file.tracks[t].events.empty()) (void)photong::tick_to_seconds(file, file.tracks[t].events.back().tick);
        }
        expect_only_photong_errors([&] {
            const std::vector<std::uint8_t> bytes = photong::encode_midi(file);
            const photong::MidiFile back = photong::read_midi_bytes(bytes.data(), bytes.size(), "<re-encoded>");
            photong_fuzz::check(back.tracks.size() == file.tracks.size(), "re-encoded file keeps its tracks");
        });
    });
    return 0;
}
