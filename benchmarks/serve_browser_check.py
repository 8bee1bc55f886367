"""Drive the pic2vec search page in headless Chromium over the DevTools protocol.

Opens the page served at --url with no query and checks, without any click, that a random
query and its results appear and that the URL names it; measures the time to the first
results and to the map drawn (performance marks) and the map's bytes on the wire. Then
clicks a result ("more like this") and checks the query and URL changed and that the back
button returns; hovers a map point (thumbnail and label shown) and clicks it (a search
ran); pans the map with the mouse and counts frames drawn (the page's `map-draw`
performance measures); toggles the colouring; uploads --image through the file input;
opens URLs with a bad index and a bad k (the server's message is shown); checks every
image has alt text and every control a label; and saves screenshots at desktop width and
at 375 px (no sideways scrolling there). With --no-map, checks instead that the page says
how to make a map and still searches. Standard library only: a minimal WebSocket client
talks to Chromium's DevTools endpoint on 127.0.0.1.

Exit status 0 when every check passes; prints one line per check and the measurements.
"""

import argparse
import base64
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


class DevTools:
    """A DevTools session over one WebSocket (RFC 6455, client side, text frames)."""

    def __init__(self, ws_url, timeout):
        rest = ws_url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("DevTools closed the connection during the handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError(f"DevTools refused the WebSocket: {status!r}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _frame(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            length = b1 & 0x7F
            if length == 126:
                length = int.from_bytes(self._read(2), "big")
            elif length == 127:
                length = int.from_bytes(self._read(8), "big")
            payload = self._read(length)
            opcode = b0 & 0x0F
            if opcode == 8:
                raise RuntimeError("DevTools closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if b0 & 0x80:
                    return message

    def _send(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._frame())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def send(self, method, **params):
        """Sends a command without waiting for its answer; returns its id (see `drain`)."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def drain(self, last_id):
        """Reads answers until the one to command `last_id`."""
        while json.loads(self._frame()).get("id") != last_id:
            pass

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def start_chromium(binary, profile, timeout):
    """Starts headless Chromium with DevTools on a free loopback port; returns (process, ws url)."""
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
         "--window-size=1280,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(port_file):
            lines = open(port_file).read().split("\n")
            if lines[0].strip():
                port = int(lines[0])
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5))
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return process, pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("Chromium did not open its DevTools port in time")


RESULTS_CHECK = """(() => {
  const results = document.getElementById('results');
  const figures = [...results.querySelectorAll('figure')];
  const images = [...document.querySelectorAll('#query img, #results img')];
  return {
    state: results.dataset.state,
    query: results.dataset.query,
    count: figures.length,
    captions: figures.map(f => f.querySelector('figcaption').innerText.replace(/\\n+/g, ' | ')),
    decoded: images.length > 0 && images.every(i => i.complete && i.naturalWidth > 0),
    rendering: images.length ? getComputedStyle(images[0]).imageRendering : '',
    error: document.getElementById('error').innerText,
    search: location.search,
  };
})()"""

# A canvas pixel drawn in a palette colour (a map point, not a highlight ring), in CSS
# pixels relative to the viewport, scanning outward from the middle.
FIND_POINT = """(() => {
  const canvas = document.getElementById('map');
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height, data = ctx.getImageData(0, 0, w, h).data;
  const palette = new Set(PALETTE.map(c => c.toLowerCase()));
  const hex = (i) => '#' + [0, 1, 2].map(j => data[i + j].toString(16).padStart(2, '0')).join('');
  const box = canvas.getBoundingClientRect(), ratio = w / box.width;
  for (let r = 0; r < Math.max(w, h) / 2; r += 3) {
    for (let a = 0; a < 64; a++) {
      const x = Math.round(w / 2 + r * Math.cos(a / 64 * 2 * Math.PI)), y = Math.round(h / 2 + r * Math.sin(a / 64 * 2 * Math.PI));
      if (x < 8 || y < 8 || x >= w - 8 || y >= h - 8) continue;
      let solid = true;
      for (let dy = 0; dy <= 1 && solid; dy++) for (let dx = 0; dx <= 1; dx++) {
        if (!palette.has(hex(((y + dy) * w + x + dx) * 4))) { solid = false; break; }
      }
      if (solid) return { x: box.left + x / ratio, y: box.top + y / ratio };
    }
  }
  return null;
})()"""

# Every image has alt text; every input, button and canvas has an accessible name.
LABELS_CHECK = """(() => {
  const unnamed = [];
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) unnamed.push(img.outerHTML.slice(0, 80));
  for (const el of document.querySelectorAll('input, button, canvas, output')) {
    const named = el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.closest('label') ||
      (el.tagName === 'BUTTON' && el.innerText.trim());
    if (!named) unnamed.push(el.outerHTML.slice(0, 80));
  }
  return unnamed;
})()"""


def stop(process):
    """Terminates `process`, killing it when it has not ended within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def check(ok, text):
    print(("ok   " if ok else "FAIL ") + text)
    return bool(ok)


def mouse(tools, kind, x, y, buttons=0, button="none", clicks=0):
    tools.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, buttons=buttons, button=button, clickCount=clicks)


def click(tools, x, y):
    mouse(tools, "mouseMoved", x, y)
    mouse(tools, "mousePressed", x, y, buttons=1, button="left", clicks=1)
    mouse(tools, "mouseReleased", x, y, button="left", clicks=1)


def center_of(tools, selector):
    return tools.evaluate(f"""(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
        return {{ x: r.left + r.width / 2, y: r.top + r.height / 2 }}; }})()""")


def screenshot(tools, path):
    shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as out:
        out.write(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")


def wait_results(tools, timeout, what, previous=None):
    """Waits until #results is done or error (and, with `previous`, names another query)."""
    condition = "['done', 'error'].includes(document.getElementById('results').dataset.state)"
    if previous is not None:
        condition += f" && document.getElementById('results').dataset.query !== {json.dumps(previous)}"
    tools.wait_for(condition, timeout, what)
    tools.wait_for("[...document.images].every(i => i.complete)", timeout, "thumbnails")
    return tools.evaluate(RESULTS_CHECK)


def open_page(tools, url, timeout):
    tools.call("Page.navigate", url=url)
    tools.wait_for("document.readyState === 'complete' && !!document.getElementById('results')", timeout, "the page")


def check_arrival(tools, args):
    """The page alone: results without a click, the URL names the query; returns timings."""
    open_page(tools, args.url, args.timeout)
    first = wait_results(tools, args.timeout, "the first results")
    passed = check(first["state"] == "done" and first["count"] > 0,
                   f"on arrival: {first['count']} results without a click, query #{first['query']} {first['error']}")
    passed &= check(re.fullmatch(r"\?index=\d+&k=\d+", first["search"]) is not None,
                    f"on arrival: the URL names the query ({first['search']})")
    passed &= check(first["decoded"] and first["rendering"] == "pixelated", "on arrival: every thumbnail decoded, pixelated")
    return passed, first


def check_more_like_this(tools, args, first):
    target = center_of(tools, "#results figure:nth-child(2) a")
    clicked_id = tools.evaluate("document.querySelector('#results figure:nth-child(2) a').href.match(/index=(\\d+)/)[1]")
    click(tools, target["x"], target["y"])
    after = wait_results(tools, args.timeout, "the more-like-this search", previous=first["query"])
    passed = check(after["state"] == "done" and after["query"] == clicked_id,
                   f"more like this: clicking result #{clicked_id} searched with it (query now #{after['query']})")
    passed &= check(f"index={clicked_id}&" in after["search"], f"more like this: the URL follows ({after['search']})")
    tools.evaluate("history.back()")
    back = wait_results(tools, args.timeout, "the back button", previous=clicked_id)
    passed &= check(back["query"] == first["query"], f"back button: query #{back['query']} again (was #{first['query']})")
    return passed


def check_map(tools, args):
    """Hover and click a map point, pan (frames counted), toggle colours; returns (passed, fps, draw ms)."""
    point = tools.evaluate(FIND_POINT)
    if not check(point is not None, "map: found a drawn point to hover"):
        return False, None, None
    mouse(tools, "mouseMoved", point["x"], point["y"])
    tools.wait_for("!document.getElementById('tip').hidden && document.getElementById('tip-img').complete && "
                   "document.getElementById('tip-img').naturalWidth > 0", args.timeout, "the hover thumbnail")
    tip = tools.evaluate("document.getElementById('tip-text').innerText")
    passed = check(re.match(r"#\d+ ", tip) is not None, f"map hover: thumbnail and label shown ({tip})")
    hovered = re.match(r"#(\d+)", tip).group(1)
    before = tools.evaluate("document.getElementById('results').dataset.query")
    mouse(tools, "mousePressed", point["x"], point["y"], buttons=1, button="left", clicks=1)
    mouse(tools, "mouseReleased", point["x"], point["y"], button="left", clicks=1)
    after = wait_results(tools, args.timeout, "the map click search",
                         previous=before if before != hovered else None)
    passed &= check(after["state"] == "done" and after["query"] == hovered,
                    f"map click: searched with #{hovered} (query now #{after['query']}, {after['count']} results)")

    # The browser's own frame rate, idle, for comparison: what the machine allows at best.
    idle_fps = tools.evaluate("""new Promise((done) => { let frames = 0; const start = performance.now();
        const tick = () => { frames++; if (performance.now() - start < 1000) requestAnimationFrame(tick);
          else done(frames * 1000 / (performance.now() - start)); }; requestAnimationFrame(tick); })""")
    print(f"     idle frame rate (requestAnimationFrame, no drawing): {idle_fps:.1f} fps")

    # Pan: drag across the canvas for about 2 s, a mouse move every 5 ms sent without waiting
    # for its answer (as a real mouse reports), while the page draws; count the frames drawn.
    box = center_of(tools, "#map")
    tools.evaluate("performance.clearMeasures('map-draw')")
    mouse(tools, "mousePressed", box["x"], box["y"], buttons=1, button="left", clicks=1)
    started = time.time()
    steps = 0
    while time.time() - started < 2.0:
        steps += 1
        offset = 120 * math.sin(steps / 40)
        last = tools.send("Input.dispatchMouseEvent", type="mouseMoved", x=box["x"] + offset, y=box["y"] + offset / 2,
                          buttons=1, button="left")
        time.sleep(1 / 200)
    tools.drain(last)
    mouse(tools, "mouseReleased", box["x"], box["y"], button="left", clicks=1)
    elapsed = time.time() - started
    draws = tools.evaluate("performance.getEntriesByName('map-draw').map(e => e.duration)")
    fps = len(draws) / elapsed
    draws.sort()
    p95 = draws[int(0.95 * (len(draws) - 1))] if draws else float("nan")
    passed &= check(fps > 30, f"map pan: {len(draws)} frames in {elapsed:.2f} s = {fps:.1f} fps "
                              f"({steps} mouse moves; draw p50 {draws[len(draws) // 2]:.2f} ms, p95 {p95:.2f} ms)"
                    if draws else "map pan: no frames drawn")

    center = center_of(tools, "#map")
    tools.call("Input.dispatchMouseEvent", type="mouseWheel", x=center["x"], y=center["y"], deltaX=0, deltaY=-300)
    tools.wait_for("performance.getEntriesByName('map-draw').length > " + str(len(draws)), args.timeout, "a zoomed frame")
    cluster = tools.evaluate("""(() => { const radio = document.querySelector('input[name=color][value=cluster]');
        if (radio.disabled) return null; radio.click();
        return [...document.querySelectorAll('#legend li')].map(li => li.innerText); })()""")
    if cluster is not None:
        passed &= check(len(cluster) > 0 and cluster[0] == "cluster 0", f"colour by cluster: legend {cluster[:3]}...")
        tools.evaluate("document.querySelector('input[name=color][value=class]').click()")
    legend = tools.evaluate("[...document.querySelectorAll('#legend li')].map(li => li.innerText)")
    passed &= check(len(legend) > 0, f"colour by class: legend {legend[:3]}...")
    return passed, fps, p95


def check_upload(tools, args):
    document = tools.call("DOM.getDocument")
    node = tools.call("DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#file")
    previous = tools.evaluate("document.getElementById('results').dataset.query")
    tools.call("DOM.setFileInputFiles", nodeId=node["nodeId"], files=[os.path.abspath(args.image)])
    upload = wait_results(tools, args.timeout, "the upload search", previous=previous)
    size = tools.evaluate("document.getElementById('upload-size').innerText")
    preview = tools.evaluate("(() => { const p = document.getElementById('preview'); return !p.hidden && p.naturalWidth > 0; })()")
    passed = check(upload["state"] == "done" and upload["query"] == "upload" and upload["count"] > 0,
                   f"upload: {upload['count']} results {upload['error']}")
    passed &= check(preview and "scaled to" in size, f"upload: preview shown, size '{size}'")
    passed &= check(all("distance" in c for c in upload["captions"]), "upload: every tile shows a distance")
    for caption in upload["captions"][:3]:
        print("     " + caption)
    return passed


def check_bad_urls(tools, args):
    passed = True
    base = args.url.split("?")[0]
    for query, expected in (("?index=999999999&k=5", "outside the index"), ("?index=3&k=abc", "integer")):
        open_page(tools, base + query, args.timeout)
        tools.wait_for("document.getElementById('results').dataset.state === 'error'", args.timeout, f"the error for {query}")
        message = tools.evaluate("document.getElementById('error').innerText")
        passed &= check(expected in message, f"bad URL {query}: the page shows '{message}'")
    return passed


def measure_load(tools, args):
    """Reloads the page with a cold cache; returns ms to the first results, to the map drawn, and the map's bytes."""
    tools.call("Network.enable")
    tools.call("Network.clearBrowserCache")
    open_page(tools, args.url.split("?")[0], args.timeout)
    tools.wait_for("performance.getEntriesByName('results-shown').length > 0", args.timeout, "the first results")
    if not args.no_map:
        tools.wait_for("document.getElementById('map').dataset.state === 'drawn'", args.timeout, "the map")
    return tools.evaluate("""(() => {
      const at = (name) => { const e = performance.getEntriesByName(name)[0]; return e ? e.startTime : null; };
      const map = performance.getEntriesByType('resource').find(e => e.name.endsWith('/api/map'));
      return { results: at('results-shown'), map: at('map-drawn'),
               mapTransfer: map ? map.transferSize : null, mapBody: map ? map.encodedBodySize : null };
    })()""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the page, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--image", required=True, help="the JPEG or PNG to upload")
    parser.add_argument("--screenshot", required=True, help="where to save the desktop screenshot (PNG); "
                        "the 375 px one goes beside it, ending -375.png")
    parser.add_argument("--no-map", action="store_true", help="the server has no map: check the page says how to make one")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    profile = tempfile.mkdtemp(prefix="pic2vec-chromium-")
    process, ws_url = start_chromium(args.chromium, profile, args.timeout)
    passed = True
    try:
        tools = DevTools(ws_url, args.timeout)
        tools.call("Page.enable")
        tools.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        timing = measure_load(tools, args)
        print(f"load: first results at {timing['results']:.0f} ms, map drawn at "
              + (f"{timing['map']:.0f} ms" if timing["map"] is not None else "- (no map)")
              + (f", map {timing['mapTransfer']} bytes on the wire ({timing['mapBody']} body)" if timing["mapBody"] else ""))
        passed &= check(timing["results"] < 1000, f"first results within 1 s ({timing['results']:.0f} ms)")
        if not args.no_map:
            passed &= check(timing["map"] is not None and timing["map"] < 1000, f"map drawn within 1 s ({timing['map']:.0f} ms)")
            passed &= check(timing["mapBody"] is not None and timing["mapTransfer"] < 1 << 20,
                            f"map under 1 MB on the wire ({timing['mapTransfer']} bytes)")

        ok, first = check_arrival(tools, args)
        passed &= ok
        if args.no_map:
            help_text = tools.evaluate("document.getElementById('map-help').innerText")
            passed &= check("pic2vec tsne" in help_text and tools.evaluate("document.getElementById('map').dataset.state") == "none",
                            f"no map: the page says how to make one ({help_text[:70]}...)")
        passed &= check_more_like_this(tools, args, first)
        if not args.no_map:
            ok, fps, p95 = check_map(tools, args)
            passed &= ok
        passed &= check_upload(tools, args)
        unnamed = tools.evaluate(LABELS_CHECK)
        passed &= check(not unnamed, f"labels: every image has alt text, every control a label {unnamed}")
        about = tools.evaluate("document.getElementById('about').innerText")
        passed &= check("weights" in about, f"provenance shown: {about}")
        if not args.no_map:
            tools.evaluate("document.getElementById('zoom-reset').click()")
        screenshot(tools, args.screenshot)

        tools.call("Emulation.setDeviceMetricsOverride", width=375, height=812, deviceScaleFactor=2, mobile=True)
        open_page(tools, args.url.split("?")[0], args.timeout)
        phone = wait_results(tools, args.timeout, "the results at 375 px")
        if not args.no_map:
            tools.wait_for("document.getElementById('map').dataset.state === 'drawn'", args.timeout, "the map at 375 px")
        width = tools.evaluate("document.documentElement.scrollWidth")
        passed &= check(phone["state"] == "done" and width <= 375, f"375 px: results shown, page {width} px wide")
        screenshot(tools, args.screenshot[:-4] + "-375.png" if args.screenshot.endswith(".png") else args.screenshot + "-375")
        tools.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        passed &= check_bad_urls(tools, args)
    finally:
        stop(process)
        shutil.rmtree(profile, ignore_errors=True)
    print("browser check: " + ("passed" if passed else "FAILED"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
