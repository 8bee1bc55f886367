"""Shared pieces of the ResNet parity and speed scripts: data rows, torch preprocessing, the CLI."""

import json
import os
import subprocess

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cifar10-jpeg", "train")
PIC2VEC = os.path.join(ROOT, ".build", "release", "pic2vec")
PRESETS = {
    "cifar": (32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "imagenet": (224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


def rows(limit, root=DATA):
    """The files and labels `pic2vec embed --limit` reads: sorted classes, sorted names, rows i*n//limit."""
    classes = sorted(d for d in os.listdir(root) if not d.startswith("."))
    files, labels = [], []
    for label, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, name))):
            if f.lower().endswith((".jpg", ".jpeg", ".png")) and not f.startswith("."):
                files.append(os.path.join(root, name, f))
                labels.append(label)
    picked = [i * len(files) // limit for i in range(limit)] if limit < len(files) else range(len(files))
    return [files[i] for i in picked], np.array([labels[i] for i in picked])


def load_pixels(files):
    """N x H x W x 3 uint8 images (all the same size)."""
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


def preprocess(pixels, preset):
    """uint8 NHWC -> normalized NCHW float32, as torchvision ToTensor + interpolate + Normalize."""
    size, mean, std = PRESETS[preset]
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def random_resnet18(seed=0):
    """torchvision resnet18 with its default random init and fc removed, in eval mode."""
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.resnet18(weights=None)
    model.fc = torch.nn.Identity()
    return model.eval()


def pic2vec_embed(weights, preset, limit, output, batch=128):
    """Runs `pic2vec embed` and returns (embeddings, labels, sidecar)."""
    command = [PIC2VEC, "embed", "--data", DATA, "--weights", weights, "--preset", preset,
               "--limit", str(limit), "--batch", str(batch), "--output", output]
    subprocess.run(command, check=True)
    with open(output + ".json") as f:
        sidecar = json.load(f)
    return np.load(output), np.load(os.path.join(os.path.dirname(output), "labels.npy")), sidecar
