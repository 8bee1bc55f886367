// The widest kernel level this CPU runs (see rn_level in CKernels.h).
#include "CKernels.h"

int rn_cpu_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return RN_LEVEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RN_LEVEL_AVX2;
#endif
    return RN_LEVEL_GENERIC;
}
