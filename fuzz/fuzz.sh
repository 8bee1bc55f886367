#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, swiftc -sanitize=fuzzer,address) of the parsers that
# read outside input: the pickle reader, .npy, JPEG/PNG decoding, multipart bodies, index
# descriptions, the command-line specs (shards, re-rankings), the map files and the re-ranking cache.
#
#   fuzz/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#     (default 180 s; targets pickle npy image multipart description spec map rerank-cache)
#
# Builds each harness with the project's own sources (not through SwiftPM, which cannot
# add the fuzzer runtime), runs it single-process (about one core) from the seeds in
# fuzz/seeds/<target>, and prints executions and crashes. Crash inputs land in
# fuzz/crashes/<target>/ (each becomes a regression test); the grown corpus in .build/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-180}
shift || true
TARGETS=("${@:-pickle npy image multipart description spec map rerank-cache}")
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

# A C target compiled with coverage and given the module map SwiftPM would make for it.
c_module() { # name compiler include-dir sources...
    local name=$1 compiler=$2 include=$3; shift 3
    mkdir -p "$BUILD/$name"
    printf 'module %s {\n    header "%s/%s/%s.h"\n    export *\n}\n' "$name" "$PWD" "$include" "$name" >"$BUILD/$name/module.modulemap"
    for source in "$@"; do
        "$compiler" -fsanitize=fuzzer-no-link,address -O1 -g -c -I "$include" -I Sources/CFAISS/shim "$source" \
            -o "$BUILD/$name-$(basename "${source%.*}").o"
    done
}

# The whole of Common and VectorSearch (with CKernels and the FAISS bridge), for the targets
# that reach the re-ranking pipeline.
vector_search() {
    c_module CKernels clang Sources/CKernels/include Sources/CKernels/*.c
    c_module CFAISS clang++ Sources/CFAISS/include Sources/CFAISS/FAISSBridge.cpp
    module Common "${C_MODULES[@]}" Sources/Common/*.swift
    module VectorSearch "${C_MODULES[@]}" $(find Sources/VectorSearch -name '*.swift')
}
C_MODULES=(-I "$BUILD/CKernels" -I "$BUILD/CFAISS" -I Sources/CBLAS -I Sources/CLibZ -I Sources/COpenSSL)
VECTOR_SEARCH_LINK=(-lfaiss -lgomp -lstdc++ -lopenblas -lz -lcrypto)

# The image codecs' C target, with the module map SwiftPM would make for it.
image_codecs() {
    mkdir -p "$BUILD/CImageCodecs"
    printf 'module CImageCodecs {\n    header "%s/Sources/CImageCodecs/include/CImageCodecs.h"\n    export *\n}\n' "$PWD" \
        >"$BUILD/CImageCodecs/module.modulemap"
    for c in jpeg_decode png_decode; do
        clang -fsanitize=fuzzer-no-link,address -O1 -g -c -I Sources/CImageCodecs/include \
            "Sources/CImageCodecs/$c.c" -o "$BUILD/$c.o"
    done
}

# VectorSearch plus the pickle reader, the downloader, ImageData, ZIPFoundation (from SwiftPM's
# checkout) and Networks, then
# CollectionStore: what a collection's description and files are read with.
collection_store() {
    vector_search
    image_codecs
    [ -d "$ZIP" ] || swift package resolve
    module PythonPickle Sources/PythonPickle/*.swift
    module Download "${C_MODULES[@]}" Sources/Download/*.swift
    module ImageData -I "$BUILD/CImageCodecs" -I Sources/CJPEG -I Sources/CPNG "${C_MODULES[@]}" Sources/ImageData/*.swift
    module ZIPFoundation -I "$ZIP/CZLib" -Xcc -D_GNU_SOURCE=1 "$ZIP"/ZIPFoundation/*.swift
    module Networks "${C_MODULES[@]}" -I "$ZIP/CZLib" Sources/Networks/*.swift
    module CollectionStore "${C_MODULES[@]}" -I "$ZIP/CZLib" Sources/CollectionStore/*.swift
}
ZIP=.build/checkouts/ZIPFoundation/Sources
COLLECTION_STORE_OBJECTS=("$BUILD"/{Common,VectorSearch,PythonPickle,Download,ImageData,ZIPFoundation,Networks,CollectionStore}.o)
COLLECTION_STORE_LINK=("${VECTOR_SEARCH_LINK[@]}" -ljpeg -lpng)

build() {
    local target=$1
    case $target in
    spec)
        vector_search
        swiftc "${FLAGS[@]}" -I "$BUILD" "${C_MODULES[@]}" fuzz/harnesses/SpecFuzz.swift "$BUILD"/{Common,VectorSearch}.o \
            "$BUILD"/CKernels-*.o "$BUILD"/CFAISS-*.o "${VECTOR_SEARCH_LINK[@]}" -o "$BUILD/fuzz-$target"
        ;;
    description)
        collection_store
        swiftc "${FLAGS[@]}" -I "$BUILD" "${C_MODULES[@]}" -I "$ZIP/CZLib" fuzz/harnesses/DescriptionFuzz.swift \
            "${COLLECTION_STORE_OBJECTS[@]}" "$BUILD"/{jpeg_decode,png_decode}.o "$BUILD"/CKernels-*.o \
            "$BUILD"/CFAISS-*.o "${COLLECTION_STORE_LINK[@]}" -o "$BUILD/fuzz-$target"
        ;;
    rerank-cache)
        collection_store
        swiftc "${FLAGS[@]}" -module-name RerankCacheFuzz -I "$BUILD" "${C_MODULES[@]}" -I "$ZIP/CZLib" \
            fuzz/harnesses/RerankCacheFuzz.swift Sources/SearchService/RerankingCache.swift \
            "${COLLECTION_STORE_OBJECTS[@]}" "$BUILD"/{jpeg_decode,png_decode}.o "$BUILD"/CKernels-*.o \
            "$BUILD"/CFAISS-*.o "${COLLECTION_STORE_LINK[@]}" -o "$BUILD/fuzz-$target"
        ;;
    map)
        module Common Sources/Common/{AtomicFile,ArrayShape,NPY,RegularFile}.swift
        swiftc "${FLAGS[@]}" -module-name MapFuzz -I "$BUILD" fuzz/harnesses/MapFuzz.swift Sources/SearchService/CollectionMap.swift \
            "$BUILD/Common.o" -o "$BUILD/fuzz-$target"
        ;;
    npy)
        module Common Sources/Common/{AtomicFile,ArrayShape,NPY,RegularFile}.swift
        swiftc "${FLAGS[@]}" -I "$BUILD" fuzz/harnesses/NPYFuzz.swift "$BUILD/Common.o" -o "$BUILD/fuzz-$target"
        ;;
    pickle)
        module Common Sources/Common/{AtomicFile,ArrayShape,NPY,RegularFile}.swift
        module PythonPickle Sources/PythonPickle/*.swift
        swiftc "${FLAGS[@]}" -I "$BUILD" fuzz/harnesses/PickleFuzz.swift "$BUILD"/{Common,PythonPickle}.o -o "$BUILD/fuzz-$target"
        ;;
    image)
        module Common Sources/Common/{AtomicFile,ArrayShape,NPY,RegularFile}.swift
        image_codecs
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
