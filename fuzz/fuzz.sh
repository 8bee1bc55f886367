#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, swiftc -sanitize=fuzzer,address) of the parsers that
# read outside input: the pickle reader, .npy, JPEG/PNG decoding and multipart bodies.
#
#   fuzz/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 180 s; targets pickle npy image multipart)
#
# Builds each harness with the project's own sources (not through SwiftPM, which cannot
# add the fuzzer runtime), runs it single-process (about one core) from the seeds in
# fuzz/seeds/<target>, and prints executions and crashes. Crash inputs land in
# fuzz/crashes/<target>/ (each becomes a regression test); the grown corpus in .build/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-180}
shift || true
TARGETS=("${@:-pickle npy image multipart}")
TARGETS=(${TARGETS[@]})
BUILD=.build/fuzz
mkdir -p "$BUILD"
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -g)

# One Swift module per project module, compiled to an object with coverage instrumentation.
module() { # name output-dir sources...
    local name=$1; shift
    swiftc "${FLAGS[@]}" -c -wmo -module-name "$name" -emit-module -emit-module-path "$BUILD/$name.swiftmodule" \
        -I "$BUILD" -o "$BUILD/$name.o" "$@"
}

build() {
    local target=$1
    case $target in
    pickle | npy)
        module Common Sources/Common/{AtomicFile,ArrayShape,NPY,Pickle,Pickle+NumPy}.swift
        local harness=fuzz/harnesses/$([ "$target" = pickle ] && echo PickleFuzz || echo NPYFuzz).swift
        swiftc "${FLAGS[@]}" -I "$BUILD" "$harness" "$BUILD/Common.o" -o "$BUILD/fuzz-$target"
        ;;
    image)
        module Common Sources/Common/{AtomicFile,ArrayShape,NPY,Pickle,Pickle+NumPy}.swift
        mkdir -p "$BUILD/CImageCodecs"
        printf 'module CImageCodecs {\n    header "%s/Sources/CImageCodecs/include/CImageCodecs.h"\n    export *\n}\n' "$PWD" \
            >"$BUILD/CImageCodecs/module.modulemap"
        for c in jpeg_decode png_decode; do
            clang -fsanitize=fuzzer-no-link,address -O1 -g -c -I Sources/CImageCodecs/include \
                "Sources/CImageCodecs/$c.c" -o "$BUILD/$c.o"
        done
        module ImageData -I "$BUILD/CImageCodecs" Sources/ImageData/{ImageDecoder,FileBytes,RGBImage}.swift
        swiftc "${FLAGS[@]}" -I "$BUILD" fuzz/harnesses/ImageFuzz.swift "$BUILD"/{Common,ImageData,jpeg_decode,png_decode}.o \
            -ljpeg -lpng -o "$BUILD/fuzz-image"
        ;;
    multipart)
        module SearchService Sources/SearchService/{Multipart,SearchError}.swift
        swiftc "${FLAGS[@]}" -I "$BUILD" fuzz/harnesses/MultipartFuzz.swift "$BUILD/SearchService.o" -o "$BUILD/fuzz-multipart"
        ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
    esac
}

for target in "${TARGETS[@]}"; do
    echo "== $target: building"
    build "$target" >"$BUILD/build-$target.log" 2>&1 || { tail -30 "$BUILD/build-$target.log"; exit 1; }
    corpus=$BUILD/corpus-$target
    crashes=fuzz/crashes/$target
    mkdir -p "$corpus" "$crashes"
    echo "== $target: fuzzing for $SECONDS_PER_TARGET s"
    log=$BUILD/fuzz-$target.log
    set +e
    ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 "$BUILD/fuzz-$target" "$corpus" "fuzz/seeds/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10 -max_len=65536 \
        -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1
    status=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    found=$(find "$crashes" -type f | wc -l)
    echo "== $target: exit $status, $runs executions, $found crash/timeout/oom inputs in $crashes (log $log)"
done
