// 3x3 stride-2 max pooling with padding 1 (NHWC), one plain C body compiled three times: for
// AVX-512, for AVX2 and portably; the compiler vectorizes the channel loops (restrict pointers).
#include "CKernels.h"

#define MAX_POOL_BODY                                                                                        \
    for (int oh = 0; oh < out_h; oh++) {                                                                     \
        const int h0 = 2 * oh - 1 < 0 ? 0 : 2 * oh - 1, h1 = 2 * oh + 1 < height ? 2 * oh + 1 : height - 1;    \
        for (int ow = 0; ow < out_w; ow++) {                                                                 \
            const int w0 = 2 * ow - 1 < 0 ? 0 : 2 * ow - 1, w1 = 2 * ow + 1 < width ? 2 * ow + 1 : width - 1;  \
            float *restrict o = out + ((size_t)oh * out_w + ow) * channels;                                  \
            const float *restrict first = x + ((size_t)h0 * width + w0) * channels;                          \
            for (int c = 0; c < channels; c++) o[c] = first[c];                                              \
            for (int ih = h0; ih <= h1; ih++)                                                                \
                for (int iw = w0; iw <= w1; iw++) {                                                          \
                    const float *restrict in = x + ((size_t)ih * width + iw) * channels;                     \
                    for (int c = 0; c < channels; c++) o[c] = in[c] > o[c] ? in[c] : o[c];                   \
                }                                                                                            \
        }                                                                                                    \
    }

#define MAX_POOL_PARAMETERS                                                                                  \
    const float *restrict x, int height, int width, int channels, int out_h, int out_w, float *restrict out

static void max_pool_generic(MAX_POOL_PARAMETERS) { MAX_POOL_BODY }
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void max_pool_avx2(MAX_POOL_PARAMETERS) { MAX_POOL_BODY }
__attribute__((target("avx512f"))) static void max_pool_avx512(MAX_POOL_PARAMETERS) { MAX_POOL_BODY }
#endif

void rn_max_pool_3x3s2(int level, const float *x, int height, int width, int channels, float *out) {
    const int out_h = (height - 1) / 2 + 1, out_w = (width - 1) / 2 + 1;
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) return max_pool_avx512(x, height, width, channels, out_h, out_w, out);
    if (level == RN_LEVEL_AVX2) return max_pool_avx2(x, height, width, channels, out_h, out_w, out);
#endif
    (void)level;
    max_pool_generic(x, height, width, channels, out_h, out_w, out);
}
