"""Speed of `pic2vec embed` against torch on the same images, in one run.

torch: the reference model (torchvision resnet18/34/50 with fc removed; efficientnet-lite-pytorch's
EfficientNet-Lite, `extract_features(x).mean((2, 3))`), 2 threads, inference_mode, batch 128,
images already decoded in memory; timed: preprocessing + forward. pic2vec: the release binary,
timed by its own sidecar (preprocessing + forward, after the folder is decoded in memory).
ResNets use full-size random-init weights (speed does not depend on the values);
EfficientNet-Lite0 uses the ImageNet weights of ../shared/weights at its native 224x224 input.

The machine is shared: torch and pic2vec alternate `--repeat` times and the best rate of
each is kept. PIC2VEC=path picks another build of the binary.

`--simd avx2` (or generic) runs pic2vec's kernels at that level and holds torch to the same
instruction set (see simd_level.py); the level is printed first. GFLOP/s is the rate of the
network's direct-convolution work (2 x the multiply-adds of its convolutions and fc, counted by
hooks on the torch model), so both sides are measured in the same units.

Run: swift build -c release --product pic2vec
     .venv/bin/python benchmarks/bench_embed.py [--models resnet18,efficientnet-lite0] [--images32 10000]
     [--images224 1000] [--repeat 3] [--simd avx2]
"""
import simd_level  # noqa: F401  (first: sets the SIMD level before torch loads)

import argparse
import os
import tempfile
import time

import torch

import resnet_common
from resnet_common import WEIGHTS, load_pixels, pic2vec_embed, preprocess, reference_model, rows

resnet_common.PIC2VEC = os.environ.get("PIC2VEC", resnet_common.PIC2VEC)


def torch_rate(model, pixels, preset, name, batch=128):
    with torch.inference_mode():
        model(preprocess(pixels[:batch], preset, name))  # warm-up
        start = time.perf_counter()
        for i in range(0, len(pixels), batch):
            model(preprocess(pixels[i:i + batch], preset, name))
        return len(pixels) / (time.perf_counter() - start)


def flops_per_image(model, preset, name):
    """2 x the multiply-adds of the convolutions and linear layers for one preprocessed image."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            total += output.numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.Linear):
            total += output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.inference_mode():
        model(preprocess(load_pixels(rows(1)[0]), preset, name))
    for hook in hooks:
        hook.remove()
    return 2 * total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="resnet18,efficientnet-lite0")
    parser.add_argument("--images32", type=int, default=10000)
    parser.add_argument("--images224", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--presets", default="cifar,imagenet")
    parser.add_argument("--weights", default=WEIGHTS, help="EfficientNet-Lite0 weights")
    args = parser.parse_args()
    print(simd_level.describe(), f"torch CPU capability: {torch.backends.cpu.get_cpu_capability()}", flush=True)
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models.split(","):
            model, weights = reference_model(name, folder, args.weights)
            for preset, count in (("cifar", args.images32), ("imagenet", args.images224)):
                if preset not in args.presets.split(","):
                    continue
                pixels = load_pixels(rows(count)[0])
                theirs = ours = 0.0
                for _ in range(args.repeat):
                    theirs = max(theirs, torch_rate(model, pixels, preset, name))
                    _, _, sidecar = pic2vec_embed(weights, preset, count, os.path.join(folder, f"{preset}.npy"), model=name)
                    ours = max(ours, sidecar["imagesPerSecond"])
                gflop = flops_per_image(model, preset, name) / 1e9
                print(f"{name:18s} {preset:9s} {count:6d} images: torch {theirs:8.1f} img/s ({theirs * gflop:5.1f} GFLOP/s), "
                      f"pic2vec {ours:8.1f} img/s ({ours * gflop:5.1f} GFLOP/s), ratio {ours / theirs:.2f}x "
                      f"(best of {args.repeat})", flush=True)


if __name__ == "__main__":
    main()
