/// A small C API over Debian's libfaiss.a (which ships none).
///
/// Every function returns 0 on success; on failure it returns non-zero and
/// `pv_faiss_last_error()` gives FAISS's own message for this thread.
#ifndef CFAISS_H
#define CFAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An opaque FAISS index.
typedef struct pv_faiss_index pv_faiss_index;

/// The message of the last failed call on this thread ("" if none).
const char *pv_faiss_last_error(void);

/// Sets the OpenMP thread count FAISS uses.
void pv_faiss_set_threads(int n);

/// Creates an index from a FAISS factory string ("Flat", "IVF100,Flat", "HNSW32").
/// `metric` is 0 for inner product, 1 for L2 (FAISS's METRIC_* values).
int pv_faiss_index_factory(int d, const char *description, int metric, pv_faiss_index **out);
/// Sets the training iterations of the OPQ rotation an index applies first (FAISS's
/// OPQMatrix::niter); fails when the index has none.
int pv_faiss_set_opq_iterations(pv_faiss_index *index, int iterations);
/// 1 when the index applies an OPQ rotation first, else 0.
int pv_faiss_index_has_opq(const pv_faiss_index *index);
void pv_faiss_index_free(pv_faiss_index *index);
int pv_faiss_index_dimension(const pv_faiss_index *index);
int64_t pv_faiss_index_count(const pv_faiss_index *index);
/// 0 for inner product, 1 for L2.
int pv_faiss_index_metric(const pv_faiss_index *index);
int pv_faiss_index_is_trained(const pv_faiss_index *index);
int pv_faiss_index_train(pv_faiss_index *index, int64_t n, const float *x);
int pv_faiss_index_add(pv_faiss_index *index, int64_t n, const float *x);
/// Searches n queries; writes n*k distances and labels (row-major).
int pv_faiss_index_search(const pv_faiss_index *index, int64_t n, const float *x, int64_t k,
                          float *distances, int64_t *labels);
/// Sets a search parameter by FAISS name ("nprobe" for IVF, "efSearch" for HNSW).
int pv_faiss_index_set_search_parameter(pv_faiss_index *index, const char *name, double value);
/// Builds what `pv_faiss_index_reconstruct` needs (an IVF index's direct map); changes the index.
int pv_faiss_index_prepare_reconstruct(pv_faiss_index *index);
/// Copies stored vector `key` into `out` (d floats); read-only, so safe from several threads.
/// Fails on an IVF index that `pv_faiss_index_prepare_reconstruct` has not prepared.
int pv_faiss_index_reconstruct(const pv_faiss_index *index, int64_t key, float *out);

/// Rows `first ..< first + n` into `out` (`n * d` floats); same condition as `pv_faiss_index_reconstruct`.
int pv_faiss_index_reconstruct_n(const pv_faiss_index *index, int64_t first, int64_t n, float *out);
/// 1 if the index is an IVF index (possibly behind a transform such as OPQ), else 0.
int pv_faiss_index_is_ivf(const pv_faiss_index *index);
/// Moves every vector of `from` into `into` (ids continue after `into`'s); `from` is left empty.
/// Both must be IVF indexes trained together: the same coarse quantizer, PQ codebooks and rotation.
int pv_faiss_index_merge(pv_faiss_index *into, pv_faiss_index *from);

/// Removes the `n` rows `rows` (distinct, in range); the rows after them move down, so ids stay
/// 0..<count. An HNSW graph is built again from its kept rows; IVF-PQ with refinement fails.
int pv_faiss_index_remove_rows(pv_faiss_index *index, int64_t n, const int64_t *rows);
int pv_faiss_write_index(const pv_faiss_index *index, const char *path);
/// Reads an index file; an HNSW graph is checked to link only to stored vectors.
int pv_faiss_read_index(const char *path, pv_faiss_index **out);
/// Reads an index file, memory-mapping an IVF index's inverted lists (FAISS's IO_FLAG_MMAP)
/// instead of copying them; the file must stay in place while the index is open, and the
/// index is read-only (searches only). Other index types are read into memory as usual.
int pv_faiss_read_index_mapped(const char *path, pv_faiss_index **out);

// MARK: The coarse step of a plain IVF index (no transform in front, flat coarse quantizer)

/// The number of lists of an IVF index with a flat coarse quantizer and no transform in
/// front; 0 for any other index.
int64_t pv_faiss_ivf_list_count(const pv_faiss_index *index);
/// The lists such an index visits per query (nprobe); 0 for any other index.
int64_t pv_faiss_ivf_probes(const pv_faiss_index *index);
/// Copies the trained coarse centroids (lists x d floats) into `out`.
int pv_faiss_ivf_centroids(const pv_faiss_index *index, float *out);
/// Sets the coarse centroids (lists x d floats) of an untrained index; a later
/// `pv_faiss_index_train` then trains only what follows the coarse step (PQ codebooks).
int pv_faiss_ivf_set_centroids(pv_faiss_index *index, const float *centroids);
/// Adds n vectors (ids continue from the count) to the lists given for each one, skipping the
/// coarse assignment FAISS would do.
int pv_faiss_ivf_add_assigned(pv_faiss_index *index, int64_t n, const float *x, const int64_t *lists);
/// One list of an IVF-Flat index whose lists are in memory or memory-mapped: its length, its
/// vectors (size x d floats) and their ids. The pointers stay valid until the index changes.
int pv_faiss_ivf_flat_list(const pv_faiss_index *index, int64_t list, int64_t *size, const float **vectors,
                           const int64_t **ids);

// MARK: The codebooks of a plain IVF-PQ index (8-bit codes of residuals, no refinement)

/// The codes per vector (sub-vectors) of such an index; 0 for any other index.
int pv_faiss_ivfpq_codes(const pv_faiss_index *index);
/// Copies the trained codebooks (codes x 256 x d/codes floats) into `out`.
int pv_faiss_ivfpq_codebooks(const pv_faiss_index *index, float *out);
/// Sets the codebooks (codes x 256 x d/codes floats) of an index whose coarse centroids are
/// set, and marks it trained.
int pv_faiss_ivfpq_set_codebooks(pv_faiss_index *index, const float *codebooks);
/// Appends n encoded vectors (`codes` bytes each) to the lists given for each one; their ids
/// continue from the count.
int pv_faiss_ivfpq_add_codes(pv_faiss_index *index, int64_t n, const int64_t *lists, const uint8_t *codes);

#ifdef __cplusplus
}
#endif
#endif
