// SGEMM with bfloat16 inputs and float32 accumulation, for `--precision bf16`: B (the weights) is
// packed once as bf16 pairs in 16-column slices (k/2 x 16 pairs, contiguous; k padded to even,
// the column count to a multiple of 64); each block of A's rows is rounded to bf16 (to nearest
// even) once, then every panel of B passes over it. Epilogue as rn_gemm's.
//   AVX512-BF16: tiles of up to 6 x 64 (one VDPBF16PS does 32 multiply-adds: two pairs per lane).
//   generic: the same roundings and pair sums in plain C, the reference the fast kernel is tested
//            against (never chosen for speed).
#include "CKernels.h"
#include "kernel_common.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define NR 64
#define SW 16

/// bf16 of x, rounded to nearest even (NaN kept a quiet NaN), as VCVTNEPS2BF16 does.
static inline uint16_t to_bf16(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40);
    bits += 0x7FFFu + ((bits >> 16) & 1);
    return (uint16_t)(bits >> 16);
}

static inline float from_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

int rn_cpu_has_bf16(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

size_t rn_packed_bf16_count(int k, int n) { return (size_t)((k + 1) / 2) * 2 * (size_t)((n + NR - 1) / NR) * NR; }

void rn_pack_bf16(const float *b, int k, int n, int ldb, uint16_t *packed) {
    const int padded = (n + NR - 1) / NR * NR, pairs = (k + 1) / 2;
    for (int j = 0; j < padded; j += SW) {
        uint16_t *slice = packed + (size_t)j * pairs * 2;
        for (int p = 0; p < pairs; p++)
            for (int col = 0; col < SW; col++)
                for (int e = 0; e < 2; e++) {
                    const int row = 2 * p + e, column = j + col;
                    slice[((size_t)p * SW + col) * 2 + e] =
                        row < k && column < n ? to_bf16(b[(size_t)row * ldb + column]) : 0;
                }
    }
}

/// Rows [0, rows) of A rounded to bf16, `2 * pairs` per row (a zero after an odd k).
static void round_rows_generic(const float *a, int lda, int rows, int k, int pairs, uint16_t *out) {
    for (int i = 0; i < rows; i++) {
        uint16_t *o = out + (size_t)i * pairs * 2;
        for (int p = 0; p < k; p++) o[p] = to_bf16(a[(size_t)i * lda + p]);
        if (k % 2) o[k] = 0;
    }
}

#if defined(__x86_64__)
/// round_rows_generic with VCVTNE2PS2BF16, 32 floats at a time (the same roundings for normal numbers;
/// the instruction flushes denormals to zero).
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void round_rows_avx512(
    const float *a, int lda, int rows, int k, int pairs, uint16_t *out) {
    for (int i = 0; i < rows; i++) {
        const float *row = a + (size_t)i * lda;
        uint16_t *o = out + (size_t)i * pairs * 2;
        int p = 0;
        for (; p + 32 <= k; p += 32) {
            const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + p + 16), _mm512_loadu_ps(row + p));
            _mm512_storeu_si512(o + p, (__m512i)h);
        }
        if (p < k) {
            const int left = k - p;
            const __mmask16 low = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
            const __mmask16 high = left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            const __m512bh h =
                _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, row + p + 16), _mm512_maskz_loadu_ps(low, row + p));
            // The zero after an odd k is written too: 2 * pairs - p halves in all.
            const int count = 2 * pairs - p;
            _mm512_mask_storeu_epi16(o + p, count >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << count) - 1), (__m512i)h);
        }
    }
}
#endif

static void gemm_bf16_generic(int m, int n, int k, const uint16_t *a, int pairs, const uint16_t *packed, float *c,
                              int ldc, const float *bias, const float *residual, int ldr, int activation) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const uint16_t *slice = packed + (size_t)(j / SW * SW) * pairs * 2;
            float acc = 0;
            for (int p = 0; p < pairs; p++) {
                const uint16_t *x = a + ((size_t)i * pairs + p) * 2, *w = slice + ((size_t)p * SW + j % SW) * 2;
                acc += from_bf16(x[0]) * from_bf16(w[0]) + from_bf16(x[1]) * from_bf16(w[1]);
            }
            c[(size_t)i * ldc + j] = rn_finish(acc, bias ? bias + j : NULL,
                                            residual ? residual + (size_t)i * ldr + j : NULL, activation);
        }
}

#if defined(__x86_64__)

