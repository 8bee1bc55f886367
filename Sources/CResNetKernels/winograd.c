// Winograd F(2x2, 3x3) tile transforms, 16 channels per AVX-512 vector (masked at the end).
#include "CResNetKernels.h"

#include <immintrin.h>

__attribute__((target("avx512f"))) void rn_winograd_input(const float *const rows[16], float *v, size_t stride,
                                                         int channels) {
    for (int c = 0; c < channels; c += 16) {
        __mmask16 k = channels - c >= 16 ? 0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
        __m512 d[16];
        for (int i = 0; i < 16; i++) d[i] = _mm512_maskz_loadu_ps(k, rows[i] + c);
        // Bᵀ d: tile rows (0 - 2, 1 + 2, 2 - 1, 1 - 3), per column.
        __m512 t[16];
        for (int j = 0; j < 4; j++) {
            t[j] = _mm512_sub_ps(d[j], d[8 + j]);
            t[4 + j] = _mm512_add_ps(d[4 + j], d[8 + j]);
            t[8 + j] = _mm512_sub_ps(d[8 + j], d[4 + j]);
            t[12 + j] = _mm512_sub_ps(d[4 + j], d[12 + j]);
        }
        // · B: the same combination of columns, per row.
        for (int i = 0; i < 4; i++) {
            const __m512 *r = t + 4 * i;
            float *o = v + (size_t)(4 * i) * stride + c;
            _mm512_mask_storeu_ps(o, k, _mm512_sub_ps(r[0], r[2]));
            _mm512_mask_storeu_ps(o + stride, k, _mm512_add_ps(r[1], r[2]));
            _mm512_mask_storeu_ps(o + 2 * stride, k, _mm512_sub_ps(r[2], r[1]));
            _mm512_mask_storeu_ps(o + 3 * stride, k, _mm512_sub_ps(r[1], r[3]));
        }
    }
}

__attribute__((target("avx512f"))) void rn_winograd_output(const float *m, size_t stride, int channels,
                                                          const float *bias, float *const out[4],
                                                          const float *const residual[4], int relu) {
    __m512 zero = _mm512_setzero_ps();
    for (int c = 0; c < channels; c += 16) {
        __mmask16 k = channels - c >= 16 ? 0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
        __m512 x[16];
        for (int i = 0; i < 16; i++) x[i] = _mm512_maskz_loadu_ps(k, m + (size_t)i * stride + c);
        // Aᵀ m: rows (0 + 1 + 2, 1 - 2 - 3), per column.
        __m512 q[8];
        for (int j = 0; j < 4; j++) {
            q[j] = _mm512_add_ps(_mm512_add_ps(x[j], x[4 + j]), x[8 + j]);
            q[4 + j] = _mm512_sub_ps(_mm512_sub_ps(x[4 + j], x[8 + j]), x[12 + j]);
        }
        // · A: the same combination of columns, per row.
        __m512 b = _mm512_maskz_loadu_ps(k, bias + c);
        __m512 y[4] = {
            _mm512_add_ps(_mm512_add_ps(q[0], q[1]), q[2]), _mm512_sub_ps(_mm512_sub_ps(q[1], q[2]), q[3]),
            _mm512_add_ps(_mm512_add_ps(q[4], q[5]), q[6]), _mm512_sub_ps(_mm512_sub_ps(q[5], q[6]), q[7]),
        };
        for (int i = 0; i < 4; i++) {
            if (!out[i]) continue;
            __m512 r = _mm512_add_ps(y[i], b);
            if (residual && residual[i]) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(k, residual[i] + c));
            if (relu) r = _mm512_max_ps(r, zero);
            _mm512_mask_storeu_ps(out[i] + c, k, r);
        }
    }
}
