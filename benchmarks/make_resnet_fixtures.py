"""Writes the ResNet parity fixtures that `swift test --filter ResNetTests` checks.

A reduced-width network with ResNet18's exact topology (torchvision BasicBlocks, stages
[2, 2, 2, 2], width 4 instead of 64) with random weights and random batch-norm statistics,
saved three ways:
  tiny.pth                 torch.save(state_dict) (zip format)
  tiny-hf.safetensors      Hugging Face transformers ResNet names (resnet.embedder..., classifier.1.*)
  tiny-prefixed.safetensors  torchvision names under "backbone.", with an fc layer
  evil.pth                 a torch.save checkpoint whose pickle calls os.system (must be rejected)
plus real images from the CIFAR-10 JPEG copy and the outputs torch computes for them:
  images.npy               4 x 32 x 32 x 3 pixel values (float32, HWC)
  odd.npy                  one of them resized by PIL to 40 wide x 28 high (float32, HWC)
  expected-cifar.npy       5 x 32 embeddings: the 4 images then odd.npy, cifar preset (32x32, Normalize 0.5)
  expected-imagenet.npy    5 x 32 embeddings, imagenet preset (224x224 antialiased bilinear, ImageNet mean/std)
  resize-20.npy, resize-50.npy  odd.npy / 255 resized to 20x20 and 50x50 by torch (HWC)

Run: .venv/bin/python benchmarks/make_resnet_fixtures.py  (torch, torchvision, numpy, pillow)
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.models.resnet import BasicBlock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "NetworksTests", "Fixtures")
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cifar10-jpeg", "train")
WIDTH = 4
PRESETS = {
    "cifar": (32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "imagenet": (224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


class Backbone(nn.Module):
    """torchvision's resnet18 graph at an arbitrary width, fc removed (same tensor names)."""

    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels = width
        for s in range(4):
            out = width << s
            stride = 1 if s == 0 else 2
            blocks = []
            for b in range(2):
                downsample = None
                if b == 0 and (stride != 1 or channels != out):
                    downsample = nn.Sequential(nn.Conv2d(channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                blocks.append(BasicBlock(channels, out, stride if b == 0 else 1, downsample))
                channels = out
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for s in range(4):
            x = getattr(self, f"layer{s + 1}")(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


class Evil:
    """Pickles as a call of os.system: a checkpoint that a safe reader must refuse."""

    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran code",))


def randomize_batch_norms(model, generator):
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.weight.data = torch.rand(n, generator=generator) + 0.5
            module.bias.data = torch.randn(n, generator=generator) * 0.1
            module.running_mean.data = torch.randn(n, generator=generator) * 0.1
            module.running_var.data = torch.rand(n, generator=generator) * 1.5 + 0.5


def write_safetensors(path, tensors):
    """safetensors by hand: u64 header length, JSON header, little-endian float32 data."""
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def hugging_face_name(name):
    parts = name.split(".")
    if parts[0] in ("conv1", "bn1"):
        kind = "convolution" if parts[0] == "conv1" else "normalization"
        return ".".join(["resnet.embedder.embedder", kind] + parts[1:])
    stage, block = int(parts[0][5:]) - 1, parts[1]
    prefix = f"resnet.encoder.stages.{stage}.layers.{block}"
    if parts[2] == "downsample":
        kind = "convolution" if parts[3] == "0" else "normalization"
        return ".".join([prefix, "shortcut", kind] + parts[4:])
    kind = "convolution" if parts[2].startswith("conv") else "normalization"
    return ".".join([prefix, "layer", str(int(parts[2][-1]) - 1), kind] + parts[3:])


def preprocess(pixels, size, mean, std):
    """HWC uint8-valued floats -> normalized NCHW batch of one, as the Swift presets do."""
    x = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0) / 255
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    model = Backbone(WIDTH).eval()
    randomize_batch_norms(model, generator)
    state = model.state_dict()
    os.makedirs(OUT, exist_ok=True)
    torch.save(state, os.path.join(OUT, "tiny.pth"))
    torch.save({"conv1.weight": Evil()}, os.path.join(OUT, "evil.pth"))
    floats = {k: v for k, v in state.items() if v.dtype == torch.float32}
    classifier = {"weight": torch.randn(10, 8 * WIDTH, generator=generator), "bias": torch.zeros(10)}
    hf = {hugging_face_name(k): v for k, v in floats.items()}
    hf.update({f"classifier.1.{k}": v for k, v in classifier.items()})
    write_safetensors(os.path.join(OUT, "tiny-hf.safetensors"), hf)
    prefixed = {"backbone." + k: v for k, v in floats.items()}
    prefixed.update({f"backbone.fc.{k}": v for k, v in classifier.items()})
    write_safetensors(os.path.join(OUT, "tiny-prefixed.safetensors"), prefixed)

    files = [os.path.join(DATA, c, "0000.jpg") for c in ("airplane", "cat", "ship", "truck")]
    images = np.stack([np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) for f in files])
    odd = np.asarray(Image.open(files[1]).convert("RGB").resize((40, 28), Image.BILINEAR), dtype=np.float32)
    np.save(os.path.join(OUT, "images.npy"), images)
    np.save(os.path.join(OUT, "odd.npy"), odd)
    for size in (20, 50):
        x = torch.from_numpy(odd).permute(2, 0, 1).unsqueeze(0) / 255
        y = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        np.save(os.path.join(OUT, f"resize-{size}.npy"), y[0].permute(1, 2, 0).contiguous().numpy())
    with torch.inference_mode():
        for preset, (size, mean, std) in PRESETS.items():
            batch = torch.cat([preprocess(p, size, mean, std) for p in list(images) + [odd]])
            np.save(os.path.join(OUT, f"expected-{preset}.npy"), model(batch).numpy().astype(np.float32))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total / 1e6:.2f} MB, to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
