"""Writes the fixtures of the duplicate search (VectorSearchTests).

Duplicates: 200 L2-normalized 16-d points, some of them planted exact copies (same content key) and
near copies (small noise), searched by FAISS IndexFlatL2 (leave-one-out within the set, and the last
60 rows against the first 140), linked at squared L2 <= THRESHOLD or equal keys, grouped by
union-find: the reference for DuplicateSearch. Label noise: the k = 10 nearest of
Tests/EvaluationTests/Fixtures/neighbors.npy voted by labels.npy.
Run from the repository root: .venv/bin/python benchmarks/make_duplicate_fixtures.py
"""
import json

import faiss
import numpy as np

SEARCH = "Tests/VectorSearchTests/Fixtures"
THRESHOLD = 0.02
K = 10
SPLIT = 140


def normalized(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def components(count, links):
    parent = list(range(count))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[find(a)] = find(b)
    groups = {}
    for i in range(count):
        groups.setdefault(find(i), []).append(i)
    found = [sorted(g) for g in groups.values() if len(g) >= 2]
    return sorted(found, key=lambda g: (-len(g), g[0]))


def key_links(keys_a, keys_b=None):
    first = {}
    links = []
    for row, key in enumerate(keys_a):
        if keys_b is None and key in first:
            links.append((first[key], row))
        first.setdefault(key, row)
    if keys_b is not None:
        links = [(len(keys_a) + q, first[key]) for q, key in enumerate(keys_b) if key in first]
    return links


def main():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(200, 16)).astype(np.float32)
    keys = [f"image-{i}" for i in range(200)]
    # exact copies (a triple and pairs, one across the split), near copies at growing noise
    for copy, source in [(10, 3), (11, 3), (50, 20), (170, 30), (190, 120)]:
        x[copy] = x[source]
        keys[copy] = keys[source]
    for copy, source, noise in [(60, 5, 0.01), (61, 60, 0.01), (80, 7, 0.03), (150, 40, 0.02), (160, 41, 0.2), (175, 100, 0.02)]:
        x[copy] = x[source] + noise * rng.normal(size=16)
    x = normalized(x)
    x[[10, 11]] = x[3]
    x[50], x[170], x[190] = x[20], x[30], x[120]

    index = faiss.IndexFlatL2(16)
    index.add(x)
    distances, ids = index.search(x, K + 1)
    links = [(q, j) for q in range(200) for j, d in zip(ids[q], distances[q]) if j != q and d <= THRESHOLD]
    within = components(200, links + key_links(keys))

    reference = faiss.IndexFlatL2(16)
    reference.add(x[:SPLIT])
    distances, ids = reference.search(x[SPLIT:], K)
    links = [(SPLIT + q, j) for q in range(200 - SPLIT) for j, d in zip(ids[q], distances[q]) if d <= THRESHOLD]
    across = components(200, links + key_links(keys[:SPLIT], keys[SPLIT:]))
    across = [[[0, i] if i < SPLIT else [1, i - SPLIT] for i in g] for g in across]

    np.save(f"{SEARCH}/duplicates_points.npy", x)
    with open(f"{SEARCH}/duplicates.json", "w") as f:
        json.dump({"threshold": THRESHOLD, "k": K, "split": SPLIT, "keys": keys,
                   "within": [[[0, i] for i in g] for g in within], "across": across}, f, indent=1)

    print(f"within: {len(within)} groups {within}; across: {len(across)} groups")


if __name__ == "__main__":
    main()
