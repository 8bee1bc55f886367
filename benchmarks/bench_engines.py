"""Speed of `pic2vec embed` against ONNX Runtime, OpenVINO and torch on the same images, in one run.

Models: lite0-224 (EfficientNet-Lite0, the ImageNet weights of ../shared/weights, imagenet preset
at its native 224x224), resnet18-32 (cifar preset), resnet18-224 and resnet50-224 (imagenet preset);
the ResNets are torchvision's full-size topology with its random init, fc removed, saved with
torch.save(state_dict) for pic2vec (speed does not depend on the values). Each torch model is
exported to ONNX (torch.onnx.export, dynamic batch axis; the dynamo exporter, else the legacy one),
and the same file is run by:

- ONNX Runtime: fp32, ORT_ENABLE_ALL, intra-op threads = --threads, inter-op 1, sequential;
- OpenVINO f32: CPU, INFERENCE_PRECISION_HINT f32, INFERENCE_NUM_THREADS = --threads;
- OpenVINO default: CPU, INFERENCE_NUM_THREADS only, at the precision it picks (bf16 on CPUs
  with AVX-512 BF16 or AMX; the label names what compiled_model reports), so not exact;
- torch eager: --threads threads, inference_mode.

Engines are timed on the model only: the images are decoded and preprocessed (NCHW float32, as
model_parity.py does) into memory first, then fed --batch32 / --batch224 at a time; the batch
shapes of the run (the full batch and any last partial one) are run once untimed first.
pic2vec is timed as a whole process: the wall clock (time.perf_counter) around
`pic2vec embed --batch B --threads T` of a folder that holds exactly the N images (symbolic links
under their class folders: the same files, in the same order; start, weight loading, JPEG
decoding, resizing, the network and writing the .npy); its rate is N / wall seconds. The sidecar's own
imagesPerSecond (preprocessing + network after decoding) is printed beside it for information.
The machine is shared: the engines and pic2vec alternate `--repeat` times and the best rate of each
is kept. Ratios are pic2vec's rate over each engine's (above 1: pic2vec is faster).

Parity: the first batch as ONNX Runtime embeds it against torch (checks the export) and against
pic2vec's rows of the same images (`rows(N)` order, which the folder of links keeps):
max |difference| and minimum cosine similarity.

Batch-1 latency (--latency, the default): one image through each engine, the median of 50
runs after 5 warm-up runs, in ms. pic2vec's is measured through `pic2vec serve`: the last
embed's rows are indexed (`pic2vec index --normalize --rerank none`), the server starts on a
free loopback port, and one image (the first row's JPEG) is POSTed to /api/search?k=10 as the
multipart field `image` 5 + 50 times, each on a new connection; and pic2vec's network alone, one
image at a time on one thread (`pic2vec embed --batch 1 --threads 1` of the first 50 images, the
sidecar's seconds per image: resizing and the network, after decoding); the median round trip is HTTP,
JPEG decoding, resizing, the network and an exact search of the N rows (so slightly more than
the network alone). The server uses all the machine's cores (it has no --threads option).

`--simd avx2` (or generic) runs pic2vec's kernels at that level and holds torch to the same
instruction set (see simd_level.py). OpenVINO's CPU plugin reads ONEDNN_MAX_CPU_ISA too: its
convolutions run at that level (one or two of its own JIT nodes stay at the CPU's widest), and its default
bf16 finds no kernels there, so "OpenVINO default" is left out with the reason printed (on a CPU
without AVX-512 BF16 or AMX the default is f32 anyway). ONNX Runtime has no such switch: it always
runs the CPU's widest kernels, so below the CPU's widest level it is not held to the level.
The CPU, the SIMD level and PIC2VEC_SIMD are printed first. PIC2VEC=path picks another build.

Run: swift build -c release --product pic2vec
     .venv/bin/pip install -r benchmarks/requirements-engines.txt
     .venv/bin/python benchmarks/bench_engines.py [--models lite0-224,resnet18-32,resnet18-224,resnet50-224]
     [--images32 5000] [--images224 500] [--repeat 3] [--batch32 128] [--batch224 32] [--threads 2]
     [--simd avx2] [--no-latency] [--precision bf16]
"""
import simd_level  # noqa: F401  (first: sets the SIMD level before torch, ONNX Runtime and OpenVINO load)

