// Winograd F(2x2, 3x3) tile transforms over channels: 16 per AVX-512 vector (masked at the
// end), 8 per AVX2 vector (the remainder in plain C), or plain C.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// MARK: Generic

/// `Bᵀ d B` for channels [begin, end).
static void input_generic(const float *const d[16], float *v, size_t stride, int begin, int end) {
    for (int c = begin; c < end; c++) {
        // Bᵀ d: tile rows (0 - 2, 1 + 2, 2 - 1, 1 - 3), per column.
        float t[16];
        for (int j = 0; j < 4; j++) {
            t[j] = d[j][c] - d[8 + j][c];
            t[4 + j] = d[4 + j][c] + d[8 + j][c];
            t[8 + j] = d[8 + j][c] - d[4 + j][c];
            t[12 + j] = d[4 + j][c] - d[12 + j][c];
        }
        // · B: the same combination of columns, per row.
        for (int i = 0; i < 4; i++) {
            const float *r = t + 4 * i;
            float *o = v + (size_t)(4 * i) * stride + c;
            o[0] = r[0] - r[2];
            o[stride] = r[1] + r[2];
            o[2 * stride] = r[2] - r[1];
            o[3 * stride] = r[1] - r[3];
        }
    }
}

/// `Aᵀ m A` + bias (+ residual, ReLU) for channels [begin, end).
static void output_generic(const float *m, size_t stride, int begin, int end, const float *bias, float *const out[4],
                           const float *const residual[4], int relu) {
    for (int c = begin; c < end; c++) {
        float x[16];
        for (int i = 0; i < 16; i++) x[i] = m[(size_t)i * stride + c];
        // Aᵀ m: rows (0 + 1 + 2, 1 - 2 - 3), per column.
        float q[8];
        for (int j = 0; j < 4; j++) {
            q[j] = x[j] + x[4 + j] + x[8 + j];
            q[4 + j] = x[4 + j] - x[8 + j] - x[12 + j];
        }
        // · A: the same combination of columns, per row.
        float y[4] = {q[0] + q[1] + q[2], q[1] - q[2] - q[3], q[4] + q[5] + q[6], q[5] - q[6] - q[7]};
        for (int i = 0; i < 4; i++) {
            if (!out[i]) continue;
            float r = y[i] + bias[c];
            if (residual && residual[i]) r += residual[i][c];
            out[i][c] = relu && r < 0 ? 0 : r;
        }
    }
}

#if defined(__x86_64__)

// MARK: AVX2

__attribute__((target("avx2"))) static void input_avx2(const float *const rows[16], float *v, size_t stride,
                                                       int channels) {
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 d[16];
        for (int i = 0; i < 16; i++) d[i] = _mm256_loadu_ps(rows[i] + c);
        __m256 t[16];
        for (int j = 0; j < 4; j++) {
            t[j] = _mm256_sub_ps(d[j], d[8 + j]);
            t[4 + j] = _mm256_add_ps(d[4 + j], d[8 + j]);
            t[8 + j] = _mm256_sub_ps(d[8 + j], d[4 + j]);
            t[12 + j] = _mm256_sub_ps(d[4 + j], d[12 + j]);
        }
        for (int i = 0; i < 4; i++) {
            const __m256 *r = t + 4 * i;
            float *o = v + (size_t)(4 * i) * stride + c;
            _mm256_storeu_ps(o, _mm256_sub_ps(r[0], r[2]));
            _mm256_storeu_ps(o + stride, _mm256_add_ps(r[1], r[2]));
            _mm256_storeu_ps(o + 2 * stride, _mm256_sub_ps(r[2], r[1]));
            _mm256_storeu_ps(o + 3 * stride, _mm256_sub_ps(r[1], r[3]));
        }
    }
    input_generic(rows, v, stride, c, channels);
}

