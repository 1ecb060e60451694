// kernels/inception_v3_kernels.hpp — InceptionV3 on the kernel backend: the graph of
// include/photong/models/inception_v3_graph.hpp (the same code the CPU model runs) over the kernels of
// kernels/, on a GPU (kernels/cuda/executor.hpp) or through the host SIMT executor (kernels/executor_host.hpp;
// include one of them before this header).
//
// Weights are uploaded once, at construction, as dense HWIO kernels with BatchNormalization folded in
// (the implicit-GEMM convolution reads them in place). Feature maps come from an arena: the graph asks
// for its maps in the same order on every run, so the n-th request reuses the n-th buffer when the size
// matches, and a run allocates nothing after the first (on a GPU, cudaMalloc would synchronise).
#pragma once

#ifndef PHOTONG_KERNEL_EXECUTOR
#error "include kernels/executor_host.hpp or kernels/cuda/executor.hpp before kernels/inception_v3_kernels.hpp"
#endif

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/preprocess.hpp"
#include "photong/models/inception_v3.hpp"
#include "photong/models/inception_v3_graph.hpp"

namespace photong {
namespace kernels {

template <class Exec>
class KernelInceptionV3 {
public:
    template <class T>
    using Buffer = typename Exec::template Buffer<T>;

    /// One convolution with its weights in the executor's memory.
    struct Conv {
        Buffer<float> weight, bias;  ///< HWIO (kh * kw * cin x cout, dense), cout
        Conv2DParams p;
        int cin = 0, cout = 0;
        std::string layer;
        const Conv2DParams& params() const { return p; }
        int in_channels() const { return cin; }
        int out_channels() const { return cout; }
        const std::string& name() const { return layer; }
    };
    /// A map in the arena (not owned): arena_[slot].
    struct Map {
        float* data = nullptr;
        int n = 0, h = 0, w = 0, c = 0;
        std::size_t slot = 0;
    };
    /// Called with "mixed0".."mixed10" and each block's output, downloaded.
    using Observer = std::function<void(const std::string& name, const Tensor& output)>;

    /// Reads and checks every layer as the CPU model does, and uploads it to `exec` (kept by reference).
    KernelInceptionV3(const SafetensorsFile& file, Exec& exec) : exec_(exec) {
        const std::string model = file.metadata_or("model", "");
        if (model != "inception_v3") throw Error("weight file is not an InceptionV3 model", {file.path(), "__metadata__.model", "inception_v3", model.empty() ? "(none)" : model});
        preprocessing_ = Preprocessing::from_metadata(file.metadata(), file.path());
        layers_ = InceptionLayers<Conv>::load(file, InceptionV3::bn_epsilon(file), InceptionV3::bn_scale(file), [&](ConvSpec s) {
            Conv c;
            c.p = s.params, c.cin = int(s.kernel.dim(2)), c.cout = int(s.kernel.dim(3)), c.layer = s.name;
            c.weight = exec_.template alloc<float>(s.kernel.size());
            exec_.upload(c.weight, s.kernel.data(), s.kernel.size());
            c.bias = exec_.template alloc<float>(s.bias.size());
            exec_.upload(c.bias, s.bias.data(), s.bias.size());
            return c;
        });
    }

    const Preprocessing& preprocessing() const { return preprocessing_; }

    /// (n, h, w, 3) preprocessed input (host) -> (n, h', w', 2048) mixed10 features (host).
    Tensor features(const Tensor& input, const Observer& observe = {}) {
        require(input.rank() == 4 && input.dim(3) == 3, "InceptionV3 takes (n, h, w, 3) input", {"", "input", "n x h x w x 3", shape_to_string(input.shape())});
        require(input.dim(1) >= 75 && input.dim(2) >= 75, "InceptionV3 needs an input of at least 75x75",
                {"", "input", ">= 75x75", std::to_string(input.dim(1)) + "x" + std::to_string(input.dim(2))});
        Backend be{this};
        next_ = 0;
        const Map in = be.new_map(int(input.dim(0)), int(input.dim(1)), int(input.dim(2)), 3);
        exec_.upload(arena_[in.slot], input.data(), input.size());
        return run(be, in, observe);
    }

    /// A decoded picture -> (1, 8, 8, 2048): only its bytes are uploaded; resize and scaling run on the device.
    Tensor features(const Image& image, const Observer& observe = {}) {
        require(image.width > 0 && image.height > 0 && image.rgb.size() == std::size_t(image.width) * image.height * 3, "image has no pixels",
                {"", "image", "width x height x 3 bytes", std::to_string(image.rgb.size())});
        Backend be{this};
        next_ = 0;
        if (rgb_.size() < image.rgb.size()) rgb_ = exec_.template alloc<std::uint8_t>(image.rgb.size());
        exec_.upload(rgb_, image.rgb.data(), image.rgb.size());
        const int size = preprocessing_.size;
        const Map in = be.new_map(1, size, size, 3);
        PreprocessArgs a;
        a.rgb = rgb_.data(), a.h = image.height, a.w = image.width, a.out = in.data, a.size = size;
        a.align_corners = preprocessing_.resize == ResizeMode::AlignCorners, a.divisor = preprocessing_.divisor, a.offset = preprocessing_.offset;
        a.scale_before_resize = preprocessing_.scale_before_resize;
        exec_.preprocess(a);
        return run(be, in, observe);
    }

