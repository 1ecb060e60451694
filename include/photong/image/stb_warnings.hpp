// photong/image/stb_warnings.hpp — silences the warnings stb's single-file libraries raise under
// photong's -Wall -Wextra, around their implementation only (decode.hpp, encode_png.hpp).
#pragma once

#if defined(__GNUC__)
#define PHOTONG_STB_WARNINGS_OFF                                         \
    _Pragma("GCC diagnostic push")                                       \
    _Pragma("GCC diagnostic ignored \"-Wunused-function\"")              \
    _Pragma("GCC diagnostic ignored \"-Wsign-compare\"")                 \
    _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")   \
    _Pragma("GCC diagnostic ignored \"-Wimplicit-fallthrough\"")
#define PHOTONG_STB_WARNINGS_ON _Pragma("GCC diagnostic pop")
#else
#define PHOTONG_STB_WARNINGS_OFF
#define PHOTONG_STB_WARNINGS_ON
#endif
