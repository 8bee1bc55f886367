"""Where `pic2vec embed`'s time goes: one whole run under `perf record -g`, each CPU sample put in a
stage by its call chain, and the cores' idle time from wall and CPU time.

Stages: GEMM of Winograd 3x3 convolutions, GEMM of the MBConv blocks' 1x1 convolutions, GEMM
of the other convolutions (stems, strided convolutions, 1x1 on small maps, heads), Winograd
transforms, depthwise, pooling, decoding and resizing, loading weights, memory (copies, zeroing,
page faults) and the rest. Idle is the share of (threads x wall) that no core spent in the process.

Run: swift build -c release --product pic2vec
     python3 benchmarks/profile_embed.py --model efficientnet-lite0 --weights W --preset imagenet --data FOLDER
     [--threads 2] [--precision fp32] [--binary PATH]   (needs perf: apt-get install linux-perf)
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

STAGES = [  # (stage, test on the sample's frames, leaf first)
    ("3x3 convolutions: Winograd GEMM", lambda f: "gemm" in f[0] and any("winograd" in x for x in f)),
    ("1x1 convolutions in MBConv blocks: GEMM", lambda f: "gemm" in f[0] and any("MBConvBlock" in x for x in f)),
    ("other convolutions (stems, strided, small maps, heads): GEMM", lambda f: "gemm" in f[0]),
    ("Winograd transforms", lambda f: f[0].startswith(("tile_input", "tile_output", "input_", "output_"))),
    ("depthwise", lambda f: "depthwise" in f[0]),
    ("pooling", lambda f: "Pool" in f[0]),
    ("loading weights", lambda f: any(k in x for x in f for k in ("Weights4load", "WeightFile", "LayerWeights",
                                                                  "WinogradWeights", "ZIPFoundation"))),
    ("decoding and resizing", lambda f: any(k in x for x in f for k in ("jpeg", "png_", "Preprocessing", "ImageDecoder",
                                                                        "decodeInMemory", "ImageFolder"))),
    ("memory (copies, zeroing, page faults)", lambda f: any(k in f[0] for k in ("memmove", "memset", "memcpy",
                                                                               "page", "clear_", "fault"))),
]


def classify(frames):
    for stage, test in STAGES:
        if test(frames):
            return stage
    return "other (im2col, epilogues, runtime, kernel)"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                         ".build", "release", "pic2vec"))
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--preset", default="cifar")
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        output, data = os.path.join(folder, "e.npy"), os.path.join(folder, "perf.data")
        command = [args.binary, "embed", "--model", args.model, "--weights", args.weights, "--preset", args.preset,
                   "--data", args.data, "--threads", str(args.threads), "--output", output] + (
                       ["--precision", args.precision] if args.precision != "fp32" else [])
        start, usage = time.perf_counter(), os.times()
        done = subprocess.run(["perf", "record", "-q", "-g", "-o", data, "--"] + command, capture_output=True, text=True)
        wall, after = time.perf_counter() - start, os.times()
        if done.returncode != 0:
            sys.exit(f"error: {' '.join(command)} failed:\n{done.stderr}")
        cpu = (after.children_user - usage.children_user) + (after.children_system - usage.children_system)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True, text=True).stdout
        images = int(subprocess.run([sys.executable, "-c", f"import json;print(json.load(open('{output}.json'))['count'])"],
                                    capture_output=True, text=True).stdout)
    counts, total = collections.Counter(), 0
    for sample in script.split("\n\n"):
        # One "address symbol" line per frame, the sampled function first.
        frames = [line.split(None, 1)[-1] for line in sample.strip().splitlines() if line.strip()]
        if frames:
            counts[classify(frames)] += 1
            total += 1
    busy = min(cpu / (args.threads * wall), 1.0)
    print(f"{args.model}, preset {args.preset}, {args.precision}, {images} images, {args.threads} threads: "
          f"{wall:.2f} s wall ({images / wall:.1f} images/s, perf's overhead included), {cpu:.2f} s CPU")
    print("| stage | share of the cores' time | ms of one core per image |")
    print("|---|---|---|")
    for stage, _ in STAGES + [("other (im2col, epilogues, runtime, kernel)", None)]:
        share = busy * counts[stage] / max(total, 1)
        print(f"| {stage} | {100 * share:.1f}% | {1000 * share * args.threads * wall / images:.2f} |")
    print(f"| idle (no core in the process) | {100 * (1 - busy):.1f}% | "
          f"{1000 * (1 - busy) * args.threads * wall / images:.2f} |")


if __name__ == "__main__":
    main()
