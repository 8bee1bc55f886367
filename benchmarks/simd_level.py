"""The SIMD level a benchmark runs at, set up before numpy, torch or FAISS load.

Import this module first. It reads `--simd LEVEL` from the command line (else PIC2VEC_SIMD,
else the CPU's widest level: avx512, avx2 or generic), exports PIC2VEC_SIMD for pic2vec,
and, below avx512, holds the references to the same instruction set so that the run
stands in for a CPU without AVX-512 (OpenBLAS core type, ATen and oneDNN ISA, FAISS build):

    avx2:    OPENBLAS_CORETYPE=Haswell  ATEN_CPU_CAPABILITY=avx2     ONEDNN_MAX_CPU_ISA=AVX2  FAISS_OPT_LEVEL=avx2
    generic: OPENBLAS_CORETYPE=Nehalem  ATEN_CPU_CAPABILITY=default  ONEDNN_MAX_CPU_ISA=SSE41 FAISS_OPT_LEVEL=generic

The variables reach pic2vec too (its all-pairs search calls OpenBLAS sgemm). `LEVEL` is the
level and `describe()` the line each benchmark prints.
"""
import os
import sys

LEVELS = ("generic", "avx2", "avx512")

REFERENCE_ENVIRONMENT = {
    "avx2": {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "FAISS_OPT_LEVEL": "avx2"},
    "generic": {"OPENBLAS_CORETYPE": "Nehalem", "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                "FAISS_OPT_LEVEL": "generic"},
}


def widest():
    """The widest level this CPU runs (from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    if "avx512f" in flags:
        return "avx512"
    if "avx2" in flags and "fma" in flags:
        return "avx2"
    return "generic"


def _requested():
    """`--simd LEVEL` or `--simd=LEVEL` (removed from sys.argv), else PIC2VEC_SIMD, else None."""
    for i, argument in enumerate(sys.argv):
        if argument == "--simd" and i + 1 < len(sys.argv):
            value = sys.argv[i + 1]
            del sys.argv[i:i + 2]
            return value
        if argument.startswith("--simd="):
            del sys.argv[i]
            return argument.split("=", 1)[1]
    return os.environ.get("PIC2VEC_SIMD") or None


def _choose():
    value = _requested()
    top = widest()
    if value is None:
        return top
    if value not in LEVELS:
        sys.exit(f"error: SIMD level '{value}' is not one of {', '.join(LEVELS)}")
    if LEVELS.index(value) > LEVELS.index(top):
        sys.exit(f"error: this CPU lacks {value} (it runs up to {top})")
    return value


LEVEL = _choose()
os.environ["PIC2VEC_SIMD"] = LEVEL
for _name, _value in REFERENCE_ENVIRONMENT.get(LEVEL, {}).items():
    os.environ[_name] = _value


def describe():
    """One line naming the level and what holds the references to it."""
    held = " ".join(f"{k}={v}" for k, v in REFERENCE_ENVIRONMENT.get(LEVEL, {}).items())
    return f"SIMD level: {LEVEL} (CPU widest: {widest()}; PIC2VEC_SIMD={LEVEL}{'; references: ' + held if held else ''})"
