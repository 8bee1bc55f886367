"""t-SNE of 50,000 normalized embeddings: openTSNE vs `pic2vec tsne`, in one run.

Both results are scored by the same code here: the exact KL divergence KL(P || Q) with P from
exact 90-NN (faiss) and per-point perplexity calibration (perplexity 30), Q over all n^2 pairs;
10-NN preservation (share of each point's 10 nearest neighbors in embedding space that stay among
its 10 nearest in 2-D); 10-NN class agreement in 2-D where labels exist.

Data: outputs/embeddings.npy (+ outputs/labels.npy) if present, otherwise a fixed-seed synthetic
set shaped like random-init ResNet features (10 latent clusters in 32-D, a random linear map to
512-D, noise, ReLU), which the report names.

    .venv/bin/python benchmarks/bench_tsne.py [--pic2vec .build/release/pic2vec] [--n 50000]

openTSNE runs its defaults (250 early-exaggeration + 500 iterations); pic2vec its own (250 + 750).
`--extra "--iterations 750"` compares at openTSNE's iteration count instead. `--simd avx2` (or
generic) runs pic2vec's kernels at that level and holds the references to the same instruction
set (see simd_level.py); the level is printed first.
"""
import simd_level  # noqa: F401  (first: sets the SIMD level before numpy loads)

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

THREADS = 2


def synthetic(n, d=512, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(10, 32)) * 1.5
    labels = rng.integers(0, 10, n)
    z = centers[labels] + rng.normal(size=(n, 32))
    w = rng.normal(size=(32, d)) / np.sqrt(32)
    x = np.maximum(z @ w + 0.5 * rng.normal(size=(n, d)) + 0.3, 0).astype(np.float32)
    return x, labels


def load(n):
    if os.path.exists("outputs/embeddings.npy"):
        x = np.load("outputs/embeddings.npy").astype(np.float32)[:n]
        labels = np.load("outputs/labels.npy")[:n] if os.path.exists("outputs/labels.npy") else None
        return x, labels, "outputs/embeddings.npy"
    x, labels = synthetic(n)
    return x, labels, "synthetic (seed 0, random-init-network-like, 10 latent clusters)"


def exact_knn(x, k):
    import faiss
    faiss.omp_set_num_threads(THREADS)
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(np.ascontiguousarray(x, dtype=np.float32))
    distances, ids = index.search(np.ascontiguousarray(x, dtype=np.float32), k + 1)
    # Drop each point itself (the nearest, or a duplicate at distance 0 in its place).
    keep = ids != np.arange(len(x))[:, None]
    keep[keep.sum(1) > k, -1] = False
    return distances[keep].reshape(len(x), k), ids[keep].reshape(len(x), k)


def affinities(x, perplexity=30.0):
    """Symmetric sparse P (sums to 1) from exact 3*perplexity-NN and bisection on each bandwidth."""
    import scipy.sparse as sp
    k = min(len(x) - 1, int(3 * perplexity))
    d2, ids = exact_knn(x, k)
    d2 = d2.astype(np.float64) - d2[:, :1]
    target = np.log(perplexity)
    beta = np.ones(len(x))
    low = np.zeros(len(x))
    high = np.full(len(x), np.inf)
    for _ in range(200):
        w = np.exp(-beta[:, None] * d2)
        s = w.sum(1)
        entropy = np.log(s) + beta * (w * d2).sum(1) / s
        up = entropy > target
        low = np.where(up, beta, low)
        high = np.where(up, high, beta)
        beta = np.where(up, np.where(np.isinf(high), beta * 2, (beta + high) / 2), (beta + low) / 2)
    w = np.exp(-beta[:, None] * d2)
    w /= w.sum(1, keepdims=True)
    n = len(x)
    p = sp.csr_matrix((w.ravel(), ids.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    p = p + p.T
    return (p / p.sum()).tocsr()


def kl_divergence(p, y):
    """Exact KL(P || Q): Q normalized over all n^2 pairs (float32 blocks, float64 sums)."""
    y64 = y.astype(np.float64)
    y32 = y.astype(np.float32)
    sq = (y32 ** 2).sum(1)
    z = 0.0
    for start in range(0, len(y32), 1000):
        d2 = y32[start:start + 1000] @ (-2 * y32.T)
        d2 += sq[start:start + 1000, None]
        d2 += sq[None, :]
        np.maximum(d2, 0, out=d2)
        d2 += 1
        np.reciprocal(d2, out=d2)
        z += float(d2.sum(dtype=np.float64)) - len(d2)
    coo = p.tocoo()
    w = 1 + ((y64[coo.row] - y64[coo.col]) ** 2).sum(1)
    return float((coo.data * np.log(coo.data * w * z)).sum())


def knn_2d(y, k):
    return exact_knn(np.ascontiguousarray(y, dtype=np.float32), k)[1]


def preservation(high_ids, y, k=10):
    low = knn_2d(y, k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(high_ids[:, :k], low)]))


def agreement(labels, y, k=10):
    return float((labels[knn_2d(y, k)] == labels[:, None]).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pic2vec", default=".build/release/pic2vec")
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--extra", default="", help="extra arguments for pic2vec tsne")
    args = parser.parse_args()
    print(simd_level.describe(), flush=True)

    x, labels, source = load(args.n)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    print(f"data: {source}, {x.shape[0]} x {x.shape[1]}, L2-normalized", flush=True)

    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(THREADS):
        path = os.path.join(tmp, "emb.npy")
        np.save(path, x)

        from openTSNE import TSNE
        start = time.perf_counter()
        y_ref = np.asarray(TSNE(perplexity=30, n_jobs=THREADS, random_state=0).fit(x))
        t_ref = time.perf_counter() - start
        print(f"openTSNE: {t_ref:.1f} s", flush=True)

        out = os.path.join(tmp, "xy.npy")
        command = [args.pic2vec, "tsne", "--embeddings", path, "--perplexity", "30", "--seed", "0",
                   "--output", out] + args.extra.split()
        start = time.perf_counter()
        subprocess.run(command, check=True)
        t_ours = time.perf_counter() - start
        y_ours = np.load(out)
        print(f"pic2vec tsne: {t_ours:.1f} s", flush=True)

        p = affinities(x)
        _, high = exact_knn(x, 10)
        rows = []
        for name, y, t in [("openTSNE", y_ref, t_ref), ("pic2vec", y_ours, t_ours)]:
            rows.append((name, t, kl_divergence(p, y), preservation(high, y),
                         agreement(labels, y) if labels is not None else float("nan")))

    print(f"\n{'':10} {'wall s':>8} {'KL':>8} {'10-NN kept':>11} {'class agr.':>11}")
    for name, t, kl, kept, agr in rows:
        print(f"{name:10} {t:8.1f} {kl:8.4f} {kept:11.4f} {agr:11.4f}")
    (_, t0, kl0, kept0, _), (_, t1, kl1, kept1, _) = rows
    print(f"{'ratio':10} {t1 / t0:8.3f} {kl1 / kl0:8.4f} {kept1 / kept0:11.4f}   (pic2vec / openTSNE)")
    print(f"targets: wall <= 0.5 ({'met' if t1 / t0 <= 0.5 else 'MISSED'}), "
          f"KL <= 1.02 ({'met' if kl1 / kl0 <= 1.02 else 'MISSED'}), "
          f"10-NN kept >= 1 ({'met' if kept1 >= kept0 else 'MISSED'})")


if __name__ == "__main__":
    sys.exit(main())
