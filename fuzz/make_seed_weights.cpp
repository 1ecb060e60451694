// fuzz/make_seed_weights.cpp — tiny, valid weight files for the seed corpora of fuzz_safetensors
// and fuzz_weight_models: each model kind the C++ side loads, with every dimension a few units,
// so that the fuzzer's mutations start from files that load (and run) rather than from noise.
// Usage: make_seed_weights OUT_DIR
#include <cstdio>
#include <string>

#include <photong/core/dtype.hpp>
#include <photong/core/rng.hpp>
#include <photong/core/safetensors.hpp>

#include "../tests/random_pipeline_weights.hpp"

namespace {

using photong_test::add_lstm_stack;
using photong_test::random_tensor;

void bridge(const std::string& path, const std::string& kind, const std::string& arch, const std::string& input_shape,
            photong::SafetensorsWriter w) {
    w.set_metadata("model", "bridge");
    w.set_metadata("bridge", kind);
    w.set_metadata("input_shape", input_shape);
    w.set_metadata("architecture", arch);
    w.write(path);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seed_weights OUT_DIR\n");
        return 2;
    }
    const std::string d = std::string(argv[1]) + "/";
    photong::Rng rng(7);
    {  // embedding bridge: conv 1x1 (4 -> 2, relu) on a 2x2x4 map, flatten, dense -> 3
        photong::SafetensorsWriter w;
        w.add("conv/kernel", random_tensor({1, 1, 4, 2}, 0.5f, rng));
        w.add("conv/bias", random_tensor({2}, 0.1f, rng));
        w.add("dense/kernel", random_tensor({8, 3}, 0.5f, rng));
        w.add("dense/bias", random_tensor({3}, 0.1f, rng));
        bridge(d + "bridge_embedding.safetensors", "embedding",
               R"([{"type":"conv2d","name":"conv","kernel_size":[1,1],"strides":[1,1],"padding":"valid","activation":"relu"},)"
               R"({"type":"flatten","name":"flatten"},{"type":"dense","name":"dense","activation":"linear"}])",
               "[2, 2, 4]", std::move(w));
    }
    {  // arousal: a 3x3 'same' conv with stride 2, pooling, dropout, dense -> 1 sigmoid
        photong::SafetensorsWriter w;
        w.add("conv/kernel", random_tensor({3, 3, 3, 2}, 0.5f, rng));
        w.add("conv/bias", random_tensor({2}, 0.1f, rng));
        w.add("dense/kernel", random_tensor({2, 1}, 0.5f, rng));
        w.add("dense/bias", random_tensor({1}, 0.1f, rng));
        bridge(d + "bridge_arousal.safetensors", "arousal",
               R"([{"type":"conv2d","name":"conv","kernel_size":[3,3],"strides":[2,2],"padding":"same","activation":"relu"},)"
               R"({"type":"global_average_pooling2d","name":"pool"},{"type":"dropout","name":"drop"},)"
               R"({"type":"dense","name":"dense","activation":"sigmoid"}])",
               "[3, 3, 3]", std::move(w));
    }
    {  // valence: pooling, dense -> 2 softmax, F16 weights
        photong::SafetensorsWriter w;
        const photong::Tensor k = random_tensor({4, 2}, 0.5f, rng), b = random_tensor({2}, 0.1f, rng);
        std::vector<unsigned char> kb(k.size() * 2), bb(b.size() * 2);
        photong::encode_f16(k.data(), k.size(), kb.data());
        photong::encode_f16(b.data(), b.size(), bb.data());
        w.add_raw("dense/kernel", photong::DType::F16, {4, 2}, kb);
        w.add_raw("dense/bias", photong::DType::F16, {2}, bb);
        bridge(d + "bridge_valence.safetensors", "valence",
               R"([{"type":"global_average_pooling2d","name":"pool"},{"type":"dense","name":"dense","activation":"linear"},)"
               R"({"type":"activation","name":"act","activation":"softmax"}])",
               "[1, 1, 4]", std::move(w));
    }
    // A hierdec-mel_16bar-shaped decoder with z 4, 3 units, 6 classes and a sampling temperature.
    photong_test::write_random_hierdec(d + "hierdec.safetensors", 11, 4, 3, 6, "0.8");
    {  // the flat decoder (mel_2bar_small's layout): z 3, one layer of 4 units, 5 classes
        photong::SafetensorsWriter w;
        w.add("decoder/z_to_initial_state/kernel", random_tensor({3, 8}, 0.5f, rng));
        w.add("decoder/z_to_initial_state/bias", random_tensor({8}, 0.1f, rng));
        add_lstm_stack(w, "decoder/multi_rnn_cell", 5 + 3, 4, 1, rng);
        w.add("decoder/output_projection/kernel", random_tensor({4, 5}, 0.5f, rng));
        w.add("decoder/output_projection/bias", random_tensor({5}, 0.1f, rng));
        w.write(d + "flat_decoder.safetensors");
    }
    {  // the bidirectional encoder: 3 classes, one layer of 2 units per direction, z 2
        photong::SafetensorsWriter w;
        for (const char* dir : {"fw", "bw"}) {
            const std::string cell = std::string("encoder/cell_0/bidirectional_rnn/") + dir + "/multi_rnn_cell/cell_0/lstm_cell";
            w.add(cell + "/kernel", random_tensor({3 + 2, 8}, 0.5f, rng));
            w.add(cell + "/bias", random_tensor({8}, 0.1f, rng));
        }
        w.add("encoder/mu/kernel", random_tensor({4, 2}, 0.5f, rng));
        w.add("encoder/mu/bias", random_tensor({2}, 0.1f, rng));
        w.add("encoder/sigma/kernel", random_tensor({4, 2}, 0.5f, rng));
        w.add("encoder/sigma/bias", random_tensor({2}, 0.1f, rng));
        w.write(d + "encoder.safetensors");
    }
    {  // InceptionV3's metadata and first convolution only (the loader stops at the next tensor)
        photong::SafetensorsWriter w;
        w.add("conv2d/kernel", random_tensor({3, 3, 3, 2}, 0.5f, rng));
        w.set_metadata("model", "inception_v3");
        w.set_metadata("resize", "bilinear_align_corners");
        w.set_metadata("preprocess", "divide_255");
        w.set_metadata("input_size", "299");
        w.set_metadata("bn_epsilon", "0.001");
        w.write(d + "inception_fragment.safetensors");
    }
    return 0;
}
