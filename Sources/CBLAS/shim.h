#include <cblas.h>

/* LAPACK's divide-and-conquer symmetric eigensolver, exported by OpenBLAS (Debian ships no lapack.h with it). */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info);
