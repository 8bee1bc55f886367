"""Writes the small seed inputs under fuzz/seeds/<target> that fuzz/fuzz.sh starts from.

Run with the project's Python: .venv/bin/python fuzz/make_seeds.py
"""

import hashlib
import io
import json
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image

SEEDS = Path(__file__).resolve().parent / "seeds"


def save(target, name, data):
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def main():
    y, x = np.mgrid[0:12, 0:16]
    rgb = Image.fromarray(np.stack([x * 16, y * 20, (x * y) % 256], axis=-1).astype(np.uint8))
    save("image", "rgb.jpg", encoded(rgb, "JPEG", quality=80))
    save("image", "progressive.jpg", encoded(rgb, "JPEG", quality=80, progressive=True))
    save("image", "gray.jpg", encoded(rgb.convert("L"), "JPEG"))
    save("image", "cmyk.jpg", encoded(rgb.convert("CMYK"), "JPEG"))
    save("image", "rgb.png", encoded(rgb, "PNG"))
    save("image", "palette.png", encoded(rgb.convert("P"), "PNG"))
    save("image", "rgba.png", encoded(rgb.convert("RGBA"), "PNG"))
    save("image", "gray16.png", encoded(Image.fromarray((x * 4000).astype(np.uint16)), "PNG"))
    save("image", "gray-alpha.png", encoded(rgb.convert("LA"), "PNG"))

    batch = {b"batch_label": b"b", b"labels": [1, 0], b"data": np.arange(12, dtype=np.uint8).reshape(2, 6),
             b"filenames": [b"a.png", b"b.png"]}
    for protocol in (2, 4, 5):
        save("pickle", f"batch-{protocol}.pkl", pickle.dumps(batch, protocol=protocol))
    save("pickle", "nested.pkl", pickle.dumps({"t": ((1, 2), [3, {"k": None}]), "f": 1.5, "big": 2**40}, protocol=2))

    for name, array in [("f4.npy", np.arange(6, dtype=np.float32).reshape(2, 3)), ("i8.npy", np.arange(4, dtype=np.int64)),
                        ("empty.npy", np.zeros((0, 3), dtype=np.float32))]:
        buffer = io.BytesIO()
        np.save(buffer, array)
        save("npy", name, buffer.getvalue())

    body = (b"--xyz\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
            b"--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
            b"\x89PNG\r\n--x\r\n--xyz--\r\n")
    save("multipart", "form.txt", b"xyz\n" + body)
    save("multipart", "empty.txt", b"b\n--b--\r\n")

    description = {"data": "images", "split": "train", "limit": 40, "augmentations": {"copies": 2, "seed": 3},
                   "model": "resnet18", "weights": "random", "seed": 0, "preset": "cifar", "inputSize": 32,
                   "normalized": True, "rerank": "dba-10-3+qe-10-3+kr-20-6-0.3", "shard": "1/4", "precision": "fp32",
                   "structure": "Flat", "searchParameters": {"nprobe": 8}}
    save("description", "full.json", json.dumps(description).encode())
    save("description", "minimal.json", b'{"split":"train","weights":"random","seed":0,"preset":"cifar","normalized":true}')
    save("description", "whiten.json", json.dumps(dict(description, rerank="whiten-8+qe-2-0", shard=None)).encode())

    for name, text in [("shard.txt", "2/4"), ("recommended.txt", "dba-10-3+qe-10-3+kr-20-6-0.3"),
                       ("whiten.txt", "whiten-8+qe-2-3"), ("none.txt", "none"), ("kr.txt", "kr-5-2-0.5")]:
        save("spec", name, text.encode())

    def npy(array):
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()

    def framed(*parts):
        return b"".join(struct.pack("<H", len(part)) + part for part in parts)

    layout = npy(np.arange(24, dtype=np.float32).reshape(12, 2))
    save("map", "layout.bin", struct.pack("<H", len(layout)) + layout)
    save("map", "layout-clusters.bin", struct.pack("<H", len(layout)) + layout + npy(np.arange(12, dtype=np.int64) % 4))

    # The re-ranking cache of RerankCacheFuzz.swift's 12 rows for dba-3-3+kr-4-2-0.3: the
    # leave-one-out 4 nearest before and after the database-side augmentation.
    rows = np.cos(np.arange(48) * 0.83).astype(np.float32).reshape(12, 4)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)

    def nearest(points, k):
        similarities = points @ points.T
        np.fill_diagonal(similarities, -np.inf)
        ids = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
        return ids, np.take_along_axis(similarities, ids, axis=1).astype(np.float32)

    ids0, sims0 = nearest(rows, 4)
    weights = np.maximum(sims0[:, :3], 0) ** 3
    expanded = rows + (weights[:, :, None] * rows[ids0[:, :3]]).sum(axis=1)
    expanded = (expanded / np.linalg.norm(expanded, axis=1, keepdims=True)).astype(np.float32)
    ids1, sims1 = nearest(expanded, 4)
    ids = np.concatenate([ids0.ravel(), ids1.ravel()]).astype(np.int64)
    similarities = np.stack([sims0, sims1]).astype(np.float32)
    header = {"pipeline": "dba-3-3+kr-4-2-0.3", "indexSHA256": hashlib.sha256(b"fuzz index").hexdigest(),
              "searches": 2, "rows": 12, "k": 4,
              "arraysSHA256": hashlib.sha256(ids.tobytes() + similarities.tobytes()).hexdigest()}
    save("rerank-cache", "saved.bin", framed(json.dumps(header).encode(), npy(ids), npy(similarities)))
    save("rerank-cache", "other-k.bin", framed(json.dumps(dict(header, k=3)).encode(), npy(ids[:72]), npy(similarities[:, :, :3])))


if __name__ == "__main__":
    main()