__attribute__((target("avx2"))) static void output_avx2(const float *m, size_t stride, int channels,
                                                        const float *bias, float *const out[4],
                                                        const float *const residual[4], int relu) {
    __m256 zero = _mm256_setzero_ps();
    int c = 0;
    for (; c + 8 <= channels; c += 8) {
        __m256 x[16];
        for (int i = 0; i < 16; i++) x[i] = _mm256_loadu_ps(m + (size_t)i * stride + c);
        __m256 q[8];
        for (int j = 0; j < 4; j++) {
            q[j] = _mm256_add_ps(_mm256_add_ps(x[j], x[4 + j]), x[8 + j]);
            q[4 + j] = _mm256_sub_ps(_mm256_sub_ps(x[4 + j], x[8 + j]), x[12 + j]);
        }
        __m256 b = _mm256_loadu_ps(bias + c);
        __m256 y[4] = {
            _mm256_add_ps(_mm256_add_ps(q[0], q[1]), q[2]), _mm256_sub_ps(_mm256_sub_ps(q[1], q[2]), q[3]),
            _mm256_add_ps(_mm256_add_ps(q[4], q[5]), q[6]), _mm256_sub_ps(_mm256_sub_ps(q[5], q[6]), q[7]),
        };
        for (int i = 0; i < 4; i++) {
            if (!out[i]) continue;
            __m256 r = _mm256_add_ps(y[i], b);
            if (residual && residual[i]) r = _mm256_add_ps(r, _mm256_loadu_ps(residual[i] + c));
            if (relu) r = _mm256_max_ps(r, zero);
            _mm256_storeu_ps(out[i] + c, r);
        }
    }
    output_generic(m, stride, c, channels, bias, out, residual, relu);
}

// MARK: AVX-512

__attribute__((target("avx512f"))) static void input_avx512(const float *const rows[16], float *v, size_t stride,
                                                           int channels) {
    for (int c = 0; c < channels; c += 16) {
        __mmask16 k = channels - c >= 16 ? 0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
        __m512 d[16];
        for (int i = 0; i < 16; i++) d[i] = _mm512_maskz_loadu_ps(k, rows[i] + c);
        __m512 t[16];
        for (int j = 0; j < 4; j++) {
            t[j] = _mm512_sub_ps(d[j], d[8 + j]);
            t[4 + j] = _mm512_add_ps(d[4 + j], d[8 + j]);
            t[8 + j] = _mm512_sub_ps(d[8 + j], d[4 + j]);
            t[12 + j] = _mm512_sub_ps(d[4 + j], d[12 + j]);
        }
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

__attribute__((target("avx512f"))) static void output_avx512(const float *m, size_t stride, int channels,
                                                            const float *bias, float *const out[4],
                                                            const float *const residual[4], int relu) {
    __m512 zero = _mm512_setzero_ps();
    for (int c = 0; c < channels; c += 16) {
        __mmask16 k = channels - c >= 16 ? 0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
        __m512 x[16];
        for (int i = 0; i < 16; i++) x[i] = _mm512_maskz_loadu_ps(k, m + (size_t)i * stride + c);
        __m512 q[8];
        for (int j = 0; j < 4; j++) {
            q[j] = _mm512_add_ps(_mm512_add_ps(x[j], x[4 + j]), x[8 + j]);
            q[4 + j] = _mm512_sub_ps(_mm512_sub_ps(x[4 + j], x[8 + j]), x[12 + j]);
        }
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

#endif

void rn_winograd_input(int level, const float *const rows[16], float *v, size_t stride, int channels) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return input_avx512(rows, v, stride, channels);
    if (level == RN_LEVEL_AVX2) return input_avx2(rows, v, stride, channels);
#endif
    (void)level;
    input_generic(rows, v, stride, 0, channels);
}

void rn_winograd_output(int level, const float *m, size_t stride, int channels, const float *bias,
                        float *const out[4], const float *const residual[4], int relu) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return output_avx512(m, stride, channels, bias, out, residual, relu);
    if (level == RN_LEVEL_AVX2) return output_avx2(m, stride, channels, bias, out, residual, relu);
#endif
    (void)level;
    output_generic(m, stride, 0, channels, bias, out, residual, relu);
}
