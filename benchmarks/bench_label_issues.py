#!/usr/bin/env python3
"""Label issues from embeddings (issue 25): `pic2vec label-issues` against cleanlab, in one run.

Takes an embedding set with its labels (e.g. `pic2vec embed` of the CIFAR-10 train images with a
pretrained EfficientNet-Lite0), optionally a random subset of `--rows` rows, flips `--share`
(default 2%) of the labels at random to another class, and asks both tools which labels are wrong:

- cleanlab: `find_label_issues` (its defaults) on out-of-sample probabilities from 5-fold
  cross-validated scikit-learn `LogisticRegression` (max_iter 1000) of the same embeddings;
  its time includes the cross-validation;
- pic2vec: `pic2vec label-issues --embeddings E --labels L --json` as a whole process
  (reading, normalizing, the all-pairs search, votes, confident learning, output).

Precision and recall are of the flagged set against the flipped rows (a flagged row whose label
was wrong in the original data counts against precision, for both tools alike). Run from the
repository root after `swift build -c release`:

    .venv/bin/python benchmarks/bench_label_issues.py --embeddings outputs/lite0-train.npy --rows 10000 --seed 1
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

PIC2VEC = os.path.abspath(".build/release/pic2vec")


def scores(flagged, flipped):
    hits = len(flagged & flipped)
    return hits / max(len(flagged), 1), hits / max(len(flipped), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", required=True, help="float32 .npy, one row per image")
    parser.add_argument("--labels", help="int64 .npy (default: <stem>.labels.npy)")
    parser.add_argument("--rows", type=int, help="a random subset of this many rows")
    parser.add_argument("--share", type=float, default=0.02, help="share of labels flipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="EfficientNet-Lite0 (ImageNet-pretrained)", help="named in the output")
    args = parser.parse_args()

    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    embeddings = np.load(args.embeddings).astype(np.float32)
    labels = np.load(args.labels or args.embeddings[: -len(".npy")] + ".labels.npy").astype(np.int64)
    rng = np.random.default_rng(args.seed)
    if args.rows and args.rows < len(labels):
        keep = np.sort(rng.choice(len(labels), args.rows, replace=False))
        embeddings, labels = embeddings[keep], labels[keep]
    n, classes = len(labels), int(labels.max()) + 1
    flipped = rng.choice(n, int(round(args.share * n)), replace=False)
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + rng.integers(1, classes, len(flipped))) % classes
    flipped = set(flipped.tolist())

    start = time.perf_counter()
    probabilities = cross_val_predict(LogisticRegression(max_iter=1000), embeddings, noisy, cv=5, method="predict_proba")
    cleanlab_flagged = set(np.flatnonzero(find_label_issues(noisy, probabilities)).tolist())
    cleanlab_seconds = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "e.npy"), embeddings)
        np.save(os.path.join(folder, "l.npy"), noisy)
        start = time.perf_counter()
        done = subprocess.run(
            [PIC2VEC, "label-issues", "--embeddings", "e.npy", "--labels", "l.npy", "--json"],
            cwd=folder, capture_output=True, text=True)
        pic2vec_seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"pic2vec label-issues failed: {done.stderr}")
    report = json.loads(done.stdout)
    pic2vec_flagged = {issue["row"] for issue in report["issues"]}
    assert len(pic2vec_flagged) == report["flagged"]

    print(f"{args.model}: {n} rows x {embeddings.shape[1]}, {classes} classes, {len(flipped)} labels flipped "
          f"({100 * args.share:g}%), seed {args.seed}")
    print("| tool | flagged | precision | recall | seconds |")
    print("|---|---:|---:|---:|---:|")
    for name, flagged, seconds in [
        ("cleanlab find_label_issues, 5-fold LogisticRegression", cleanlab_flagged, cleanlab_seconds),
        ("pic2vec label-issues", pic2vec_flagged, pic2vec_seconds),
    ]:
        precision, recall = scores(flagged, flipped)
        print(f"| {name} | {len(flagged)} | {precision:.3f} | {recall:.3f} | {seconds:.1f} |")
    print(f"time ratio cleanlab / pic2vec: {cleanlab_seconds / max(pic2vec_seconds, 1e-9):.1f}")


if __name__ == "__main__":
    main()
