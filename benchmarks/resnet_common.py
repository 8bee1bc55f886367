"""Shared pieces of the model parity and speed scripts: data rows, torch preprocessing, reference models, the CLI."""

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
LITE_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}
WEIGHTS = os.path.join(os.path.dirname(ROOT), "shared", "weights", "efficientnet-lite0-57934424.pth")


def preset_of(model, preset):
    """(size, mean, std) of `preset` for `model`: `cifar` is the same for every model; `imagenet`
    is the native size with ImageNet mean/std (ResNets) or (x * 255 - 127) / 128 (EfficientNet-Lite)."""
    if preset == "imagenet" and model in LITE_SIZES:
        return LITE_SIZES[model], (127 / 255,) * 3, (128 / 255,) * 3
    return PRESETS[preset]


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


def preprocess(pixels, preset, model="resnet18"):
    """uint8 NHWC -> normalized NCHW float32, as torchvision ToTensor + interpolate + Normalize."""
    size, mean, std = preset_of(model, preset)
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def random_resnet(name, seed=0):
    """torchvision resnet18/34/50 with its default random init and fc removed, in eval mode."""
    import torchvision

    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None)
    model.fc = torch.nn.Identity()
    return model.eval()


class LiteFeatures(torch.nn.Module):
    """The reference EfficientNet-Lite's features: `extract_features(x).mean((2, 3))`."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.extract_features(x).mean((2, 3))


def efficientnet_lite(name, weights=None, seed=0):
    """The reference package's EfficientNet-Lite (efficientnet-lite-pytorch 0.1.0): pretrained from
    `weights`, or its random init drawn from `seed`; features before the head, eval mode."""
    from efficientnet_lite_pytorch import EfficientNet

    torch.manual_seed(seed)
    if weights:
        model = EfficientNet.from_pretrained(name, weights_path=weights)
    else:
        model = EfficientNet.from_name(name)
    return LiteFeatures(model).eval()


def reference_model(name, folder, lite_weights=WEIGHTS):
    """(torch model, weight file for pic2vec): EfficientNet-Lite with `lite_weights`, or a random-init
    ResNet saved to `folder` with torch.save(state_dict)."""
    if name.startswith("efficientnet-lite"):
        return efficientnet_lite(name, lite_weights), lite_weights
    model = random_resnet(name)
    weights = os.path.join(folder, f"{name}-random.pth")
    torch.save(model.state_dict(), weights)
    return model, weights


def pic2vec_embed(weights, preset, limit, output, batch=128, model="resnet18", data=DATA):
    """Runs `pic2vec embed` and returns (embeddings, labels, sidecar)."""
    command = [PIC2VEC, "embed", "--model", model, "--data", data, "--weights", weights, "--preset", preset,
               "--batch", str(batch), "--output", output] + (["--limit", str(limit)] if limit else [])
    subprocess.run(command, check=True)
    with open(output + ".json") as f:
        sidecar = json.load(f)
    return np.load(output), np.load(sidecar["labels"]), sidecar
