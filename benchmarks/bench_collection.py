#!/usr/bin/env python3
"""A collection that lives (issue 26): `pic2vec add` against a full rebuild, measured in one run.

On the CIFAR-10 train images (default 50,000 JPEGs) with a pretrained EfficientNet-Lite0:

1. builds a collection of all but `--add` images (held back evenly from every class) the way a
   user does, each step timed: `pic2vec embed`, `index --normalize` (flat, re-ranked), the first
   `search` (prepares the re-ranking lists), `tsne` (the map) and `kmeans` (its colours);
2. times `pic2vec add` of the held-back images (the first change: it also hashes every file);
3. removes `--remove` random images, then checks that the flat index answers exactly as an
   index built from scratch on the same rows (`pic2vec embed` of the added images, FAISS flat
   search of every row, neighbours compared by file path);
4. reports the 10-NN class agreement, in the map, of the placed points against the old ones;
5. IVF: a collection of 90% of the images (IVF, 4 sqrt(N) lists) gets the other 10% added; its
   recall@10 (2,000 queries, exact neighbours from FAISS flat) against an IVF index built from
   scratch on all of them.

FAISS (faiss-cpu from PyPI) is only the reference here. Run from the repository root after
`swift build -c release`:

    .venv/bin/python benchmarks/bench_collection.py --weights ../shared/weights/efficientnet-lite0-57934424.pth
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

import faiss
import numpy as np

PIC2VEC = os.path.abspath(".build/release/pic2vec")


def run(args, cwd, stages=False):
    start = time.perf_counter()
    done = subprocess.run([PIC2VEC] + args, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"pic2vec {' '.join(args)} failed:\n{done.stderr}")
    if stages:
        print("\n".join(line for line in done.stderr.splitlines() if line.startswith("  ") and line.endswith(" s")))
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def link_folder(folder, files):
    """A class-folder tree of symbolic links to `files` (class, path) pairs."""
    for klass, path in files:
        os.makedirs(os.path.join(folder, klass), exist_ok=True)
        os.symlink(path, os.path.join(folder, klass, os.path.basename(path)))


def split(data, held_share):
    """Every image as (class, absolute path) in ImageFolder's order, and the held-back ones."""
    kept, held = [], []
    for klass in sorted(os.listdir(data)):
        names = sorted(os.listdir(os.path.join(data, klass)))
        step = round(1 / held_share)
        for i, name in enumerate(names):
            entry = (klass, os.path.abspath(os.path.join(data, klass, name)))
            (held if i % step == step - 1 else kept).append(entry)
    return kept, held


