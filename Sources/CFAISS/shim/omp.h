// The one declaration FAISS's HNSW.h needs from <omp.h>: libgomp's lock type (same layout
// as GCC's omp.h), so the bridge compiles without another OpenMP runtime's headers.
#ifndef PIC2VEC_OMP_SHIM_H
#define PIC2VEC_OMP_SHIM_H

typedef struct {
    unsigned char _x[4] __attribute__((__aligned__(4)));
} omp_lock_t;

#endif
