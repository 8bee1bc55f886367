// Depthwise convolution (NHWC, channels innermost), one plain C body compiled three times:
// for AVX-512, for AVX2+FMA and portably; the compiler vectorizes the channel loops.
#include "depthwise.h"

#include <stdlib.h>
#include <string.h>

#define DEPTHWISE_BODY                                                                                 \
    for (int row = row_begin; row < row_end; row++) {                                                  \
        const int n = row / out_h, oh = row % out_h;                                                   \
        const float *image = x + (size_t)n * height * width * channels;                                \
        for (int ow = 0; ow < out_w; ow++) {                                                           \
            float *restrict o = out + ((size_t)row * out_w + ow) * channels;                           \
            for (int c = 0; c < channels; c++) o[c] = bias[c];                                         \
            for (int kh = 0; kh < kernel; kh++) {                                                      \
                const int ih = oh * stride - pad_top + kh;                                             \
                if (ih < 0 || ih >= height) continue;                                                  \
                for (int kw = 0; kw < kernel; kw++) {                                                  \
                    const int iw = ow * stride - pad_left + kw;                                        \
                    if (iw < 0 || iw >= width) continue;                                               \
                    const float *restrict in = image + ((size_t)ih * width + iw) * channels;           \
                    const float *restrict w = weights + (size_t)(kh * kernel + kw) * channels;         \
                    for (int c = 0; c < channels; c++) o[c] += w[c] * in[c];                           \
                }                                                                                      \
            }                                                                                          \
            if (activation == 1) {                                                                     \
                for (int c = 0; c < channels; c++) o[c] = o[c] > 0 ? o[c] : 0;                         \
            } else if (activation == 2) {                                                              \
                for (int c = 0; c < channels; c++) o[c] = o[c] > 0 ? (o[c] < 6 ? o[c] : 6) : 0;        \
            }                                                                                          \
        }                                                                                              \
    }

#define DEPTHWISE_PARAMETERS                                                                           \
    const float *restrict x, int height, int width, int channels, const float *restrict weights,       \
        const float *restrict bias, int kernel, int stride, int pad_top, int pad_left, int out_h,     \
        int out_w, int activation, int row_begin, int row_end, float *restrict out

#if defined(__x86_64__)
__attribute__((target("avx512f,avx2,fma"))) static void depthwise_avx512(DEPTHWISE_PARAMETERS) { DEPTHWISE_BODY }
__attribute__((target("avx2,fma"))) static void depthwise_avx2(DEPTHWISE_PARAMETERS) { DEPTHWISE_BODY }
#endif
static void depthwise_generic(DEPTHWISE_PARAMETERS) { DEPTHWISE_BODY }

int rn_simd_supported(int level) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (level == RN_SIMD_AVX512) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    if (level == RN_SIMD_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return level == RN_SIMD_GENERIC;
}

int rn_depthwise_level(void) {
    const char *forced = getenv("PIC2VEC_SIMD");
    int wanted = -1;
    if (forced && strcmp(forced, "avx512") == 0) wanted = RN_SIMD_AVX512;
    if (forced && strcmp(forced, "avx2") == 0) wanted = RN_SIMD_AVX2;
    if (forced && strcmp(forced, "generic") == 0) wanted = RN_SIMD_GENERIC;
    if (wanted >= 0 && rn_simd_supported(wanted)) return wanted;
    if (rn_simd_supported(RN_SIMD_AVX512)) return RN_SIMD_AVX512;
    if (rn_simd_supported(RN_SIMD_AVX2)) return RN_SIMD_AVX2;
    return RN_SIMD_GENERIC;
}

void rn_depthwise(int level, const float *x, int height, int width, int channels, const float *weights,
                  const float *bias, int kernel, int stride, int pad_top, int pad_left, int out_h, int out_w,
                  int activation, int row_begin, int row_end, float *out) {
#if defined(__x86_64__)
    if (level == RN_SIMD_AVX512 && rn_simd_supported(RN_SIMD_AVX512)) {
        depthwise_avx512(x, height, width, channels, weights, bias, kernel, stride, pad_top, pad_left, out_h, out_w,
                         activation, row_begin, row_end, out);
        return;
    }
    if (level == RN_SIMD_AVX2 && rn_simd_supported(RN_SIMD_AVX2)) {
        depthwise_avx2(x, height, width, channels, weights, bias, kernel, stride, pad_top, pad_left, out_h, out_w,
                       activation, row_begin, row_end, out);
        return;
    }
#endif
    depthwise_generic(x, height, width, channels, weights, bias, kernel, stride, pad_top, pad_left, out_h, out_w,
                      activation, row_begin, row_end, out);
}