__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void tile_bf16(
    const int mr, const int nv, int pairs, const uint32_t *a, const uint16_t *panel, float *c, int ldc,
    const __mmask16 *masks, const float *bias, const float *residual, int ldr, int activation) {
    __m512 acc[6][4];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    const size_t step = (size_t)SW * pairs * 2;
    for (int p = 0; p < pairs; p++) {
        const uint16_t *bp = panel + (size_t)p * SW * 2;
        __m512bh b[4];
        for (int v = 0; v < nv; v++) b[v] = (__m512bh)_mm512_loadu_si512(bp + v * step);
        for (int i = 0; i < mr; i++) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[(size_t)i * pairs + p]);
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], x, b[v]);
        }
    }
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
    for (int v = 0; v < nv; v++) {
        const __m512 shift = bias ? _mm512_maskz_loadu_ps(masks[v], bias + 16 * v) : zero;
        for (int i = 0; i < mr; i++) {
            __m512 y = _mm512_add_ps(acc[i][v], shift);
            if (residual) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(masks[v], residual + (size_t)i * ldr + 16 * v));
            if (activation != RN_ACTIVATION_NONE) y = _mm512_max_ps(y, zero);
            if (activation == RN_ACTIVATION_RELU6) y = _mm512_min_ps(y, six);
            float *o = c + (size_t)i * ldc + 16 * v;
            if (masks[v] == 0xFFFF) _mm512_storeu_ps(o, y);
            else _mm512_mask_storeu_ps(o, masks[v], y);
        }
    }
}

#define TILE_BF16(MRV, NV) tile_bf16(MRV, NV, pairs, ai, panel, ci, ldc, masks, bj, ri, ldr, activation)
#define TILES_BF16(NV)                                                                                       \
    switch (mr) {                                                                                            \
    case 6: TILE_BF16(6, NV); break;                                                                         \
    case 5: TILE_BF16(5, NV); break;                                                                         \
    case 4: TILE_BF16(4, NV); break;                                                                         \
    case 3: TILE_BF16(3, NV); break;                                                                         \
    case 2: TILE_BF16(2, NV); break;                                                                         \
    default: TILE_BF16(1, NV); break;                                                                        \
    }

__attribute__((target("avx512f,avx512bf16"))) static void gemm_bf16_avx512(
    int m, int n, const uint32_t *a, int pairs, const uint16_t *packed, float *c, int ldc, const float *bias,
    const float *residual, int ldr, int activation) {
    for (int j = 0; j < n; j += NR) {
        const int width = n - j;
        __mmask16 masks[4];
        for (int v = 0; v < 4; v++) {
            const int cols = width - 16 * v;
            masks[v] = cols >= 16 ? 0xFFFF : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);
        }
        const int nv = width >= NR ? 4 : (width + 15) / 16;
        const uint16_t *panel = packed + (size_t)j * pairs * 2;
        const float *bj = bias ? bias + j : NULL;
        for (int i = 0; i < m; i += 6) {
            const uint32_t *ai = a + (size_t)i * pairs;
            float *ci = c + (size_t)i * ldc + j;
            const float *ri = residual ? residual + (size_t)i * ldr + j : NULL;
            const int mr = m - i < 6 ? m - i : 6;
            switch (nv) {
            case 4: TILES_BF16(4) break;
            case 3: TILES_BF16(3) break;
            case 2: TILES_BF16(2) break;
            default: TILES_BF16(1) break;
            }
        }
    }
}

#endif

void rn_gemm_bf16(int level, int m, int n, int k, const float *a, int lda, const uint16_t *packed, float *c, int ldc,
                  const float *bias, const float *residual, int ldr, int activation) {
    const int pairs = (k + 1) / 2;
    const int block = rn_block_rows(2 * pairs);
#if defined(__x86_64__)
    const int fast = level >= RN_LEVEL_AVX512 && rn_cpu_has_bf16();
#else
    (void)level;
#endif
    uint16_t *rounded = malloc(sizeof(uint16_t) * 2 * (size_t)pairs * (size_t)(m < block ? m : block));
    if (!rounded) abort();
    for (int i0 = 0; i0 < m; i0 += block) {
        const int rows = m - i0 < block ? m - i0 : block;
        const float *r = residual ? residual + (size_t)i0 * ldr : NULL;
#if defined(__x86_64__)
        if (fast) {
            round_rows_avx512(a + (size_t)i0 * lda, lda, rows, k, pairs, rounded);
            gemm_bf16_avx512(rows, n, (const uint32_t *)rounded, pairs, packed, c + (size_t)i0 * ldc, ldc, bias, r, ldr,
                             activation);
            continue;
        }
#endif
        round_rows_generic(a + (size_t)i0 * lda, lda, rows, k, pairs, rounded);
        gemm_bf16_generic(rows, n, k, rounded, pairs, packed, c + (size_t)i0 * ldc, ldc, bias, r, ldr, activation);
    }
    free(rounded);
}
