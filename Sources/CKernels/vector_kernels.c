// Vector-search kernels: the Gram-tile scan of the all-pairs search and k-means's dot
// products, at each level (AVX-512, AVX2+FMA, plain C).
#include "CKernels.h"

#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// MARK: Generic

static void scan_generic(const float *g, int begin, int width, const float *bias, const float *filter, float row_bias,
                         float row_filter, float scale, uint64_t *row_hits, uint64_t *column_hits) {
    for (int c = begin; c < width; c++) {
        // One rounded product, then one rounded sum (no contraction across statements).
        float product = scale * g[c];
        float row_key = bias[c] + product;
        float column_key = row_bias + product;
        if (row_key < row_filter) row_hits[c >> 6] |= (uint64_t)1 << (c & 63);
        if (column_key < filter[c]) column_hits[c >> 6] |= (uint64_t)1 << (c & 63);
    }
}

static float dot_generic(const float *a, const float *b, int d) {
    float s[8] = {0};
    int j = 0;
    for (; j + 8 <= d; j += 8)
        for (int v = 0; v < 8; v++) s[v] += a[j + v] * b[j + v];
    float total = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (; j < d; j++) total += a[j] * b[j];
    return total;
}

static float min_key_generic(const float *g, int begin, int width, const float *bias, float scale, float best,
                             int *index) {
    for (int c = begin; c < width; c++) {
        float product = scale * g[c];
        float key = (bias ? bias[c] : 0.0f) + product;
        if (key < best) {
            best = key;
            *index = c;
        }
    }
    return best;
}

/// The smallest of `lanes` per-lane minima, the lowest index among equal ones.
static float min_of_lanes(const float *keys, const int *indices, int lanes, int *index) {
    float best = INFINITY;
    *index = 0;
    for (int l = 0; l < lanes; l++) {
        if (keys[l] < best || (keys[l] == best && indices[l] < *index)) {
            best = keys[l];
            *index = indices[l];
        }
    }
    return best;
}

static void add_scaled_generic(const float *row, float *sum, int d, float sign) {
    for (int j = 0; j < d; j++) sum[j] += sign * row[j];
}

#if defined(__x86_64__)

// MARK: AVX2

__attribute__((target("avx2"))) static void scan_avx2(const float *g, int width, const float *bias,
                                                      const float *filter, float row_bias, float row_filter,
                                                      float scale, uint64_t *row_hits, uint64_t *column_hits) {
    __m256 s = _mm256_set1_ps(scale), rb = _mm256_set1_ps(row_bias), rf = _mm256_set1_ps(row_filter);
    int c = 0;
    for (; c + 8 <= width; c += 8) {
        __m256 product = _mm256_mul_ps(s, _mm256_loadu_ps(g + c));
        __m256 row_key = _mm256_add_ps(_mm256_loadu_ps(bias + c), product);
        __m256 column_key = _mm256_add_ps(rb, product);
        uint64_t r = (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(row_key, rf, _CMP_LT_OQ));
        uint64_t k = (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(column_key, _mm256_loadu_ps(filter + c), _CMP_LT_OQ));
        row_hits[c >> 6] |= r << (c & 63);
        column_hits[c >> 6] |= k << (c & 63);
    }
    scan_generic(g, c, width, bias, filter, row_bias, row_filter, scale, row_hits, column_hits);
}

__attribute__((target("avx2"))) static float min_key_avx2(const float *g, int width, const float *bias, float scale,
                                                         int *index) {
    __m256 s = _mm256_set1_ps(scale), best = _mm256_set1_ps(INFINITY);
    __m256i position = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), best_position = _mm256_setzero_si256();
    int c = 0;
    for (; c + 8 <= width; c += 8) {
        __m256 product = _mm256_mul_ps(s, _mm256_loadu_ps(g + c));
        __m256 key = _mm256_add_ps(bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps(), product);
        __m256 less = _mm256_cmp_ps(key, best, _CMP_LT_OQ);
        best = _mm256_blendv_ps(best, key, less);
        best_position = _mm256_castps_si256(
            _mm256_blendv_ps(_mm256_castsi256_ps(best_position), _mm256_castsi256_ps(position), less));
        position = _mm256_add_epi32(position, _mm256_set1_epi32(8));
    }
    float keys[8];
    int indices[8];
    _mm256_storeu_ps(keys, best);
    _mm256_storeu_si256((__m256i *)indices, best_position);
    float found = min_of_lanes(keys, indices, c > 0 ? 8 : 0, index);
    return min_key_generic(g, c, width, bias, scale, found, index);
}

