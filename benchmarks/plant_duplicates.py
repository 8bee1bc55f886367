"""Measures how well `pic2vec duplicates` finds planted near-duplicates, one kind of change at a time.

Copies a seeded sample of images (default: 1,000 CIFAR-10 test JPEGs, the files byte for byte) into a
folder, then, for each kind of change, plants modified copies of --planted distinct originals next to
them and runs `pic2vec duplicates --data FOLDER --json` with the pic2vec options given after `--`
(the features: model, weights, preset). A planted pair is found when the copy and its original land in
one group. Recall: found planted pairs / planted pairs. Precision: planted pairs among all pairs of
images sharing a group (so natural duplicates of the sample count against it).

Kinds (each its own case): JPEG quality 30; resized 2x (bilinear) and back; cropped by 2 pixels on
every side (the smaller image is kept: the embedder resizes it); brightness +10%; flipped horizontally.
Copies other than the JPEG one are saved as PNG, so they change only by the named operation.

Usage (from the repository root, after `swift build -c release --product pic2vec`):

    .venv/bin/python benchmarks/plant_duplicates.py -- --weights random --seed 0
    .venv/bin/python benchmarks/plant_duplicates.py --relative-thresholds 0.05,0.1,0.2 -- --features pixels
    .venv/bin/python benchmarks/plant_duplicates.py -- --model efficientnet-lite0 \\
        --weights ../shared/weights/efficientnet-lite0-57934424.pth --preset imagenet

Prints a Markdown table and writes it to --table (experiment 09 includes outputs/plant-duplicates.md).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from PIL import Image, ImageEnhance, ImageOps

KINDS = {
    "JPEG quality 30": ("jpg", lambda im: im),
    "resized 2x and back": ("png", lambda im: im.resize((im.width * 2, im.height * 2), Image.BILINEAR).resize(im.size, Image.BILINEAR)),
    "cropped by 2 px": ("png", lambda im: im.crop((2, 2, im.width - 2, im.height - 2))),
    "brightness +10%": ("png", lambda im: ImageEnhance.Brightness(im).enhance(1.1)),
    "flipped horizontally": ("png", ImageOps.mirror),
}


def sample(source, count, seed):
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(source) for name in names
                   if name.lower().endswith((".jpg", ".jpeg", ".png")))
    if len(files) < count:
        sys.exit(f"{source}: only {len(files)} images, need {count}")
    return sorted(random.Random(seed).sample(files, count))


def plant(folder, originals, kind, planted, seed):
    """Copies the originals and plants modified copies; returns {copy name: original name}."""
    os.makedirs(folder)
    names = []
    for i, path in enumerate(originals):
        name = f"orig_{i:05d}{os.path.splitext(path)[1].lower()}"
        shutil.copyfile(path, os.path.join(folder, name))
        names.append(name)
    extension, change = KINDS[kind]
    truth = {}
    for i in random.Random(seed + 1).sample(range(len(originals)), planted):
        copy = f"plant_{i:05d}.{extension}"
        image = change(Image.open(originals[i]).convert("RGB"))
        if extension == "jpg":
            image.save(os.path.join(folder, copy), format="JPEG", quality=30)
        else:
            image.save(os.path.join(folder, copy))
        truth[copy] = names[i]
    return truth


def score(report, truth):
    pairs = found = 0
    group_of = {}
    for g, group in enumerate(report["groups"]):
        members = [os.path.basename(m["path"]) for m in group["members"]]
        pairs += len(members) * (len(members) - 1) // 2
        for name in members:
            group_of[name] = g
    for copy, original in truth.items():
        if copy in group_of and group_of[copy] == group_of.get(original):
            found += 1
    return found / len(truth), (found / pairs if pairs else 1.0), pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pic2vec", default=".build/release/pic2vec")
    parser.add_argument("--source", default="../shared/data/cifar10-jpeg/test")
    parser.add_argument("--count", type=int, default=1000, help="images sampled from --source")
    parser.add_argument("--planted", type=int, default=100, help="modified copies per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--thresholds", default="", help="comma-separated absolute thresholds (--threshold) to sweep")
    parser.add_argument("--relative-thresholds", default="", help="comma-separated fractions (--relative-threshold) to sweep")
    parser.add_argument("--table", default="outputs/plant-duplicates.md")
    parser.add_argument("pic2vec_args", nargs=argparse.REMAINDER, help="-- then pic2vec duplicates options")
    args = parser.parse_args()
    extra = [a for a in args.pic2vec_args if a != "--"] if args.pic2vec_args[:1] == ["--"] else args.pic2vec_args
    settings = [["--threshold", t] for t in args.thresholds.split(",") if t]
    settings += [["--relative-threshold", t] for t in args.relative_thresholds.split(",") if t]
    settings = settings or [[]]

    originals = sample(args.source, args.count, args.seed)
    rows = []
    features = ""
    with tempfile.TemporaryDirectory() as work:
        for kind in KINDS:
            folder = os.path.join(work, kind.replace(" ", "-").replace("%", "pct"))
            truth = plant(folder, originals, kind, args.planted, args.seed)
            for setting in settings:
                command = [args.pic2vec, "duplicates", "--data", folder, "--json"] + extra + setting
                start = time.time()
                result = subprocess.run(command, capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
                report = json.loads(result.stdout)
                features = report["features"]
                recall, precision, pairs = score(report, truth)
                rows.append((kind, report["threshold_rule"], report["threshold"], recall, precision, pairs))
                print(f"{kind:22s} threshold {report['threshold']:.4g}: recall {recall:.3f} precision {precision:.3f} "
                      f"({pairs} pairs in groups, {time.time() - start:.1f} s)", file=sys.stderr)
    lines = [f"Planted duplicates: {args.planted} modified copies per kind among {args.count} images of "
             f"`{args.source}` (seed {args.seed}); features: {features}; command: "
             f"`pic2vec duplicates {' '.join(extra)}`.", "",
             "| change | threshold rule | threshold | recall | precision | pairs in groups |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {k} | {rule} | {t:.4g} | {r:.3f} | {p:.3f} | {n} |" for k, rule, t, r, p, n in rows]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.table:
        os.makedirs(os.path.dirname(args.table) or ".", exist_ok=True)
        with open(args.table + ".tmp", "w") as f:
            f.write(table)
        os.replace(args.table + ".tmp", args.table)


if __name__ == "__main__":
    main()
