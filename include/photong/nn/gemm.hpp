// photong/nn/gemm.hpp — the matrix product under every convolution: C = act(A · B + bias), with B
// (the layer's weights) packed once at load time.
//
// B (K x N, row-major) is stored as column panels of kPanel floats: panel j holds rows 0..K-1 of
// columns [j*kPanel, (j+1)*kPanel), zero-padded past N, each row contiguous. A micro-kernel keeps
// an MR x kPanel block of C in vector registers, and for each k broadcasts MR values of A (read in
// place through one pointer per row: an NHWC map's pixels, so convolutions need no im2col copy)
// against one panel row of B.
// GotoBLAS-style blocking: K is cut into blocks of kDepth so a panel's slice of B stays in cache
// (64 KB with AVX-512: L1 and the nearest L2) while it sweeps every row group of A's tile, which
// stays in L2 across panels; 512 measured slightly faster than 256 or 128 here.
//
// SIMD goes through Eigen's packet primitives (pset1, ploadu, pmadd, pstoreu), so the same code is
// AVX-512, AVX2, NEON or scalar depending on the target; MR is chosen from the register count.
// The summation order of every output (k ascending, block by block, one fused multiply-add per
// step) does not depend on tiling or threads, so results are identical for any thread count.
// gemm_reference is the plain triple loop the kernel is tested against.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "photong/core/error.hpp"

#ifndef EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS
#define PHOTONG_VECTOR_REGISTERS 16
#else
#define PHOTONG_VECTOR_REGISTERS EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define PHOTONG_UNROLL _Pragma("GCC unroll 16")
#elif defined(__clang__)
#define PHOTONG_UNROLL _Pragma("unroll")
#else
#define PHOTONG_UNROLL
#endif

namespace photong {

namespace gemm_detail {
using Packet = typename Eigen::internal::packet_traits<float>::type;
constexpr int kLanes = Eigen::internal::unpacket_traits<Packet>::size;
}  // namespace gemm_detail

/// A K x N right-hand matrix packed into column panels for gemm().
class PackedMatrix {
public:
#ifndef PHOTONG_GEMM_PANEL_PACKETS
#if defined(__wasm_simd128__)
// Eigen 3.4 has no WebAssembly packets, so Packet is a plain float there; a panel of 16 floats gives clang rows
// it vectorises into four SIMD128 registers (a multiply and an add per lane in the same order: the same sums).
#define PHOTONG_GEMM_PANEL_PACKETS 16
#else
#define PHOTONG_GEMM_PANEL_PACKETS 2
#endif
#endif
    static constexpr int kPanelPackets = PHOTONG_GEMM_PANEL_PACKETS;
    static constexpr int kPanel = gemm_detail::kLanes * kPanelPackets;  ///< columns per panel

