"""Concurrent searches against a running `pic2vec serve` on loopback; prints p50 and p99 latency.

Sends --requests searches, --concurrency at a time (all at once by default), over plain
HTTP/1.1 connections to 127.0.0.1: by-index searches (random rows, seeded) and, with
--upload FILE, every --upload-every-th request an image upload; with --large-upload FILE,
every --large-every-th request uploads that (large) image instead, and small and large
uploads get their own p50/p99; --others-after S starts the other requests S seconds into the
burst of large ones. Every request must answer 200 with --k results; anything else
is counted as an error. Bounded in count and time.
Standard library only.
"""

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.parse


async def request(host, port, method, path, body, content_type, timeout):
    """One HTTP/1.1 request on its own connection; returns (status, body bytes)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + (body or b""))
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    header, _, payload = raw.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in header.lower():
        payload = dechunk(payload)
    return status, payload


def dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080/")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--upload", help="a JPEG or PNG to upload in some of the requests")
    parser.add_argument("--upload-every", type=int, default=4, help="every Nth request uploads (with --upload)")
    parser.add_argument("--large-upload", help="a large JPEG or PNG to upload in some of the requests")
    parser.add_argument("--large-every", type=int, default=2, help="every Nth request uploads the large image")
    parser.add_argument("--others-after", type=float, default=0,
                        help="seconds the other requests wait after the large uploads start (a burst they arrive into)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120, help="seconds per request")
    args = parser.parse_args()

    url = urllib.parse.urlparse(args.url)
    host, port = url.hostname, url.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("refusing to load-test anything but loopback")
    if not (1 <= args.requests <= 10000 and 1 <= args.concurrency <= 1000):
        sys.exit("--requests must be 1..10000 and --concurrency 1..1000")
    status, info = await request(host, port, "GET", "/api/info", None, None, args.timeout)
    if status != 200:
        sys.exit(f"/api/info answered {status}: {info[:200]!r}")
    count = json.loads(info)["count"]
    image = open(args.upload, "rb").read() if args.upload else None
    large = open(args.large_upload, "rb").read() if args.large_upload else None
    rng = random.Random(args.seed)
    plan = []
    for i in range(args.requests):
        if large is not None and i % args.large_every == 0:
            plan.append(("POST large", f"/api/search?k={args.k}", large))
        elif image is not None and i % args.upload_every == 0:
            plan.append(("POST", f"/api/search?k={args.k}", image))
        else:
            plan.append(("GET", f"/api/search?index={rng.randrange(count)}&k={args.k}", None))

    gate = asyncio.Semaphore(args.concurrency)
    latencies, errors = [], []

    async def one(method, path, body):
        if method != "POST large":
            await asyncio.sleep(args.others_after)
        async with gate:
            start = time.perf_counter()
            try:
                content_type = "image/png" if body and body[:4] == b"\x89PNG" else "image/jpeg"
                status, payload = await request(host, port, method.split()[0], path, body, content_type, args.timeout)
                elapsed = time.perf_counter() - start
                answer = json.loads(payload) if status == 200 else None
                if status != 200 or len(answer["results"]) != args.k:
                    errors.append(f"{method} {path}: {status} {payload[:200]!r}")
                else:
                    latencies.append((method, elapsed))
            except Exception as error:  # every failure is counted and reported, none stops the run
                errors.append(f"{method} {path}: {type(error).__name__}: {error}")

    wall = time.perf_counter()
    await asyncio.gather(*(one(*p) for p in plan))
    wall = time.perf_counter() - wall

    def percentile(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000 if ordered else float("nan")

    every = [t for _, t in latencies]
    print(f"{args.requests} searches, {args.concurrency} concurrent, k={args.k}, index of {count}: "
          f"{len(latencies)} ok, {len(errors)} errors, {wall:.2f} s wall, {args.requests / wall:.0f} requests/s")
    print(f"latency all:     p50 {percentile(every, 0.5):8.1f} ms   p99 {percentile(every, 0.99):8.1f} ms")
    for method, name in (("GET", "by index"), ("POST", "uploads"), ("POST large", "large")):
        part = [t for m, t in latencies if m == method]
        if part:
            print(f"latency {name:8} p50 {percentile(part, 0.5):8.1f} ms   p99 {percentile(part, 0.99):8.1f} ms  ({len(part)})")
    for error in errors[:5]:
        print("error: " + error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