__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b, int d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int j = 0;
    for (; j + 16 <= d; j += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
    }
    __m256 s = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float total = _mm_cvtss_f32(h);
    for (; j < d; j++) total += a[j] * b[j];
    return total;
}

__attribute__((target("avx2,fma"))) static void add_scaled_avx2(const float *row, float *sum, int d, float sign) {
    __m256 s = _mm256_set1_ps(sign);
    int j = 0;
    for (; j + 8 <= d; j += 8)
        _mm256_storeu_ps(sum + j, _mm256_fmadd_ps(s, _mm256_loadu_ps(row + j), _mm256_loadu_ps(sum + j)));
    add_scaled_generic(row + j, sum + j, d - j, sign);
}

/// Dot products of `row` with 4 centroids `d` apart.
__attribute__((target("avx2,fma"))) static void dot4_avx2(const float *row, const float *c0, int d, float out[4]) {
    __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int j = 0;
    for (; j + 8 <= d; j += 8) {
        __m256 u = _mm256_loadu_ps(row + j);
        for (int i = 0; i < 4; i++) s[i] = _mm256_fmadd_ps(u, _mm256_loadu_ps(c0 + (size_t)i * d + j), s[i]);
    }
    // Horizontal sums of the 4 accumulators at once.
    __m256 a = _mm256_hadd_ps(s[0], s[1]), b = _mm256_hadd_ps(s[2], s[3]);
    __m256 ab = _mm256_hadd_ps(a, b);
    __m128 total = _mm_add_ps(_mm256_castps256_ps128(ab), _mm256_extractf128_ps(ab, 1));
    _mm_storeu_ps(out, total);
    for (; j < d; j++)
        for (int i = 0; i < 4; i++) out[i] += row[j] * c0[(size_t)i * d + j];
}

// MARK: AVX-512

__attribute__((target("avx512f"))) static void scan_avx512(const float *g, int width, const float *bias,
                                                           const float *filter, float row_bias, float row_filter,
                                                           float scale, uint64_t *row_hits, uint64_t *column_hits) {
    __m512 s = _mm512_set1_ps(scale), rb = _mm512_set1_ps(row_bias), rf = _mm512_set1_ps(row_filter);
    int c = 0;
    for (; c + 16 <= width; c += 16) {
        __m512 product = _mm512_mul_ps(s, _mm512_loadu_ps(g + c));
        __m512 row_key = _mm512_add_ps(_mm512_loadu_ps(bias + c), product);
        __m512 column_key = _mm512_add_ps(rb, product);
        uint64_t r = _mm512_cmp_ps_mask(row_key, rf, _CMP_LT_OQ);
        uint64_t k = _mm512_cmp_ps_mask(column_key, _mm512_loadu_ps(filter + c), _CMP_LT_OQ);
        row_hits[c >> 6] |= r << (c & 63);
        column_hits[c >> 6] |= k << (c & 63);
    }
    scan_generic(g, c, width, bias, filter, row_bias, row_filter, scale, row_hits, column_hits);
}

__attribute__((target("avx512f"))) static float min_key_avx512(const float *g, int width, const float *bias,
                                                             float scale, int *index) {
    __m512 s = _mm512_set1_ps(scale), best = _mm512_set1_ps(INFINITY);
    __m512i position = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i best_position = _mm512_setzero_si512();
    int c = 0;
    for (; c + 16 <= width; c += 16) {
        __m512 product = _mm512_mul_ps(s, _mm512_loadu_ps(g + c));
        __m512 key = _mm512_add_ps(bias ? _mm512_loadu_ps(bias + c) : _mm512_setzero_ps(), product);
        __mmask16 less = _mm512_cmp_ps_mask(key, best, _CMP_LT_OQ);
        best = _mm512_mask_mov_ps(best, less, key);
        best_position = _mm512_mask_mov_epi32(best_position, less, position);
        position = _mm512_add_epi32(position, _mm512_set1_epi32(16));
    }
    float keys[16];
    int indices[16];
    _mm512_storeu_ps(keys, best);
    _mm512_storeu_si512(indices, best_position);
    float found = min_of_lanes(keys, indices, c > 0 ? 16 : 0, index);
    return min_key_generic(g, c, width, bias, scale, found, index);
}

