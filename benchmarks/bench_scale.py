"""Times building an IVF-PQ index: `pic2vec index` vs FAISS's Python API, same factory string and parameters.

On the same float32 embeddings (default: experiment 11's cached augmented set, about 1,000,000 x 1280),
in one run: `pic2vec index --embeddings E --normalize --type ivfpq --lists L --codes M --bits 8 [--opq]`
against faiss.index_factory(d, "[OPQM,]IVFL,PQMx8np") in Python (OPQ trained for 10 iterations on
both sides), trained on the same rows (spread
evenly: row i * N / S for S = min(N, max(64 L, 50000)), as pic2vec's IndexBuilder chooses them),
rows L2-normalized and added in batches of 65,536, both with --threads FAISS threads. The Python
side's time includes reading and normalizing the rows (as pic2vec's does), not importing modules.
Prints both times, the ratio (target <= 1.2) and checks both indexes give the same results on
1,000 rows: the overlap of their top-10s, and each one's recall@10 against exact search.

    swift build -c release --product pic2vec
    .venv/bin/python benchmarks/bench_scale.py [--embeddings outputs/11-embeddings-augmented-....npy]
"""
import simd_level  # noqa: F401  (first: sets the SIMD level before numpy and FAISS load)

import argparse
import glob
import os
import subprocess
import tempfile
import time

import faiss
import numpy as np


def reference_build(path, factory, lists, threads):
    faiss.omp_set_num_threads(threads)
    started = time.perf_counter()
    rows = np.load(path, mmap_mode="r")
    n, d = rows.shape

    def normalized(block):
        block = np.ascontiguousarray(block, dtype=np.float32)
        return block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)

    size = min(n, max(64 * lists, 50_000))
    sample = np.arange(n) if size >= n else (np.arange(size, dtype=np.int64) * n) // size
    index = faiss.index_factory(d, factory, faiss.METRIC_L2)
    if factory.startswith("OPQ"):
        # pic2vec trains its OPQ rotations for VectorIndex.rotationIterations (10) iterations.
        faiss.downcast_VectorTransform(faiss.downcast_index(index).chain.at(0)).niter = 10
    index.train(normalized(rows[sample]))
    for start in range(0, n, 65_536):
        index.add(normalized(rows[start:start + 65_536]))
    return time.perf_counter() - started, index, normalized(rows[: 1000])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simd", choices=simd_level.LEVELS, help="kernel level (see simd_level.py)")
    parser.add_argument("--embeddings", help="float32 .npy (default: experiment 11's augmented set)")
    parser.add_argument("--lists", type=int, default=1024)
    parser.add_argument("--codes", type=int, default=32)
    parser.add_argument("--opq", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pic2vec", default=".build/release/pic2vec")
    args = parser.parse_args()
    path = args.embeddings or max(glob.glob("outputs/11-embeddings-augmented-*.npy"), key=os.path.getsize)
    factory = (f"OPQ{args.codes}," if args.opq else "") + f"IVF{args.lists},PQ{args.codes}x8np"
    shape = np.load(path, mmap_mode="r").shape
    print(simd_level.describe())
    print(f"{path}: {shape[0]} x {shape[1]}, {factory}, {args.threads} threads")

    with tempfile.TemporaryDirectory() as folder:
        output = f"{folder}/pic2vec.index"
        command = [args.pic2vec, "index", "--embeddings", path, "--normalize", "--type", "ivfpq",
                   "--lists", str(args.lists), "--codes", str(args.codes), "--bits", "8", "--probes", "16",
                   "--threads", str(args.threads), "--output", output] + (["--opq"] if args.opq else [])
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True)
        ours = time.perf_counter() - started
        theirs, reference, queries = reference_build(path, factory, args.lists, args.threads)

        built = faiss.read_index(output)
        for index in (built, reference):
            faiss.extract_index_ivf(index).nprobe = 16
        _, a = built.search(queries, 10)
        _, b = reference.search(queries, 10)
        agreement = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)])
        truth = exact_neighbors(path, queries)
        recall = [np.mean([len(set(x) & set(y)) / 10 for x, y in zip(found, truth)]) for found in (a, b)]
    print(f"pic2vec index: {ours:.1f} s   FAISS Python: {theirs:.1f} s   ratio {ours / theirs:.2f} (target <= 1.2)")
    print(f"same top-10 on 1000 rows (nprobe 16): {agreement:.4f}; pic2vec's index read by faiss.read_index: {built.ntotal} rows")
    print(f"recall@10 against exact search (same rows, nprobe 16): pic2vec {recall[0]:.4f}, FAISS Python {recall[1]:.4f}")


def exact_neighbors(path, queries, k=10):
    """The exact top-k of each query among all rows of `path`, L2-normalized, a block at a time."""
    rows = np.load(path, mmap_mode="r")
    heap = faiss.ResultHeap(len(queries), k)
    for start in range(0, len(rows), 65_536):
        block = np.array(rows[start:start + 65_536], dtype=np.float32)
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        distances, ids = faiss.knn(queries, block, k)
        heap.add_result(distances, ids + start)
    heap.finalize()
    return heap.I


if __name__ == "__main__":
    main()
