// A row-major SGEMM for the convolutions: B (the weights) is packed once into 16-column
// slices (k x 16, contiguous; the column count padded to a multiple of 64); bias, residual
// and the activation (ReLU or ReLU6) are applied while a tile is in registers.
//   AVX-512: tiles of up to four adjacent slices, as many as the columns need (6 x 64, 8 x 48,
//            12 x 32 or 12 x 16: at most 24 zmm accumulators), A broadcast from memory.
//   AVX2:    6 x 16 tiles (12 ymm accumulators) over one slice, read as one contiguous stream;
//            12 x 8 where at most 8 columns are left.
//   generic: 4 x 16 tiles in plain C, vectorized by the compiler for the baseline target.
// No tile multiplies the zero padding of a slice it does not need: a 24-column layer does
// 32 columns of work at AVX-512, not 64.
#include "CKernels.h"
#include "kernel_common.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define NR 64
#define MR 6
#define SW 16

size_t rn_packed_count(int k, int n) { return (size_t)k * (size_t)((n + NR - 1) / NR) * NR; }

void rn_pack(const float *b, int k, int n, int ldb, float *packed) {
    int padded = (n + NR - 1) / NR * NR;
    for (int j = 0; j < padded; j += SW) {
        int width = n - j < SW ? (n - j > 0 ? n - j : 0) : SW;
        float *slice = packed + (size_t)j * k;
        for (int r = 0; r < k; r++) {
            if (width > 0) memcpy(slice + (size_t)r * SW, b + (size_t)r * ldb + j, sizeof(float) * width);
            if (width < SW) memset(slice + (size_t)r * SW + width, 0, sizeof(float) * (SW - width));
        }
    }
}

void rn_pack_transposed(const float *a, int n, int k, int lda, int from, int to, float *packed) {
    for (int j = from; j < to; j += SW) {
        float *slice = packed + (size_t)j * k;
        for (int c = 0; c < SW; c++) {
            if (j + c < n) {
                const float *row = a + (size_t)(j + c) * lda;
                for (int r = 0; r < k; r++) slice[(size_t)r * SW + c] = row[r];
            } else {
                for (int r = 0; r < k; r++) slice[(size_t)r * SW + c] = 0;
            }
        }
    }
}

// MARK: Generic

#define GR 4
#define GW 16

/// An mr x cols tile (mr <= GR, cols <= GW) of one 16-column slice of a panel; `mr` is a
/// constant at each call, so the accumulators stay in registers.
__attribute__((always_inline)) static inline void tile_generic(
    const int mr, int cols, int k, const float *a, int lda, const float *panel, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int activation) {
    float acc[GR][GW] = {{0}};
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (size_t)p * SW;
        for (int i = 0; i < mr; i++) {
            float x = a[(size_t)i * lda + p];
            for (int v = 0; v < GW; v++) acc[i][v] += x * bp[v];
        }
    }
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < cols; v++)
            c[(size_t)i * ldc + v] = rn_finish(acc[i][v], bias ? bias + v : NULL,
                                            residual ? residual + (size_t)i * ldr + v : NULL, activation);
}

static _Thread_local int row_split_threads = 1;

int rn_row_split_threads(void) { return row_split_threads; }

void rn_set_row_split_threads(int threads) { row_split_threads = threads < 1 ? 1 : threads; }

static void gemm_generic(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                         const float *bias, const float *residual, int ldr, int activation) {
    int block = rn_block_rows(k);
    for (int i0 = 0; i0 < m; i0 += block) {
        int rows = m - i0 < block ? m - i0 : block;
        for (int j = 0; j < n; j += GW) {
            int cols = n - j < GW ? n - j : GW;
            const float *panel = packed + (size_t)j * k;
            for (int i = i0; i < i0 + rows; i += GR) {
                const float *ai = a + (size_t)i * lda;
                float *ci = c + (size_t)i * ldc + j;
                const float *bj = bias ? bias + j : NULL;
                const float *ri = residual ? residual + (size_t)i * ldr + j : NULL;
                switch (i0 + rows - i < GR ? i0 + rows - i : GR) {
                case 4: tile_generic(4, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, activation); break;
                case 3: tile_generic(3, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, activation); break;
                case 2: tile_generic(2, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, activation); break;
                default: tile_generic(1, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, activation); break;
                }
            }
        }
    }
}

#if defined(__x86_64__)

// MARK: AVX2

/// Lane masks for the first `count` lanes of 8 (maskload/maskstore).
__attribute__((target("avx2"))) static inline __m256i lanes8(int count) {
    __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), index);
}

/// The activation of 8 lanes.
__attribute__((target("avx2"), always_inline)) static inline __m256 activate8(__m256 y, int activation) {
    if (activation != RN_ACTIVATION_NONE) y = _mm256_max_ps(y, _mm256_setzero_ps());
    if (activation == RN_ACTIVATION_RELU6) y = _mm256_min_ps(y, _mm256_set1_ps(6));
    return y;
}

