// photong/result_json.hpp — a GenerateResult as one JSON object, and the note and key names people read.
//
// One definition for every front end: the `photong --json` command, the C API's photong_result_json (and so the web
// page), and the Python module's to_dict. A field added here appears in all of them. Non-finite metrics become null
// (JSON has no NaN).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "photong/models/piano_generator.hpp"
#include "photong/pipeline.hpp"

namespace photong {

inline const char* pitch_class_name(int pitch_class) {
    static const char* const kNames[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    return kNames[((pitch_class % 12) + 12) % 12];
}

/// Scientific pitch notation, MIDI 60 = C4.
inline std::string note_name(int pitch) {
    const int octave = (pitch >= 0 ? pitch / 12 : (pitch - 11) / 12) - 1;
    return std::string(pitch_class_name(pitch)) + std::to_string(octave);
}

/// "A major", "C# minor".
inline std::string key_name(const Key& k) { return std::string(pitch_class_name(k.tonic_pitch_class)) + (k.major ? " major" : " minor"); }

/// Where an affect value came from: "bridge", "colour" or "option".
inline const char* affect_source_name(GenerateResult::AffectSource s) {
    using S = GenerateResult::AffectSource;
    return s == S::User ? "option" : s == S::Colour ? "colour" : "bridge";
}

namespace result_json_detail {

inline nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

inline nlohmann::json metrics(const VariationMetrics& m) {
    return {{"pitch_entropy", number(m.pitch_entropy)},
            {"pitch_class_entropy", number(m.pitch_class_entropy)},
            {"polyphony_rate", number(m.polyphony_rate)},
            {"groove_consistency", number(m.groove_consistency)}};
}

inline nlohmann::json notes(const std::vector<Note>& notes) {
    nlohmann::json a = nlohmann::json::array();
    for (const Note& n : notes)
        a.push_back({{"pitch", n.pitch}, {"name", note_name(n.pitch)}, {"start_step", n.start_step}, {"end_step", n.end_step},
                     {"start_s", n.start_s}, {"end_s", n.end_s}, {"velocity", n.velocity}});
    return a;
}

}  // namespace result_json_detail

/// The result of Pipeline::generate(image, options) as JSON: generator, seed, sampling (and whether the temperature
/// was given), form, variations, affect and where it came from, tempo, key, events, latent, picture attributes,
/// sliders, metrics of the chosen and of every variation, melody and chords (and the performance for the piano).
inline nlohmann::json result_to_json(const GenerateResult& r, const GenerateOptions& options) {
    namespace d = result_json_detail;
    nlohmann::json j;
    const bool piano = r.generator == GenerateOptions::Generator::Piano;
    j["generator"] = piano ? "piano" : "melody";
    if (piano) {
        j["seconds"] = options.seconds;
        nlohmann::json perf = nlohmann::json::array();
        for (const auto& n : r.performance) perf.push_back({{"pitch", n.pitch}, {"velocity", n.velocity}, {"start_s", n.start_s}, {"end_s", n.end_s}});
        j["performance"] = perf;
        j["density_class"] = piano_plan(r.valence, r.arousal, r.picture).conditions.density.value_or(0);
    }
    j["seed"] = options.seed;
    j["temperature"] = r.temperature;
    j["temperature_source"] = options.temperature ? "option" : "default";
    j["top_k"] = r.sampling.top_k;
    j["top_p"] = r.sampling.top_p;
    j["form"] = r.form.name();
    j["variations"] = options.variations;
    j["rank"] = rank_name(options.rank);
    j["chosen"] = r.chosen;
    j["affect_source"] = r.colour_affect ? "colour" : "bridges";  // kept for scripts written before the per-value sources
    j["arousal_source"] = affect_source_name(r.arousal_source);
    j["valence_source"] = affect_source_name(r.valence_source);
    j["arousal"] = r.arousal;
    j["valence"] = r.valence;
    j["bpm"] = r.bpm;
    j["tempo_us_per_quarter"] = tempo_microseconds(r.bpm);
    j["key"] = {{"tonic_pitch_class", r.key.tonic_pitch_class}, {"tonic", pitch_class_name(r.key.tonic_pitch_class)},
                {"mode", r.key.major ? "major" : "minor"}, {"name", key_name(r.key)}};
    j["bars"] = Pipeline::kBars;
    j["events"] = r.events;
    j["latent"] = r.latent.values();
    j["latent_source"] = r.latent_source == GenerateOptions::LatentSource::Map ? "map" : "photong";
    j["picture"] = {{"brightness", r.picture.brightness}, {"edge_density", r.picture.edge_density}};
    j["sliders"] = {{"brightness", options.brightness}, {"contrast", options.contrast}};
    j["metrics"] = d::metrics(r.metrics);
    nlohmann::json c = nlohmann::json::array();
    for (const auto& m : r.candidates) c.push_back(d::metrics(m));
    j["candidates"] = c;
    j["melody"] = d::notes(r.melody);
    j["chords"] = d::notes(r.chords);
    return j;
}

}  // namespace photong