def normalized(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def folder_order(folder):
    """Paths of an image folder in ImageFolder's row order (sorted classes, sorted names)."""
    return [os.path.join(folder, k, n) for k in sorted(os.listdir(folder)) for n in sorted(os.listdir(os.path.join(folder, k)))]


def embedded_rows(work):
    """Each image's normalized row, by absolute path, from `base.npy` and `new.npy` in `work`."""
    rows = {}
    for name, folder in [("base.npy", "base"), ("new.npy", "new")]:
        vectors = normalized(np.load(os.path.join(work, name)))
        for path, vector in zip(folder_order(os.path.join(work, folder)), vectors):
            rows[os.path.abspath(path)] = vector
    return rows


def collection_paths(index):
    with open(index + ".files.json") as f:
        return [entry["path"] for entry in json.load(f)["files"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/cifar10-jpeg/train")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--preset", default="cifar")
    parser.add_argument("--add", type=int, default=500)
    parser.add_argument("--remove", type=int, default=200)
    parser.add_argument("--work", default="/tmp/pic2vec-bench-collection")
    parser.add_argument("--skip-ivf", action="store_true")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    model = ["--model", "efficientnet-lite0", "--weights", os.path.abspath(args.weights), "--preset", args.preset]
    total = sum(len(os.listdir(os.path.join(args.data, k))) for k in os.listdir(args.data))
    kept, held = split(args.data, args.add / total)
    link_folder(os.path.join(args.work, "base"), kept)
    link_folder(os.path.join(args.work, "new"), held)
    cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    print(f"CPU: {cpu}, {os.cpu_count()} cores; EfficientNet-Lite0 (pretrained, {os.path.basename(args.weights)}), preset {args.preset}")
    print(f"collection: {len(kept)} images; adding {len(held)}")

    w = args.work
    steps = {}
    steps["embed"], _ = run(["embed", "--data", "base", *model, "--output", "base.npy"], w)
    steps["index"], _ = run(["index", "--embeddings", "base.npy", "--normalize", "--output", "x.index"], w)
    steps["re-ranking preparation (first search)"], _ = run(["search", "--index", "x.index", "--query-index", "0", "-k", "10"], w)
    steps["t-SNE layout"], _ = run(["tsne", "--embeddings", "base.npy", "--normalize", "--output", "tsne-train.npy"], w)
    steps["k-means clusters"], _ = run(["kmeans", "--embeddings", "base.npy", "--normalize", "--output", "kmeans-assignments.npy"], w)
    rebuild = sum(steps.values())
    for name, seconds in steps.items():
        print(f"  build {name}: {seconds:.1f} s")
    print(f"full build of {len(kept)} images: {rebuild:.1f} s")
    added, line = run(["add", "--index", "x.index", "--data", "new"], w, stages=True)
    print(f"first pic2vec add of {len(held)} images (lists and hashes every file of the collection): {added:.1f} s = {100 * added / rebuild:.2f}% of the build")
    print(f"  {line}")
    search_after, _ = run(["search", "--index", "x.index", "--query-index", "0", "-k", "10"], w)
    print(f"  first search after the add (re-ranking lists: first search replayed, second searched): {search_after:.1f} s")
    # A later add: 500 images of the test split.
    test = os.path.join(os.path.dirname(os.path.abspath(args.data)), "test")
    later = [(k, os.path.join(test, k, n)) for k in sorted(os.listdir(test)) for n in sorted(os.listdir(os.path.join(test, k)))[: args.add // 10]]
    link_folder(os.path.join(w, "later"), later)
    added, line = run(["add", "--index", "x.index", "--data", "later"], w, stages=True)
    print(f"later pic2vec add of {len(later)} images: {added:.1f} s = {100 * added / rebuild:.2f}% of the build (target <= 3%)")
    print(f"  {line}")
    run(["remove", "--index", "x.index", "--path", *[os.path.join("later", k, os.path.basename(p)) for k, p in later]], w)

    # Exactness of the flat index after adds and removes.
    paths = collection_paths(os.path.join(w, "x.index"))
    removed = random.Random(0).sample(paths, args.remove)
    removing, line = run(["remove", "--index", "x.index", "--path", *removed], w)
    print(f"pic2vec remove of {args.remove} images: {removing:.1f} s; {line}")
    run(["embed", "--data", "new", *model, "--output", "new.npy"], w)
    rows = embedded_rows(w)
    paths = collection_paths(os.path.join(w, "x.index"))
    scratch = faiss.IndexFlatL2(next(iter(rows.values())).shape[0])
    scratch.add(np.stack([rows[p] for p in paths]).astype(np.float32))
    living = faiss.read_index(os.path.join(w, "x.index"))
    queries = np.stack([rows[p] for p in paths]).astype(np.float32)
    d1, i1 = living.search(queries, 11)
    d2, i2 = scratch.search(queries, 11)
    same = np.array([list(a) == list(b) for a, b in zip(i1, i2)])
    # Rows whose lists differ only in the order of neighbours at equal distances (within 1e-6).
    ties = np.array([s or (set(a) == set(b) and np.allclose(x, y, atol=1e-6)) or np.allclose(x, y, atol=1e-6) for s, a, b, x, y in zip(same, i1, i2, d1, d2)])
    print(f"flat index after adds and removing {args.remove}: identical 10 neighbours (+ self) for {same.mean():.4f} of {len(paths)} rows, identical up to ties (distances within 1e-6) for {ties.mean():.4f}; max distance difference {np.abs(d1 - d2).max():.2e}")

    # The map: class agreement of each point's 10 nearest map points.
    layout = np.load(os.path.join(w, "tsne-train.npy")).astype(np.float32)
    labels = np.load(os.path.join(w, "x.index.labels.npy"))
    flat2 = faiss.IndexFlatL2(2)
    flat2.add(layout)
    _, near = flat2.search(layout, 11)
    agreement = (labels[near[:, 1:]] == labels[:, None]).mean(axis=1)
    placed = np.array([p.startswith(os.path.join(os.path.abspath(w), "new")) for p in paths])
    print(f"map: 10-NN class agreement of placed points {agreement[placed].mean():.3f} ({placed.sum()}), old points {agreement[~placed].mean():.3f} ({(~placed).sum()})")

    if args.skip_ivf:
        return
    # IVF after adding 10%.
    iw = os.path.join(w, "ivf")
    os.makedirs(iw)
    kept90, held10 = split(args.data, 0.1)
    link_folder(os.path.join(iw, "base"), kept90)
    link_folder(os.path.join(iw, "new"), held10)
    run(["embed", "--data", "base", *model, "--output", "base.npy"], iw)
    run(["index", "--embeddings", "base.npy", "--normalize", "--type", "ivf", "--output", "x.index"], iw)
    seconds, line = run(["add", "--index", "x.index", "--data", "new"], iw)
    print(f"IVF: pic2vec add of {len(held10)} images to {len(kept90)}: {seconds:.1f} s; {line}")
    run(["embed", "--data", "new", *model, "--output", "new.npy"], iw)
    run(["index", "--embeddings", "base.npy", "new.npy", "--normalize", "--type", "ivf", "--output", "scratch.index"], iw)
    rows = embedded_rows(iw)
    living_paths = collection_paths(os.path.join(iw, "x.index"))
    scratch_paths = [os.path.abspath(p) for p in folder_order(os.path.join(iw, "base")) + folder_order(os.path.join(iw, "new"))]
    everything = np.stack([rows[p] for p in living_paths]).astype(np.float32)
    exact = faiss.IndexFlatL2(everything.shape[1])
    exact.add(everything)
    chosen = np.random.default_rng(0).choice(len(living_paths), 2000, replace=False)
    _, truth = exact.search(everything[chosen], 10)
    truth_paths = [{living_paths[j] for j in row} for row in truth]
    for name, paths_of in [("after the add", living_paths), ("built from scratch", scratch_paths)]:
        index = faiss.read_index(os.path.join(iw, "x.index" if paths_of is living_paths else "scratch.index"))
        index.nprobe = 16
        _, found = index.search(everything[chosen], 10)
        recall = np.mean([len({paths_of[j] for j in row if j >= 0} & t) / 10 for row, t in zip(found, truth_paths)])
        print(f"IVF {name}: recall@10 {recall:.4f} ({index.nlist} lists, nprobe 16)")


if __name__ == "__main__":
    main()
