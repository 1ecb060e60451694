// python/photong_module.cpp — the Python module `photong` (pybind11) over photong::Pipeline.
//
//   import photong
//   p = photong.Pipeline("weights")
//   r = p.generate("photo.jpg", seed=1)          # or a numpy uint8 array (H, W, 3)
//   open("photo.mid", "wb").write(r.midi)        # the bytes the `photong` command writes
//
// Built by CMake with -DPHOTONG_PYTHON=ON into build/python (PYTHONPATH=build/python). The options are the
// `photong` command's, with its names and ranges; a bad value raises ValueError before any work is done, and every
// failure inside photong (an unreadable picture, missing or damaged weights) raises photong.Error.
// generate() releases the GIL for the whole pipeline: several Python threads may generate on one Pipeline at once.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/parallel.hpp"
#include "photong/image/decode.hpp"
#include "photong/music/midi.hpp"
#include "photong/pipeline.hpp"
#include "photong/result_json.hpp"

namespace py = pybind11;

namespace {

/// One note as a record of the numpy structured arrays Result.melody and Result.chords.
struct NoteRecord {
    std::int64_t pitch, velocity, channel, start_step, end_step;
    double start_s, end_s;
};

/// A pipeline and the pool it runs on; the pool is declared first so that it is destroyed after the models using it.
struct PyPipeline {
    std::unique_ptr<photong::ThreadPool> pool;
    std::unique_ptr<photong::Pipeline> pipeline;
};

/// What Result wraps: the C++ result, the options it was made with (for to_dict) and its MIDI bytes.
struct PyResult {
    photong::GenerateResult result;
    photong::GenerateOptions options;
    std::vector<std::uint8_t> midi;
};

/// A str, bytes or os.PathLike as the bytes the file system uses (os.fsencode: non-UTF-8 names survive).
std::string fs_path(const py::handle& path) { return py::module_::import("os").attr("fsencode")(path).cast<std::string>(); }

bool is_path(const py::handle& h) { return py::isinstance<py::str>(h) || py::isinstance<py::bytes>(h) || py::hasattr(h, "__fspath__"); }

std::string shape_text(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

/// A numpy array as a photong::Image: uint8 (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA (alpha ignored, as the
/// file decoder ignores it). Any strides work (slices, flipped views): the pixels are copied through them.
photong::Image image_from_array(const py::array& a) {
    const bool shape_ok = (a.ndim() == 2 || (a.ndim() == 3 && (a.shape(2) == 3 || a.shape(2) == 4))) && a.shape(0) > 0 && a.shape(1) > 0 &&
                          a.shape(0) <= INT_MAX && a.shape(1) <= INT_MAX;
    if (!py::isinstance<py::array_t<std::uint8_t>>(a) || !shape_ok)
        throw py::value_error("image must be a uint8 array of shape (H, W, 3), (H, W) or (H, W, 4); found a " +
                              std::string(py::str(a.dtype())) + " array of shape " + shape_text(a));
    const int channels = a.ndim() == 3 ? int(a.shape(2)) : 1;
    return photong::image_from_pixels(static_cast<const std::uint8_t*>(a.data()), int(a.shape(1)), int(a.shape(0)), channels, a.strides(0),
                                      a.strides(1), a.ndim() == 3 ? a.strides(2) : 0);
}

/// Options of generate() as GenerateOptions, with the `photong` command's names and ranges (ValueError otherwise).
struct OptionArgs {
    py::int_ seed;
    std::optional<double> temperature;
    std::optional<long long> top_k;
    std::optional<double> top_p;
    std::optional<std::string> form;
    long long variations;
    std::string rank;
    std::optional<std::string> latent_source;
    double brightness, contrast;
    bool colour_affect;
    std::optional<double> valence, arousal;
    std::string generator;
    double seconds;

    photong::GenerateOptions parse() const {
        using O = photong::GenerateOptions;
        O o;
        auto bad = [](const std::string& what) { return py::value_error(what); };
        const unsigned long long s = PyLong_AsUnsignedLongLong(seed.ptr());
        if (s == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
            PyErr_Clear();
            throw bad("seed must be an integer 0..18446744073709551615, got " + std::string(py::repr(seed)));
        }
        o.seed = s;
        if (temperature) {
            if (!std::isfinite(*temperature) || *temperature < 0) throw bad("temperature must be a finite number >= 0, got " + std::to_string(*temperature));
            o.temperature = float(*temperature);
        }
        if (top_k) {
            if (*top_k < 0 || *top_k > INT_MAX) throw bad("top_k must be an integer >= 0 (0: all events), got " + std::to_string(*top_k));
            o.top_k = int(*top_k);
        }
        if (top_p) {
            if (!(*top_p > 0 && *top_p <= 1)) throw bad("top_p must be in (0, 1], got " + std::to_string(*top_p));
            o.top_p = float(*top_p);
        }
        if (form) {
            try {
                o.form = photong::SongForm::parse(*form);
                o.form->sources(photong::Pipeline::kBars);
            } catch (const photong::Error&) {
                throw bad("form must be none or 1, 2, 4, 8 or 16 phrase letters A-Z (e.g. AABA, ABAB!), got '" + *form + "'");
            }
        }
        if (variations < 1 || variations > O::kMaxVariations)
            throw bad("variations must be an integer 1.." + std::to_string(O::kMaxVariations) + ", got " + std::to_string(variations));
        o.variations = int(variations);
        if (rank == "first") o.rank = O::Rank::First;
        else if (rank == "entropy") o.rank = O::Rank::PitchEntropy;
        else if (rank == "pitch_class_entropy") o.rank = O::Rank::PitchClassEntropy;
        else if (rank == "groove") o.rank = O::Rank::GrooveConsistency;
        else throw bad("rank must be first, entropy, pitch_class_entropy or groove, got '" + rank + "'");
        if (latent_source) {
            if (*latent_source == "map") o.latent_source = O::LatentSource::Map;
            else if (*latent_source == "photong") o.latent_source = O::LatentSource::EmbeddingBridge;
            else throw bad("latent_source must be None, map or photong, got '" + *latent_source + "'");
        }
        for (const double v : {brightness, contrast})
            if (!(v >= -1 && v <= 1)) throw bad("brightness and contrast must be numbers in -1..1, got " + std::to_string(v));
        o.brightness = float(brightness), o.contrast = float(contrast);
        o.colour_affect = colour_affect;
        for (const auto& v : {valence, arousal})
            if (v && !(*v >= 0 && *v <= 1)) throw bad("valence and arousal must be numbers in 0..1, got " + std::to_string(*v));
        o.valence = valence, o.arousal = arousal;
        if (generator == "melody") o.generator = O::Generator::Melody;
        else if (generator == "piano") o.generator = O::Generator::Piano;
        else throw bad("generator must be melody or piano, got '" + generator + "'");
        if (!(seconds >= 1 && seconds <= 600)) throw bad("seconds must be a number in 1..600, got " + std::to_string(seconds));
        o.seconds = seconds;
        return o;
    }
};

std::unique_ptr<PyPipeline> make_pipeline(const py::object& weights_dir, bool verify_checksums, long long threads) {
    if (threads < 0 || threads > 1023) throw py::value_error("threads must be 0..1023 (0: PHOTONG_NUM_THREADS or all cores), got " + std::to_string(threads));
    photong::PipelineWeights w = photong::PipelineWeights::in_directory(fs_path(weights_dir));
    w.verify_checksums = verify_checksums;
    w.skip_missing_affect_bridges();  // as the C API: generate() then needs colour_affect or the value
    auto p = std::make_unique<PyPipeline>();
    py::gil_scoped_release nogil;  // loading reads and hashes ~100 MB: let other Python threads (a Dask worker's) run
    p->pipeline = std::make_unique<photong::Pipeline>(w);
    if (threads > 0) {
        p->pool = std::make_unique<photong::ThreadPool>(unsigned(threads));
        p->pipeline->use_thread_pool(*p->pool);
    }
    return p;
}

std::unique_ptr<PyResult> generate(const PyPipeline& p, const py::object& image, const OptionArgs& args) {
    auto r = std::make_unique<PyResult>();
    r->options = args.parse();
    // The picture is read out of its Python object while the GIL is held; the pipeline and the MIDI encoding run without it.
    auto run = [&](const auto& picture) {  // a path (std::string) or pixels (photong::Image)
        py::gil_scoped_release nogil;
        r->result = p.pipeline->generate(picture, r->options);
        r->midi = photong::encode_midi(r->result.midi());
    };
    if (is_path(image))
        run(fs_path(image));
    else if (py::isinstance<py::array>(image))
        run(image_from_array(py::reinterpret_borrow<py::array>(image)));
    else
        throw py::type_error(std::string("image must be a path (str or os.PathLike) or a numpy uint8 array, got ") + Py_TYPE(image.ptr())->tp_name);
    return r;
}

/// A read-only numpy view of `n` values at `data`, owned by the Result `owner` (kept alive by the array's base).
template <class T>
py::array_t<T> view(const T* data, py::ssize_t n, const py::object& owner) {
    py::array_t<T> a({n}, {py::ssize_t(sizeof(T))}, data, owner);
    a.attr("setflags")(py::arg("write") = false);  // one result, many views: none may change what the others see
    return a;
}

py::array_t<NoteRecord> note_records(const std::vector<photong::Note>& notes) {
    py::array_t<NoteRecord> a(py::ssize_t(notes.size()));
    NoteRecord* out = a.mutable_data();
    for (const photong::Note& n : notes) *out++ = {n.pitch, n.velocity, n.channel, n.start_step, n.end_step, n.start_s, n.end_s};
    return a;
}

const photong::GenerateResult& result_of(const py::object& self) { return self.cast<const PyResult&>().result; }

}  // namespace

PYBIND11_MODULE(photong, m) {
    m.doc() =
        "photong: a picture in, a 16-bar melody with chords (or expressive piano) out, as MIDI.\n\n"
        "    p = photong.Pipeline('weights')\n"
        "    r = p.generate('photo.jpg', seed=1)\n"
        "    open('photo.mid', 'wb').write(r.midi)\n\n"
        "Pipeline loads the weights once; Pipeline.generate runs InceptionV3, the bridges, the MusicVAE decoder and the\n"
        "touch-up, without the GIL, and may be called from several threads at once. Results are deterministic for\n"
        "(picture, weights, options). Bad option values raise ValueError; failures inside photong raise photong.Error.\n"
        "PHOTONG_NUM_THREADS (1..1023) caps the threads of pipelines made with threads=0.";
    static_assert(sizeof(int) == sizeof(std::int32_t), "Result.events is exposed as int32");

    PYBIND11_NUMPY_DTYPE(NoteRecord, pitch, velocity, channel, start_step, end_step, start_s, end_s);

    // photong::Error as photong.Error (a RuntimeError) with the message and its context fields as attributes. The
    // type object is kept for the process's life: the module holds it, and the translator may run until exit.
    static PyObject* const error_type = py::exception<photong::Error>(m, "Error", PyExc_RuntimeError).release().ptr();
    py::handle(error_type).attr("__doc__") =
        "Raised for every failure inside photong: an unreadable picture, a missing, wrong or damaged weights file.\n"
        "str(e) is the full message (photong: ... [file: ...] [tensor: ...] [expected: ...] [found: ...]); the parts are\n"
        "the attributes message, file, tensor, expected and found ('' where the message has none).";
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const photong::Error& e) {
            py::object error = py::handle(error_type)(e.what());
            error.attr("message") = e.message();
            error.attr("file") = e.context().file;
            error.attr("tensor") = e.context().tensor;
            error.attr("expected") = e.context().expected;
            error.attr("found") = e.context().found;
            PyErr_SetObject(error_type, error.ptr());
        }
    });

    py::class_<PyResult>(m, "Result",
                         "What Pipeline.generate made. The MIDI bytes, tempo, key, affect, latent code, notes and decoder events;\n"
                         "to_dict() gives everything the `photong --json` command prints.")
        .def_property_readonly("bpm", [](const PyResult& r) { return r.result.bpm; }, "Tempo in beats per minute (from the arousal).")
        .def_property_readonly("key", [](const PyResult& r) { return photong::key_name(r.result.key); }, "The key, e.g. 'A major', 'C# minor'.")
        .def_property_readonly("key_tonic", [](const PyResult& r) { return r.result.key.tonic_pitch_class; }, "The key's tonic pitch class, 0 (C) .. 11 (B).")
        .def_property_readonly("key_major", [](const PyResult& r) { return r.result.key.major; }, "True for a major key (valence >= 0.5), False for minor.")
        .def_property_readonly("valence", [](const PyResult& r) { return r.result.valence; }, "Valence in [0, 1] (bridge, colours or the given value).")
        .def_property_readonly("arousal", [](const PyResult& r) { return r.result.arousal; }, "Arousal in [0, 1] (bridge, colours or the given value).")
        .def_property_readonly("latent", [](const py::object& self) {
            const photong::Tensor& z = result_of(self).latent;
            return view(z.data(), py::ssize_t(z.size()), self);
        }, "The melody's latent code z, float32 (z_size,): a read-only view of the result's memory (no copy).")
        .def_property_readonly("events", [](const py::object& self) {
            const std::vector<int>& e = result_of(self).events;
            return view(reinterpret_cast<const std::int32_t*>(e.data()), py::ssize_t(e.size()), self);
        }, "The decoder's event classes, int32 (melody: 0 hold, 1 off, 2.. pitches; piano: performance events); a read-only view.")
        .def_property_readonly("melody", [](const PyResult& r) { return note_records(r.result.melody); },
                               "The melody notes (piano: the performance's notes) as a numpy structured array with the fields\n"
                               "pitch, velocity, channel, start_step, end_step (16th-note steps, end exclusive), start_s, end_s.")
        .def_property_readonly("chords", [](const PyResult& r) { return note_records(r.result.chords); },
                               "The chord notes (one chord per bar at most, channel 1; empty for piano), fields as melody.")
        .def_property_readonly("midi", [](const PyResult& r) { return py::bytes(reinterpret_cast<const char*>(r.midi.data()), r.midi.size()); },
                               "The Standard MIDI File, the same bytes the `photong` command writes for these options.")
        .def_property_readonly("generator", [](const PyResult& r) {
            return r.result.generator == photong::GenerateOptions::Generator::Piano ? "piano" : "melody";
        }, "Which generator wrote it: 'melody' or 'piano'.")
        .def_property_readonly("temperature", [](const PyResult& r) { return r.result.sampling.temperature; }, "The sampling temperature used.")
        .def_property_readonly("top_k", [](const PyResult& r) { return r.result.sampling.top_k; }, "The top-k used (0: none).")
        .def_property_readonly("top_p", [](const PyResult& r) { return r.result.sampling.top_p; }, "The top-p used (1: none).")
        .def_property_readonly("form", [](const PyResult& r) { return r.result.form.name(); }, "The song form used, e.g. 'AABA', or 'none'.")
        .def_property_readonly("picture_brightness", [](const PyResult& r) { return r.result.picture.brightness; },
                               "The picture's mean Rec. 709 luminance, 0..1.")
        .def_property_readonly("edge_density", [](const PyResult& r) { return r.result.picture.edge_density; },
                               "The picture's share of edge pixels (Sobel), 0..1.")
        .def("to_dict", [](const PyResult& r) {
            return py::module_::import("json").attr("loads")(photong::result_to_json(r.result, r.options).dump());
        }, "Everything as plain Python values: the object `photong --json` prints, without its image and output fields.")
        .def("__repr__", [](const PyResult& r) {
            return "<photong.Result " + std::string(r.result.generator == photong::GenerateOptions::Generator::Piano ? "piano" : "melody") + ", " +
                   std::to_string(r.result.melody.size()) + " notes, " + std::to_string(int(std::lround(r.result.bpm))) + " BPM, " +
                   photong::key_name(r.result.key) + ">";
        });

    py::class_<PyPipeline>(m, "Pipeline",
                           "The loaded weights. Immutable once made; generate() may be called from several threads at once.")
        .def(py::init(&make_pipeline), py::arg("weights_dir"), py::arg("verify_checksums") = true, py::arg("threads") = 0,
             "Loads the weight files from weights_dir (str or os.PathLike) under their fixed names, each checked against\n"
             "NAME.sha256 beside it unless verify_checksums is False. Missing arousal/valence bridges are allowed: generate()\n"
             "then needs colour_affect=True or the missing value. threads: 0 uses photong's shared pool (PHOTONG_NUM_THREADS\n"
             "or all cores), N > 0 gives this pipeline its own pool of N threads. Raises photong.Error naming a missing or\n"
             "bad file, ValueError for threads outside 0..1023.")
        .def_property_readonly("has_piano", [](const PyPipeline& p) { return p.pipeline->has_piano(); },
                               "True when the piano generator was loaded (generator='piano' works).")
        .def_property_readonly("has_affect_bridges", [](const PyPipeline& p) { return p.pipeline->has_affect_bridges(); },
                               "True when both the arousal and the valence bridges were loaded.")
        .def_property_readonly("has_latent_map", [](const PyPipeline& p) { return p.pipeline->has_latent_map(); },
                               "True when the image -> latent map was loaded (latent_source='map' works; the default then).")
        .def_property_readonly("z_size", [](const PyPipeline& p) { return p.pipeline->z_size(); }, "The melody decoder's latent size.")
        .def("generate",
             [](const PyPipeline& p, const py::object& image, py::int_ seed, std::optional<double> temperature, std::optional<long long> top_k,
                std::optional<double> top_p, std::optional<std::string> form, long long variations, std::string rank,
                std::optional<std::string> latent_source, double brightness, double contrast, bool colour_affect,
                std::optional<double> valence, std::optional<double> arousal, std::string generator, double seconds) {
                 return generate(p, image, {seed, temperature, top_k, top_p, form, variations, rank, latent_source, brightness, contrast,
                                            colour_affect, valence, arousal, generator, seconds});
             },
             py::arg("image"), py::kw_only(), py::arg("seed") = 0, py::arg("temperature") = py::none(), py::arg("top_k") = py::none(),
             py::arg("top_p") = py::none(), py::arg("form") = py::none(), py::arg("variations") = 1, py::arg("rank") = "first",
             py::arg("latent_source") = py::none(), py::arg("brightness") = 0.0, py::arg("contrast") = 0.0, py::arg("colour_affect") = false,
             py::arg("valence") = py::none(), py::arg("arousal") = py::none(), py::arg("generator") = "melody", py::arg("seconds") = 20.0,
             "Music from a picture.\n\n"
             "image: a path (str, bytes or os.PathLike; PNG, JPEG, ...) or a numpy uint8 array (H, W, 3) RGB, (H, W) grey\n"
             "or (H, W, 4) RGBA (alpha ignored). The options are the `photong` command's:\n"
             "  seed          0..2**64-1: same seed, same music\n"
             "  temperature   >= 0 (0: greedy); None: the melody model's recommended one, else 0.5\n"
             "  top_k         >= 0 (0: all events); top_p in (0, 1] (1: all); None: the model's\n"
             "  form          song form over 4-bar phrases ('AABA', 'ABAB!', 'none'); None: the model's\n"
             "  variations    1..256 melodies decoded, the best kept by rank: 'first', 'entropy' (pitch entropy),\n"
             "                'pitch_class_entropy' or 'groove' (groove consistency)\n"
             "  latent_source 'map' (image -> latent map) or 'photong' (embedding bridge); None: map when loaded\n"
             "  brightness, contrast  Vis2Mus sliders on the latent code, -1..1 (0: off)\n"
             "  colour_affect arousal and valence from the picture's colours instead of the bridges\n"
             "  valence, arousal      your own values in 0..1 instead of the picture's\n"
             "  generator     'melody' (16 bars with chords) or 'piano'; seconds: piano length, 1..600\n"
             "Runs without the GIL. Raises ValueError for a bad option or array, TypeError for another kind of image,\n"
             "photong.Error when photong fails (unreadable picture, a generator or bridge whose weights are not loaded).");
}