/// An mr x (8 nv) tile of one slice; `mr` and `nv` are constants at each call.
__attribute__((target("avx2,fma"), always_inline)) static inline void tile_avx2(
    const int mr, const int nv, int k, const float *a, int lda, const float *panel, float *c, int ldc, int cols,
    const float *bias, const float *residual, int ldr, int activation) {
    __m256 acc[2 * MR][2];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++) acc[i][v] = _mm256_setzero_ps();
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (size_t)p * SW;
        __m256 b[2];
        for (int v = 0; v < nv; v++) b[v] = _mm256_loadu_ps(bp + 8 * v);
        for (int i = 0; i < mr; i++) {
            __m256 x = _mm256_broadcast_ss(a + (size_t)i * lda + p);
            for (int v = 0; v < nv; v++) acc[i][v] = _mm256_fmadd_ps(x, b[v], acc[i][v]);
        }
    }
    __m256 zero = _mm256_setzero_ps();
    for (int v = 0; v < nv; v++) {
        int count = cols - 8 * v;
        if (count <= 0) break;
        if (count >= 8) {
            // Full vectors: plain loads and stores (AMD's masked stores are microcoded and slow).
            __m256 shift = bias ? _mm256_loadu_ps(bias + 8 * v) : zero;
            for (int i = 0; i < mr; i++) {
                __m256 y = _mm256_add_ps(acc[i][v], shift);
                if (residual) y = _mm256_add_ps(y, _mm256_loadu_ps(residual + (size_t)i * ldr + 8 * v));
                _mm256_storeu_ps(c + (size_t)i * ldc + 8 * v, activate8(y, activation));
            }
            continue;
        }
        __m256i mask = lanes8(count);
        __m256 shift = bias ? _mm256_maskload_ps(bias + 8 * v, mask) : zero;
        for (int i = 0; i < mr; i++) {
            __m256 y = _mm256_add_ps(acc[i][v], shift);
            if (residual) y = _mm256_add_ps(y, _mm256_maskload_ps(residual + (size_t)i * ldr + 8 * v, mask));
            _mm256_maskstore_ps(c + (size_t)i * ldc + 8 * v, mask, activate8(y, activation));
        }
    }
}

#define TILE_AVX2(MRV, NV) tile_avx2(MRV, NV, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, activation)

__attribute__((target("avx2,fma"))) static void gemm_avx2(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int activation) {
    int block = rn_block_rows(k);
    for (int i0 = 0; i0 < m; i0 += block) {
        int rows = m - i0 < block ? m - i0 : block;
        for (int j = 0; j < n; j += 16) {
            int cols = n - j < 16 ? n - j : 16;
            // One vector of columns left: twice the rows per tile.
            const int narrow = cols <= 8, step = narrow ? 2 * MR : MR;
            const float *panel = packed + (size_t)j * k;
            const float *bj = bias ? bias + j : NULL;
            for (int i = i0; i < i0 + rows; i += step) {
                const float *ai = a + (size_t)i * lda;
                float *ci = c + (size_t)i * ldc + j;
                const float *ri = residual ? residual + (size_t)i * ldr + j : NULL;
                int mr = i0 + rows - i < step ? i0 + rows - i : step;
                if (narrow) {
                    switch (mr) {
                    case 12: TILE_AVX2(12, 1); break;
                    case 11: TILE_AVX2(11, 1); break;
                    case 10: TILE_AVX2(10, 1); break;
                    case 9: TILE_AVX2(9, 1); break;
                    case 8: TILE_AVX2(8, 1); break;
                    case 7: TILE_AVX2(7, 1); break;
                    case 6: TILE_AVX2(6, 1); break;
                    case 5: TILE_AVX2(5, 1); break;
                    case 4: TILE_AVX2(4, 1); break;
                    case 3: TILE_AVX2(3, 1); break;
                    case 2: TILE_AVX2(2, 1); break;
                    default: TILE_AVX2(1, 1); break;
                    }
                    continue;
                }
                switch (mr) {
                case 6: TILE_AVX2(6, 2); break;
                case 5: TILE_AVX2(5, 2); break;
                case 4: TILE_AVX2(4, 2); break;
                case 3: TILE_AVX2(3, 2); break;
                case 2: TILE_AVX2(2, 2); break;
                default: TILE_AVX2(1, 2); break;
                }
            }
        }
    }
}

// MARK: AVX-512

/// The activation of 16 lanes.
__attribute__((target("avx512f"), always_inline)) static inline __m512 activate16(__m512 y, int activation) {
    if (activation != RN_ACTIVATION_NONE) y = _mm512_max_ps(y, _mm512_setzero_ps());
    if (activation == RN_ACTIVATION_RELU6) y = _mm512_min_ps(y, _mm512_set1_ps(6));
    return y;
}

