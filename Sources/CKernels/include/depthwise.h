#ifndef CKERNELS_DEPTHWISE_H
#define CKERNELS_DEPTHWISE_H

/// SIMD levels of the depthwise kernel.
enum { RN_SIMD_GENERIC = 0, RN_SIMD_AVX2 = 1, RN_SIMD_AVX512 = 2 };

/// The level `rn_depthwise` should use: `PIC2VEC_SIMD` (avx512, avx2 or generic) when it
/// names a level this CPU runs, else the best this CPU has.
int rn_depthwise_level(void);

/// Whether this CPU runs `level`.
int rn_simd_supported(int level);

/// Depthwise convolution of image rows [row_begin, row_end) (n * out_h rows), NHWC, with
/// batch norm folded in: out[n, oh, ow, c] = act(bias[c] + sum over taps (kh, kw) inside the
/// image of weights[(kh * k + kw) * c + ch] * x[n, oh * stride - pad_top + kh, ow * stride -
/// pad_left + kw, ch]). act: 0 identity, 1 ReLU, 2 ReLU6. `level` picks the SIMD version.
void rn_depthwise(int level, const float *x, int height, int width, int channels, const float *weights,
                  const float *bias, int kernel, int stride, int pad_top, int pad_left, int out_h, int out_w,
                  int activation, int row_begin, int row_end, float *out);

#endif
