// A row-major SGEMM for the convolutions: B (the weights) is packed once into 16-column
// slices (k x 16, contiguous; the column count padded to a multiple of 64); bias, residual
// and ReLU are applied while a tile is in registers.
//   AVX-512: 6 x 64 tiles (24 zmm accumulators) over four adjacent slices, A broadcast from memory.
//   AVX2:    6 x 16 tiles (12 ymm accumulators) over one slice, read as one contiguous stream.
//   generic: 4 x 16 tiles in plain C, vectorized by the compiler for the baseline target.
#include "CKernels.h"

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

/// Rows per block: the A block stays in L1/L2 while every panel of B passes over it.
static int block_rows(int k) {
    int block = (16384 / (k > 0 ? k : 1)) / MR * MR;
    if (block < MR) block = MR;
    if (block > 16 * MR) block = 16 * MR;
    return block;
}

/// The epilogue of one output value: + bias, + residual, ReLU.
static inline float finish(float y, const float *bias, const float *residual, int relu) {
    if (bias) y += *bias;
    if (residual) y += *residual;
    return relu && y < 0 ? 0 : y;
}

// MARK: Generic

#define GR 4
#define GW 16

/// An mr x cols tile (mr <= GR, cols <= GW) of one 16-column slice of a panel; `mr` is a
/// constant at each call, so the accumulators stay in registers.
__attribute__((always_inline)) static inline void tile_generic(
    const int mr, int cols, int k, const float *a, int lda, const float *panel, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int relu) {
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
            c[(size_t)i * ldc + v] = finish(acc[i][v], bias ? bias + v : NULL,
                                            residual ? residual + (size_t)i * ldr + v : NULL, relu);
}

static void gemm_generic(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
                         const float *bias, const float *residual, int ldr, int relu) {
    int block = block_rows(k);
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
                case 4: tile_generic(4, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, relu); break;
                case 3: tile_generic(3, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, relu); break;
                case 2: tile_generic(2, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, relu); break;
                default: tile_generic(1, cols, k, ai, lda, panel, ci, ldc, bj, ri, ldr, relu); break;
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

__attribute__((target("avx2,fma"), always_inline)) static inline void tile_avx2(
    const int mr, int k, const float *a, int lda, const float *panel, float *c, int ldc, int cols,
    const float *bias, const float *residual, int ldr, int relu) {
    __m256 acc[MR][2];
    for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (size_t)p * SW;
        __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
        for (int i = 0; i < mr; i++) {
            __m256 x = _mm256_broadcast_ss(a + (size_t)i * lda + p);
            acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
        }
    }
    __m256 zero = _mm256_setzero_ps();
    for (int v = 0; v < 2; v++) {
        int count = cols - 8 * v;
        if (count <= 0) break;
        if (count >= 8) {
            // Full vectors: plain loads and stores (AMD's masked stores are microcoded and slow).
            __m256 shift = bias ? _mm256_loadu_ps(bias + 8 * v) : zero;
            for (int i = 0; i < mr; i++) {
                __m256 y = _mm256_add_ps(acc[i][v], shift);
                if (residual) y = _mm256_add_ps(y, _mm256_loadu_ps(residual + (size_t)i * ldr + 8 * v));
                if (relu) y = _mm256_max_ps(y, zero);
                _mm256_storeu_ps(c + (size_t)i * ldc + 8 * v, y);
            }
            continue;
        }
        __m256i mask = lanes8(count);
        __m256 shift = bias ? _mm256_maskload_ps(bias + 8 * v, mask) : zero;
        for (int i = 0; i < mr; i++) {
            __m256 y = _mm256_add_ps(acc[i][v], shift);
            if (residual) y = _mm256_add_ps(y, _mm256_maskload_ps(residual + (size_t)i * ldr + 8 * v, mask));
            if (relu) y = _mm256_max_ps(y, zero);
            _mm256_maskstore_ps(c + (size_t)i * ldc + 8 * v, mask, y);
        }
    }
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int relu) {
    int block = block_rows(k);
    for (int i0 = 0; i0 < m; i0 += block) {
        int rows = m - i0 < block ? m - i0 : block;
        for (int j = 0; j < n; j += 16) {
            int cols = n - j < 16 ? n - j : 16;
            const float *panel = packed + (size_t)j * k;
            const float *bj = bias ? bias + j : NULL;
            for (int i = i0; i < i0 + rows; i += MR) {
                const float *ai = a + (size_t)i * lda;
                float *ci = c + (size_t)i * ldc + j;
                const float *ri = residual ? residual + (size_t)i * ldr + j : NULL;
                switch (i0 + rows - i < MR ? i0 + rows - i : MR) {
                case 6: tile_avx2(6, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, relu); break;
                case 5: tile_avx2(5, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, relu); break;
                case 4: tile_avx2(4, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, relu); break;
                case 3: tile_avx2(3, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, relu); break;
                case 2: tile_avx2(2, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, relu); break;
                default: tile_avx2(1, k, ai, lda, panel, ci, ldc, cols, bj, ri, ldr, relu); break;
                }
            }
        }
    }
}

