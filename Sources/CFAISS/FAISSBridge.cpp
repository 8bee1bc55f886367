// The C functions declared in CFAISS.h, each a thin try/catch around FAISS's C++ API.
#include "CFAISS.h"

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IVFlib.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQR.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/index_factory.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/invlists/OnDiskInvertedLists.h>

#include <algorithm>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

// From libgomp, which libfaiss.a is built against; declared here so that no omp.h of
// another OpenMP runtime is needed at compile time.
extern "C" void omp_set_num_threads(int);

namespace {
thread_local std::string last_error;

template <typename F> int guarded(F &&body) {
    try {
        last_error.clear();
        body();
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown FAISS error";
    }
    return 1;
}

/// Throws unless an HNSW graph read from a file only links to stored vectors, so that a
/// damaged file is an error here instead of a crash inside a later search.
void check_hnsw_graph(const faiss::IndexHNSW &index) {
    const faiss::HNSW &graph = index.hnsw;
    const int64_t n = index.ntotal;
    auto fail = [](const std::string &what) { throw std::runtime_error("damaged HNSW index: " + what); };
    if (index.storage == nullptr || index.storage->ntotal != n) fail("its storage does not hold every vector");
    if (graph.levels.size() != static_cast<size_t>(n) || graph.offsets.size() != static_cast<size_t>(n) + 1)
        fail("level and offset tables do not match the vector count");
    if (graph.max_level < -1 || graph.entry_point < -1 || graph.entry_point >= n || (n > 0 && graph.entry_point < 0))
        fail("entry point or top level out of range");
    if (graph.offsets[0] != 0 || graph.offsets[n] > graph.neighbors.size()) fail("offsets point outside the neighbour table");
    for (int64_t i = 0; i < n; i++) {
        const int level = graph.levels[i];
        if (level < 1 || level > graph.max_level + 1 || static_cast<size_t>(level) >= graph.cum_nneighbor_per_level.size())
            fail("node " + std::to_string(i) + " has level " + std::to_string(level));
        if (graph.offsets[i + 1] < graph.offsets[i] ||
            graph.offsets[i + 1] - graph.offsets[i] < static_cast<size_t>(graph.cum_nneighbor_per_level[level]))
            fail("node " + std::to_string(i) + " has too few neighbour slots");
    }
    for (const auto id : graph.neighbors) {
        if (id < -1 || id >= n) fail("a neighbour id " + std::to_string(id) + " is outside 0..<" + std::to_string(n));
    }
}

/// Throws unless `a` and `b` were trained alike beyond what FAISS's own merge check compares
/// (the coarse quantizer): the same PQ (and refinement) codebooks and the same linear transforms
/// (OPQ rotations).
void check_same_training(const faiss::Index &a, const faiss::Index &b) {
    auto *pa = dynamic_cast<const faiss::IndexPreTransform *>(&a);
    auto *pb = dynamic_cast<const faiss::IndexPreTransform *>(&b);
    if ((pa == nullptr) != (pb == nullptr) || (pa && pa->chain.size() != pb->chain.size()))
        throw std::runtime_error("the indexes apply different transforms before their IVF");
    for (size_t i = 0; pa && i < pa->chain.size(); i++) {
        auto *ta = dynamic_cast<const faiss::LinearTransform *>(pa->chain[i]);
        auto *tb = dynamic_cast<const faiss::LinearTransform *>(pb->chain[i]);
        if ((ta == nullptr) != (tb == nullptr) || (ta && (ta->A != tb->A || ta->b != tb->b)))
            throw std::runtime_error("the indexes were trained separately: their rotations (OPQ) differ");
    }
    auto *qa = dynamic_cast<const faiss::IndexIVFPQ *>(faiss::ivflib::extract_index_ivf(&a));
    auto *qb = dynamic_cast<const faiss::IndexIVFPQ *>(faiss::ivflib::extract_index_ivf(&b));
    if (qa && qb && qa->pq.centroids != qb->pq.centroids)
        throw std::runtime_error("the indexes were trained separately: their PQ codebooks differ");
    auto *ra = dynamic_cast<const faiss::IndexIVFPQR *>(qa);
    auto *rb = dynamic_cast<const faiss::IndexIVFPQR *>(qb);
    if ((ra == nullptr) != (rb == nullptr) || (ra && ra->refine_pq.centroids != rb->refine_pq.centroids))
        throw std::runtime_error("the indexes were trained separately: their refinement codebooks differ");
}

/// Throws unless every list of memory-mapped inverted lists lies inside the mapped file: FAISS
/// maps the file without checking the list table it read from it (a truncated file opens).
void check_mapped_lists(const faiss::IndexIVF &ivf) {
    auto *mapped = dynamic_cast<const faiss::OnDiskInvertedLists *>(ivf.invlists);
    if (mapped == nullptr) return;
    const size_t entry_bytes = ivf.code_size + sizeof(int64_t);
    for (size_t l = 0; l < mapped->lists.size(); l++) {
        const faiss::OnDiskOneList &entry = mapped->lists[l];
        if (entry.size > entry.capacity || entry.capacity > mapped->totsize / entry_bytes ||
            entry.offset > mapped->totsize - entry.capacity * entry_bytes)
            throw std::runtime_error("damaged IVF index: list " + std::to_string(l) + " lies outside the mapped file");
    }
}

/// Reads an index file with FAISS's `io_flags`, checking an HNSW graph and memory-mapped IVF
/// lists before they are used.
faiss::Index *read_checked(const char *path, int io_flags) {
    std::unique_ptr<faiss::Index> index(faiss::read_index(path, io_flags));
    if (auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(index.get())) check_hnsw_graph(*hnsw);
    if (auto *ivf = faiss::ivflib::try_extract_index_ivf(index.get())) check_mapped_lists(*ivf);
    return index.release();
}

/// The index itself as an IVF index with a flat coarse quantizer of its own dimension (no
/// transform in front), or null: the IVF indexes whose coarse step this project's own kernels may do.
faiss::IndexIVF *plain_ivf(faiss::Index *index) {
    auto *ivf = dynamic_cast<faiss::IndexIVF *>(index);
    if (ivf == nullptr || dynamic_cast<faiss::IndexFlat *>(ivf->quantizer) == nullptr || ivf->quantizer->d != ivf->d)
        return nullptr;
    return ivf;
}

const faiss::IndexIVF *plain_ivf(const faiss::Index *index) {
    return plain_ivf(const_cast<faiss::Index *>(index));
}

/// `plain_ivf(index)`, throwing when the index is not one.
faiss::IndexIVF &require_plain_ivf(faiss::Index *index) {
    faiss::IndexIVF *ivf = plain_ivf(index);
    if (ivf == nullptr) throw std::runtime_error("not an IVF index with a flat coarse quantizer");
    return *ivf;
}

/// Throws unless each of the n list numbers names a list of `ivf`.
void check_list_numbers(const faiss::IndexIVF &ivf, int64_t n, const int64_t *lists) {
    for (int64_t i = 0; i < n; i++) {
        if (lists[i] < 0 || lists[i] >= static_cast<int64_t>(ivf.nlist))
            throw std::runtime_error("list number " + std::to_string(lists[i]) + " is out of range");
    }
}

/// The index itself as a plain IVF-PQ index with 8-bit codes of residuals and no refinement or
/// polysemous training, whose codebooks hold exactly d x 256 floats (a file could say otherwise):
/// the IVF-PQ indexes whose codebooks this project trains and applies.
faiss::IndexIVFPQ *plain_ivfpq(faiss::Index *index) {
    auto *pq = dynamic_cast<faiss::IndexIVFPQ *>(plain_ivf(index));
    if (pq == nullptr || dynamic_cast<faiss::IndexIVFPQR *>(pq) != nullptr || pq->pq.nbits != 8 || !pq->by_residual ||
        pq->do_polysemous_training || pq->code_size != pq->pq.M || pq->pq.d != static_cast<size_t>(pq->d) ||
        pq->pq.centroids.size() != pq->pq.M * pq->pq.ksub * pq->pq.dsub)
        return nullptr;
    return pq;
}

const faiss::IndexIVFPQ *plain_ivfpq(const faiss::Index *index) {
    return plain_ivfpq(const_cast<faiss::Index *>(index));
}

faiss::Index *unwrap(pv_faiss_index *index) { return reinterpret_cast<faiss::Index *>(index); }
const faiss::Index *unwrap(const pv_faiss_index *index) { return reinterpret_cast<const faiss::Index *>(index); }
pv_faiss_index *wrap(faiss::Index *index) { return reinterpret_cast<pv_faiss_index *>(index); }
} // namespace

