"""Writes the label-issue fixture of EvaluationTests: neighbour votes and confident learning.

300 points in 4 noisy clusters (16-d, L2-normalized), 15 labels flipped to another class. Each
point's K = 8 nearest others by cosine similarity (numpy, leave-one-out) vote with weight
exp((s - s_nearest) / TEMPERATURE), plus SMOOTHING per class: the probabilities NeighborVotes must
reproduce. cleanlab then gives, on those probabilities, the per-class thresholds, the confident
joint (raw and calibrated) and `num_label_issues(estimation_method="off_diagonal_calibrated")`.
Run from the repository root: .venv/bin/python benchmarks/make_label_issue_fixtures.py
"""
import json

import numpy as np
from cleanlab.count import compute_confident_joint, get_confident_thresholds, num_label_issues

EVALUATION = "Tests/EvaluationTests/Fixtures"
K = 8
TEMPERATURE = 0.05
SMOOTHING = 0.001


def main():
    rng = np.random.default_rng(25)
    n, d, classes = 300, 16, 4
    truth = rng.integers(0, classes, n)
    points = rng.normal(size=(classes, d))[truth] * 0.8 + rng.normal(size=(n, d))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = truth.copy()
    flipped = rng.choice(n, 15, replace=False)
    labels[flipped] = (truth[flipped] + rng.integers(1, classes, 15)) % classes

    similarity = points @ points.T
    np.fill_diagonal(similarity, -np.inf)
    ids = np.argsort(-similarity, axis=1, kind="stable")[:, :K]
    sims = np.take_along_axis(similarity, ids, 1)
    probabilities = np.full((n, classes), SMOOTHING)
    weights = np.exp((sims - sims[:, :1]) / TEMPERATURE)
    for i in range(n):
        np.add.at(probabilities[i], labels[ids[i]], weights[i])
    probabilities /= probabilities.sum(1, keepdims=True)

    joint = compute_confident_joint(labels, probabilities, calibrate=False)
    calibrated = compute_confident_joint(labels, probabilities, calibrate=True)
    count = int(num_label_issues(labels, probabilities, estimation_method="off_diagonal_calibrated"))
    with open(f"{EVALUATION}/label_issues.json", "w") as f:
        json.dump({
            "k": K, "temperature": TEMPERATURE, "smoothing": SMOOTHING, "classes": classes,
            "labels": labels.tolist(), "flipped": sorted(flipped.tolist()), "ids": ids.ravel().tolist(),
            "similarities": sims.astype(np.float32).ravel().tolist(), "probabilities": probabilities.ravel().tolist(),
            "thresholds": get_confident_thresholds(labels, probabilities).tolist(), "joint": joint.tolist(),
            "calibrated": calibrated.tolist(), "issue_count": count,
        }, f)
    print(f"{count} estimated issues, {len(flipped)} flipped; joint {joint.tolist()}, calibrated {calibrated.tolist()}")


if __name__ == "__main__":
    main()
