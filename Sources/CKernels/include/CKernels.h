#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Kernel levels: every function taking a `level` runs the version for it. The caller
/// must pass a level the CPU runs (at most rn_cpu_level()); a wider one is an illegal instruction.
enum {
    /// Plain C, vectorized by the compiler for the target's baseline (SSE2, NEON).
    RN_LEVEL_GENERIC = 0,
    /// x86-64 AVX2 and FMA (8 floats per vector).
    RN_LEVEL_AVX2 = 1,
    /// x86-64 AVX-512F (16 floats per vector).
    RN_LEVEL_AVX512 = 2,
};

/// The widest level this CPU runs (RN_LEVEL_GENERIC off x86-64).
int rn_cpu_level(void);

// MARK: GEMM

/// Floats needed by `rn_pack` for a k x n matrix: n rounded up to a multiple of 64, zero-padded.
size_t rn_packed_count(int k, int n);

/// Packs row-major `b` (k x n, leading dimension `ldb`) into 16-column slices, each k x 16
/// row-major and contiguous, one after another. The layout is the same at every level.
void rn_pack(const float *b, int k, int n, int ldb, float *packed);

/// Packs columns [from, to) (multiples of 16, `to` at most `rn_packed_count(k, n) / k`) of the
/// transpose of row-major `a` (n x k, leading dimension `lda`) as `rn_pack` packs a k x n matrix:
/// the packed right-hand side of a product with `a`'s rows as columns (a Gram matrix). Ranges
/// that split the columns may be packed by different threads.
void rn_pack_transposed(const float *a, int n, int k, int lda, int from, int to, float *packed);

/// Activations applied by kernels' epilogues.
enum {
    RN_ACTIVATION_NONE = 0,
    /// max(0, x).
    RN_ACTIVATION_RELU = 1,
    /// min(max(0, x), 6).
    RN_ACTIVATION_RELU6 = 2,
};

/// c (m x n, leading dimension ldc) = a (m x k, leading dimension lda) x packed b, then
/// + bias[n] (if not NULL), + residual (m x n, leading dimension ldr; if not NULL), then
/// the activation (RN_ACTIVATION_*).
void rn_gemm(int level, int m, int n, int k, const float *a, int lda, const float *packed, float *c, int ldc,
             const float *bias, const float *residual, int ldr, int activation);

/// How many threads the calling thread's matrix products may split their rows across (1 unless
/// set): a thread-local read on every product, so a plain C thread-local rather than a dictionary.
int rn_row_split_threads(void);

/// Sets the calling thread's `rn_row_split_threads` (values below 1 count as 1).
void rn_set_row_split_threads(int threads);

// MARK: GEMM with bfloat16 inputs

/// Whether this CPU has AVX512-BF16 (VDPBF16PS), the level rn_gemm_bf16 runs fast.
int rn_cpu_has_bf16(void);

/// uint16 elements needed by `rn_pack_bf16` for a k x n matrix.
size_t rn_packed_bf16_count(int k, int n);

/// Packs row-major `b` (k x n, leading dimension `ldb`) as bf16 (rounded to nearest even) in
/// 16-column slices of k/2 x 16 pairs (rows 2p and 2p + 1 of a column side by side).
void rn_pack_bf16(const float *b, int k, int n, int ldb, uint16_t *packed);

/// rn_gemm with A and B rounded to bf16 (products summed in float32, two at a time): AVX512-BF16
/// when `level` is RN_LEVEL_AVX512 and the CPU has it, else the portable reference (slow).
void rn_gemm_bf16(int level, int m, int n, int k, const float *a, int lda, const uint16_t *packed, float *c, int ldc,
                  const float *bias, const float *residual, int ldr, int activation);

// MARK: Depthwise convolution

/// One output row of a depthwise convolution with batch norm folded in, NHWC:
/// out[ow, c] = act(bias[c] + sum over taps (kh, kw) of weights[(kh * kernel + kw) * channels + c]
/// * rows[kh][(ow * stride - pad_left + kw) * channels + c]), for ow < out_w; `rows` holds `kernel`
/// input rows (`width` x `channels` floats each; NULL for a padding row) and a column outside
/// [0, width) reads as zero. `act` is RN_ACTIVATION_*.
void rn_depthwise_row(int level, const float *const *rows, int width, int channels, const float *weights,
                      const float *bias, int kernel, int stride, int pad_left, int out_w, int activation, float *out);

// MARK: Pooling

/// 3x3 max pooling at stride 2 with padding 1 (padding never wins) of one NHWC image
/// (height x width x channels) into ((height - 1) / 2 + 1) x ((width - 1) / 2 + 1) x channels.
void rn_max_pool_3x3s2(int level, const float *x, int height, int width, int channels, float *out);

// MARK: Winograd F(4x4, 3x3)

/// Input transform `Bᵀ d B` of one 6x6 tile: `rows` are its 36 input pixels (row-major,
/// `channels` floats each; zeros for padding); plane i of the result goes to `v + i * stride`.
void rn_winograd_input(int level, const float *const rows[36], float *v, size_t stride, int channels);

/// Output transform `Aᵀ m A` of one tile (36 planes of `channels` floats, `stride` apart),
/// + bias, + residual[i] (if not NULL), then the activation (RN_ACTIVATION_*), written to out[i]
/// for the 16 outputs (row-major; NULL: outside the map).
void rn_winograd_output(int level, const float *m, size_t stride, int channels, const float *bias,
                        float *const out[16], const float *const residual[16], int activation);

// MARK: Vector search

/// One row of a Gram tile offered to both sides: bit c of `row_hits` is set where
/// `bias[c] + scale * g[c] < row_filter`, bit c of `column_hits` where
/// `row_bias + scale * g[c] < filter[c]`, for c < width (words of 64 bits, bit 0 first).
/// Each key is one rounded product then one rounded sum (no fused multiply-add), so a
/// caller recomputing `bias + scale * g` the same way gets the same key.
void rn_scan_row(int level, const float *g, int width, const float *bias, const float *filter, float row_bias,
                 float row_filter, float scale, uint64_t *row_hits, uint64_t *column_hits);

/// Sum of a[j] * b[j] for j < d.
float rn_dot(int level, const float *a, const float *b, int d);

/// sum[j] += sign * row[j] for j < d.
void rn_add_scaled(int level, const float *row, float *sum, int d, float sign);

/// out[c] = row · rows[c] for the k rows of `rows` (k x d, row-major), four rows per pass
/// over `row` where k allows.
void rn_dots(int level, const float *row, int d, int k, const float *rows, float *out);

/// The smallest key `bias[c] + scale * g[c]` for c < width (`bias` NULL: `scale * g[c]`),
/// each one rounded product then one rounded sum, and in `index` the first c that gives it
/// (0 when no key is below infinity). Every level returns the same key and index.
float rn_min_key(int level, const float *g, int width, const float *bias, float scale, int *index);

#endif