extern "C" {

const char *pv_faiss_last_error(void) { return last_error.c_str(); }

void pv_faiss_set_threads(int n) { omp_set_num_threads(n); }

int pv_faiss_index_factory(int d, const char *description, int metric, pv_faiss_index **out) {
    return guarded([&] {
        *out = wrap(faiss::index_factory(d, description, metric == 0 ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2));
    });
}

/// The OPQ rotation an index applies first, or null.
static faiss::OPQMatrix *opq_rotation(const faiss::Index *index) {
    auto *transformed = dynamic_cast<const faiss::IndexPreTransform *>(index);
    return transformed && !transformed->chain.empty() ? dynamic_cast<faiss::OPQMatrix *>(transformed->chain.front())
                                                      : nullptr;
}

int pv_faiss_set_opq_iterations(pv_faiss_index *index, int iterations) {
    return guarded([&] {
        auto *opq = opq_rotation(unwrap(index));
        if (!opq) throw std::runtime_error("the index has no OPQ rotation");
        opq->niter = iterations;
    });
}

int pv_faiss_index_has_opq(const pv_faiss_index *index) { return opq_rotation(unwrap(index)) ? 1 : 0; }

void pv_faiss_index_free(pv_faiss_index *index) { delete unwrap(index); }

int pv_faiss_index_dimension(const pv_faiss_index *index) { return unwrap(index)->d; }

int64_t pv_faiss_index_count(const pv_faiss_index *index) { return unwrap(index)->ntotal; }

int pv_faiss_index_metric(const pv_faiss_index *index) {
    return unwrap(index)->metric_type == faiss::METRIC_INNER_PRODUCT ? 0 : 1;
}

int pv_faiss_index_is_trained(const pv_faiss_index *index) { return unwrap(index)->is_trained ? 1 : 0; }

int pv_faiss_index_train(pv_faiss_index *index, int64_t n, const float *x) {
    return guarded([&] { unwrap(index)->train(n, x); });
}

int pv_faiss_index_add(pv_faiss_index *index, int64_t n, const float *x) {
    return guarded([&] { unwrap(index)->add(n, x); });
}

int pv_faiss_index_search(const pv_faiss_index *index, int64_t n, const float *x, int64_t k, float *distances,
                          int64_t *labels) {
    return guarded([&] { unwrap(index)->search(n, x, k, distances, labels); });
}

int pv_faiss_index_set_search_parameter(pv_faiss_index *index, const char *name, double value) {
    return guarded([&] {
        faiss::ParameterSpace().set_index_parameter(unwrap(index), name, value);
    });
}

int pv_faiss_index_prepare_reconstruct(pv_faiss_index *index) {
    return guarded([&] {
        if (auto *ivf = faiss::ivflib::try_extract_index_ivf(unwrap(index))) {
            if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
                ivf->make_direct_map(true);
            }
        }
    });
}

