"""Times leave-one-out retrieval and k-means: pic2vec (release build) vs FAISS and scikit-learn.

On the same N x 512 float32 embeddings, in one run:
  1. leave-one-out Precision@k for k up to 100 (and mAP@R): `pic2vec evaluate` vs FAISS
     IndexFlatL2 batched search of every row (k + 1 neighbors, the query dropped) + numpy;
  2. k-means with 10 clusters: `pic2vec kmeans` vs scikit-learn KMeans, each with its default number of
     k-means++ starts (3 and n_init='auto' = 1), then with the same number of starts (1 and 3).
Uses --embeddings with --labels, else outputs/embeddings.npy + outputs/labels.npy when present, otherwise clustered Gaussian
data (10 classes, fixed seed). Both sides get the same threads (--threads, default 2).
The machine is shared: each side runs `--repeat` times, alternating, and the best time is kept.
`--simd avx2` (or generic) runs pic2vec's kernels at that level and holds the references
to the same instruction set (see simd_level.py); the level is printed first.
GFLOP/s counts the Gram-matrix products: n^2 d for pic2vec's symmetric pass (its multiply-adds
x 2 / 2), 2 n^2 d for FAISS's full search.

    swift build -c release --product pic2vec
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_search.py [--simd avx2]
"""
import simd_level  # noqa: F401  (first: sets the SIMD level before numpy and FAISS load)

import argparse
import json
import os
import subprocess
import tempfile
import time

import faiss
import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

KS = (1, 2, 5, 10, 20, 50, 100)


def dataset(rows, folder, embeddings=None, labels=None):
    if embeddings:
        return embeddings, labels, embeddings
    if os.path.exists("outputs/embeddings.npy") and os.path.exists("outputs/labels.npy"):
        return "outputs/embeddings.npy", "outputs/labels.npy", "outputs/embeddings.npy"
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(10, 512)).astype(np.float32)
    labels = rng.integers(0, 10, size=rows)
    x = np.maximum(centers[labels] * 0.35 + rng.normal(size=(rows, 512)), 0).astype(np.float32)
    np.save(f"{folder}/embeddings.npy", x)
    np.save(f"{folder}/labels.npy", labels.astype(np.int64))
    return f"{folder}/embeddings.npy", f"{folder}/labels.npy", f"synthetic clustered Gaussian ({rows} x 512, 10 classes, seed 0)"


def timed_json(command):
    started = time.perf_counter()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - started, json.loads(output)


def reference_precision(x, labels, threads):
    faiss.omp_set_num_threads(threads)
    started = time.perf_counter()
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    ids = np.empty((len(x), max(KS)), dtype=np.int64)
    for start in range(0, len(x), 4096):
        _, found = index.search(x[start:start + 4096], max(KS) + 1)
        rows = np.arange(start, start + len(found))
        keep = found != rows[:, None]
        # Drop the query itself (or the last neighbor if a duplicate pushed it out).
        keep[keep.all(axis=1), -1] = False
        ids[start:start + len(found)] = found[keep].reshape(len(found), -1)
    relevant = labels[ids] == labels[:, None]
    precision = {str(k): float(relevant[:, :k].mean()) for k in KS}
    return time.perf_counter() - started, precision


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/pic2vec")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--embeddings", help="N x d float32 .npy to use (with --labels)")
    parser.add_argument("--labels", help="int64 labels .npy of --embeddings")
    parser.add_argument("--jobs", default="loo,kmeans", help="which to time: loo, kmeans or both (default)")
    args = parser.parse_args()
    print(simd_level.describe())
    with tempfile.TemporaryDirectory() as folder:
        if bool(args.embeddings) != bool(args.labels):
            parser.error("--embeddings and --labels go together")
        embeddings, labels_path, source = dataset(args.rows, folder, args.embeddings, args.labels)
        x = np.load(embeddings)
        labels = np.load(labels_path)
        print(f"data: {source}: {x.shape[0]} x {x.shape[1]}; threads {args.threads}")
        threads = str(args.threads)
        ks = ",".join(map(str, KS))

        if "loo" in args.jobs.split(","):
            evaluate = [args.binary, "evaluate", "--embeddings", embeddings, "--labels", labels_path,
                        "--k", ks, "--json", "--threads", threads]
            ours_eval = ref_eval = ours_map_eval = float("inf")
            for _ in range(args.repeat):
                seconds, ours = timed_json(evaluate)
                ours_eval = min(ours_eval, seconds)
                with threadpool_limits(limits=args.threads):
                    seconds, ref_precision = reference_precision(x, labels, args.threads)
                ref_eval = min(ref_eval, seconds)
            seconds, ours_map = timed_json(evaluate + ["--map-at-r"])
            ours_map_eval = min(ours_map_eval, seconds)
            worst = max(abs(ours["precision"][k] - ref_precision[k]) for k in ref_precision)
            n, d = x.shape
            print(f"\nleave-one-out Precision@k, k = {ks} (best of {args.repeat})")
            print(f"  pic2vec evaluate:            {ours_eval:7.2f} s  {n * n * d / ours_eval / 1e9:6.1f} GFLOP/s"
                  f"   P@10 {ours['precision']['10']:.4f}")
            print(f"  FAISS IndexFlatL2 + numpy:   {ref_eval:7.2f} s  {2 * n * n * d / ref_eval / 1e9:6.1f} GFLOP/s"
                  f"   P@10 {ref_precision['10']:.4f}")
            print(f"  ratio {ours_eval / ref_eval:.2f}x   largest Precision@k difference {worst:.2e}")
            print(f"  pic2vec evaluate --map-at-r: {ours_map_eval:7.2f} s (one run)   mAP@R {ours_map['map_at_r']:.4f}")

        if "kmeans" in args.jobs.split(","):
            # Both defaults (pic2vec: 3 k-means++ starts; scikit-learn n_init="auto": 1), then the
            # same number of starts on both sides.
            for restarts, n_init in ((3, "auto"), (1, 1), (3, 3)):
                ours_km_wall = ref_km = float("inf")
                for _ in range(args.repeat):
                    seconds, result = timed_json([args.binary, "kmeans", "--embeddings", embeddings, "--k", "10",
                                                  "--restarts", str(restarts), "--seed", str(args.seed), "--json",
                                                  "--threads", threads])
                    if seconds < ours_km_wall:
                        ours_km_wall, ours_km = seconds, result
                    with threadpool_limits(limits=args.threads):
                        started = time.perf_counter()
                        reference = KMeans(n_clusters=10, n_init=n_init, random_state=args.seed).fit(x)
                        ref_km = min(ref_km, time.perf_counter() - started)
                print(f"\nk-means, 10 clusters, pic2vec --restarts {restarts} vs scikit-learn n_init={n_init!r} "
                      f"(best of {args.repeat})")
                print(f"  pic2vec kmeans: {ours_km_wall:6.2f} s wall ({ours_km['seconds']:.2f} s clustering)   "
                      f"inertia {ours_km['inertia']:.6e}")
                print(f"  scikit-learn:   {ref_km:6.2f} s                            inertia {reference.inertia_:.6e}")
                print(f"  ratio {ours_km_wall / ref_km:.2f}x wall ({ours_km['seconds'] / ref_km:.2f}x clustering)   "
                      f"inertia ratio {ours_km['inertia'] / reference.inertia_:.5f}")


if __name__ == "__main__":
    main()