    /// Runs the graph on the map already in the arena's first buffer, without downloading anything, and
    /// returns the output map (device memory): what a benchmark times.
    Map run_resident(int n, int h, int w) {
        Backend be{this};
        next_ = 0;
        const Map in = be.new_map(n, h, w, 3);
        return inception_forward(be, layers_, in, [](const std::string&, const Map&) {});
    }

private:
    struct Backend {
        using Conv = KernelInceptionV3::Conv;
        using Map = KernelInceptionV3::Map;
        KernelInceptionV3* self;

        Map new_map(int n, int h, int w, int c) const {
            auto& arena = self->arena_;
            const std::size_t count = std::size_t(n) * h * w * c, i = self->next_++;
            if (i == arena.size()) arena.push_back(self->exec_.template alloc<float>(count));
            if (arena[i].size() < count) arena[i] = self->exec_.template alloc<float>(count);
            return Map{arena[i].data(), n, h, w, c, i};
        }
        FeatureView view(const Map& m) const { return FeatureView{m.data, m.n, m.h, m.w, m.c, m.c}; }
        void conv(const Conv& c, const FeatureView& in, const FeatureView& out) const {
            const WindowAxis ay = window_axis(in.h, c.p.kernel_h, c.p.stride_h, c.p.padding, c.layer);
            const WindowAxis ax = window_axis(in.w, c.p.kernel_w, c.p.stride_w, c.p.padding, c.layer);
            require(in.c == c.cin && out.n == in.n && out.h == ay.out && out.w == ax.out && out.c == c.cout, "conv output view has the wrong shape",
                    {"", c.layer, shape_to_string(std::vector<int>{in.n, ay.out, ax.out, c.cout}), shape_to_string(out.shape())});
            ConvArgs a;
            a.in = in.data, a.in_stride = int(in.pixel_stride), a.n = in.n, a.h = in.h, a.w = in.w, a.cin = in.c;
            a.weight = c.weight.data(), a.bias = c.bias.data(), a.act = c.p.relu ? kActRelu : kActLinear;
            a.out = out.data, a.out_stride = int(out.pixel_stride), a.oh = ay.out, a.ow = ax.out, a.cout = c.cout;
            a.kh = c.p.kernel_h, a.kw = c.p.kernel_w, a.sh = c.p.stride_h, a.sw = c.p.stride_w, a.pad_y = ay.pad, a.pad_x = ax.pad;
            self->exec_.conv2d(a);
        }
        void pool(const Pool2DParams& p, const FeatureView& in, const FeatureView& out) const {
            const WindowAxis ay = window_axis(in.h, p.pool_h, p.stride_h, p.padding, "pool2d");
            const WindowAxis ax = window_axis(in.w, p.pool_w, p.stride_w, p.padding, "pool2d");
            require(out.n == in.n && out.h == ay.out && out.w == ax.out && out.c == in.c, "pool output view has the wrong shape",
                    {"", "pool2d", shape_to_string(std::vector<int>{in.n, ay.out, ax.out, in.c}), shape_to_string(out.shape())});
            PoolArgs a;
            a.in = in.data, a.in_stride = int(in.pixel_stride), a.n = in.n, a.h = in.h, a.w = in.w, a.c = in.c;
            a.out = out.data, a.out_stride = int(out.pixel_stride), a.oh = ay.out, a.ow = ax.out;
            a.kh = p.pool_h, a.kw = p.pool_w, a.sh = p.stride_h, a.sw = p.stride_w, a.pad_y = ay.pad, a.pad_x = ax.pad;
            a.average = p.kind == PoolKind::Average;
            self->exec_.pool2d(a);
        }
        /// A 1x1 max pool of stride 1 is an exact strided channel copy: no separate kernel needed.
        void copy_channels(const FeatureView& from, const FeatureView& to) const {
            pool({PoolKind::Max, 1, 1, 1, 1, Padding::Valid}, from, to);
        }
    };

    Tensor run(Backend& be, const Map& in, const Observer& observe) {
        const Map out = inception_forward(be, layers_, in, [&](const std::string& name, const Map& m) {
            if (observe) observe(name, download(m));
        });
        return download(out);
    }

    Tensor download(const Map& m) {
        exec_.synchronize();
        Tensor t = Tensor::nhwc(m.n, m.h, m.w, m.c);
        const std::vector<float> v = exec_.download(arena_[m.slot], t.size());
        std::copy(v.begin(), v.end(), t.data());
        return t;
    }

    Exec& exec_;
    Preprocessing preprocessing_;
    InceptionLayers<Conv> layers_;
    std::vector<Buffer<float>> arena_;
    std::size_t next_ = 0;
    Buffer<std::uint8_t> rgb_;
};

}  // namespace kernels
}  // namespace photong