int pv_faiss_index_reconstruct(const pv_faiss_index *index, int64_t key, float *out) {
    return guarded([&] {
        if (auto *ivf = faiss::ivflib::try_extract_index_ivf(unwrap(index))) {
            if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
                throw std::runtime_error("the IVF index has no direct map: call pv_faiss_index_prepare_reconstruct first");
            }
        }
        unwrap(index)->reconstruct(key, out);
    });
}

int pv_faiss_index_reconstruct_n(const pv_faiss_index *index, int64_t first, int64_t n, float *out) {
    return guarded([&] {
        if (auto *ivf = faiss::ivflib::try_extract_index_ivf(unwrap(index))) {
            if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
                throw std::runtime_error("the IVF index has no direct map: call pv_faiss_index_prepare_reconstruct first");
            }
        }
        unwrap(index)->reconstruct_n(first, n, out);
    });
}

int pv_faiss_index_is_ivf(const pv_faiss_index *index) {
    return faiss::ivflib::try_extract_index_ivf(unwrap(index)) != nullptr ? 1 : 0;
}

int pv_faiss_index_merge(pv_faiss_index *into, pv_faiss_index *from) {
    return guarded([&] {
        faiss::Index *a = unwrap(into);
        faiss::Index *b = unwrap(from);
        if (faiss::ivflib::try_extract_index_ivf(a) == nullptr || faiss::ivflib::try_extract_index_ivf(b) == nullptr)
            throw std::runtime_error("only IVF indexes (IVF-Flat, IVF-PQ, OPQ + IVF-PQ) can be merged");
        check_same_training(*a, *b);
        // FAISS compares the coarse quantizers themselves (check_compatible_for_merge_expensive_check).
        faiss::check_compatible_for_merge_expensive_check = true;
        faiss::ivflib::merge_into(a, b, true);
    });
}