/// An mr x (16 nv) tile over `nv` adjacent slices; `mr` and `nv` are constants at each call.
__attribute__((target("avx512f"), always_inline)) static inline void tile_avx512(
    const int mr, const int nv, int k, const float *a, int lda, const float *panel, float *c, int ldc,
    const __mmask16 *masks, const float *bias, const float *residual, int ldr, int activation) {
    __m512 acc[2 * MR][4];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    const size_t step = (size_t)SW * k;
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (size_t)p * SW;
        __m512 b[4];
        for (int v = 0; v < nv; v++) b[v] = _mm512_loadu_ps(bp + v * step);
        for (int i = 0; i < mr; i++) {
            __m512 x = _mm512_set1_ps(a[(size_t)i * lda + p]);
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(x, b[v], acc[i][v]);
        }
    }
    __m512 zero = _mm512_setzero_ps();
    for (int v = 0; v < nv; v++) {
        if (masks[v] == 0xFFFF) {
            __m512 shift = bias ? _mm512_loadu_ps(bias + 16 * v) : zero;
            for (int i = 0; i < mr; i++) {
                __m512 y = _mm512_add_ps(acc[i][v], shift);
                if (residual) y = _mm512_add_ps(y, _mm512_loadu_ps(residual + (size_t)i * ldr + 16 * v));
                _mm512_storeu_ps(c + (size_t)i * ldc + 16 * v, activate16(y, activation));
            }
            continue;
        }
        __m512 shift = bias ? _mm512_maskz_loadu_ps(masks[v], bias + 16 * v) : zero;
        for (int i = 0; i < mr; i++) {
            __m512 y = _mm512_add_ps(acc[i][v], shift);
            if (residual) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(masks[v], residual + (size_t)i * ldr + 16 * v));
            _mm512_mask_storeu_ps(c + (size_t)i * ldc + 16 * v, masks[v], activate16(y, activation));
        }
    }
}

#define TILE_AVX512(MRV, NV) tile_avx512(MRV, NV, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, activation)
#define TILES_AVX512_6(NV)                                                                                   \
    case 6: TILE_AVX512(6, NV); break;                                                                       \
    case 5: TILE_AVX512(5, NV); break;                                                                       \
    case 4: TILE_AVX512(4, NV); break;                                                                       \
    case 3: TILE_AVX512(3, NV); break;                                                                       \
    case 2: TILE_AVX512(2, NV); break;                                                                       \
    default: TILE_AVX512(1, NV); break;
#define TILES_AVX512_12(NV)                                                                                  \
    case 12: TILE_AVX512(12, NV); break;                                                                     \
    case 11: TILE_AVX512(11, NV); break;                                                                     \
    case 10: TILE_AVX512(10, NV); break;                                                                     \
    case 9: TILE_AVX512(9, NV); break;                                                                       \
    case 8: TILE_AVX512(8, NV); break;                                                                       \
    case 7: TILE_AVX512(7, NV); break;                                                                       \
        TILES_AVX512_6(NV)

__attribute__((target("avx512f"))) static void gemm_avx512(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int activation) {
    int block = rn_block_rows(k);
    for (int i0 = 0; i0 < m; i0 += block) {
        int rows = m - i0 < block ? m - i0 : block;
        for (int j = 0; j < n; j += NR) {
            int width = n - j;
            __mmask16 masks[4];
            for (int v = 0; v < 4; v++) {
                int cols = width - 16 * v;
                masks[v] = cols >= 16 ? 0xFFFF : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);
            }
            // Only the slices holding columns, and as many rows as 24 accumulators allow.
            const int nv = width >= 64 ? 4 : (width + 15) / 16, step = nv == 4 ? 6 : nv == 3 ? 8 : 12;
            const float *panel = packed + (size_t)j * k;
            const float *bj = bias ? bias + j : NULL;
            for (int i = i0; i < i0 + rows; i += step) {
                const float *ai = a + (size_t)i * lda;
                float *ci = c + (size_t)i * ldc + j;
                const float *ri = residual ? residual + (size_t)i * ldr + j : NULL;
                const int mr = i0 + rows - i < step ? i0 + rows - i : step;
                switch (nv) {
                case 4:
                    switch (mr) { TILES_AVX512_6(4) }
                    break;
                case 3:
                    switch (mr) {
                    case 8: TILE_AVX512(8, 3); break;
                    case 7: TILE_AVX512(7, 3); break;
                        TILES_AVX512_6(3)
                    }
                    break;
                case 2:
                    switch (mr) { TILES_AVX512_12(2) }
                    break;
                default:
                    switch (mr) { TILES_AVX512_12(1) }
                    break;
                }
            }
        }
    }
}

#endif

void rn_gemm(int level, int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
             const float *bias, const float *residual, int ldr, int activation) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return gemm_avx512(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, activation);
    if (level == RN_LEVEL_AVX2) return gemm_avx2(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, activation);
#endif
    (void)level;
    gemm_generic(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, activation);
}
