"""SGEMM peak of this machine at a SIMD level: OpenBLAS (numpy) and pic2vec's GEMM kernel.

The peak the other benchmarks' GFLOP/s are read against. numpy's OpenBLAS runs a
2048 x 2048 x 2048 product on 1 and 2 threads (held to the level's core type by simd_level.py);
pic2vec's kernel (Sources/CKernels, compiled here with clang -O3 into a temporary
library, the same flags as the package) runs single-threaded on the shapes the convolutions
use, at the level given. Best of `--repeat` runs each (the machine is shared).

    .venv/bin/python benchmarks/bench_sgemm.py [--simd avx2] [--repeat 5]
"""
import simd_level  # noqa: F401  (first: sets the SIMD level before numpy loads)

import argparse
import ctypes
import glob
import os
import subprocess
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

LEVEL_CODES = {"generic": 0, "avx2": 1, "avx512": 2}
# (m, n, k): a 3x3 convolution's im2col GEMM at 56x56 (batch 1), a Winograd tile product, a 1x1.
SHAPES = [(3136, 64, 576), (1024, 128, 128), (784, 256, 128), (2048, 512, 512)]


def best(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def kernel_library(folder):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "CKernels")
    path = os.path.join(folder, "libkernels.so")
    subprocess.run(["clang", "-O3", "-shared", "-fPIC", "-I", os.path.join(root, "include"), "-o", path]
                   + sorted(glob.glob(os.path.join(root, "*.c"))), check=True)
    library = ctypes.CDLL(path)
    pointer = ctypes.POINTER(ctypes.c_float)
    library.rn_packed_count.restype = ctypes.c_size_t
    library.rn_pack.argtypes = [pointer, ctypes.c_int, ctypes.c_int, ctypes.c_int, pointer]
    library.rn_gemm.argtypes = [ctypes.c_int] * 4 + [pointer, ctypes.c_int, pointer, pointer, ctypes.c_int,
                                                       pointer, pointer, ctypes.c_int, ctypes.c_int]
    return library


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(simd_level.describe())
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2048, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 2048), dtype=np.float32)
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            a @ b
            seconds = best(lambda: a @ b, args.repeat)
        print(f"OpenBLAS sgemm 2048^3, {threads} thread(s): {2 * 2048 ** 3 / seconds / 1e9:7.1f} GFLOP/s")
    with tempfile.TemporaryDirectory() as folder:
        library = kernel_library(folder)
        as_pointer = lambda x: x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))  # noqa: E731
        for m, n, k in SHAPES:
            x = rng.standard_normal((m, k), dtype=np.float32)
            w = rng.standard_normal((k, n), dtype=np.float32)
            packed = np.empty(library.rn_packed_count(k, n), dtype=np.float32)
            library.rn_pack(as_pointer(w), k, n, n, as_pointer(packed))
            c = np.empty((m, n), dtype=np.float32)
            run = lambda: library.rn_gemm(LEVEL_CODES[simd_level.LEVEL], m, n, k, as_pointer(x), k,  # noqa: E731
                                          as_pointer(packed), as_pointer(c), n, None, None, 0, 0)
            run()
            assert np.allclose(c, x @ w, rtol=1e-3, atol=1e-2), "kernel result differs from numpy"
            seconds = best(run, args.repeat)
            print(f"pic2vec GEMM kernel {m}x{n}x{k}, 1 thread:  {2 * m * n * k / seconds / 1e9:7.1f} GFLOP/s")


if __name__ == "__main__":
    main()
