#ifndef CRESNETKERNELS_H
#define CRESNETKERNELS_H

#include <stddef.h>

#include "depthwise.h"

/// 1 when this CPU runs the AVX-512 kernels below (else callers use BLAS).
int rn_gemm_available(void);

/// Floats needed by `rn_pack` for a k x n matrix: panels of 64 columns, the last zero-padded.
size_t rn_packed_count(int k, int n);

/// Packs row-major `b` (k x n, leading dimension `ldb`) into 64-column panels, each k x 64 row-major.
void rn_pack(const float *b, int k, int n, int ldb, float *packed);

/// c (m x n, leading dimension ldc) = a (m x k, leading dimension lda) x packed b, then
/// + bias[n] (if not NULL), + residual (m x n, leading dimension ldr; if not NULL), then
/// max(0, .) if relu is non-zero. AVX-512 only: call when rn_gemm_available() is 1.
void rn_gemm(int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
             const float *bias, const float *residual, int ldr, int relu);

/// Winograd F(2x2, 3x3) input transform `Bᵀ d B` of one 4x4 tile: `rows` are its 16
/// input pixels (row-major, `channels` floats each; zeros for padding); plane i of the
/// result goes to `v + i * stride`. AVX-512 only.
void rn_winograd_input(const float *const rows[16], float *v, size_t stride, int channels);

/// Winograd F(2x2, 3x3) output transform `Aᵀ m A` of one tile (16 planes of `channels`
/// floats, `stride` apart), + bias, + residual[i] (if not NULL), ReLU if asked, written to
/// out[i] for the 4 outputs (row-major; NULL: outside the map). AVX-512 only.
void rn_winograd_output(const float *m, size_t stride, int channels, const float *bias, float *const out[4],
                        const float *const residual[4], int relu);

#endif