__attribute__((target("avx512f"))) static float dot_avx512(const float *a, const float *b, int d) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int j = 0;
    for (; j + 32 <= d; j += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16), s1);
    }
    float total = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; j < d; j++) total += a[j] * b[j];
    return total;
}

__attribute__((target("avx512f"))) static void add_scaled_avx512(const float *row, float *sum, int d, float sign) {
    __m512 s = _mm512_set1_ps(sign);
    int j = 0;
    for (; j + 16 <= d; j += 16)
        _mm512_storeu_ps(sum + j, _mm512_fmadd_ps(s, _mm512_loadu_ps(row + j), _mm512_loadu_ps(sum + j)));
    add_scaled_generic(row + j, sum + j, d - j, sign);
}

__attribute__((target("avx512f"))) static void dot4_avx512(const float *row, const float *c0, int d, float out[4]) {
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int j = 0;
    for (; j + 16 <= d; j += 16) {
        __m512 u = _mm512_loadu_ps(row + j);
        for (int i = 0; i < 4; i++) s[i] = _mm512_fmadd_ps(u, _mm512_loadu_ps(c0 + (size_t)i * d + j), s[i]);
    }
    for (int i = 0; i < 4; i++) out[i] = _mm512_reduce_add_ps(s[i]);
    for (; j < d; j++)
        for (int i = 0; i < 4; i++) out[i] += row[j] * c0[(size_t)i * d + j];
}

#endif

static void dot4_generic(const float *row, const float *c0, int d, float out[4]) {
    for (int i = 0; i < 4; i++) out[i] = dot_generic(row, c0 + (size_t)i * d, d);
}

// MARK: Dispatch

void rn_scan_row(int level, const float *g, int width, const float *bias, const float *filter, float row_bias,
                 float row_filter, float scale, uint64_t *row_hits, uint64_t *column_hits) {
    size_t words = (size_t)(width + 63) / 64;
    memset(row_hits, 0, words * sizeof(uint64_t));
    memset(column_hits, 0, words * sizeof(uint64_t));
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512)
        return scan_avx512(g, width, bias, filter, row_bias, row_filter, scale, row_hits, column_hits);
    if (level == RN_LEVEL_AVX2)
        return scan_avx2(g, width, bias, filter, row_bias, row_filter, scale, row_hits, column_hits);
#endif
    (void)level;
    scan_generic(g, 0, width, bias, filter, row_bias, row_filter, scale, row_hits, column_hits);
}

float rn_dot(int level, const float *a, const float *b, int d) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return dot_avx512(a, b, d);
    if (level == RN_LEVEL_AVX2) return dot_avx2(a, b, d);
#endif
    (void)level;
    return dot_generic(a, b, d);
}

void rn_add_scaled(int level, const float *row, float *sum, int d, float sign) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return add_scaled_avx512(row, sum, d, sign);
    if (level == RN_LEVEL_AVX2) return add_scaled_avx2(row, sum, d, sign);
#endif
    (void)level;
    add_scaled_generic(row, sum, d, sign);
}

void rn_dots(int level, const float *row, int d, int k, const float *rows, float *out) {
    int c = 0;
    for (; c + 4 <= k; c += 4) {
        const float *block = rows + (size_t)c * d;
#if defined(__x86_64__)
        if (level >= RN_LEVEL_AVX512) dot4_avx512(row, block, d, out + c);
        else if (level == RN_LEVEL_AVX2) dot4_avx2(row, block, d, out + c);
        else dot4_generic(row, block, d, out + c);
#else
        dot4_generic(row, block, d, out + c);
#endif
    }
    for (; c < k; c++) out[c] = rn_dot(level, row, rows + (size_t)c * d, d);
}

float rn_min_key(int level, const float *g, int width, const float *bias, float scale, int *index) {
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return min_key_avx512(g, width, bias, scale, index);
    if (level == RN_LEVEL_AVX2) return min_key_avx2(g, width, bias, scale, index);
#endif
    (void)level;
    *index = 0;
    return min_key_generic(g, 0, width, bias, scale, INFINITY, index);
}
