"""Checks that FAISS index files cross between pic2vec and Python FAISS both ways.

1. `pic2vec index` writes a file; faiss.read_index opens it and returns the neighbors that
   `pic2vec search --json` prints.
2. Python writes an index; `pic2vec search` reads it and returns FAISS's neighbors.

    .venv/bin/python benchmarks/check_search_interop.py [--binary .build/debug/pic2vec]
"""
import argparse
import json
import subprocess
import sys
import tempfile

import faiss
import numpy as np


def pic2vec_neighbors(binary, index, query, k):
    output = subprocess.run([binary, "search", "--index", index, "--query-index", str(query), "-k", str(k), "--json"],
                            check=True, capture_output=True, text=True).stdout
    return [hit["id"] for hit in json.loads(output)["neighbors"]]


def python_neighbors(index, query, k):
    vector = index.reconstruct(query).reshape(1, -1)
    _, ids = index.search(vector, k + 1)
    return [int(i) for i in ids[0] if i != query][:k]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/pic2vec")
    args = parser.parse_args()
    x = np.load("Tests/VectorSearchTests/Fixtures/points.npy")
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/emb.npy", x)
        for kind in ("flat", "hnsw"):
            path = f"{folder}/{kind}.index"
            subprocess.run([args.binary, "index", "--embeddings", f"{folder}/emb.npy", "--type", kind, "--output", path],
                           check=True, capture_output=True)
            index = faiss.read_index(path)
            for query in (0, 42, 299):
                ours, theirs = pic2vec_neighbors(args.binary, path, query, 8), python_neighbors(index, query, 8)
                failures += ours != theirs
                print(f"pic2vec-written {kind} index, query {query}: {'same' if ours == theirs else 'DIFFERENT'} neighbors")
        written = faiss.IndexFlatL2(x.shape[1])
        written.add(x)
        faiss.write_index(written, f"{folder}/python.index")
        for query in (3, 150):
            ours, theirs = pic2vec_neighbors(args.binary, f"{folder}/python.index", query, 8), python_neighbors(written, query, 8)
            failures += ours != theirs
            print(f"Python-written flat index, query {query}: {'same' if ours == theirs else 'DIFFERENT'} neighbors")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
