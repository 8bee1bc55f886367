// Depthwise convolution (NHWC, channels innermost) one output row at a time, from row pointers
// (so a caller can keep input rows in a ring buffer and pass NULL for padding rows).
//
// A row is done in blocks of 16 channels. At AVX-512 and AVX2 a block's outputs go in register
// tiles whose accumulators stay in registers across every tap. For EfficientNet's kernels (3x3 and
// 5x5, stride 1 and 2) the tile is unrolled for its shape: 8 outputs (of 16 channels in zmm, of 8 in
// ymm), the kernel row's weights in registers, each input pixel loaded once for every output it
// reaches; tiles at the row's ends check each pixel. Other kernels use general tiles (8 x 16 zmm,
// 4 x 16 ymm) and do the outputs near the ends one at a time with each tap checked. AVX-512 masks a
// last block of fewer channels; the other levels do such a block, and every block at the portable
// level, one output at a time.
#include "CKernels.h"
#include "kernel_common.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// Channels per block.
#define DW_CHANNELS 16

/// Does the outputs [0, out_w) of one channel block; `begin` and `end` bound the outputs whose
/// taps all lie inside the row.
typedef void (*depthwise_block)(const float *const *rows, int width, int channels, const float *weights,
                                const float *bias, int kernel, int stride, int pad_left, int out_w, int begin, int end,
                                int activation, int c0, int cb, float *out);

/// Output `ow` for channels [c0, c0 + cb), each tap checked against the row's ends (portable C).
static void depthwise_output_generic(const float *const *rows, int width, int channels, const float *weights,
                                     const float *bias, int kernel, int stride, int pad_left, int ow, int activation,
                                     int c0, int cb, float *out) {
    float acc[DW_CHANNELS];
    for (int c = 0; c < cb; c++) acc[c] = bias[c0 + c];
    for (int kh = 0; kh < kernel; kh++) {
        const float *row = rows[kh];
        if (!row) continue;
        for (int kw = 0; kw < kernel; kw++) {
            const int iw = ow * stride - pad_left + kw;
            if (iw < 0 || iw >= width) continue;
            const float *in = row + (size_t)iw * channels + c0;
            const float *w = weights + (size_t)(kh * kernel + kw) * channels + c0;
            for (int c = 0; c < cb; c++) acc[c] += w[c] * in[c];
        }
    }
    float *o = out + (size_t)ow * channels + c0;
    for (int c = 0; c < cb; c++) o[c] = rn_finish(acc[c], NULL, NULL, activation);
}

static void depthwise_block_generic(const float *const *rows, int width, int channels, const float *weights,
                                    const float *bias, int kernel, int stride, int pad_left, int out_w, int begin,
                                    int end, int activation, int c0, int cb, float *out) {
    (void)begin, (void)end;
    for (int ow = 0; ow < out_w; ow++)
        depthwise_output_generic(rows, width, channels, weights, bias, kernel, stride, pad_left, ow, activation, c0, cb,
                                 out);
}

#if defined(__x86_64__)

// MARK: AVX2

