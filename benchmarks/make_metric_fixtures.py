"""Writes the small fixtures that VectorSearchTests and EvaluationTests compare against.

Reference values come from FAISS (neighbors), numpy (retrieval metrics) and scikit-learn
(clustering scores). Run from the repository root: .venv/bin/python benchmarks/make_metric_fixtures.py
"""
import json
import os

import faiss
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

SEARCH = "Tests/VectorSearchTests/Fixtures"
EVALUATION = "Tests/EvaluationTests/Fixtures"


def clustered(rng, n, d, classes, spread):
    labels = rng.integers(0, classes, size=n)
    centers = rng.normal(size=(classes, d))
    return (centers[labels] * spread + rng.normal(size=(n, d))).astype(np.float32), labels.astype(np.int64)


def leave_one_out(index, x, k):
    """FAISS neighbors of every row among the others (search k + 1, drop the query)."""
    distances, ids = index.search(x, k + 1)
    keep = ids != np.arange(len(x))[:, None]
    return (ids[keep].reshape(len(x), -1)[:, :k], distances[keep].reshape(len(x), -1)[:, :k])


def search_fixtures(rng):
    x, labels = clustered(rng, 300, 24, 4, 0.4)
    np.save(f"{SEARCH}/points.npy", x)
    np.save(f"{SEARCH}/labels.npy", labels)
    flat = faiss.IndexFlatL2(x.shape[1])
    flat.add(x)
    ids, distances = leave_one_out(flat, x, 10)
    np.save(f"{SEARCH}/l2_ids.npy", ids.astype(np.int64))
    np.save(f"{SEARCH}/l2_distances.npy", distances.astype(np.float32))
    normalized = x / np.linalg.norm(x, axis=1, keepdims=True)
    inner = faiss.IndexFlatIP(x.shape[1])
    inner.add(normalized)
    ids, distances = leave_one_out(inner, normalized, 10)
    np.save(f"{SEARCH}/ip_ids.npy", ids.astype(np.int64))
    np.save(f"{SEARCH}/ip_distances.npy", distances.astype(np.float32))
    # mAP@R reference: full leave-one-out rankings from numpy.
    squared = (x.astype(np.float64) ** 2).sum(1)
    full = squared[:, None] + squared[None, :] - 2 * x.astype(np.float64) @ x.T.astype(np.float64)
    np.fill_diagonal(full, np.inf)
    order = np.argsort(full, axis=1, kind="stable")[:, :-1]
    with open(f"{SEARCH}/expected.json", "w") as f:
        json.dump({"map_at_r": map_at_r(order, labels)}, f, indent=1)


def map_at_r(order, labels):
    scores = []
    for q, row in enumerate(order):
        r = int((labels == labels[q]).sum()) - 1
        if r == 0:
            continue
        relevant = labels[row[:r]] == labels[q]
        precision = np.cumsum(relevant) / np.arange(1, r + 1)
        scores.append((precision * relevant).sum() / r)
    return float(np.mean(scores))


def evaluation_fixtures(rng):
    x, labels = clustered(rng, 200, 8, 5, 1.0)
    labels[:3] = 7  # a small class, and unbalanced classes overall
    squared = (x.astype(np.float64) ** 2).sum(1)
    full = squared[:, None] + squared[None, :] - 2 * x.astype(np.float64) @ x.T.astype(np.float64)
    np.fill_diagonal(full, np.inf)
    order = np.argsort(full, axis=1, kind="stable")[:, :-1]
    width = int(max((labels == l).sum() for l in labels)) - 1
    np.save(f"{EVALUATION}/neighbors.npy", order[:, :max(width, 50)].astype(np.int64))
    np.save(f"{EVALUATION}/labels.npy", labels)
    relevant = labels[order] == labels[:, None]
    sizes = np.array([(labels == l).sum() for l in labels])
    expected = {"precision": {}, "recall": {}, "per_class_precision_5": {}}
    for k in (1, 5, 10, 50):
        expected["precision"][str(k)] = float(relevant[:, :k].mean())
        expected["recall"][str(k)] = float((relevant[:, :k].sum(1) / (sizes - 1)).mean())
    for label in np.unique(labels):
        expected["per_class_precision_5"][str(int(label))] = float(relevant[labels == label, :5].mean())
    expected["map_at_r"] = map_at_r(order, labels)
    assignments = KMeans(n_clusters=6, n_init=1, random_state=0).fit_predict(x).astype(np.int64)
    np.save(f"{EVALUATION}/assignments.npy", assignments)
    expected["contingency"] = contingency_matrix(assignments, labels).tolist()
    expected["purity"] = float(contingency_matrix(assignments, labels).max(1).sum() / len(labels))
    expected["nmi"] = float(normalized_mutual_info_score(labels, assignments))
    expected["ari"] = float(adjusted_rand_score(labels, assignments))
    with open(f"{EVALUATION}/expected.json", "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    os.makedirs(SEARCH, exist_ok=True)
    os.makedirs(EVALUATION, exist_ok=True)
    rng = np.random.default_rng(20240601)
    search_fixtures(rng)
    evaluation_fixtures(rng)