import argparse
import contextlib
import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings

import numpy as np
import torch

import resnet_common
from resnet_common import WEIGHTS, load_pixels, preprocess, reference_model, rows

resnet_common.PIC2VEC = os.environ.get("PIC2VEC", resnet_common.PIC2VEC)

MODELS = {
    "lite0-224": ("efficientnet-lite0", "imagenet"),
    "resnet18-32": ("resnet18", "cifar"),
    "resnet18-224": ("resnet18", "imagenet"),
    "resnet50-224": ("resnet50", "imagenet"),
}
LATENCY_RUNS, LATENCY_WARMUP = 50, 5


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown")
    except OSError:
        return "unknown"


def export_onnx(model, size, path):
    """Exports `model` with a dynamic batch axis; returns which exporter wrote `path`."""
    example = torch.randn(2, 3, size, size)
    common = dict(input_names=["input"], output_names=["embedding"],
                  dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}})
    failure = None
    for dynamo, opset in ((True, 18), (False, 17)):
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (example,), path, opset_version=opset, dynamo=dynamo, **common)
            return f"{'dynamo' if dynamo else 'legacy'} exporter, opset {opset}"
        except Exception as error:  # the dynamo exporter fails on some models: fall back to the legacy one
            failure = failure or f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    raise RuntimeError(f"ONNX export failed with both exporters (dynamo: {failure})")


def precision(compiled):
    """The inference precision an OpenVINO compiled model reports ("f32", "bf16", "f16")."""
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")
    return hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)


