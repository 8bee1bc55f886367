"""Writes the small seed inputs under fuzz/seeds/<target> that fuzz/fuzz.sh starts from.

Run with the project's Python: .venv/bin/python fuzz/make_seeds.py
"""

import io
import pickle
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


if __name__ == "__main__":
    main()
