// What the kernels share: the scalar epilogue (the vector ones apply the same steps in
// registers) and the GEMMs' row blocking.
#ifndef CKERNELS_KERNEL_COMMON_H
#define CKERNELS_KERNEL_COMMON_H

#include "CKernels.h"

/// One output value: + bias, + residual (either NULL: skipped), then the activation (RN_ACTIVATION_*).
static inline float rn_finish(float y, const float *bias, const float *residual, int activation) {
    if (bias) y += *bias;
    if (residual) y += *residual;
    if (activation != RN_ACTIVATION_NONE && y < 0) y = 0;
    if (activation == RN_ACTIVATION_RELU6 && y > 6) y = 6;
    return y;
}

/// Rows of A per block of a GEMM whose A rows hold `k` values: a multiple of 6 from 6 to 96,
/// about 64 KiB of float rows (32 KiB of bf16 ones), so the block stays in L1/L2 while every
/// panel of B passes over it.
static inline int rn_block_rows(int k) {
    int block = (16384 / (k > 0 ? k : 1)) / 6 * 6;
    if (block < 6) block = 6;
    if (block > 96) block = 96;
    return block;
}

#endif
