"""Measures how well `pic2vec duplicates` finds planted near-duplicates, per kind of change and per tier.

For each seed, copies a seeded sample of images (default: 300 CIFAR-10 test JPEGs, the files byte for
byte) into one folder and plants --planted modified copies of each kind of change next to them, each of
another original (default 20 each: 100 copies), then runs `pic2vec duplicates --data FOLDER --json` with
the pic2vec options given after `--` (model, weights, preset, or --features pixels / thumbnails).

Each reported pair carries its tier and distances. A planted pair counts as found
- by the near-duplicate tier when it is reported as near-duplicate or identical (the pixel evidence);
- by the network when its network distance is within the similar tier's threshold (when a network ran);
- by any tier when it is reported at all.
Recall: found planted pairs / planted pairs. Precision: planted pairs among the pairs that evidence
reports (so natural duplicates in the sample count against it).

Kinds: JPEG quality 30; resized 2x (bilinear) and back; cropped by 2 pixels on every side (the smaller
image is kept: pic2vec resizes it); brightness +10%; flipped horizontally. Copies other than the JPEG one
are saved as PNG, so they change only by the named operation.

Usage (from the repository root, after `swift build -c release --product pic2vec`):

    .venv/bin/python benchmarks/plant_duplicates.py --seeds 0,1,2 -- --model efficientnet-lite0 \\
        --weights ../shared/weights/efficientnet-lite0-57934424.pth --preset imagenet
    .venv/bin/python benchmarks/plant_duplicates.py -- --features pixels
    .venv/bin/python benchmarks/plant_duplicates.py --count 10000 --planted 100 -- --features thumbnails

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
EVIDENCE = ["near-duplicate tier", "network", "any tier"]


def sample(source, count, seed):
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(source) for name in names
                   if name.lower().endswith((".jpg", ".jpeg", ".png")))
    if len(files) < count:
        sys.exit(f"{source}: only {len(files)} images, need {count}")
    return sorted(random.Random(seed).sample(files, count))


def plant(folder, originals, planted, seed):
    """Copies the originals and plants modified copies of each kind; returns {(copy, original): kind}."""
    os.makedirs(folder)
    names = []
    for i, path in enumerate(originals):
        name = f"orig_{i:05d}{os.path.splitext(path)[1].lower()}"
        shutil.copyfile(path, os.path.join(folder, name))
        names.append(name)
    chosen = random.Random(seed + 1).sample(range(len(originals)), planted * len(KINDS))
    truth = {}
    for number, (kind, (extension, change)) in enumerate(KINDS.items()):
        for i in chosen[number * planted:(number + 1) * planted]:
            copy = f"plant_{i:05d}.{extension}"
            image = change(Image.open(originals[i]).convert("RGB"))
            if extension == "jpg":
                image.save(os.path.join(folder, copy), format="JPEG", quality=30)
            else:
                image.save(os.path.join(folder, copy))
            truth[frozenset((copy, names[i]))] = kind
    return truth


def reported(report):
    """{evidence: set of pairs (frozensets of file names)} that each kind of evidence reports."""
    name = lambda image: os.path.basename(image["path"])
    similar = report.get("similar")
    found = {evidence: set() for evidence in EVIDENCE}
    for pair in report["pairs"]:
        key = frozenset((name(pair["a"]), name(pair["b"])))
        found["any tier"].add(key)
        if pair["tier"] in ("identical", "near-duplicate"):
            found["near-duplicate tier"].add(key)
        if similar and pair.get("network_distance") is not None and pair["network_distance"] <= similar["threshold"]:
            found["network"].add(key)
    if not similar:
        del found["network"]
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pic2vec", default=".build/release/pic2vec")
    parser.add_argument("--source", default="../shared/data/cifar10-jpeg/test")
    parser.add_argument("--count", type=int, default=300, help="images sampled from --source")
    parser.add_argument("--planted", type=int, default=20, help="modified copies per kind")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds: each its own sample and copies")
    parser.add_argument("--table", default="outputs/plant-duplicates.md")
    parser.add_argument("pic2vec_args", nargs=argparse.REMAINDER, help="-- then pic2vec duplicates options")
    args = parser.parse_args()
    extra = [a for a in args.pic2vec_args if a != "--"] if args.pic2vec_args[:1] == ["--"] else args.pic2vec_args
    seeds = [int(s) for s in args.seeds.split(",") if s]

    found = {}   # (evidence, kind) -> found planted pairs, over all seeds
    totals = {}  # evidence -> (planted pairs reported, pairs reported)
    rows = []
    report = {}
    with tempfile.TemporaryDirectory() as work:
        for seed in seeds:
            folder = os.path.join(work, f"seed{seed}")
            truth = plant(folder, sample(args.source, args.count, seed), args.planted, seed)
            command = [args.pic2vec, "duplicates", "--data", folder, "--json"] + extra
            start = time.time()
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
            report = json.loads(result.stdout)
            cells = []
            for evidence, pairs in reported(report).items():
                hits = pairs & truth.keys()
                for kind in KINDS:
                    found[evidence, kind] = found.get((evidence, kind), 0) + sum(truth[p] == kind for p in hits)
                right, total = totals.get(evidence, (0, 0))
                totals[evidence] = (right + len(hits), total + len(pairs))
                cells.append(f"{len(hits) / len(truth):.3f} / {len(hits) / len(pairs) if pairs else 1:.3f}")
            rows.append(f"| {seed} | " + " | ".join(cells) + " |")
            print(f"seed {seed}: " + ", ".join(cells) + f" ({time.time() - start:.1f} s)", file=sys.stderr)
    evidences = [e for e in EVIDENCE if e in totals]
    similar = report.get("similar")
    lines = [f"Planted duplicates: {args.planted} modified copies of each of {len(KINDS)} changes among {args.count} images of "
             f"`{args.source}`, seeds {args.seeds}; `pic2vec duplicates {' '.join(extra)}`. Pixel evidence: "
             f"{report['features']} ({report['threshold_rule']})"
             + (f"; network: {similar['features']} ({similar['threshold_rule']})" if similar else "") + ".", "",
             "| seed | " + " | ".join(f"{e}: recall / precision" for e in evidences) + " |",
             "|---:|" + "---|" * len(evidences)] + rows
    lines += ["", "| change (recall over all seeds) | " + " | ".join(evidences) + " |", "|---|" + "---:|" * len(evidences)]
    per_kind = args.planted * len(seeds)
    lines += [f"| {kind} | " + " | ".join(f"{found[e, kind] / per_kind:.3f}" for e in evidences) + " |" for kind in KINDS]
    lines += ["| pair precision | " + " | ".join(f"{totals[e][0] / totals[e][1] if totals[e][1] else 1:.3f}" for e in evidences)
              + " |"]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.table:
        os.makedirs(os.path.dirname(args.table) or ".", exist_ok=True)
        with open(args.table + ".tmp", "w") as f:
            f.write(table)
        os.replace(args.table + ".tmp", args.table)


if __name__ == "__main__":
    main()