class Engines:
    """The engines, each a function from an NCHW float32 batch to its N x D embeddings."""

    def __init__(self, model, onnx_path, threads):
        import onnxruntime as ort
        import openvino as ov

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name

        core = ov.Core()
        network = core.read_model(onnx_path)
        f32 = core.compile_model(network, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads})
        self.f32_precision = precision(f32)
        try:
            default = core.compile_model(network, "CPU", {"INFERENCE_NUM_THREADS": threads})
            self.default_precision = precision(default)
        except RuntimeError as error:  # bf16 on a CPU that has it, under ONEDNN_MAX_CPU_ISA=AVX2, finds no kernels
            default = None
            reason = next((line for line in reversed(str(error).splitlines()) if line.strip()), "")
            self.default_precision = f"failed to compile ({reason.strip()})"

        def openvino(compiled):
            request = compiled.create_infer_request()

            def run(x):
                request.infer({0: x})
                return request.get_output_tensor(0).data.copy()
            return run

        def eager(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()

        self.run = {"ONNX Runtime fp32": lambda x: session.run(None, {input_name: x})[0], "OpenVINO f32": openvino(f32)}
        if default is not None:
            self.run[f"OpenVINO default ({self.default_precision})"] = openvino(default)
        self.run["torch eager"] = eager


def batches(inputs, batch):
    return [inputs[i:i + batch] for i in range(0, len(inputs), batch)]


def engine_rate(run, parts, count):
    start = time.perf_counter()
    for part in parts:
        run(part)
    return count / (time.perf_counter() - start)


def latency_ms(run, one):
    for _ in range(LATENCY_WARMUP):
        run(one)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        run(one)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def pic2vec(command):
    """Runs a pic2vec command; returns its wall seconds (stops with its output if it fails)."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return seconds


def image_folder(files, folder):
    """A folder holding exactly `files` (symbolic links, under their class folders, names kept), so that
    `pic2vec embed` reads the same images in the same order as `rows` gave them, and nothing else."""
    os.makedirs(folder, exist_ok=True)
    for path in files:
        target = os.path.join(folder, os.path.basename(os.path.dirname(path)), os.path.basename(path))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(path, target)
    return folder


def embed_command(name, weights, preset, data, batch, threads, output, precision):
    return [resnet_common.PIC2VEC, "embed", "--model", name, "--data", data, "--weights", weights, "--preset", preset,
            "--batch", str(batch), "--threads", str(threads), "--output", output] + (
                ["--precision", precision] if precision != "fp32" else [])  # builds before --precision run too


def compare(ours, theirs):
    """(max |ours - theirs|, min cosine similarity of their rows)."""
    cosine = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    return float(np.abs(ours - theirs).max()), float(cosine.min())


def multipart(field, filename, data):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def serve_latency_ms(embeddings, image, folder):
    """Median round trip of one image upload to `pic2vec serve` over an index of `embeddings`."""
    index = os.path.join(folder, "latency.index")
    pic2vec([resnet_common.PIC2VEC, "index", "--embeddings", embeddings, "--normalize", "--rerank", "none",
             "--output", index])
    log_path = os.path.join(folder, "serve.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen([resnet_common.PIC2VEC, "serve", "--index", index, "--rerank", "none",
                                   "--host", "127.0.0.1", "--port", "0"], stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        deadline = time.monotonic() + 180
        while port is None and time.monotonic() < deadline:
            with open(log_path) as log:
                found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read())
            if found:
                port = int(found.group(1))
            elif server.poll() is not None:
                break
            else:
                time.sleep(0.1)
        if port is None:
            with open(log_path) as log:
                raise RuntimeError(f"pic2vec serve did not start: {log.read()[-2000:]}")
        with open(image, "rb") as f:
            body, content_type = multipart("image", os.path.basename(image), f.read())

        def upload():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            try:
                connection.request("POST", "/api/search?k=10", body, {"Content-Type": content_type})
                answer = connection.getresponse()
                payload = answer.read()
            finally:
                connection.close()
            if answer.status != 200 or not json.loads(payload).get("results"):
                raise RuntimeError(f"upload answered {answer.status}: {payload[:300]!r}")
        return latency_ms(lambda _: upload(), None)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def bench(key, args, folder):
    name, preset = MODELS[key]
    count, batch = (args.images32, args.batch32) if preset == "cifar" else (args.images224, args.batch224)
    size = resnet_common.preset_of(name, preset)[0]
    model, weights = reference_model(name, folder, args.weights)
    onnx_path = os.path.join(folder, f"{key}.onnx")
    exporter = export_onnx(model, size, onnx_path)
    engines = Engines(model, onnx_path, args.threads)

    files, labels = rows(count)
    with torch.inference_mode():
        inputs = np.ascontiguousarray(
            torch.cat([preprocess(p, preset, name) for p in batches(load_pixels(files), batch)]).numpy(), np.float32)
    parts = batches(inputs, batch)
    warm = {}
    for label, run in list(engines.run.items()):  # untimed: every batch shape the timed loop will see
        try:
            warm[label] = run(parts[0])
            if len(parts[-1]) != len(parts[0]):
                run(parts[-1])
        except RuntimeError as error:  # an engine that cannot run the model at this level is left out, with why
            del engines.run[label]
            print(f"  {label}: left out, it failed to run: {str(error).strip().splitlines()[-1]}", flush=True)

    output = os.path.join(folder, f"{key}.npy")
    data = image_folder(files, os.path.join(folder, f"images-{count}"))
    command = embed_command(name, weights, preset, data, batch, args.threads, output, args.precision)
    best = dict.fromkeys(engines.run, 0.0)
    ours = sidecar_rate = 0.0
    wall = float("inf")
    for _ in range(args.repeat):
        for label, run in engines.run.items():
            best[label] = max(best[label], engine_rate(run, parts, count))
        wall = min(wall, pic2vec(command))
        ours = count / wall
        with open(output + ".json") as f:
            sidecar = json.load(f)
        sidecar_rate = max(sidecar_rate, sidecar.get("imagesPerSecond", 0.0))

    print(f"\n{key}: {name}, preset {preset} ({size}x{size}), {count} images, batch {batch}, "
          f"{args.threads} threads, best of {args.repeat}; ONNX from the {exporter}; OpenVINO's precision with the "
          f"f32 hint: {engines.f32_precision}, by default: {engines.default_precision}", flush=True)
    print(f"  {'engine':34s} {'images/s':>10s} {'pic2vec / engine':>17s}")
    for label, rate in best.items():
        print(f"  {label:34s} {rate:10.1f} {ours / rate:16.2f}x")
    print(f"  {f'pic2vec embed {args.precision} (whole process)':34s} {ours:10.1f}   ({wall:.2f} s wall; its sidecar, "
          f"after decoding: {sidecar_rate:.1f} images/s)")

    embedded = np.load(output)
    embedded_labels = np.load(sidecar["labels"]) if sidecar.get("labels") else None
    reference = warm["ONNX Runtime fp32"]
    with torch.inference_mode():
        eager = model(torch.from_numpy(parts[0])).numpy()
    error, cosine = compare(reference, eager)
    print(f"  parity ONNX Runtime vs torch, first {len(parts[0])} images: max |diff| {error:.3g}, min cosine {cosine:.8f}")
    if embedded.shape[0] != count or (embedded_labels is not None and not (embedded_labels == labels).all()):
        print(f"  parity pic2vec vs ONNX Runtime: skipped, pic2vec's rows are not rows({count}) "
              f"({embedded.shape[0]} rows)")
    else:
        error, cosine = compare(embedded[:len(parts[0])], reference)
        print(f"  parity pic2vec vs ONNX Runtime, first {len(parts[0])} images: max |diff| {error:.3g} "
              f"(max |value| {np.abs(reference).max():.3g}), min cosine {cosine:.8f}")

    if args.latency:
        one = np.ascontiguousarray(inputs[:1])
        cells = [f"{label} {latency_ms(run, one):.2f}" for label, run in engines.run.items()]
        # pic2vec's network on one image at a time, one thread: embed --batch 1 --threads 1 of the first
        # LATENCY_RUNS images, its sidecar's seconds (preprocessing and network, after decoding) per image.
        single = os.path.join(folder, f"{key}-single.npy")
        pic2vec(embed_command(name, weights, preset, image_folder(files[:LATENCY_RUNS], os.path.join(
            folder, f"single-{key}")), 1, 1, single, args.precision))
        with open(single + ".json") as f:
            seconds = json.load(f)["seconds"]
        cells.append(f"pic2vec embed --batch 1 --threads 1 {1000 * seconds / min(LATENCY_RUNS, count):.2f}")
        try:
            cells.append(f"pic2vec serve upload {serve_latency_ms(output, files[0], folder):.2f}")
        except Exception as error:  # reported, the rest of the run goes on
            cells.append(f"pic2vec serve upload failed ({type(error).__name__}: {error})")
        print(f"  batch-1 latency, median of {LATENCY_RUNS} (ms): " + ", ".join(cells), flush=True)
        print("    (engines: the network on one preprocessed image, their threads; pic2vec embed: resizing and the "
              "network per image, one thread; pic2vec serve: an HTTP round trip with a JPEG upload: decode, resize, "
              "network, search)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma list of {', '.join(MODELS)}")
    parser.add_argument("--images32", type=int, default=5000, help="images at 32 px (cifar preset)")
    parser.add_argument("--images224", type=int, default=500, help="images at 224 px (imagenet preset)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch32", type=int, default=128)
    parser.add_argument("--batch224", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="threads of every engine and of pic2vec embed")
    parser.add_argument("--weights", default=WEIGHTS, help="EfficientNet-Lite0 weights")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                        help="pic2vec embed --precision (bf16: compare with OpenVINO's default precision)")
    parser.add_argument("--latency", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure batch-1 latency (pic2vec's through pic2vec serve)")
    args = parser.parse_args()
    keys = [k for k in args.models.split(",") if k]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if min(args.images32, args.images224, args.repeat, args.batch32, args.batch224, args.threads) < 1:
        parser.error("--images32, --images224, --repeat, --batch32, --batch224 and --threads must be at least 1")
    if not os.access(resnet_common.PIC2VEC, os.X_OK):
        sys.exit(f"error: no pic2vec binary at {resnet_common.PIC2VEC}: swift build -c release --product pic2vec")

    import onnxruntime
    import openvino

    print(f"CPU: {cpu_name()}", flush=True)
    print(simd_level.describe(), flush=True)
    print(f"PIC2VEC_SIMD={os.environ['PIC2VEC_SIMD']} (pic2vec's kernels); torch CPU capability: "
          f"{torch.backends.cpu.get_cpu_capability()}; OpenVINO: ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', 'unset')}; "
          f"ONNX Runtime: the CPU's widest, not held", flush=True)
    print(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, openvino {openvino.__version__}, "
          f"pic2vec {resnet_common.PIC2VEC}", flush=True)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        for key in keys:
            bench(key, args, folder)


if __name__ == "__main__":
    main()
