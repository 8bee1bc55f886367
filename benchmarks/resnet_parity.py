"""Parity of `pic2vec embed` with torchvision's resnet18 (fc removed) on real images.

A full-size, random-init torchvision ResNet18 is saved with torch.save(model.state_dict());
pic2vec embeds 1,000 images of cifar10-jpeg/train with it at both presets, torch does the
same, and this prints the max absolute error and the minimum cosine similarity per preset.

Run: swift build -c release --product pic2vec
     .venv/bin/python benchmarks/resnet_parity.py [--limit 1000]   (PIC2VEC=path: another build)
"""

import argparse
import os
import tempfile

import numpy as np
import torch

import resnet_common
from resnet_common import load_pixels, pic2vec_embed, preprocess, random_resnet18, rows

resnet_common.PIC2VEC = os.environ.get("PIC2VEC", resnet_common.PIC2VEC)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = random_resnet18(seed=0)
    files, labels = rows(args.limit)
    pixels = load_pixels(files)
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "resnet18-random.pth")
        torch.save(model.state_dict(), weights)
        for preset in ("cifar", "imagenet"):
            ours, our_labels, _ = pic2vec_embed(weights, preset, args.limit, os.path.join(folder, f"{preset}.npy"))
            with torch.inference_mode():
                theirs = torch.cat([model(preprocess(pixels[i:i + 100], preset)) for i in range(0, len(pixels), 100)]).numpy()
            assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
            assert (our_labels == labels).all(), "labels differ"
            error = np.abs(ours - theirs).max()
            cosine = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
            print(f"{preset:9s} {len(files)} images: max abs error {error:.3g} (max |value| {np.abs(theirs).max():.3g}), "
                  f"min cosine {cosine.min():.8f}")


if __name__ == "__main__":
    main()
