"""Writes the EfficientNet-Lite fixtures that `swift test --filter EfficientNetLiteTests` checks.

A reduced EfficientNet-Lite (the reference package efficientnet-lite-pytorch 0.1.0's exact
graph: `EfficientNet.from_name('efficientnet-lite0', width_coefficient=0.25,
depth_coefficient=0.5, image_size=36)`, i.e. every kind of MBConv block, depthwise 3x3 and
5x5 kernels with stride 1 and 2, ReLU6 and TensorFlow "same" padding: asymmetric when stride 2
meets an even map, symmetric on the odd 9x9 and 5x5 maps of a 36x36 input) with random weights and random batch-norm statistics, rounded to float16:
  tiny-lite-legacy.pth     torch.save(state_dict, _use_new_zipfile_serialization=False): the
                           legacy format of ../shared/weights, with float16 (HalfStorage) tensors
and the features torch computes (`extract_features(x).mean((2, 3))`) for the images of
images.npy and odd.npy (written by make_resnet_fixtures.py) at 36x36 (antialiased bilinear
resize, mean/std 0.5) and at 32x32 (no resize):
  expected-lite-36.npy, expected-lite-32.npy   5 x 1280 float32

Run: .venv/bin/python benchmarks/make_model_fixtures.py  (torch, numpy, efficientnet-lite-pytorch)
"""

import os

import numpy as np
import torch
import torch.nn.functional as F
from efficientnet_lite_pytorch import EfficientNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "NetworksTests", "Fixtures")
SIZE = 36


def tiny_lite(seed=0):
    """The reduced reference model with random, float16-exact weights and batch-norm statistics."""
    torch.manual_seed(seed)
    model = EfficientNet.from_name("efficientnet-lite0", width_coefficient=0.25, depth_coefficient=0.5, image_size=SIZE)
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.weight.data = 0.5 + torch.rand(n, generator=generator)
            module.bias.data = 0.2 * torch.randn(n, generator=generator)
            module.running_mean.data = 0.2 * torch.randn(n, generator=generator)
            module.running_var.data = 0.5 + torch.rand(n, generator=generator)
    state = {k: v.half() for k, v in model.state_dict().items() if not k.startswith("_fc") and v.is_floating_point()}
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return model.eval(), state


def features(model, pixels, size):
    """Normalized (mean/std 0.5) NCHW input resized to `size`, then the pooled features."""
    outputs = []
    with torch.inference_mode():
        for image in pixels:
            x = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).float() / 255
            if x.shape[-2:] != (size, size):
                x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            outputs.append(model.extract_features((x - 0.5) / 0.5).mean((2, 3)))
    return torch.cat(outputs).numpy().astype(np.float32)


def main():
    model, state = tiny_lite()
    torch.save(state, os.path.join(OUT, "tiny-lite-legacy.pth"), _use_new_zipfile_serialization=False)
    images = np.load(os.path.join(OUT, "images.npy"))
    odd = np.load(os.path.join(OUT, "odd.npy"))
    pixels = [images[i] for i in range(len(images))] + [odd]
    np.save(os.path.join(OUT, f"expected-lite-{SIZE}.npy"), features(model, pixels, SIZE))
    # The reference pads for the image_size it was built for: build it again for 32x32 inputs.
    at32 = EfficientNet.from_name("efficientnet-lite0", width_coefficient=0.25, depth_coefficient=0.5, image_size=32)
    at32.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("_fc")}, strict=False)
    np.save(os.path.join(OUT, "expected-lite-32.npy"), features(at32.eval(), pixels, 32))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
