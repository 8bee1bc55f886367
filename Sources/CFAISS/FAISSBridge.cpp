// The C functions declared in CFAISS.h, each a thin try/catch around FAISS's C++ API.
#include "CFAISS.h"

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <algorithm>

#include <exception>
#include <string>

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

int pv_faiss_index_reconstruct(pv_faiss_index *index, int64_t key, float *out) {
    return guarded([&] {
        if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(unwrap(index))) {
            if (ivf->direct_map.type == faiss::DirectMap::NoMap) {
                ivf->make_direct_map(true);
            }
        }
        unwrap(index)->reconstruct(key, out);
    });
}

int pv_faiss_write_index(const pv_faiss_index *index, const char *path) {
    return guarded([&] { faiss::write_index(unwrap(index), path); });
}

int pv_faiss_read_index(const char *path, pv_faiss_index **out) {
    return guarded([&] { *out = wrap(faiss::read_index(path)); });
}

}
