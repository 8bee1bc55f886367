"""Drive the pic2vec search page in headless Chromium over the DevTools protocol.

Opens the page served at --url, chooses "Upload an image", sets k, hands --image to the
file input (DOM.setFileInputFiles, as a person picking a file), waits until the results
render, checks them (count, labels, distances, every thumbnail decoded, pixelated
scaling), and saves a screenshot. Also checks a "By index" search. Standard library only:
a minimal WebSocket client talks to Chromium's DevTools endpoint on 127.0.0.1.

Exit status 0 when every check passes; prints one line per check.
"""

import argparse
import base64
import json
import os
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
    count: figures.length,
    captions: figures.map(f => f.querySelector('figcaption').innerText.replace(/\\n+/g, ' | ')),
    decoded: images.every(i => i.complete && i.naturalWidth > 0),
    rendering: getComputedStyle(images[0]).imageRendering,
    shownWidth: images[0].getBoundingClientRect().width,
    naturalWidth: images[images.length - 1].naturalWidth,
    error: document.getElementById('error').innerText,
  };
})()"""


def check(ok, text):
    print(("ok   " if ok else "FAIL ") + text)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the page, e.g. http://127.0.0.1:8080/")
    parser.add_argument("--image", required=True, help="the JPEG or PNG to upload")
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--row", type=int, default=42, help="row for the By index check")
    parser.add_argument("--screenshot", required=True, help="where to save the PNG screenshot")
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
        tools.call("Page.navigate", url=args.url)
        tools.wait_for("document.readyState === 'complete' && /indexed/.test(document.getElementById('about').innerText)",
                       args.timeout, "the page and /api/info")

        # By index: type a row, set k, press Search.
        tools.evaluate(f"""(() => {{
            document.querySelector('input[value=index]').click();
            document.getElementById('row').value = '{args.row}';
            const k = document.getElementById('k'); k.value = '{args.k}'; k.dispatchEvent(new Event('input'));
            document.getElementById('go').click(); }})()""")
        tools.wait_for("document.getElementById('results').dataset.state !== 'busy'", args.timeout, "the index search")
        tools.wait_for("[...document.images].every(i => i.complete)", args.timeout, "thumbnails")
        by_index = tools.evaluate(RESULTS_CHECK)
        passed &= check(by_index["state"] == "done" and by_index["count"] == args.k,
                        f"by index: row {args.row}, {by_index['count']} results (k={args.k}) {by_index['error']}")

        # Upload: choose the mode, then hand the file to the file input; its change event searches.
        tools.evaluate("document.getElementById('results').dataset.state = 'idle'")
        tools.evaluate("document.querySelector('input[value=upload]').click()")
        document = tools.call("DOM.getDocument")
        node = tools.call("DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#file")
        tools.call("DOM.setFileInputFiles", nodeId=node["nodeId"], files=[os.path.abspath(args.image)])
        tools.wait_for("['done', 'error'].includes(document.getElementById('results').dataset.state)",
                       args.timeout, "the upload search")
        tools.wait_for("[...document.images].every(i => i.complete)", args.timeout, "thumbnails")
        upload = tools.evaluate(RESULTS_CHECK)
        passed &= check(upload["state"] == "done", f"upload: results rendered {upload['error']}")
        passed &= check(upload["count"] == args.k, f"upload: {upload['count']} result tiles for k={args.k}")
        passed &= check(all("distance" in c for c in upload["captions"]), "upload: every tile shows a distance")
        passed &= check(upload["decoded"], "upload: query and result images all decoded")
        passed &= check(upload["rendering"] == "pixelated",
                        f"images use image-rendering: {upload['rendering']}, shown {upload['shownWidth']:.0f}px "
                        f"from {upload['naturalWidth']}px")
        for caption in upload["captions"][:3]:
            print("     " + caption)

        shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        print(f"screenshot: {args.screenshot}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser check: " + ("passed" if passed else "FAILED"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