/// `outputs` outputs from `ow` for the 16 channels at c0; `checked`: skip taps outside the row.
__attribute__((target("avx2,fma"), always_inline)) static inline void depthwise_tile_avx2(
    const int outputs, const int checked, const float *const *rows, int width, int channels, const float *weights,
    const float *bias, int kernel, int stride, int pad_left, int ow, int activation, int c0, float *out) {
    __m256 acc[4][2];
    const __m256 b0 = _mm256_loadu_ps(bias + c0), b1 = _mm256_loadu_ps(bias + c0 + 8);
    for (int j = 0; j < outputs; j++) acc[j][0] = b0, acc[j][1] = b1;
    for (int kh = 0; kh < kernel; kh++) {
        const float *row = rows[kh];
        if (!row) continue;
        for (int kw = 0; kw < kernel; kw++) {
            const float *w = weights + (size_t)(kh * kernel + kw) * channels + c0;
            const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
            for (int j = 0; j < outputs; j++) {
                const int iw = (ow + j) * stride - pad_left + kw;
                if (checked && (iw < 0 || iw >= width)) continue;
                const float *in = row + (size_t)iw * channels + c0;
                acc[j][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(in), acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(in + 8), acc[j][1]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6);
    for (int j = 0; j < outputs; j++) {
        float *o = out + (size_t)(ow + j) * channels + c0;
        for (int v = 0; v < 2; v++) {
            __m256 y = acc[j][v];
            if (activation != RN_ACTIVATION_NONE) y = _mm256_max_ps(y, zero);
            if (activation == RN_ACTIVATION_RELU6) y = _mm256_min_ps(y, six);
            _mm256_storeu_ps(o + 8 * v, y);
        }
    }
}

/// depthwise_tile_fixed_avx512 at AVX2: 8 outputs of the 8 channels at c8 (8 ymm accumulators,
/// K weights and one pixel in the 16 registers).
__attribute__((target("avx2,fma"), always_inline)) static inline void depthwise_tile_fixed_avx2(
    const int K, const int S, int checked, int count, const float *const *rows, int width, int channels,
    const float *weights, const float *bias, int pad_left, int ow, int activation, int c8, float *out) {
    __m256 acc[8];
    const __m256 b = _mm256_loadu_ps(bias + c8);
    for (int j = 0; j < 8; j++) acc[j] = b;
    const int first = ow * S - pad_left;
    for (int kh = 0; kh < K; kh++) {
        if (!rows[kh]) continue;
        const float *p = rows[kh] + (ptrdiff_t)first * channels + c8;
        __m256 w[5];
        for (int kw = 0; kw < K; kw++) w[kw] = _mm256_loadu_ps(weights + (size_t)(kh * K + kw) * channels + c8);
#pragma clang loop unroll(full)
        for (int i = 0; i < 7 * S + K; i++) {
            if (checked && (first + i < 0 || first + i >= width)) continue;
            const __m256 x = _mm256_loadu_ps(p + (ptrdiff_t)i * channels);
#pragma clang loop unroll(full)
            for (int kw = 0; kw < K; kw++) {
                const int d = i - kw;
                if (d >= 0 && d % S == 0 && d / S < 8) acc[d / S] = _mm256_fmadd_ps(w[kw], x, acc[d / S]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6);
    for (int j = 0; j < 8 && j < count; j++) {
        __m256 y = acc[j];
        if (activation != RN_ACTIVATION_NONE) y = _mm256_max_ps(y, zero);
        if (activation == RN_ACTIVATION_RELU6) y = _mm256_min_ps(y, six);
        _mm256_storeu_ps(out + (size_t)(ow + j) * channels + c8, y);
    }
}

/// A whole row's 16 channels at c0 in tiles of 8 outputs x 8 channels for K and S known when compiled.
#define FIXED_ROW_AVX2(K, S)                                                                                     \
    for (int half = c0; half < c0 + DW_CHANNELS; half += 8)                                                      \
        for (int ow = 0; ow < out_w; ow += 8) {                                                                  \
            const int count = out_w - ow < 8 ? out_w - ow : 8;                                                  \
            if (ow >= begin && ow + 8 <= end)                                                                    \
                depthwise_tile_fixed_avx2(K, S, 0, count, rows, width, channels, weights, bias, pad_left, ow,    \
                                          activation, half, out);                                                \
            else                                                                                                 \
                depthwise_tile_fixed_avx2(K, S, 1, count, rows, width, channels, weights, bias, pad_left, ow,    \
                                          activation, half, out);                                                \
        }                                                                                                        \
    return

#define TILE_AVX2(OUTPUTS, CHECKED, OW)                                                                          \
    depthwise_tile_avx2(OUTPUTS, CHECKED, rows, width, channels, weights, bias, kernel, stride, pad_left, OW,      \
                        activation, c0, out)

__attribute__((target("avx2,fma"))) static void depthwise_block_avx2(
    const float *const *rows, int width, int channels, const float *weights, const float *bias, int kernel, int stride,
    int pad_left, int out_w, int begin, int end, int activation, int c0, int cb, float *out) {
    if (cb < DW_CHANNELS)
        return depthwise_block_generic(rows, width, channels, weights, bias, kernel, stride, pad_left, out_w, begin,
                                       end, activation, c0, cb, out);
    // EfficientNet's kernels, unrolled; any other kernel takes the general tiles below.
    if (kernel == 3 && stride == 1) { FIXED_ROW_AVX2(3, 1); }
    if (kernel == 3 && stride == 2) { FIXED_ROW_AVX2(3, 2); }
    if (kernel == 5 && stride == 1) { FIXED_ROW_AVX2(5, 1); }
    if (kernel == 5 && stride == 2) { FIXED_ROW_AVX2(5, 2); }
    for (int ow = 0; ow < begin; ow++) TILE_AVX2(1, 1, ow);
    int ow = begin;
    for (; ow + 4 <= end; ow += 4) TILE_AVX2(4, 0, ow);
    switch (end - ow) {
    case 3: TILE_AVX2(3, 0, ow); break;
    case 2: TILE_AVX2(2, 0, ow); break;
    case 1: TILE_AVX2(1, 0, ow); break;
    default: break;
    }
    for (ow = end; ow < out_w; ow++) TILE_AVX2(1, 1, ow);
}

// MARK: AVX-512

/// The activation and store of one AVX-512 accumulator (masked for a partial channel block).
__attribute__((target("avx512f"), always_inline)) static inline void store_avx512(float *o, __m512 y, int activation,
                                                                                __mmask16 mask) {
    if (activation != RN_ACTIVATION_NONE) y = _mm512_max_ps(y, _mm512_setzero_ps());
    if (activation == RN_ACTIVATION_RELU6) y = _mm512_min_ps(y, _mm512_set1_ps(6));
    if (mask == 0xFFFF) _mm512_storeu_ps(o, y);
    else _mm512_mask_storeu_ps(o, mask, y);
}

/// Output `ow` for the channels of `mask` at c0, each tap checked against the row's ends.
__attribute__((target("avx512f"))) static void depthwise_edge_avx512(
    const float *const *rows, int width, int channels, const float *weights, const float *bias, int kernel, int stride,
    int pad_left, int ow, int activation, int c0, __mmask16 mask, float *out) {
    __m512 acc = _mm512_maskz_loadu_ps(mask, bias + c0);
    for (int kh = 0; kh < kernel; kh++) {
        if (!rows[kh]) continue;
        for (int kw = 0; kw < kernel; kw++) {
            const int iw = ow * stride - pad_left + kw;
            if (iw < 0 || iw >= width) continue;
            const __m512 w = _mm512_maskz_loadu_ps(mask, weights + (size_t)(kh * kernel + kw) * channels + c0);
            acc = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(mask, rows[kh] + (size_t)iw * channels + c0), acc);
        }
    }
    store_avx512(out + (size_t)ow * channels + c0, acc, activation, mask);
}

/// `outputs` (at most 8) outputs from `ow`, all taps inside the row, for the channels of `mask` at c0.
/// Inputs are addressed from two pointers (outputs 0-3 and 4-7) that step one pixel per tap, so
/// each load is one addressing mode off them.
__attribute__((target("avx512f"), always_inline)) static inline void depthwise_tile_avx512(
    const int outputs, const float *const *rows, int channels, const float *weights, const float *bias, int kernel,
    int stride, int pad_left, int ow, int activation, int c0, __mmask16 mask, float *out) {
    __m512 acc[8];
    const __m512 b = _mm512_maskz_loadu_ps(mask, bias + c0);
    for (int j = 0; j < outputs; j++) acc[j] = b;
    const ptrdiff_t step = (ptrdiff_t)stride * channels;
    for (int kh = 0; kh < kernel; kh++) {
        if (!rows[kh]) continue;
        const float *p = rows[kh] + ((ptrdiff_t)ow * stride - pad_left) * channels + c0, *q = p + 4 * step;
        const float *w = weights + (size_t)kh * kernel * channels + c0;
        for (int kw = 0; kw < kernel; kw++, p += channels, q += channels, w += channels) {
            const __m512 wv = _mm512_maskz_loadu_ps(mask, w);
            for (int j = 0; j < outputs && j < 4; j++)
                acc[j] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, p + j * step), acc[j]);
            for (int j = 4; j < outputs; j++)
                acc[j] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(mask, q + (j - 4) * step), acc[j]);
        }
    }
    for (int j = 0; j < outputs; j++) store_avx512(out + (size_t)(ow + j) * channels + c0, acc[j], activation, mask);
}

/// Outputs [ow, ow + count) (count <= 8) for a kernel of K x K taps at stride S known when
/// compiled: each input pixel of a kernel row is loaded once and multiplied into every output it
/// reaches, with the row's K weights in registers ((8 - 1) * S + K loads for 8 * K multiply-adds,
/// instead of one load per multiply-add). `checked`: pixels outside [0, width) read as zero (tiles
/// at the row's ends, and past `count`, which are computed but not stored).
__attribute__((target("avx512f"), always_inline)) static inline void depthwise_tile_fixed_avx512(
    const int K, const int S, int checked, int count, const float *const *rows, int width, int channels,
    const float *weights, const float *bias, int pad_left, int ow, int activation, int c0, __mmask16 mask,
    float *out) {
    __m512 acc[8];
    const __m512 b = _mm512_maskz_loadu_ps(mask, bias + c0);
    for (int j = 0; j < 8; j++) acc[j] = b;
    const int first = ow * S - pad_left;
    for (int kh = 0; kh < K; kh++) {
        if (!rows[kh]) continue;
        const float *p = rows[kh] + (ptrdiff_t)first * channels + c0;
        __m512 w[5];
        for (int kw = 0; kw < K; kw++) w[kw] = _mm512_maskz_loadu_ps(mask, weights + (size_t)(kh * K + kw) * channels + c0);
#pragma clang loop unroll(full)
        for (int i = 0; i < 7 * S + K; i++) {
            if (checked && (first + i < 0 || first + i >= width)) continue;
            const __m512 x = _mm512_maskz_loadu_ps(mask, p + (ptrdiff_t)i * channels);
#pragma clang loop unroll(full)
            for (int kw = 0; kw < K; kw++) {
                const int d = i - kw;
                if (d >= 0 && d % S == 0 && d / S < 8) acc[d / S] = _mm512_fmadd_ps(w[kw], x, acc[d / S]);
            }
        }
    }
    for (int j = 0; j < 8 && j < count; j++)
        store_avx512(out + (size_t)(ow + j) * channels + c0, acc[j], activation, mask);
}

/// A whole row in tiles of 8 for K and S known when compiled; tiles reaching outside [begin, end) are checked.
#define FIXED_ROW_AVX512(K, S)                                                                                   \
    for (int ow = 0; ow < out_w; ow += 8) {                                                                      \
        const int count = out_w - ow < 8 ? out_w - ow : 8;                                                      \
        if (ow >= begin && ow + 8 <= end)                                                                        \
            depthwise_tile_fixed_avx512(K, S, 0, count, rows, width, channels, weights, bias, pad_left, ow,      \
                                        activation, c0, mask, out);                                              \
        else                                                                                                     \
            depthwise_tile_fixed_avx512(K, S, 1, count, rows, width, channels, weights, bias, pad_left, ow,      \
                                        activation, c0, mask, out);                                              \
    }                                                                                                            \
    return

#define TILE_AVX512(OUTPUTS, OW)                                                                                 \
    depthwise_tile_avx512(OUTPUTS, rows, channels, weights, bias, kernel, stride, pad_left, OW, activation, c0, mask, out)
#define EDGE_AVX512(OW)                                                                                          \
    depthwise_edge_avx512(rows, width, channels, weights, bias, kernel, stride, pad_left, OW, activation, c0, mask, out)

__attribute__((target("avx512f"))) static void depthwise_block_avx512(
    const float *const *rows, int width, int channels, const float *weights, const float *bias, int kernel, int stride,
    int pad_left, int out_w, int begin, int end, int activation, int c0, int cb, float *out) {
    const __mmask16 mask = cb >= DW_CHANNELS ? 0xFFFF : (__mmask16)((1u << cb) - 1);
    // EfficientNet's kernels, unrolled; any other kernel takes the general tiles below.
    if (kernel == 3 && stride == 1) { FIXED_ROW_AVX512(3, 1); }
    if (kernel == 3 && stride == 2) { FIXED_ROW_AVX512(3, 2); }
    if (kernel == 5 && stride == 1) { FIXED_ROW_AVX512(5, 1); }
    if (kernel == 5 && stride == 2) { FIXED_ROW_AVX512(5, 2); }
    for (int ow = 0; ow < begin; ow++) EDGE_AVX512(ow);
    int ow = begin;
    for (; ow + 8 <= end; ow += 8) TILE_AVX512(8, ow);
    switch (end - ow) {
    case 7: TILE_AVX512(7, ow); break;
    case 6: TILE_AVX512(6, ow); break;
    case 5: TILE_AVX512(5, ow); break;
    case 4: TILE_AVX512(4, ow); break;
    case 3: TILE_AVX512(3, ow); break;
    case 2: TILE_AVX512(2, ow); break;
    case 1: TILE_AVX512(1, ow); break;
    default: break;
    }
    for (ow = end; ow < out_w; ow++) EDGE_AVX512(ow);
}

#endif

void rn_depthwise_row(int level, const float *const *rows, int width, int channels, const float *weights,
                      const float *bias, int kernel, int stride, int pad_left, int out_w, int activation, float *out) {
    depthwise_block block = depthwise_block_generic;
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) block = depthwise_block_avx512;
    else if (level == RN_LEVEL_AVX2) block = depthwise_block_avx2;
#else
    (void)level;
#endif
    // Outputs whose taps all land inside the row: ow * stride - pad_left >= 0 and
    // ow * stride - pad_left + kernel <= width.
    int begin = (pad_left + stride - 1) / stride, end = 0;
    if (width - kernel + pad_left >= 0) end = (width - kernel + pad_left) / stride + 1;
    if (begin > out_w) begin = out_w;
    if (end > out_w) end = out_w;
    if (end < begin) end = begin;
    for (int c0 = 0; c0 < channels; c0 += DW_CHANNELS) {
        const int cb = channels - c0 < DW_CHANNELS ? channels - c0 : DW_CHANNELS;
        block(rows, width, channels, weights, bias, kernel, stride, pad_left, out_w, begin, end, activation, c0, cb,
              out);
    }
}
