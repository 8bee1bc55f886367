"""Drive the audit page of `pic2vec serve` in headless Chromium: duplicate tiers, label issues, marks.

Builds a small labelled collection in a temporary folder: --count CIFAR-10 test JPEGs in their class
folders, plus planted problems: mirrored and 10%-brighter copies of a few images (near-duplicates),
and copies of a few images filed under another class (identical pixels, and a wrong label). Embeds
it with the pic2vec options given after `--`, indexes it (`--normalize`), starts `pic2vec serve` on a
free loopback port and opens /audit. Checks: the duplicates view lists pairs with their tier and
both distances, the planted near-duplicates among them; a "Duplicate" click is saved in
<index>.audit.json (aria-pressed and the file agree) and a second click clears it; the label-issues
view lists candidates with given and suggested labels and neighbours, and a planted wrong label is
among them; the export route returns the marks; every image has alt text and every button a name.
Saves a screenshot of each view (--screenshot, and the labels view ending -labels.png).

    .venv/bin/python benchmarks/audit_browser_check.py --screenshot outputs/audit.png -- \\
        --model efficientnet-lite0 --weights ../shared/weights/efficientnet-lite0-57934424.pth
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from PIL import Image, ImageEnhance, ImageOps

from serve_browser_check import DevTools, check, screenshot, start_chromium, stop

PLANTED = 4  # images per kind of planted problem


def build(folder, source, count, seed):
    """The collection's folder; returns (near-duplicate copies, wrongly filed copies) as relative paths."""
    classes = sorted(os.listdir(source))
    files = sorted(os.path.join(c, f) for c in classes for f in os.listdir(os.path.join(source, c)))
    chosen = random.Random(seed).sample(files, count)
    for path in chosen:
        os.makedirs(os.path.join(folder, os.path.dirname(path)), exist_ok=True)
        shutil.copyfile(os.path.join(source, path), os.path.join(folder, path))
    near, wrong = [], []
    for i, path in enumerate(chosen[:2 * PLANTED]):
        image = Image.open(os.path.join(source, path)).convert("RGB")
        changed = ImageOps.mirror(image) if i % 2 == 0 else ImageEnhance.Brightness(image).enhance(1.1)
        copy = os.path.join(os.path.dirname(path), f"copy-{i}.png")
        changed.save(os.path.join(folder, copy))
        near.append(copy)
    for i, path in enumerate(chosen[2 * PLANTED:3 * PLANTED]):
        other = classes[(classes.index(os.path.dirname(path)) + 1) % len(classes)]
        copy = os.path.join(other, f"misfiled-{i}.jpg")
        shutil.copyfile(os.path.join(source, path), os.path.join(folder, copy))
        wrong.append(copy)
    return near, wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pic2vec", default=".build/release/pic2vec")
    parser.add_argument("--source", default="../shared/data/cifar10-jpeg/test")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("pic2vec_args", nargs=argparse.REMAINDER, help="-- then pic2vec embed options (model, weights, preset)")
    args = parser.parse_args()
    extra = [a for a in args.pic2vec_args if a != "--"]

    work = tempfile.mkdtemp(prefix="pic2vec-audit-")
    server = process = None
    profile = tempfile.mkdtemp(prefix="pic2vec-chromium-")
    passed = True
    try:
        data = os.path.join(work, "images")
        near, wrong = build(data, args.source, args.count, args.seed)
        index = os.path.join(work, "x.index")
        subprocess.run([args.pic2vec, "embed", "--data", data, "--output", os.path.join(work, "x.npy")] + extra,
                       check=True, capture_output=True)
        subprocess.run([args.pic2vec, "index", "--embeddings", os.path.join(work, "x.npy"), "--normalize",
                        "--output", index], check=True, capture_output=True)
        server = subprocess.Popen([args.pic2vec, "serve", "--index", index, "--port", "0", "--no-model"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = server.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0].rstrip("/")
        print(f"server: {line.strip()}")

        process, ws_url = start_chromium(args.chromium, profile, args.timeout)
        tools = DevTools(ws_url, args.timeout)
        tools.call("Page.enable")
        tools.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        started = time.time()
        tools.call("Page.navigate", url=url + "/audit")
        done = "!!document.getElementById('items') && ['done', 'error'].includes(document.getElementById('items').dataset.state)"
        tools.wait_for(done, args.timeout, "the duplicates view")
        tools.wait_for("[...document.images].every(i => i.complete)", args.timeout, "the thumbnails")
        print(f"duplicates view shown after {time.time() - started:.1f} s (the audit made on first use)")
        audit = json.load(urllib.request.urlopen(url + "/api/audit?view=duplicates&per=100", timeout=args.timeout))
        tiers = {}
        for pair in audit["pairs"]:
            tiers.setdefault(pair["tier"], []).append(tuple(sorted(os.path.basename(i["path"]) for i in pair["images"])))
        print(f"tiers: { {t: len(p) for t, p in tiers.items()} }")
        found = [c for c in near if any(os.path.basename(c) in p for p in tiers.get("near-duplicate", []))]
        passed &= check(len(found) == len(near), f"near-duplicate tier holds the planted copies: {len(found)} of {len(near)}")
        misfiled = [c for c in wrong if any(os.path.basename(c) in p for p in tiers.get("identical", []))]
        passed &= check(len(misfiled) == len(wrong), f"identical tier holds the misfiled copies: {len(misfiled)} of {len(wrong)}")
        cards = tools.evaluate("document.querySelectorAll('#items .card').length")
        shown = tools.evaluate("document.querySelector('#items .card h2').innerText")
        passed &= check(cards > 0 and "pixels" in shown and "network" in shown,
                        f"cards show tier and both distances: {cards} cards, first '{shown}'")
        width = tools.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        passed &= check(width[0] <= width[1], f"no sideways scrolling: page {width[0]} px in a {width[1]} px window")
        screenshot(tools, args.screenshot)

        button = "document.querySelector('#items button[data-mark=duplicate]')"
        row = tools.evaluate(f"{button}.dataset.row")
        tools.evaluate(f"{button}.click()")
        tools.wait_for(f"{button}.getAttribute('aria-pressed') === 'true'", args.timeout, "the mark pressed")
        marks = json.load(open(index + ".audit.json"))
        passed &= check([m["mark"] for m in marks["marks"]] == ["duplicate"],
                        f"a Duplicate click on row {row} is saved beside the index: {marks['marks']}")
        exported = json.load(urllib.request.urlopen(url + "/api/audit/marks", timeout=args.timeout))
        passed &= check(exported == marks, "the export returns the saved marks")
        tools.evaluate(f"{button}.click()")
        tools.wait_for(f"{button}.getAttribute('aria-pressed') === 'false'", args.timeout, "the mark cleared")
        time.sleep(0.2)
        passed &= check(json.load(open(index + ".audit.json"))["marks"] == [], "a second click clears it")

        tools.evaluate("document.querySelector('nav button[data-view=labels]').click()")
        tools.wait_for(f"location.search.includes('labels') && {done}", args.timeout, "the label-issues view")
        tools.wait_for("[...document.images].every(i => i.complete)", args.timeout, "the thumbnails")
        issues = json.load(urllib.request.urlopen(url + "/api/audit?view=labels&per=100", timeout=args.timeout))
        flagged = {os.path.basename(i["image"]["path"]) for i in issues["labelIssues"]}
        caught = [c for c in wrong if os.path.basename(c) in flagged]
        summary = tools.evaluate("document.getElementById('summary').innerText")
        passed &= check(issues["total"] > 0 and "→" in tools.evaluate("document.querySelector('#items .card h2').innerText"),
                        f"label issues: {summary}; cards show given → suggested")
        print(f"misfiled copies flagged: {len(caught)} of {len(wrong)} (first page of 100)")
        tools.evaluate("document.querySelector('#items button[data-mark=wrong-label]').click()")
        tools.wait_for("document.querySelector('#items button[data-mark=wrong-label]').getAttribute('aria-pressed') === 'true'",
                       args.timeout, "the wrong-label mark")
        passed &= check([m["mark"] for m in json.load(open(index + ".audit.json"))["marks"]] == ["wrong-label"],
                        "a Wrong label click is saved")
        unnamed = tools.evaluate("""[...document.querySelectorAll('img')].filter(i => !i.alt).length +
            [...document.querySelectorAll('button')].filter(b => !(b.getAttribute('aria-label') || b.innerText.trim())).length""")
        passed &= check(unnamed == 0, f"every image has alt text and every button a name ({unnamed} without)")
        screenshot(tools, args.screenshot[:-4] + "-labels.png")
    finally:
        for child in (process, server):
            if child:
                stop(child)
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print("audit browser check: " + ("passed" if passed else "FAILED"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
