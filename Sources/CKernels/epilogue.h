// The scalar epilogue the kernels share (the vector ones apply the same steps in registers).
#ifndef CKERNELS_EPILOGUE_H
#define CKERNELS_EPILOGUE_H

#include "CKernels.h"

/// One output value: + bias, + residual (either NULL: skipped), then the activation (RN_ACTIVATION_*).
static inline float rn_finish(float y, const float *bias, const float *residual, int activation) {
    if (bias) y += *bias;
    if (residual) y += *residual;
    if (activation != RN_ACTIVATION_NONE && y < 0) y = 0;
    if (activation == RN_ACTIVATION_RELU6 && y > 6) y = 6;
    return y;
}

#endif
