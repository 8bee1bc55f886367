"""Parity of `pic2vec embed --model M` with the Python reference on the same real images.

- efficientnet-lite0: the ImageNet weights in ../shared/weights (PyTorch legacy format), against the
  reference package efficientnet-lite-pytorch 0.1.0 (`extract_features(x).mean((2, 3))`);
- resnet18/34/50: torchvision's topology with its random init (fc removed), saved with torch.save.

pic2vec embeds `--limit` images of cifar10-jpeg/train per model and preset, torch does the same, and
this prints the max absolute error and the minimum cosine similarity (target >= 0.99999).

Run: swift build -c release --product pic2vec
     .venv/bin/python benchmarks/model_parity.py [--limit 1000] [--models efficientnet-lite0,resnet34,resnet50]
     [--presets imagenet,cifar] [--weights ../shared/weights/efficientnet-lite0-57934424.pth]   (PIC2VEC=path: another build)
"""

import argparse
import os
import tempfile

import numpy as np
import torch

import resnet_common
from resnet_common import WEIGHTS, load_pixels, pic2vec_embed, preprocess, reference_model, rows

resnet_common.PIC2VEC = os.environ.get("PIC2VEC", resnet_common.PIC2VEC)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--models", default="efficientnet-lite0,resnet34,resnet50")
    parser.add_argument("--presets", default="imagenet,cifar")
    parser.add_argument("--weights", default=WEIGHTS, help="EfficientNet-Lite0 weights")
    args = parser.parse_args()
    torch.set_num_threads(2)
    files, labels = rows(args.limit)
    pixels = load_pixels(files)
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models.split(","):
            model, weights = reference_model(name, folder, args.weights)
            for preset in args.presets.split(","):
                output = os.path.join(folder, f"{name}-{preset}.npy")
                ours, our_labels, _ = pic2vec_embed(weights, preset, args.limit, output, model=name)
                with torch.inference_mode():
                    theirs = torch.cat([model(preprocess(pixels[i:i + 50], preset, name))
                                        for i in range(0, len(pixels), 50)]).numpy()
                assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
                assert (our_labels == labels).all(), "labels differ"
                error = np.abs(ours - theirs).max()
                cosine = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
                print(f"{name:18s} {preset:9s} {len(files)} images: max abs error {error:.3g} "
                      f"(max |value| {np.abs(theirs).max():.3g}), min cosine {cosine.min():.8f}", flush=True)


if __name__ == "__main__":
    main()
