// Winograd F(4x4, 3x3) tile transforms over channels (winograd_tile.h), one vector of channels at
// a time: 16 floats at AVX-512, 8 at AVX2, 4 portably, and the channels left over one at a time.
#include "CKernels.h"

#include <string.h>

#define TILE_VECTOR float
#define TILE_WIDTH 1
#define TILE_ATTRIBUTE
#define TILE_NAME(name) tile_##name##_scalar
#include "winograd_tile.h"
#undef TILE_VECTOR
#undef TILE_WIDTH
#undef TILE_ATTRIBUTE
#undef TILE_NAME

typedef float vector4 __attribute__((vector_size(16)));
#define TILE_VECTOR vector4
#define TILE_WIDTH 4
#define TILE_ATTRIBUTE
#define TILE_NAME(name) tile_##name##_generic
#include "winograd_tile.h"
#undef TILE_VECTOR
#undef TILE_WIDTH
#undef TILE_ATTRIBUTE
#undef TILE_NAME

#if defined(__x86_64__)
typedef float vector8 __attribute__((vector_size(32)));
#define TILE_VECTOR vector8
#define TILE_WIDTH 8
#define TILE_ATTRIBUTE __attribute__((target("avx2,fma")))
#define TILE_NAME(name) tile_##name##_avx2
#include "winograd_tile.h"
#undef TILE_VECTOR
#undef TILE_WIDTH
#undef TILE_ATTRIBUTE
#undef TILE_NAME

typedef float vector16 __attribute__((vector_size(64)));
#define TILE_VECTOR vector16
#define TILE_WIDTH 16
#define TILE_ATTRIBUTE __attribute__((target("avx512f,avx2,fma")))
#define TILE_NAME(name) tile_##name##_avx512
#include "winograd_tile.h"
#undef TILE_VECTOR
#undef TILE_WIDTH
#undef TILE_ATTRIBUTE
#undef TILE_NAME
#endif

void rn_winograd_input(int level, const float *const rows[36], float *v, size_t stride, int channels) {
    int c = 0;
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) c = tile_input_avx512(rows, v, stride, c, channels);
    if (level >= RN_LEVEL_AVX2) c = tile_input_avx2(rows, v, stride, c, channels);
#endif
    (void)level;
    c = tile_input_generic(rows, v, stride, c, channels);
    tile_input_scalar(rows, v, stride, c, channels);
}

void rn_winograd_output(int level, const float *m, size_t stride, int channels, const float *bias,
                        float *const out[16], const float *const residual[16], int activation) {
    int c = 0;
#if defined(__x86_64__)
    if (level >= RN_LEVEL_AVX512) c = tile_output_avx512(m, stride, c, channels, bias, out, residual, activation);
    if (level >= RN_LEVEL_AVX2) c = tile_output_avx2(m, stride, c, channels, bias, out, residual, activation);
#endif
    (void)level;
    c = tile_output_generic(m, stride, c, channels, bias, out, residual, activation);
    tile_output_scalar(m, stride, c, channels, bias, out, residual, activation);
}
