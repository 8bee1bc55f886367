#!/usr/bin/env python3
"""Pixel evidence for near-duplicate tiers (issue 25): how far a tiny normalized thumbnail goes, measured.

Plants changed copies of `--images` CIFAR-10 test JPEGs (`--per-change` of each change, each of another
original: JPEG quality 30, resized 2x and back, cropped by 2 px on every side, brightness +10%, mirrored) and links two images
when their thumbnail distance is at most a fraction of the median nearest-neighbor distance of the
unchanged images. A thumbnail is the image box-resized to SIDE x SIDE RGB, its mean subtracted and
L2-normalized (so brightness and contrast do not count); the distance between two images is the
smallest squared L2 distance over their variants: as is, mirrored, and the central crop that leaves
out CROP of each side (a copy cropped or zoomed a little meets the original's crop). Prints recall per
change and pair precision per (side, crop, fraction): the reference for the Swift pixel evidence.

    .venv/bin/python benchmarks/thumbnail_evidence.py --seed 0
    .venv/bin/python benchmarks/thumbnail_evidence.py --images 10000 --per-change 100 --seed 7   # ~8 GB of memory
"""
import argparse
import io
import os
import random

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

CHANGES = {
    "JPEG quality 30": lambda im: jpeg(im, 30),
    "resized 2x and back": lambda im: im.resize((im.width * 2, im.height * 2), Image.BILINEAR).resize(im.size, Image.BILINEAR),
    "cropped by 2 px": lambda im: im.crop((2, 2, im.width - 2, im.height - 2)),
    "brightness +10%": lambda im: ImageEnhance.Brightness(im).enhance(1.1),
    "mirrored": ImageOps.mirror,
}


def jpeg(image, quality):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def thumbnails(images, side, crop=0.0, mirror=False):
    """Mean-subtracted, L2-normalized SIDE x SIDE RGB thumbnails, one row per image."""
    rows = []
    for image in images:
        if crop:
            dx, dy = round(image.width * crop), round(image.height * crop)
            image = image.crop((dx, dy, image.width - dx, image.height - dy))
        if mirror:
            image = ImageOps.mirror(image)
        rows.append(np.asarray(image.resize((side, side), Image.BOX), dtype=np.float64).ravel())
    x = np.array(rows)
    x -= x.mean(axis=1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def distances(images, side, crop):
    """Smallest squared L2 distance over the variant pairs of every two images."""
    whole, mirrored = thumbnails(images, side), thumbnails(images, side, mirror=True)
    pairs = [(whole, whole), (whole, mirrored)]
    if crop:
        center = thumbnails(images, side, crop=crop)
        pairs += [(center, whole), (whole, center), (center, mirrored), (mirrored, center)]
    d = np.minimum.reduce([2 - 2 * a @ b.T for a, b in pairs])
    np.fill_diagonal(d, np.inf)
    return d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/cifar10-jpeg/test")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--per-change", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(args.data) for f in names)
    rng = random.Random(args.seed)
    images = [Image.open(f).convert("RGB") for f in rng.sample(files, args.images)]
    per = args.per_change
    originals = rng.sample(range(len(images)), per * len(CHANGES))
    planted = []
    for number, (change, apply) in enumerate(CHANGES.items()):
        for original in originals[number * per:(number + 1) * per]:
            planted.append((original, len(images), change))
            images.append(apply(images[original]))
    planted_pairs = {(a, b) for a, b, _ in planted}
    print(f"{args.images} CIFAR-10 test images (seed {args.seed}) + {len(planted)} planted copies")
    print("| side | crop | fraction | " + " | ".join(CHANGES) + " | pair precision |")
    print("|---:|---:|---:|" + "---:|" * (len(CHANGES) + 1))
    for side in (8, 16):
        for crop in (0.0, 1 / 16):
            d = distances(images, side, crop)
            median = np.median(d[:args.images, :args.images].min(axis=1))
            for fraction in (0.1, 0.15, 0.2, 0.25):
                linked = {(a, b) for a, b in zip(*np.nonzero(np.triu(d <= fraction * median, 1)))}
                recall = [np.mean([(a, b) in linked for a, b, c in planted if c == change]) for change in CHANGES]
                precision = len(linked & planted_pairs) / max(len(linked), 1)
                print(f"| {side} | {crop:.3f} | {fraction} | " + " | ".join(f"{r:.2f}" for r in recall)
                      + f" | {precision:.2f} |")


if __name__ == "__main__":
    main()