// MARK: AVX-512

__attribute__((target("avx512f"), always_inline)) static inline void tile_avx512(
    const int mr, int k, const float *a, int lda, const float *panel, float *c, int ldc, const __mmask16 *masks,
    const float *bias, const float *residual, int ldr, int relu) {
    __m512 acc[MR][4];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (size_t)p * SW;
        const size_t step = (size_t)SW * k;
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + step), b2 = _mm512_loadu_ps(bp + 2 * step),
               b3 = _mm512_loadu_ps(bp + 3 * step);
        for (int i = 0; i < mr; i++) {
            __m512 x = _mm512_set1_ps(a[(size_t)i * lda + p]);
            acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(x, b2, acc[i][2]);
            acc[i][3] = _mm512_fmadd_ps(x, b3, acc[i][3]);
        }
    }
    __m512 zero = _mm512_setzero_ps();
    for (int v = 0; v < 4; v++) {
        if (!masks[v]) continue;
        __m512 shift = bias ? _mm512_maskz_loadu_ps(masks[v], bias + 16 * v) : zero;
        for (int i = 0; i < mr; i++) {
            __m512 y = _mm512_add_ps(acc[i][v], shift);
            if (residual) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(masks[v], residual + (size_t)i * ldr + 16 * v));
            if (relu) y = _mm512_max_ps(y, zero);
            _mm512_mask_storeu_ps(c + (size_t)i * ldc + 16 * v, masks[v], y);
        }
    }
}

__attribute__((target("avx512f"))) static void gemm_avx512(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int relu) {
    int block = block_rows(k);
    for (int i0 = 0; i0 < m; i0 += block) {
        int rows = m - i0 < block ? m - i0 : block;
        for (int j = 0; j < n; j += NR) {
            int width = n - j;
            __mmask16 masks[4];
            for (int v = 0; v < 4; v++) {
                int cols = width - 16 * v;
                masks[v] = cols >= 16 ? 0xFFFF : cols <= 0 ? 0 : (__mmask16)((1u << cols) - 1);
            }
            const float *panel = packed + (size_t)j * k;
            const float *bj = bias ? bias + j : NULL;
            for (int i = i0; i < i0 + rows; i += MR) {
                const float *ai = a + (size_t)i * lda;
                float *ci = c + (size_t)i * ldc + j;
                const float *ri = residual ? residual + (size_t)i * ldr + j : NULL;
                switch (i0 + rows - i < MR ? i0 + rows - i : MR) {
                case 6: tile_avx512(6, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 5: tile_avx512(5, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 4: tile_avx512(4, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 3: tile_avx512(3, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 2: tile_avx512(2, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                default: tile_avx512(1, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                }
            }
        }
    }
}

#endif

void rn_gemm(int level, int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
             const float *bias, const float *residual, int ldr, int relu) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return gemm_avx512(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, relu);
    if (level == RN_LEVEL_AVX2) return gemm_avx2(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, relu);
#endif
    (void)level;
    gemm_generic(m, n, k, a, lda, packed, c, ldc, bias, residual, ldr, relu);
}
