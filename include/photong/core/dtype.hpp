// photong/core/dtype.hpp — element types of weight files and their portable decoding to float.
//
// Files are little-endian by definition (safetensors, tfjs shards, TF bundles). Decoding goes
// byte by byte through integer shifts, so it is correct on big-endian hosts too; the fast path
// (a memcpy of F32) is taken only when the host is detected to be little-endian at run time.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "photong/core/error.hpp"

namespace photong {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, U16, U32, U64, BOOL };

inline std::size_t dtype_size(DType t) {
    switch (t) {
        case DType::F64: case DType::I64: case DType::U64: return 8;
        case DType::F32: case DType::I32: case DType::U32: return 4;
        case DType::F16: case DType::BF16: case DType::I16: case DType::U16: return 2;
        case DType::I8: case DType::U8: case DType::BOOL: return 1;
    }
    return 0;
}

inline const char* dtype_name(DType t) {
    switch (t) {
        case DType::F64: return "F64"; case DType::F32: return "F32"; case DType::F16: return "F16";
        case DType::BF16: return "BF16"; case DType::I64: return "I64"; case DType::I32: return "I32";
        case DType::I16: return "I16"; case DType::I8: return "I8"; case DType::U8: return "U8";
        case DType::U16: return "U16"; case DType::U32: return "U32"; case DType::U64: return "U64";
        case DType::BOOL: return "BOOL";
    }
    return "?";
}

/// Parses a safetensors dtype string; returns false for unknown names.
inline bool parse_dtype(const std::string& s, DType& out) {
    static const DType all[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32, DType::I16,
                                DType::I8,  DType::U8,  DType::U16, DType::U32,  DType::U64, DType::BOOL};
    for (DType t : all)
        if (s == dtype_name(t)) { out = t; return true; }
    return false;
}

inline bool host_is_little_endian() {
    const std::uint32_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}

/// IEEE binary16 bits to float (handles subnormals, infinities and NaN).
inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else {  // subnormal: renormalise
            int e = -1;
            do { ++e; mant <<= 1; } while ((mant & 0x400u) == 0);
            bits = sign | (std::uint32_t(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline float bf16_to_float(std::uint16_t h) {
    const std::uint32_t bits = std::uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline std::uint64_t load_le(const unsigned char* p, std::size_t bytes) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
    return v;
}

/// Decodes `count` little-endian elements of type `t` at `src` into floats at `dst`.
inline void decode_to_float(DType t, const unsigned char* src, std::size_t count, float* dst) {
    const std::size_t sz = dtype_size(t);
    if (t == DType::F32 && host_is_little_endian()) {
        if (count) std::memcpy(dst, src, count * 4);  // an empty tensor's pointers may be null: memcpy(null, ..., 0) is UB
        return;
    }
    for (std::size_t i = 0; i < count; ++i, src += sz) {
        const std::uint64_t v = load_le(src, sz);
        switch (t) {
            case DType::F32: { std::uint32_t b = std::uint32_t(v); std::memcpy(&dst[i], &b, 4); break; }
            case DType::F64: { double d; std::memcpy(&d, &v, 8); dst[i] = float(d); break; }
            case DType::F16: dst[i] = half_to_float(std::uint16_t(v)); break;
            case DType::BF16: dst[i] = bf16_to_float(std::uint16_t(v)); break;
            case DType::I64: dst[i] = float(std::int64_t(v)); break;
            case DType::I32: dst[i] = float(std::int32_t(std::uint32_t(v))); break;
            case DType::I16: dst[i] = float(std::int16_t(std::uint16_t(v))); break;
            case DType::I8: dst[i] = float(std::int8_t(std::uint8_t(v))); break;
            case DType::U8: case DType::U16: case DType::U32: case DType::U64: dst[i] = float(v); break;
            case DType::BOOL: dst[i] = v ? 1.0f : 0.0f; break;
        }
    }
}

/// Float to IEEE binary16 bits, rounding to nearest even (as numpy's astype(float16) does);
/// beyond the half range gives infinity, NaN stays NaN.
inline std::uint16_t float_to_half(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    const std::uint16_t sign = std::uint16_t((x >> 16) & 0x8000u);
    const std::uint32_t a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return std::uint16_t(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0u));
    if (a >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // >= 65520 rounds to infinity
    std::uint32_t q, rem, half;
    if (a < 0x38800000u) {                      // below 2^-14: a half subnormal (or zero)
        if (a < 0x33000000u) return sign;       // below 2^-25: rounds to zero
        const int shift = 126 - int(a >> 23);   // 14..24: float mantissa to units of 2^-24
        const std::uint32_t m = (a & 0x7fffffu) | 0x800000u;
        q = m >> shift;
        rem = m & ((1u << shift) - 1u);
        half = 1u << (shift - 1);
    } else {
        q = ((a >> 23) - 112u) << 10 | ((a & 0x7fffffu) >> 13);
        rem = a & 0x1fffu;
        half = 0x1000u;
    }
    if (rem > half || (rem == half && (q & 1u))) ++q;  // a carry into the exponent is still right
    return std::uint16_t(sign | q);
}

/// Encodes floats as little-endian F16 bytes (float_to_half on each).
inline void encode_f16(const float* src, std::size_t count, unsigned char* dst) {
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t h = float_to_half(src[i]);
        dst[2 * i] = static_cast<unsigned char>(h & 0xffu);
        dst[2 * i + 1] = static_cast<unsigned char>(h >> 8);
    }
}

/// Encodes floats as little-endian F32 bytes (portable to big-endian hosts).
inline void encode_f32(const float* src, std::size_t count, unsigned char* dst) {
    if (host_is_little_endian()) {
        if (count) std::memcpy(dst, src, count * 4);  // as in decode_to_float: null pointers when empty
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        std::uint32_t b;
        std::memcpy(&b, &src[i], 4);
        for (int k = 0; k < 4; ++k) dst[4 * i + k] = static_cast<unsigned char>(b >> (8 * k));
    }
}

}  // namespace photong
