#!/usr/bin/env bash
# Browser check and load test of `pic2vec serve`, on loopback only.
#
# Embeds LIMIT images of DATA with random weights (no pretrained weights can be fetched
# here), indexes them, computes the map beside the index (`pic2vec tsne` into
# tsne-train.npy, `pic2vec kmeans` into kmeans-assignments.npy), starts `pic2vec serve` on
# a free 127.0.0.1 port, then
#   1. drives the page in headless Chromium (benchmarks/serve_browser_check.py): results on
#      arrival, more like this, the back button, map hover / click / pan / zoom, an upload
#      through the file input, bad URLs, labels; prints the load timings, the map's bytes
#      and the panning frame rate; saves screenshots to SHOT and SHOT-375.png;
#   2. serves the same index without its map and checks the page says how to make one;
#   3. sends REQUESTS searches, CONCURRENCY at a time, a quarter of them uploads
#      (benchmarks/serve_load_test.py), and prints p50 / p99 latency.
# WORK (default: a fresh temporary folder, removed at the end) keeps the embeddings, index
# and map between runs when given: each step whose output is there is skipped.
# Usage: benchmarks/serve_check.sh   (env: DATA, LIMIT, SHOT, REQUESTS, CONCURRENCY, CONFIG, SCRATCH, WORK)
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/data/cifar10-jpeg}
LIMIT=${LIMIT:-5000}
SHOT=${SHOT:-outputs/serve_browser_check.png}
REQUESTS=${REQUESTS:-300}
CONCURRENCY=${CONCURRENCY:-100}
CONFIG=${CONFIG:-release}
SCRATCH=${SCRATCH:-.build}
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
if ! command -v chromium > /dev/null; then
    apt-get install -y chromium > /dev/null || { echo "chromium is missing and could not be installed: apt-get install -y chromium" >&2; exit 1; }
fi

swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product pic2vec
BIN=$(swift build -c "$CONFIG" --scratch-path "$SCRATCH" --show-bin-path)/pic2vec
KEEP=${WORK:+yes}
WORK=${WORK:-$(mktemp -d /tmp/pic2vec-serve-check.XXXXXX)}
mkdir -p "$WORK"
SERVER=
stop_server() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2> /dev/null || true; wait "$SERVER" 2> /dev/null || true; fi
    SERVER=
}
cleanup() {
    stop_server
    [ -n "$KEEP" ] || rm -rf "$WORK"
}
trap cleanup EXIT

[ -f "$WORK/emb.npy" ] || "$BIN" embed --data "$DATA" --weights random --seed 0 --limit "$LIMIT" --output "$WORK/emb.npy"
[ -f "$WORK/faiss_index.index" ] || "$BIN" index --embeddings "$WORK/emb.npy" --normalize --output "$WORK/faiss_index.index"
[ -f "$WORK/tsne-train.npy" ] || "$BIN" tsne --embeddings "$WORK/emb.npy" --normalize --output "$WORK/tsne-train.npy"
[ -f "$WORK/kmeans-assignments.npy" ] || "$BIN" kmeans --embeddings "$WORK/emb.npy" --normalize --k 10 \
    --output "$WORK/kmeans-assignments.npy"
# The same index alone in a folder of its own: no map beside it.
mkdir -p "$WORK/no-map"
cp "$WORK"/faiss_index.index* "$WORK/no-map/"

# The upload: a test-set image the index has never seen, enlarged to 128x128 RGBA PNG.
QUERY_SOURCE=$(find "$DATA/test/cat" -name '*.jpg' | sort | sed -n 1p)
"$PYTHON" - "$QUERY_SOURCE" "$WORK/query.png" << 'PY'
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGBA").resize((128, 128), Image.NEAREST).save(sys.argv[2])
PY

# Starts `pic2vec serve` on INDEX and sets URL once it listens.
start_server() {
    "$BIN" serve --index "$1" --data "$DATA" --limit "$LIMIT" --weights random --seed 0 \
        --host 127.0.0.1 --port 0 > "$WORK/serve.log" 2>&1 &
    SERVER=$!
    URL=
    for _ in $(seq 1 600); do
        URL=$(grep -o 'http://127.0.0.1:[0-9]*/' "$WORK/serve.log" | head -1 || true)
        [ -n "$URL" ] && break
        kill -0 "$SERVER" 2> /dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
        sleep 0.2
    done
    [ -n "$URL" ] || { echo "the server did not start in 120 s" >&2; cat "$WORK/serve.log" >&2; exit 1; }
    grep -m1 -e '^map:' -e 'no map' "$WORK/serve.log" || true
    grep -m1 Serving "$WORK/serve.log"
}

status=0
start_server "$WORK/faiss_index.index"
"$PYTHON" benchmarks/serve_browser_check.py --url "$URL" --image "$WORK/query.png" --screenshot "$SHOT" || status=1
"$PYTHON" benchmarks/serve_load_test.py --url "$URL" --requests "$REQUESTS" --concurrency "$CONCURRENCY" --k 10 \
    --upload "$WORK/query.png" --upload-every 4 || status=1
stop_server
start_server "$WORK/no-map/faiss_index.index"
"$PYTHON" benchmarks/serve_browser_check.py --url "$URL" --image "$WORK/query.png" --no-map \
    --screenshot "${SHOT%.png}-no-map.png" || status=1
exit $status