int pv_faiss_index_remove_rows(pv_faiss_index *index, int64_t n, const int64_t *rows) {
    return guarded([&] {
        faiss::Index *i = unwrap(index);
        std::vector<faiss::Index::idx_t> removed(rows, rows + n);
        std::sort(removed.begin(), removed.end());
        if (std::adjacent_find(removed.begin(), removed.end()) != removed.end())
            throw std::runtime_error("a row is named twice");
        if (!removed.empty() && (removed.front() < 0 || removed.back() >= i->ntotal))
            throw std::runtime_error("a row is outside the index");
        if (auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(i)) {
            // FAISS's HNSW graph cannot drop nodes: the kept rows are added again, in order.
            std::vector<float> kept;
            kept.reserve(static_cast<size_t>(i->ntotal - n) * i->d);
            std::vector<float> row(i->d);
            auto next = removed.begin();
            for (faiss::Index::idx_t id = 0; id < i->ntotal; id++) {
                if (next != removed.end() && *next == id) {
                    ++next;
                    continue;
                }
                hnsw->reconstruct(id, row.data());
                kept.insert(kept.end(), row.begin(), row.end());
            }
            hnsw->reset();
            hnsw->add(static_cast<faiss::Index::idx_t>(kept.size() / i->d), kept.data());
            return;
        }
        faiss::IndexIVF *ivf = faiss::ivflib::try_extract_index_ivf(i);
        faiss::ArrayInvertedLists *lists = nullptr;
        if (ivf != nullptr) {
            if (dynamic_cast<faiss::IndexIVFPQR *>(ivf) != nullptr)
                throw std::runtime_error("an IVF-PQ index with refinement codes cannot remove rows; build it again");
            lists = dynamic_cast<faiss::ArrayInvertedLists *>(ivf->invlists);
            if (lists == nullptr) throw std::runtime_error("the IVF lists are mapped from the file; read the index whole");
            ivf->set_direct_map_type(faiss::DirectMap::NoMap);
        }
        faiss::IDSelectorBatch selector(n, removed.data());
        i->remove_ids(selector);
        if (lists != nullptr) {
            // FAISS keeps an IVF index's ids; rows are renumbered so that ids stay 0..<ntotal.
            for (auto &ids : lists->ids)
                for (auto &id : ids) id -= std::upper_bound(removed.begin(), removed.end(), id) - removed.begin();
        }
    });
}

int pv_faiss_write_index(const pv_faiss_index *index, const char *path) {
    return guarded([&] { faiss::write_index(unwrap(index), path); });
}

int pv_faiss_read_index(const char *path, pv_faiss_index **out) {
    return guarded([&] { *out = wrap(read_checked(path, 0)); });
}

int pv_faiss_read_index_mapped(const char *path, pv_faiss_index **out) {
    return guarded([&] { *out = wrap(read_checked(path, faiss::IO_FLAG_MMAP)); });
}

int64_t pv_faiss_ivf_list_count(const pv_faiss_index *index) {
    const faiss::IndexIVF *ivf = plain_ivf(unwrap(index));
    return ivf == nullptr ? 0 : static_cast<int64_t>(ivf->nlist);
}

int64_t pv_faiss_ivf_probes(const pv_faiss_index *index) {
    const faiss::IndexIVF *ivf = plain_ivf(unwrap(index));
    return ivf == nullptr ? 0 : static_cast<int64_t>(ivf->nprobe);
}

int pv_faiss_ivf_centroids(const pv_faiss_index *index, float *out) {
    return guarded([&] {
        const faiss::IndexIVF &ivf = require_plain_ivf(const_cast<faiss::Index *>(unwrap(index)));
        if (ivf.quantizer->ntotal != static_cast<int64_t>(ivf.nlist))
            throw std::runtime_error("the coarse quantizer is not trained");
        ivf.quantizer->reconstruct_n(0, ivf.nlist, out);
    });
}

