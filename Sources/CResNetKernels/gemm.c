// A row-major SGEMM for the ResNet convolutions: B (the weights) is packed once into
// 64-column panels; 6 x 64 register tiles (24 zmm accumulators) with A broadcast from
// memory; bias, residual and ReLU applied while the tile is in registers.
#include "CResNetKernels.h"

#include <immintrin.h>
#include <string.h>

#define NR 64
#define MR 6

int rn_gemm_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

size_t rn_packed_count(int k, int n) { return (size_t)k * (size_t)((n + NR - 1) / NR) * NR; }

void rn_pack(const float *b, int k, int n, int ldb, float *packed) {
    for (int j = 0; j < n; j += NR) {
        int width = n - j < NR ? n - j : NR;
        float *panel = packed + (size_t)j * k;
        for (int r = 0; r < k; r++) {
            memcpy(panel + (size_t)r * NR, b + (size_t)r * ldb + j, sizeof(float) * width);
            if (width < NR) memset(panel + (size_t)r * NR + width, 0, sizeof(float) * (NR - width));
        }
    }
}

__attribute__((target("avx512f"), always_inline)) static inline void tile(
    const int mr, int k, const float *a, int lda, const float *panel, float *c, int ldc, const __mmask16 *masks,
    const float *bias, const float *residual, int ldr, int relu) {
    __m512 acc[MR][4];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++) {
        const float *bp = panel + (size_t)p * NR;
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), b2 = _mm512_loadu_ps(bp + 32),
               b3 = _mm512_loadu_ps(bp + 48);
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

__attribute__((target("avx512f"))) void rn_gemm(
    int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
    const float *bias, const float *residual, int ldr, int relu) {
    // Rows per block: the A block stays in L1/L2 while every panel of B passes over it.
    int block = (16384 / (k > 0 ? k : 1)) / MR * MR;
    if (block < MR) block = MR;
    if (block > 16 * MR) block = 16 * MR;
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
                case 6: tile(6, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 5: tile(5, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 4: tile(4, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 3: tile(3, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                case 2: tile(2, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                default: tile(1, k, ai, lda, panel, ci, ldc, masks, bj, ri, ldr, relu); break;
                }
            }
        }
    }
}