    PackedMatrix() = default;
    /// Packs a row-major K x N matrix.
    PackedMatrix(const float* b, std::int64_t k, std::int64_t n) : k_(k), n_(n) {
        require(k > 0 && n > 0, "cannot pack an empty matrix", {"", "", "K, N >= 1", std::to_string(k) + "x" + std::to_string(n)});
        auto storage = std::make_shared<Storage>(std::size_t(panels() * k_ * kPanel), 0.0f);
        float* data = storage->data();
        for (std::int64_t j = 0; j < panels(); ++j)
            for (std::int64_t r = 0; r < k_; ++r)
                for (std::int64_t c = j * kPanel; c < std::min<std::int64_t>(n_, (j + 1) * kPanel); ++c)
                    data[(j * k_ + r) * kPanel + (c - j * kPanel)] = b[r * n_ + c];
        data_ = data;
        owner_ = std::move(storage);
    }
    /// A K x N matrix already in packed form (size_floats() floats, as data() gives them), kept alive by
    /// `owner` (a memory-mapped cache file): nothing is copied. `packed` must be aligned to a SIMD packet.
    static PackedMatrix view(const float* packed, std::int64_t k, std::int64_t n, std::shared_ptr<const void> owner) {
        require(k > 0 && n > 0, "cannot view an empty matrix", {"", "", "K, N >= 1", std::to_string(k) + "x" + std::to_string(n)});
        require(reinterpret_cast<std::uintptr_t>(packed) % kAlignment == 0, "packed weights are not aligned to a SIMD packet",
                {"", "", std::to_string(kAlignment) + "-byte boundary", std::to_string(reinterpret_cast<std::uintptr_t>(packed) % kAlignment) + " bytes past one"});
        PackedMatrix m;
        m.k_ = k;
        m.n_ = n;
        m.data_ = packed;
        m.owner_ = std::move(owner);
        return m;
    }
    /// The packed floats: panels() panels of rows() x kPanel, each row contiguous.
    const float* data() const { return data_; }
    std::int64_t size_floats() const { return panels() * k_ * kPanel; }
    /// Alignment the micro-kernel's aligned loads need of data().
    static constexpr std::size_t kAlignment = alignof(gemm_detail::Packet) > sizeof(float) ? alignof(gemm_detail::Packet) : sizeof(float);
    /// Element (r, c) of the original matrix.
    float at(std::int64_t r, std::int64_t c) const { return data_[((c / kPanel) * k_ + r) * kPanel + c % kPanel]; }
    std::int64_t rows() const { return k_; }
    std::int64_t cols() const { return n_; }
    std::int64_t panels() const { return (n_ + kPanel - 1) / kPanel; }
    const float* panel(std::int64_t j) const { return data_ + j * k_ * kPanel; }
    /// out[c] += B[r][c] for every column c: the product of a one-hot row with B, as a gather.
    void add_row(std::int64_t r, float* out) const {
        for (std::int64_t j = 0; j < panels(); ++j) {
            const float* src = panel(j) + r * kPanel;
            const std::int64_t n = std::min<std::int64_t>(kPanel, n_ - j * kPanel);
            for (std::int64_t c = 0; c < n; ++c) out[j * kPanel + c] += src[c];
        }
    }

private:
    using Storage = std::vector<float, Eigen::aligned_allocator<float>>;
    std::int64_t k_ = 0, n_ = 0;
    const float* data_ = nullptr;
    // What keeps data_ alive: the packed copy, or the mapped cache file. Shared, so copies of a layer
    // (concat_outputs, the fused heads) cost nothing; the floats are never written after packing.
    std::shared_ptr<const void> owner_;
};

namespace gemm_detail {

/// Rows of C per micro-kernel: as many as the vector registers allow next to the two B packets
/// and one broadcast (12 x 32 floats with 32 AVX-512 registers, 6 x 16 with 16 AVX2 ones).
#ifndef PHOTONG_GEMM_ROWS
#define PHOTONG_GEMM_ROWS (PHOTONG_VECTOR_REGISTERS >= 32 ? 12 : 6)
#endif
constexpr int kRows = PHOTONG_GEMM_ROWS;
constexpr std::int64_t kDepth = 512;  ///< K block: one panel slice is kDepth x kPanel floats (64 KB with AVX-512)

struct Epilogue {
    const float* bias;  ///< kPanel values for this panel (nullptr: none)
    bool relu;
};

/// C[0..MR) x [0..ncols) (+)= A[0..MR) x [kb, kb+kc) · Bpanel[kb, kb+kc) with A's rows given
/// by pointer per segment (see IndirectRows); the first K block overwrites C, later ones add to
/// it; the last one applies bias and ReLU. The accumulators stay in registers across segments.
template <int MR>
inline void micro_kernel(const float* const* ptrs, std::int64_t tap_stride, std::int64_t segment, std::int64_t kb, std::int64_t kc,
                         const float* bp, float* c, std::int64_t ldc, int ncols, bool first, bool last, const Epilogue& ep) {
    using namespace Eigen::internal;
    constexpr int P = PackedMatrix::kPanel, NP = PackedMatrix::kPanelPackets;
    Packet acc[MR][NP];
    const bool full = ncols == P;
    alignas(64) float partial[MR][P];
    if (first) {
        PHOTONG_UNROLL for (int i = 0; i < MR; ++i)
            PHOTONG_UNROLL for (int p = 0; p < NP; ++p) acc[i][p] = pset1<Packet>(0.0f);
    } else if (full) {
        PHOTONG_UNROLL for (int i = 0; i < MR; ++i)
            PHOTONG_UNROLL for (int p = 0; p < NP; ++p) acc[i][p] = ploadu<Packet>(c + i * ldc + p * kLanes);
    } else {
        for (int i = 0; i < MR; ++i) {
            std::fill(partial[i], partial[i] + P, 0.0f);
            std::copy_n(c + i * ldc, ncols, partial[i]);
            for (int p = 0; p < NP; ++p) acc[i][p] = pload<Packet>(partial[i] + p * kLanes);
        }
    }
    // One division per call finds the first segment; after it, segments start at offset 0.
    std::int64_t tap = kb / segment, c0 = kb - tap * segment;
    for (std::int64_t k = kb, end = kb + kc; k < end; ++tap, c0 = 0) {
        const std::int64_t len = std::min(segment - c0, end - k);
        const float* a[MR];
        PHOTONG_UNROLL for (int i = 0; i < MR; ++i) a[i] = ptrs[tap * tap_stride + i] + c0;
        for (std::int64_t q = 0; q < len; ++q, bp += P) {
            Packet b[NP];
            PHOTONG_UNROLL for (int p = 0; p < NP; ++p) b[p] = pload<Packet>(bp + p * kLanes);
            PHOTONG_UNROLL for (int i = 0; i < MR; ++i) {
                const Packet ai = pset1<Packet>(a[i][q]);
                PHOTONG_UNROLL for (int p = 0; p < NP; ++p) acc[i][p] = pmadd(ai, b[p], acc[i][p]);
            }
        }
        k += len;
    }
    if (last) {
        const Packet zero = pset1<Packet>(0.0f);
        PHOTONG_UNROLL for (int p = 0; p < NP; ++p) {
            const Packet bias = ep.bias ? ploadu<Packet>(ep.bias + p * kLanes) : zero;
            PHOTONG_UNROLL for (int i = 0; i < MR; ++i) {
                acc[i][p] = padd(acc[i][p], bias);
                if (ep.relu) acc[i][p] = pmax(acc[i][p], zero);
            }
        }
    }
    if (full) {
        PHOTONG_UNROLL for (int i = 0; i < MR; ++i)
            PHOTONG_UNROLL for (int p = 0; p < NP; ++p) pstoreu(c + i * ldc + p * kLanes, acc[i][p]);
    } else {
        for (int i = 0; i < MR; ++i) {
            for (int p = 0; p < NP; ++p) pstore(partial[i] + p * kLanes, acc[i][p]);
            std::copy_n(partial[i], ncols, c + i * ldc);
        }
    }
}

using Kernel = void (*)(const float* const*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, const float*, float*, std::int64_t, int,
                        bool, bool, const Epilogue&);

template <int... R>
constexpr auto kernel_table(std::integer_sequence<int, R...>) {
    return std::array<Kernel, sizeof...(R)>{&micro_kernel<R + 1>...};
}

}  // namespace gemm_detail

/// The left-hand side of an indirect product: K is cut into segments of `segment` values
/// (one per convolution tap; a single segment of K for a plain matrix), and row r's values for
/// segment t start at ptrs[t * tap_stride + r]. A convolution thus reads its receptive fields in
/// place: each tap's rows point at input pixels, or at zeros where the tap falls in the padding.
struct IndirectRows {
    const float* const* ptrs;
    std::int64_t tap_stride;
    std::int64_t segment;
};

/// One depth block [kb, kb + kc) of C (+)= A · B for the m rows of `a`, over panels
/// [panel_begin, panel_end) of B (columns past B.cols() are never written). `first` overwrites
/// C, otherwise C accumulates; `last` adds bias_padded (B.panels() * kPanel floats, or nullptr)
/// and applies ReLU if asked. A's column 0 is B's row `k_origin` (nonzero when only rows
/// [k_origin, ...) of B take part, e.g. the recurrent rows of an LSTM kernel).
inline void gemm_block(const IndirectRows& a, std::int64_t m, const PackedMatrix& b, std::int64_t kb, std::int64_t kc, std::int64_t panel_begin,
                       std::int64_t panel_end, const float* bias_padded, bool relu, bool first, bool last, float* c, std::int64_t ldc,
                       std::int64_t k_origin = 0) {
    using namespace gemm_detail;
    static const auto kernels = kernel_table(std::make_integer_sequence<int, kRows>{});
    constexpr int P = PackedMatrix::kPanel;
    for (std::int64_t j = panel_begin; j < panel_end; ++j) {
        const float* bp = b.panel(j) + kb * P;
        const int ncols = int(std::min<std::int64_t>(P, b.cols() - j * P));
        const Epilogue ep{bias_padded ? bias_padded + j * P : nullptr, relu};
        for (std::int64_t r = 0; r < m; r += kRows) {
            const int mr = int(std::min<std::int64_t>(kRows, m - r));
            kernels[std::size_t(mr - 1)](a.ptrs + r, a.tap_stride, a.segment, kb - k_origin, kc, bp, c + r * ldc + j * P, ldc, ncols, first, last, ep);
        }
    }
}

/// Every depth block of C = act(A · B + bias) for an indirect A of m rows; with `accumulate`,
/// C += A · B instead (then bias and relu still apply at the end, pass nullptr/false to skip).
inline void gemm(const IndirectRows& a, std::int64_t m, const PackedMatrix& b, std::int64_t panel_begin, std::int64_t panel_end,
                 const float* bias_padded, bool relu, float* c, std::int64_t ldc, bool accumulate = false) {
    const std::int64_t K = b.rows();
    for (std::int64_t kb = 0; kb < K; kb += gemm_detail::kDepth) {
        const std::int64_t kc = std::min(gemm_detail::kDepth, K - kb);
        gemm_block(a, m, b, kb, kc, panel_begin, panel_end, bias_padded, relu, kb == 0 && !accumulate, kb + kc == K, c, ldc);
    }
}

/// C (+)= A · B[k_begin, k_end) (+ bias, ReLU): the product with rows [k_begin, k_end) of B only,
/// A's column 0 meeting B's row k_begin. `accumulate` adds to C instead of overwriting it. Used
/// to apply one part of a kernel whose input is a concatenation ([x, h] in an LSTM) without
/// forming the concatenation, or to apply the parts at different times.
inline void gemm_rows(const IndirectRows& a, std::int64_t m, const PackedMatrix& b, std::int64_t k_begin, std::int64_t k_end,
                      std::int64_t panel_begin, std::int64_t panel_end, const float* bias_padded, bool relu, float* c, std::int64_t ldc,
                      bool accumulate) {
    require(0 <= k_begin && k_begin < k_end && k_end <= b.rows(), "gemm_rows: row range outside the matrix", [&] {  // per step: lazy
        return ErrorContext{"", "", "0 <= begin < end <= " + std::to_string(b.rows()), std::to_string(k_begin) + ".." + std::to_string(k_end)};
    });
    for (std::int64_t kb = k_begin; kb < k_end; kb += gemm_detail::kDepth) {
        const std::int64_t kc = std::min(gemm_detail::kDepth, k_end - kb);
        gemm_block(a, m, b, kb, kc, panel_begin, panel_end, bias_padded, relu, kb == k_begin && !accumulate, kb + kc == k_end, c, ldc, k_begin);
    }
}

/// C[i][n] = act(sum_k A[i][k] B[k][n] + bias[n]) for rows i in [0, m) of A (row stride lda) and
/// panels [panel_begin, panel_end) of B; C has row stride ldc and points at column 0.
inline void gemm(const float* a, std::int64_t lda, std::int64_t m, const PackedMatrix& b, std::int64_t panel_begin, std::int64_t panel_end,
                 const float* bias_padded, bool relu, float* c, std::int64_t ldc) {
    std::vector<const float*> rows(static_cast<std::size_t>(m));
    for (std::int64_t i = 0; i < m; ++i) rows[std::size_t(i)] = a + i * lda;
    gemm(IndirectRows{rows.data(), m, b.rows()}, m, b, panel_begin, panel_end, bias_padded, relu, c, ldc);
}

/// The definition, accumulating in double: what gemm() is tested against.
inline void gemm_reference(const float* a, std::int64_t lda, std::int64_t m, const float* b, std::int64_t k, std::int64_t n,
                           const float* bias, bool relu, float* c, std::int64_t ldc) {
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            double acc = bias ? bias[j] : 0.0;
            for (std::int64_t q = 0; q < k; ++q) acc += double(a[i * lda + q]) * b[q * n + j];
            c[i * ldc + j] = relu ? std::max(float(acc), 0.0f) : float(acc);
        }
}

}  // namespace photong
