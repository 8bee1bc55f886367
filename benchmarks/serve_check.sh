#!/usr/bin/env bash
# Browser check and load test of `pic2vec serve`, on loopback only.
#
# Embeds LIMIT images of DATA with random weights (no pretrained weights can be fetched
# here), indexes them, starts `pic2vec serve` on a free 127.0.0.1 port, then
#   1. drives the page in headless Chromium (benchmarks/serve_browser_check.py): a
#      By-index search, then an upload through the file input; checks the results render
#      and saves a screenshot to SHOT;
#   2. sends REQUESTS searches, CONCURRENCY at a time, a quarter of them uploads
#      (benchmarks/serve_load_test.py), and prints p50 / p99 latency.
# Usage: benchmarks/serve_check.sh   (env: DATA, LIMIT, SHOT, REQUESTS, CONCURRENCY, CONFIG, SCRATCH)
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
command -v chromium > /dev/null || { echo "chromium is missing: apt-get install -y chromium" >&2; exit 1; }

swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product pic2vec
BIN=$(swift build -c "$CONFIG" --scratch-path "$SCRATCH" --show-bin-path)/pic2vec
WORK=$(mktemp -d /tmp/pic2vec-serve-check.XXXXXX)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2> /dev/null || true; wait "$SERVER" 2> /dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" embed --data "$DATA" --weights random --seed 0 --limit "$LIMIT" --output "$WORK/emb.npy"
"$BIN" index --embeddings "$WORK/emb.npy" --normalize --output "$WORK/faiss_index.index"

# The upload: a test-set image the index has never seen, enlarged to 128x128 RGBA PNG.
QUERY_SOURCE=$(find "$DATA/test/cat" -name '*.jpg' | sort | sed -n 1p)
"$PYTHON" - "$QUERY_SOURCE" "$WORK/query.png" << 'PY'
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGBA").resize((128, 128), Image.NEAREST).save(sys.argv[2])
PY

"$BIN" serve --index "$WORK/faiss_index.index" --data "$DATA" --limit "$LIMIT" --weights random --seed 0 \
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
grep -m1 Serving "$WORK/serve.log"

status=0
"$PYTHON" benchmarks/serve_browser_check.py --url "$URL" --image "$WORK/query.png" --k 12 --screenshot "$SHOT" || status=1
"$PYTHON" benchmarks/serve_load_test.py --url "$URL" --requests "$REQUESTS" --concurrency "$CONCURRENCY" --k 10 \
    --upload "$WORK/query.png" --upload-every 4 || status=1
exit $status
