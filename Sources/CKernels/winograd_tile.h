// The Winograd F(4x4, 3x3) tile transforms for one vector type. winograd.c includes this file
// once per level with TILE_VECTOR (a GCC vector of TILE_WIDTH floats, or float), TILE_WIDTH,
// TILE_ATTRIBUTE (the level's function attributes) and TILE_NAME(name) defined; every level
// runs the same arithmetic in the same order.

TILE_ATTRIBUTE static inline TILE_VECTOR TILE_NAME(load)(const float *p) {
    TILE_VECTOR v;
    memcpy(&v, p, sizeof v);
    return v;
}

TILE_ATTRIBUTE static inline void TILE_NAME(store)(float *p, TILE_VECTOR v) { memcpy(p, &v, sizeof v); }

/// Bᵀ applied to six values d (points 0, ±1, ±2 and infinity).
TILE_ATTRIBUTE static inline void TILE_NAME(input_1d)(const TILE_VECTOR d[6], TILE_VECTOR t[6]) {
    t[0] = 4 * d[0] - 5 * d[2] + d[4];
    t[1] = d[3] + d[4] - 4 * (d[1] + d[2]);
    t[2] = 4 * (d[1] - d[2]) + d[4] - d[3];
    t[3] = 2 * (d[3] - d[1]) + d[4] - d[2];
    t[4] = 2 * (d[1] - d[3]) + d[4] - d[2];
    t[5] = 4 * d[1] - 5 * d[3] + d[5];
}

/// Aᵀ applied to six values m.
TILE_ATTRIBUTE static inline void TILE_NAME(output_1d)(const TILE_VECTOR m[6], TILE_VECTOR y[4]) {
    const TILE_VECTOR a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + 2 * d;
    y[2] = a + 4 * c;
    y[3] = b + 8 * d + m[5];
}

/// `Bᵀ d B` for channels [begin, end) in steps of TILE_WIDTH; returns the first channel not done.
TILE_ATTRIBUTE static int TILE_NAME(input)(const float *const rows[36], float *v, size_t stride, int begin, int end) {
    int c = begin;
    for (; c + TILE_WIDTH <= end; c += TILE_WIDTH) {
        TILE_VECTOR t[36];
        for (int j = 0; j < 6; j++) {
            TILE_VECTOR d[6], column[6];
            for (int i = 0; i < 6; i++) d[i] = TILE_NAME(load)(rows[6 * i + j] + c);
            TILE_NAME(input_1d)(d, column);
            for (int i = 0; i < 6; i++) t[6 * i + j] = column[i];
        }
        for (int i = 0; i < 6; i++) {
            TILE_VECTOR row[6];
            TILE_NAME(input_1d)(t + 6 * i, row);
            for (int j = 0; j < 6; j++) TILE_NAME(store)(v + (size_t)(6 * i + j) * stride + c, row[j]);
        }
    }
    return c;
}

/// `Aᵀ m A` + bias (+ residual, activation) for channels [begin, end) in steps of TILE_WIDTH,
/// written to the non-NULL outputs out[4 * i + j]; returns the first channel not done.
TILE_ATTRIBUTE static int TILE_NAME(output)(const float *m, size_t stride, int begin, int end, const float *bias,
                                            float *const out[16], const float *const residual[16], int activation) {
    int c = begin;
    for (; c + TILE_WIDTH <= end; c += TILE_WIDTH) {
        TILE_VECTOR q[24];
        for (int j = 0; j < 6; j++) {
            TILE_VECTOR x[6], column[4];
            for (int i = 0; i < 6; i++) x[i] = TILE_NAME(load)(m + (size_t)(6 * i + j) * stride + c);
            TILE_NAME(output_1d)(x, column);
            for (int i = 0; i < 4; i++) q[6 * i + j] = column[i];
        }
        const TILE_VECTOR b = TILE_NAME(load)(bias + c), zero = {0}, six = zero + 6;
        for (int i = 0; i < 4; i++) {
            TILE_VECTOR y[4];
            TILE_NAME(output_1d)(q + 6 * i, y);
            for (int j = 0; j < 4; j++) {
                float *o = out[4 * i + j];
                if (!o) continue;
                TILE_VECTOR r = y[j] + b;
                if (residual && residual[4 * i + j]) r += TILE_NAME(load)(residual[4 * i + j] + c);
                if (activation != RN_ACTIVATION_NONE) r = __builtin_elementwise_max(r, zero);
                if (activation == RN_ACTIVATION_RELU6) r = __builtin_elementwise_min(r, six);
                TILE_NAME(store)(o + c, r);
            }
        }
    }
    return c;
}
