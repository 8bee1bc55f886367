#ifndef CRESNETKERNELS_H
#define CRESNETKERNELS_H

#include <stddef.h>

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

#endif
