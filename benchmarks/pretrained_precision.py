"""Leave-one-out Precision@k of EfficientNet-Lite0's ImageNet features: pic2vec against the reference.

The images: the first 200 of each class of cifar10-jpeg/train in sorted order (2,000), linked
into a temporary folder. For each preset (`cifar`: 32x32, mean/std 0.5; `imagenet`: 224x224
antialiased bilinear, (x * 255 - 127) / 128), pic2vec runs `embed --model efficientnet-lite0`
then `evaluate --normalize`, and the reference package (efficientnet-lite-pytorch 0.1.0,
`extract_features(x).mean((2, 3))`, torch 2 threads) embeds the same images; the reference's
P@k is computed here the same way (L2-normalized rows, L2 distance, the query left out).

Run: swift build -c release --product pic2vec
     .venv/bin/python benchmarks/pretrained_precision.py [--per-class 200] [--weights ../shared/weights/efficientnet-lite0-57934424.pth]
"""

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch

import resnet_common
from resnet_common import DATA, WEIGHTS, efficientnet_lite, load_pixels, pic2vec_embed, preprocess

resnet_common.PIC2VEC = os.environ.get("PIC2VEC", resnet_common.PIC2VEC)
KS = (1, 5, 10)


def link_subset(folder, per_class):
    """Links the first `per_class` images of each class (sorted) into folder/<class>/; returns files, labels."""
    files, labels = [], []
    for label, name in enumerate(sorted(d for d in os.listdir(DATA) if not d.startswith("."))):
        os.makedirs(os.path.join(folder, name))
        for f in sorted(f for f in os.listdir(os.path.join(DATA, name)) if f.lower().endswith((".jpg", ".png")))[:per_class]:
            os.symlink(os.path.join(DATA, name, f), os.path.join(folder, name, f))
            files.append(os.path.join(DATA, name, f))
            labels.append(label)
    return files, np.array(labels)


def precision(features, labels):
    """Leave-one-out P@k of L2-normalized rows under L2 distance."""
    x = features / np.linalg.norm(features, axis=1, keepdims=True)
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :max(KS)]
    same = labels[nearest] == labels[:, None]
    return {k: same[:, :k].mean() for k in KS}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--weights", default=WEIGHTS)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = efficientnet_lite("efficientnet-lite0", args.weights)
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "subset")
        files, labels = link_subset(data, args.per_class)
        pixels = load_pixels(files)
        for preset in ("cifar", "imagenet"):
            output = os.path.join(folder, f"{preset}.npy")
            ours, our_labels, _ = pic2vec_embed(args.weights, preset, None, output, model="efficientnet-lite0", data=data)
            assert (our_labels == labels).all(), "labels differ"
            evaluated = subprocess.run(
                [resnet_common.PIC2VEC, "evaluate", "--embeddings", output, "--labels", os.path.join(folder, "labels.npy"),
                 "--k", ",".join(map(str, KS)), "--normalize", "--json"], check=True, capture_output=True, text=True)
            pic2vec = {int(k): v for k, v in json.loads(evaluated.stdout)["precision"].items()}
            with torch.inference_mode():
                theirs = torch.cat([model(preprocess(pixels[i:i + 50], preset, "efficientnet-lite0"))
                                    for i in range(0, len(pixels), 50)]).numpy()
            reference = precision(theirs, labels)
            print(f"{preset:9s} {len(files)} images: " + ", ".join(
                f"P@{k} pic2vec {pic2vec[k]:.4f} reference {reference[k]:.4f}" for k in KS), flush=True)


if __name__ == "__main__":
    main()
