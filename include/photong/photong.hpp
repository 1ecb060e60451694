// photong/photong.hpp — the whole library in one include.
//
// photong is header-only: include this (or the one header you need) and link Eigen's include
// directory. Nothing here needs a framework at run time.
#pragma once

#include "photong/core/dtype.hpp"
#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"
#include "photong/core/mapped_file.hpp"
#include "photong/core/parallel.hpp"
#include "photong/core/rng.hpp"
#include "photong/core/safetensors.hpp"
#include "photong/core/tensor.hpp"
#include "photong/image/decode.hpp"
#include "photong/image/preprocess.hpp"
#include "photong/image/resize.hpp"
#include "photong/models/inception_v3.hpp"
#include "photong/models/latent_interpolation.hpp"
#include "photong/models/music_vae_encoder.hpp"
#include "photong/models/music_vae_flat.hpp"
#include "photong/models/music_vae_hier.hpp"
#include "photong/music/melody.hpp"
#include "photong/music/midi.hpp"
#include "photong/music/touch_up.hpp"
#include "photong/nn/conv2d.hpp"
#include "photong/nn/dense.hpp"
#include "photong/nn/gemm.hpp"
#include "photong/nn/global_pool.hpp"
#include "photong/nn/lstm.hpp"
#include "photong/nn/padding.hpp"
#include "photong/nn/pooling.hpp"
#include "photong/nn/winograd.hpp"
