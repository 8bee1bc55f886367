#!/usr/bin/env bash
# Serving a million-row index: start-up time, resident memory and p50 / p99 latency under load.
#
# On loopback only. Embeds AUGMENTATIONS (20) seeded augmentations of every image of DATA's train
# split at SIZE (32) px with the pretrained EfficientNet-Lite0 (1,000,000 rows on CIFAR-10; the
# same rows as experiment 11's augmented set), lets `pic2vec index --type auto --recall RECALL`
# choose and tune the index, then starts `pic2vec serve` on it and prints
#   - the seconds from launch to the first answered search, and the server's resident memory
#     (VmRSS) then and after the load;
#   - p50 / p99 latency of REQUESTS searches sent CONCURRENCY (100) at a time, by stored row,
#     then with every fourth request an image upload (benchmarks/serve_load_test.py).
# WORK keeps the embeddings and the index between runs: each step whose output is there is skipped.
# Usage: benchmarks/serve_million.sh   (env: DATA, WEIGHTS, AUGMENTATIONS, SIZE, RECALL, REQUESTS,
#        CONCURRENCY, WORK, PORT)
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-../shared/data/cifar10-jpeg}
WEIGHTS=${WEIGHTS:-../shared/weights/efficientnet-lite0-57934424.pth}
AUGMENTATIONS=${AUGMENTATIONS:-20}
SIZE=${SIZE:-32}
RECALL=${RECALL:-0.95}
REQUESTS=${REQUESTS:-1000}
CONCURRENCY=${CONCURRENCY:-100}
WORK=${WORK:-/tmp/pic2vec-million}
PORT=${PORT:-8097}
PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

swift build -c release --product pic2vec
BIN=$(swift build -c release --show-bin-path)/pic2vec
mkdir -p "$WORK"

if [ ! -f "$WORK/aug.npy" ]; then
    "$BIN" embed --data "$DATA" --model efficientnet-lite0 --weights "$WEIGHTS" --preset imagenet --size "$SIZE" \
        --augmentations "$AUGMENTATIONS" --output "$WORK/aug.npy"
fi
if [ ! -f "$WORK/aug.index" ]; then
    /usr/bin/time -f "index: %e s wall, %M KB peak resident" \
        "$BIN" index --embeddings "$WORK/aug.npy" --normalize --type auto --recall "$RECALL" --output "$WORK/aug.index"
fi
ls -l "$WORK/aug.index"

started=$(date +%s.%N)
"$BIN" serve --index "$WORK/aug.index" --port "$PORT" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2> /dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/api/search?index=42&k=10" > /dev/null; do
    kill -0 $SERVER 2> /dev/null || { cat "$WORK/serve.log"; exit 1; }
    sleep 0.2
done
ready=$(date +%s.%N)
echo "first search answered $(echo "$ready - $started" | bc) s after launch; resident $(grep -E "VmRSS|RssAnon|RssFile" /proc/$SERVER/status | tr -s " \t\n" " ")"
"$PYTHON" benchmarks/serve_load_test.py --url "http://127.0.0.1:$PORT/" --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY"
UPLOAD=$(find "$DATA" -name '*.jpg' | sort | sed -n 1p)
"$PYTHON" benchmarks/serve_load_test.py --url "http://127.0.0.1:$PORT/" --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY" --upload "$UPLOAD" --upload-every 4
echo "after the load: resident $(grep -E "VmRSS|RssAnon|RssFile" /proc/$SERVER/status | tr -s " \t\n" " ")"
