"""Recall@10 and bytes per vector of FAISS index factory strings on an embedding file (FAISS's Python API).

The exploration behind experiment 11's choice of IVF-PQ variants: rows L2-normalized (all-zero rows kept at
zero), 1,000 of them drawn by seed 0 as queries, each left out of its own results, recall@10 against exact
search; trained on 65,536 rows spread evenly over the file; OPQ rotations trained for 10 iterations as pic2vec
does; IVF indexes searched at nprobe 16, 64 and 256; bytes per vector = the written index file over the rows.

    .venv/bin/python benchmarks/pq_variants.py outputs/11-embeddings-augmented-*.npy 1000000 \
        "IVF1024,PQ40x8np" "OPQ40,IVF1024,PQ40x8np" "OPQ48_192,IVF1024,PQ48x8np" "IVF1024,PQ32+16"

An argument ending in `.index` is an index file over the same rows (one `pic2vec index` wrote): it is read and
measured instead of built.
"""
import os, sys, tempfile, time

import faiss
import numpy as np

scratch = os.path.join(tempfile.mkdtemp(), "x.index")
path, n = sys.argv[1], int(sys.argv[2])
x = np.load(path, mmap_mode="r")[:n].astype("float32")
x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
rng = np.random.default_rng(0)
qid = rng.choice(n, 1000, replace=False)
q = x[qid]
flat = faiss.IndexFlatL2(x.shape[1]); flat.add(x)
_, truth = flat.search(q, 11)
truth = [[t for t in row if t != i][:10] for row, i in zip(truth, qid)]
del flat
train = x[np.linspace(0, n - 1, 65536).astype(int)]
for spec in sys.argv[3:]:
    t = time.time()
    if spec.endswith(".index"):
        # An index file written elsewhere (e.g. by pic2vec index) over the same rows: measured, not built.
        index, build, size = faiss.read_index(spec), 0.0, os.path.getsize(spec) / n
    else:
        index = faiss.index_factory(x.shape[1], spec)
        try:
            faiss.downcast_VectorTransform(faiss.downcast_index(index).chain.at(0)).niter = 10
        except Exception:
            pass
        index.train(train); index.add(x)
        build = time.time() - t
        faiss.write_index(index, scratch)
        size = os.path.getsize(scratch) / n
    for probe in ([16, 64, 256] if faiss.try_extract_index_ivf(index) else [None]):
        if probe: faiss.ParameterSpace().set_index_parameter(index, "nprobe", probe)
        _, found = index.search(q, 11)
        r = np.mean([len(set([f for f in row if f != i][:10]) & set(tr)) / 10 for row, i, tr in zip(found, qid, truth)])
        print(f"{spec:28s} nprobe={probe} recall@10 {r:.3f}  {size:.1f} B/vector  build {build:.0f} s", flush=True)