int pv_faiss_ivf_set_centroids(pv_faiss_index *index, const float *centroids) {
    return guarded([&] {
        faiss::IndexIVF &ivf = require_plain_ivf(unwrap(index));
        if (ivf.is_trained) throw std::runtime_error("the index is already trained");
        ivf.quantizer->reset();
        ivf.quantizer->add(ivf.nlist, centroids);
        ivf.quantizer->is_trained = true;
    });
}

int pv_faiss_ivf_add_assigned(pv_faiss_index *index, int64_t n, const float *x, const int64_t *lists) {
    return guarded([&] {
        faiss::IndexIVF &ivf = require_plain_ivf(unwrap(index));
        if (!ivf.is_trained) throw std::runtime_error("the index must be trained before vectors are added");
        check_list_numbers(ivf, n, lists);
        ivf.add_core(n, x, nullptr, lists);
    });
}

int pv_faiss_ivf_flat_list(const pv_faiss_index *index, int64_t list, int64_t *size, const float **vectors,
                           const int64_t **ids) {
    return guarded([&] {
        auto *ivf = dynamic_cast<const faiss::IndexIVFFlat *>(plain_ivf(unwrap(index)));
        if (ivf == nullptr || ivf->code_size != ivf->d * sizeof(float))
            throw std::runtime_error("not an IVF-Flat index");
        const faiss::InvertedLists *lists = ivf->invlists;
        if (dynamic_cast<const faiss::ArrayInvertedLists *>(lists) == nullptr &&
            dynamic_cast<const faiss::OnDiskInvertedLists *>(lists) == nullptr)
            throw std::runtime_error("the inverted lists are neither in memory nor memory-mapped");
        check_list_numbers(*ivf, 1, &list);
        *size = static_cast<int64_t>(lists->list_size(list));
        *vectors = reinterpret_cast<const float *>(lists->get_codes(list));
        *ids = lists->get_ids(list);
    });
}

int pv_faiss_ivfpq_codes(const pv_faiss_index *index) {
    const faiss::IndexIVFPQ *pq = plain_ivfpq(unwrap(index));
    return pq == nullptr ? 0 : static_cast<int>(pq->pq.M);
}

int pv_faiss_ivfpq_codebooks(const pv_faiss_index *index, float *out) {
    return guarded([&] {
        const faiss::IndexIVFPQ *pq = plain_ivfpq(unwrap(index));
        if (pq == nullptr || !pq->is_trained) throw std::runtime_error("not a trained IVF-PQ index with 8-bit codes");
        std::copy(pq->pq.centroids.begin(), pq->pq.centroids.end(), out);
    });
}

int pv_faiss_ivfpq_set_codebooks(pv_faiss_index *index, const float *codebooks) {
    return guarded([&] {
        faiss::IndexIVFPQ *pq = plain_ivfpq(unwrap(index));
        if (pq == nullptr) throw std::runtime_error("not an IVF-PQ index with 8-bit codes");
        if (pq->is_trained) throw std::runtime_error("the index is already trained");
        if (pq->quantizer->ntotal != static_cast<int64_t>(pq->nlist))
            throw std::runtime_error("the coarse centroids must be set first");
        std::copy(codebooks, codebooks + pq->pq.centroids.size(), pq->pq.centroids.begin());
        pq->precompute_table();
        pq->is_trained = true;
    });
}

int pv_faiss_ivfpq_add_codes(pv_faiss_index *index, int64_t n, const int64_t *lists, const uint8_t *codes) {
    return guarded([&] {
        faiss::IndexIVFPQ *pq = plain_ivfpq(unwrap(index));
        if (pq == nullptr || !pq->is_trained) throw std::runtime_error("not a trained IVF-PQ index with 8-bit codes");
        if (pq->direct_map.type != faiss::DirectMap::NoMap)
            throw std::runtime_error("codes cannot be added to an index with a direct map");
        check_list_numbers(*pq, n, lists);
        for (int64_t i = 0; i < n; i++) pq->invlists->add_entry(lists[i], pq->ntotal + i, codes + i * pq->code_size);
        pq->ntotal += n;
    });
}

}
