/// The single search page: results on arrival, "more like this", uploads, and a map of the collection.
///
/// Self-contained HTML with inline CSS and JavaScript, carrying `/api/info`'s answer, that
/// talks only to the API (`/api/search`, `/api/image/N`, `/api/map`). The query lives in the URL
/// (`?index=N&k=K`, or `?random`), so searches can be shared and the back button works.
/// The map draws every point into one `ImageData` per frame, with a parallel pick buffer
/// (point id per pixel) for hovering and clicking. State the browser check waits for:
/// `#results[data-state]` (busy, done, error), `#results[data-query]`, `#map[data-state]`
/// (loading, drawn, none, error), and the performance marks `results-shown` and `map-drawn`
/// (plus one `map-draw` measure per frame).
enum WebPage {
    /// The page carrying `info` (what `/api/info` answers) for its script.
    static func html(info: SearchAPI.Info) throws -> String {
        // "<" escaped so that no string in the JSON can close the script element.
        let json = String(decoding: try SearchAPI.jsonBytes(info), as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
        return template.replacingOccurrences(of: "/*info*/null", with: json)
    }

    /// The page, with `/*info*/null` where the info goes.
    static let template = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Pic2Vec image search</title>
        <style>
          :root { --tile: 112px; font-family: "DejaVu Sans", system-ui, sans-serif; color: #1d1d1f; }
          * { box-sizing: border-box; }
          body { margin: 0; background: #f4f5f7; }
          header { background: #20232a; color: #fff; padding: 12px 20px; }
          header h1 { margin: 0; font-size: 20px; }
          header p { margin: 4px 0 0; font-size: 13px; color: #c9ccd3; overflow-wrap: anywhere; }
          main { padding: 14px 20px; display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 18px; }
          .wide { grid-column: 1 / -1; }
          .panel { background: #fff; padding: 12px 14px; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
          form { display: flex; flex-wrap: wrap; gap: 12px 18px; align-items: center; }
          label { font-size: 14px; }
          input[type=number] { width: 6.5em; font-size: 14px; }
          input[type=range] { width: 160px; vertical-align: middle; }
          button { font-size: 14px; padding: 7px 14px; border: 0; border-radius: 6px; background: #2f6fde; color: #fff; cursor: pointer; }
          button.plain { background: #e4e7ec; color: #1d1d1f; padding: 4px 10px; }
          #drop { border: 2px dashed #9aa7bd; border-radius: 8px; padding: 8px 12px; font-size: 13px; display: flex;
                  gap: 10px; align-items: center; flex-wrap: wrap; }
          #drop.over { border-color: #2f6fde; background: #eaf1fd; }
          #preview { width: 48px; height: 48px; object-fit: contain; image-rendering: pixelated; background: #eee; }
          [hidden] { display: none !important; }
          #error { color: #b3261e; font-weight: bold; margin: 8px 0 0; }
          #error:empty { display: none; }
          #warning { background: #fff3cd; color: #664d03; padding: 8px 12px; border-radius: 6px; margin: 10px 0 0; }
          h2 { font-size: 16px; margin: 4px 0 8px; }
          .grid { display: flex; flex-wrap: wrap; gap: 10px; }
          figure { margin: 0; background: #fff; padding: 6px; border-radius: 8px; width: var(--tile);
                   box-shadow: 0 1px 3px rgba(0,0,0,.12); border: 3px solid transparent; }
          figure.query { border-color: #2f6fde; }
          figure.miss { border-color: #d93025; }
          figure.hit { border-color: #1e8e3e; }
          figure a { color: inherit; text-decoration: none; display: block; }
          figure a:hover img, figure a:focus img { outline: 3px solid #2f6fde; }
          figure img { width: 100%; aspect-ratio: 1; object-fit: contain; display: block; image-rendering: pixelated; background: #eee; }
          figcaption { font-size: 12px; margin-top: 4px; line-height: 1.3; overflow-wrap: anywhere; }
          #map-box { position: relative; }
          #map { width: 100%; height: 520px; display: block; background: #15171c; border-radius: 6px; touch-action: none; cursor: crosshair; }
          #map-tools { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; margin-bottom: 8px; font-size: 14px; }
          #legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; margin: 8px 0 0; padding: 0; list-style: none; }
          #legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
          #tip { position: absolute; pointer-events: none; background: #fff; border-radius: 6px; padding: 5px;
                 box-shadow: 0 2px 8px rgba(0,0,0,.35); font-size: 12px; width: 110px; }
          #tip img { width: 96px; height: 96px; image-rendering: pixelated; display: block; margin-bottom: 3px; }
          #map-help { font-size: 13px; color: #444; overflow-wrap: anywhere; }
          @media (max-width: 820px) {
            main { grid-template-columns: minmax(0, 1fr); padding: 10px; }
            :root { --tile: 96px; }
            #map { height: 340px; }
          }
        </style>
        </head>
        <body>
        <header>
          <h1>Pic2Vec image search</h1>
          <p id="about">Loading the index...</p>
        </header>
        <main>
          <section class="panel wide" aria-label="Search">
            <form id="search">
              <button type="button" id="random" aria-label="Search with a random image">Random image</button>
              <label>Image # <input type="number" id="row" min="0" value="0" aria-label="Index row to search with"></label>
              <label>k = <output id="k-value" for="k">10</output>
                <input type="range" id="k" min="1" max="50" value="10" aria-label="Number of results (k)"></label>
              <button type="submit" id="go">Search</button>
              <div id="drop" role="group" aria-label="Upload an image">
                <img id="preview" alt="Preview of the uploaded image" hidden>
                <label for="file">Upload: drop or paste an image here, or choose one</label>
                <input type="file" id="file" accept="image/jpeg,image/png" aria-label="Choose a JPEG or PNG image to upload">
                <span id="upload-size"></span>
              </div>
            </form>
            <p id="warning" hidden></p>
            <p id="error" role="alert"></p>
          </section>
          <section class="panel" aria-label="Query and results">
            <h2>Query</h2>
            <div class="grid" id="query"></div>
            <h2 id="results-title">Results</h2>
            <div class="grid" id="results" data-state="idle" data-count="0"></div>
          </section>
          <section class="panel" aria-label="Map of the collection">
            <h2>Map of the collection</h2>
            <div id="map-tools">
              <span role="radiogroup" aria-label="Colour the map by">Colour by
                <label><input type="radio" name="color" value="class" checked> class</label>
                <label><input type="radio" name="color" value="cluster"> k-means cluster</label></span>
              <button type="button" class="plain" id="zoom-in" aria-label="Zoom in">+</button>
              <button type="button" class="plain" id="zoom-out" aria-label="Zoom out">&minus;</button>
              <button type="button" class="plain" id="zoom-reset" aria-label="Show the whole map">Reset</button>
            </div>
            <div id="map-box">
              <canvas id="map" data-state="loading" role="img" tabindex="0"
                aria-label="t-SNE map of the indexed images: drag to pan, wheel to zoom, click a point to search with it"></canvas>
              <div id="tip" hidden><img id="tip-img" alt=""><span id="tip-text"></span></div>
            </div>
            <ul id="legend" aria-label="Map legend"></ul>
            <p id="map-help" hidden></p>
          </section>
        </main>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        const info = /*info*/null;
        let defaultK = 10;

        // ---- API and rendering of results ----

        async function call(url, options) {
          const response = await fetch(url, options);
          const body = await response.json().catch(() => ({ error: "the server sent no JSON (HTTP " + response.status + ")" }));
          if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
          return body;
        }

        function tile(src, lines, cls, row) {
          const figure = document.createElement("figure");
          if (cls) figure.className = cls;
          const img = document.createElement("img");
          img.src = src;
          img.alt = lines[0] + (row === undefined ? "" : " (search with this image)");
          const caption = document.createElement("figcaption");
          lines.forEach((text, i) => {
            const line = document.createElement(i === 0 ? "b" : "div");
            line.textContent = text;
            caption.appendChild(line);
          });
          if (row === undefined) {
            figure.append(img, caption);
          } else {
            const link = document.createElement("a");
            link.href = "?index=" + row + "&k=" + kValue();
            link.title = "More like this";
            link.addEventListener("click", (event) => { event.preventDefault(); searchIndex(row, kValue(), true); });
            link.append(img, caption);
            figure.append(link);
          }
          return figure;
        }

        /** Row `row`'s image as of the collection's generation `generation`: a row may hold another image later. */
        function imageURL(row, generation) { return "/api/image/" + row + "?generation=" + generation; }

        function render(answer, querySrc) {
          const q = answer.query;
          const name = q.kind === "index" ? "#" + q.id + (q.label ? " " + q.label : "") : (q.source || "upload");
          const detail = q.kind === "index" ? q.source : q.width + "x" + q.height + " upload";
          $("query").replaceChildren(tile(querySrc, [name, detail], "query"));
          const results = $("results");
          results.replaceChildren(...answer.results.map((r) => {
            const cls = q.label && r.label ? (r.label === q.label ? "hit" : "miss") : "";
            return tile(imageURL(r.id, answer.generation), [r.rank + ". " + (r.label || "unlabeled"), "#" + r.id,
              "distance " + r.distance.toFixed(4)], cls, r.id);
          }));
          const same = q.label ? answer.results.filter((r) => r.label === q.label).length : null;
          $("results-title").textContent = "Top " + answer.results.length + " results" +
            (same === null ? "" : " (" + same + " of " + answer.results.length + " share the query's label)");
          results.dataset.count = String(answer.results.length);
          results.dataset.query = q.kind === "index" ? String(q.id) : "upload";
          results.dataset.state = "done";
          if (!performance.getEntriesByName("results-shown").length) performance.mark("results-shown");
          mapView.highlight(q.kind === "index" ? q.id : null, answer.results.map((r) => r.id));
        }

        function showError(message) {
          $("error").textContent = message;
          $("results").dataset.state = "error";
        }

        function kValue() { return $("k").value; }

        function setK(k) {
          if (/^\d+$/.test(k) && Number(k) >= 1 && Number(k) <= Number($("k").max)) {
            $("k").value = k;
            $("k-value").textContent = k;
          }
        }

        /** Searches with index row `row`; `push` records it in the history (the URL). */
        async function searchIndex(row, k, push) {
          if (push) history.pushState(null, "", "?index=" + encodeURIComponent(row) + "&k=" + encodeURIComponent(k));
          $("error").textContent = "";
          $("results").dataset.state = "busy";
          setK(String(k));
          if (/^\d+$/.test(String(row))) $("row").value = row;
          try {
            const answer = await call("/api/search?index=" + encodeURIComponent(row) + "&k=" + encodeURIComponent(k));
            render(answer, imageURL(answer.query.id, answer.generation));
          } catch (error) {
            showError(error.message);
          }
        }

        function randomRow() { return Math.floor(Math.random() * info.count); }

        /** Runs the search the URL names: ?index=N&k=K, or a random row (then the URL names it). */
        function searchFromURL() {
          const params = new URLSearchParams(location.search);
          const k = params.get("k") || String(defaultK);
          if (params.has("index")) return searchIndex(params.get("index"), k, false);
          const row = randomRow();
          history.replaceState(null, "", "?index=" + row + "&k=" + encodeURIComponent(k));
          return searchIndex(row, k, false);
        }

        // ---- Uploads: file input, drag and drop, paste ----

        async function upload(file) {
          if (!info.acceptsImages) return showError("this server has no embedding model loaded: search by image number instead");
          if (!/^image\/(jpeg|png)$/.test(file.type)) return showError("'" + file.name + "' is not a JPEG or PNG image");
          const preview = URL.createObjectURL(file);
          $("preview").src = preview;
          $("preview").hidden = false;
          $("upload-size").textContent = "";
          $("error").textContent = "";
          $("results").dataset.state = "busy";
          const form = new FormData();
          form.append("image", file, file.name || "pasted.png");
          try {
            const answer = await call("/api/search?k=" + encodeURIComponent(kValue()), { method: "POST", body: form });
            const side = info.inputSide;
            $("upload-size").textContent = answer.query.width + "x" + answer.query.height +
              (side ? ", scaled to " + side + "x" + side + " for the network" : "");
            render(answer, preview);
          } catch (error) {
            showError(error.message);
          }
        }

        function setUpUploads() {
          const drop = $("drop");
          $("file").addEventListener("change", () => { if ($("file").files.length) upload($("file").files[0]); });
          drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
          drop.addEventListener("dragleave", () => drop.classList.remove("over"));
          drop.addEventListener("drop", (event) => {
            event.preventDefault();
            drop.classList.remove("over");
            if (event.dataTransfer.files.length) upload(event.dataTransfer.files[0]);
          });
          document.addEventListener("paste", (event) => {
            const file = [...event.clipboardData.files].find((f) => f.type.startsWith("image/"));
            if (file) { event.preventDefault(); upload(file); }
          });
        }

        // ---- The map ----

        const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
          "#9c755f", "#bab0ac", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf"];
        const NONE = 65535;
        /** The palette as ImageData pixels (little-endian RGBA words), and gray for "no group". */
        const PIXEL_COLORS = PALETTE.map((hex) => (0xff000000 | parseInt(hex.slice(5, 7), 16) << 16 |
          parseInt(hex.slice(3, 5), 16) << 8 | parseInt(hex.slice(1, 3), 16)) >>> 0);
        const PIXEL_GRAY = 0xffa6a09a;
        const PIXEL_BACKGROUND = 0xff1c1715;

        /** The t-SNE map: every point drawn into one ImageData per frame, with a pick buffer for hovering. */
        const mapView = {
          canvas: null, ctx: null, n: 0, xy: null, groups: { class: null, cluster: null }, colorBy: "class",
          center: [0, 0], scale: 1, fitScale: 1, image: null, pixels: null, pick: null, dirty: false,
          query: null, results: [], hover: -1, drag: null, clusterCount: 0,

          async load() {
            this.canvas = $("map");
            if (!info.map) {
              this.canvas.dataset.state = "none";
              this.canvas.hidden = true;
              $("map-tools").hidden = true;
              $("map-help").hidden = false;
              $("map-help").textContent = "There is " + info.mapHint + ". Search works without it.";
              return;
            }
            try {
              const response = await fetch("/api/map");
              if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || "HTTP " + response.status);
              const buffer = await response.arrayBuffer();
              const n = info.map.count;
              if (buffer.byteLength !== n * 12) throw new Error("the map holds " + buffer.byteLength + " bytes, expected " + n * 12);
              this.n = n;
              this.xy = new Float32Array(buffer, 0, 2 * n);
              this.groups.class = new Uint16Array(buffer, 8 * n, n);
              this.groups.cluster = new Uint16Array(buffer, 10 * n, n);
            } catch (error) {
              this.canvas.dataset.state = "error";
              $("map-help").hidden = false;
              $("map-help").textContent = "The map could not be loaded: " + error.message;
              return;
            }
            this.clusterCount = info.map.clusters;
            const hasClasses = this.groups.class.some((g) => g !== NONE);
            document.querySelector("input[name=color][value=cluster]").disabled = this.clusterCount === 0;
            document.querySelector("input[name=color][value=class]").disabled = !hasClasses;
            if (!hasClasses && this.clusterCount) { this.colorBy = "cluster"; document.querySelector("input[value=cluster]").checked = true; }
            this.ctx = this.canvas.getContext("2d");
            this.bindEvents();
            new ResizeObserver(() => this.resize()).observe(this.canvas);
            this.resize();
            this.fit();
            this.legend();
          },

          resize() {
            const ratio = window.devicePixelRatio || 1;
            const w = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
            const h = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
            if (w === this.canvas.width && h === this.canvas.height && this.image) return;
            const keepScale = this.image ? this.scale / this.fitScale : 1;
            this.canvas.width = w;
            this.canvas.height = h;
            this.image = this.ctx.createImageData(w, h);
            this.pixels = new Uint32Array(this.image.data.buffer);
            this.pick = new Int32Array(w * h);
            this.fitScale = this.fitFor(w, h);
            this.scale = this.fitScale * keepScale;
            this.request();
          },

          fitFor(w, h) {
            let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
            for (let i = 0; i < this.n; i++) {
              const x = this.xy[2 * i], y = this.xy[2 * i + 1];
              if (x < minX) minX = x; if (x > maxX) maxX = x; if (y < minY) minY = y; if (y > maxY) maxY = y;
            }
            this.bounds = [minX, maxX, minY, maxY];
            return 0.94 * Math.min(w / Math.max(maxX - minX, 1e-9), h / Math.max(maxY - minY, 1e-9));
          },

          fit() {
            const [minX, maxX, minY, maxY] = this.bounds;
            this.center = [(minX + maxX) / 2, (minY + maxY) / 2];
            this.scale = this.fitScale;
            this.request();
          },

          /** The canvas pixel of data point (x, y). */
          toScreen(x, y) {
            return [(x - this.center[0]) * this.scale + this.canvas.width / 2, (y - this.center[1]) * this.scale + this.canvas.height / 2];
          },

          request() {
            if (this.dirty || !this.image) return;
            this.dirty = true;
            requestAnimationFrame(() => this.draw());
          },

          draw() {
            this.dirty = false;
            performance.mark("map-draw-start");
            const w = this.canvas.width, h = this.canvas.height;
            const pixels = this.pixels, pick = this.pick, xy = this.xy, groups = this.groups[this.colorBy];
            const colors = PIXEL_COLORS, count = colors.length;
            pixels.fill(PIXEL_BACKGROUND);
            pick.fill(0);
            const ratio = window.devicePixelRatio || 1;
            const size = Math.max(1, Math.min(Math.round(7 * ratio), Math.round(2 * ratio * Math.sqrt(this.scale / this.fitScale))));
            const s = this.scale, ox = w / 2 - this.center[0] * s - size / 2, oy = h / 2 - this.center[1] * s - size / 2;
            for (let i = 0; i < this.n; i++) {
              const x0 = (xy[2 * i] * s + ox) | 0, y0 = (xy[2 * i + 1] * s + oy) | 0;
              if (x0 < 0 || y0 < 0 || x0 + size > w || y0 + size > h) continue;
              const group = groups[i];
              const color = group === NONE ? PIXEL_GRAY : colors[group % count];
              for (let dy = 0; dy < size; dy++) {
                const base = (y0 + dy) * w + x0;
                for (let dx = 0; dx < size; dx++) { pixels[base + dx] = color; pick[base + dx] = i + 1; }
              }
            }
            this.ctx.putImageData(this.image, 0, 0);
            this.drawMarks(ratio);
            performance.measure("map-draw", "map-draw-start");
            if (this.canvas.dataset.state !== "drawn") {
              this.canvas.dataset.state = "drawn";
              performance.mark("map-drawn");
            }
          },

          drawMarks(ratio) {
            const ctx = this.ctx;
            const ring = (i, radius, stroke) => {
              const [x, y] = this.toScreen(this.xy[2 * i], this.xy[2 * i + 1]);
              ctx.beginPath();
              ctx.arc(x, y, radius * ratio, 0, 2 * Math.PI);
              ctx.lineWidth = 4 * ratio;
              ctx.strokeStyle = "#000000";
              ctx.stroke();
              ctx.lineWidth = 2 * ratio;
              ctx.strokeStyle = stroke;
              ctx.stroke();
            };
            for (const i of this.results) if (i < this.n) ring(i, 5, "#ffffff");
            if (this.query !== null && this.query < this.n) { ring(this.query, 9, "#ffffff"); ring(this.query, 7, "#2f6fde"); }
            if (this.hover >= 0) ring(this.hover, 6, "#ffeb3b");
          },

          highlight(query, results) {
            this.query = query;
            this.results = results;
            this.request();
          },

          /** The point under canvas pixel (x, y), searching a few pixels around it; -1 when none. */
          pointAt(x, y) {
            const w = this.canvas.width, h = this.canvas.height;
            const reach = Math.round(4 * (window.devicePixelRatio || 1));
            let best = -1, bestDistance = Infinity;
            for (let dy = -reach; dy <= reach; dy++) {
              for (let dx = -reach; dx <= reach; dx++) {
                const px = x + dx, py = y + dy;
                if (px < 0 || py < 0 || px >= w || py >= h) continue;
                const id = this.pick[py * w + px];
                if (id && dx * dx + dy * dy < bestDistance) { best = id - 1; bestDistance = dx * dx + dy * dy; }
              }
            }
            return best;
          },

          canvasPoint(event) {
            const box = this.canvas.getBoundingClientRect();
            const ratio = this.canvas.width / box.width;
            return [Math.round((event.clientX - box.left) * ratio), Math.round((event.clientY - box.top) * ratio)];
          },

          zoom(factor, x, y) {
            const cx = x === undefined ? this.canvas.width / 2 : x, cy = y === undefined ? this.canvas.height / 2 : y;
            const before = [(cx - this.canvas.width / 2) / this.scale + this.center[0], (cy - this.canvas.height / 2) / this.scale + this.center[1]];
            this.scale = Math.min(this.fitScale * 200, Math.max(this.fitScale / 4, this.scale * factor));
            this.center = [before[0] - (cx - this.canvas.width / 2) / this.scale, before[1] - (cy - this.canvas.height / 2) / this.scale];
            this.request();
          },

          showTip(i, event) {
            const tip = $("tip");
            if (i < 0) { tip.hidden = true; return; }
            const group = this.groups.class[i], cluster = this.groups.cluster[i];
            const label = group === NONE ? "unlabeled" : (info.classNames[group] || "class " + group);
            $("tip-img").src = imageURL(i, info.generation);
            $("tip-img").alt = "Image #" + i + ", " + label;
            $("tip-text").textContent = "#" + i + " " + label + (cluster === NONE ? "" : ", cluster " + cluster);
            const box = $("map-box").getBoundingClientRect();
            const left = event.clientX - box.left + 14, top = event.clientY - box.top + 14;
            tip.style.left = Math.min(left, box.width - 120) + "px";
            tip.style.top = Math.min(top, box.height - 130) + "px";
            tip.hidden = false;
          },

          bindEvents() {
            const canvas = this.canvas;
            canvas.addEventListener("pointerdown", (event) => {
              canvas.setPointerCapture(event.pointerId);
              this.drag = { x: event.clientX, y: event.clientY, center: this.center.slice(), moved: false };
            });
            canvas.addEventListener("pointermove", (event) => {
              if (this.drag) {
                const ratio = canvas.width / canvas.getBoundingClientRect().width;
                const dx = event.clientX - this.drag.x, dy = event.clientY - this.drag.y;
                if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
                if (this.drag.moved) {
                  this.center = [this.drag.center[0] - dx * ratio / this.scale, this.drag.center[1] - dy * ratio / this.scale];
                  $("tip").hidden = true;
                  this.request();
                }
                return;
              }
              const [x, y] = this.canvasPoint(event);
              const i = this.pointAt(x, y);
              if (i !== this.hover) { this.hover = i; this.request(); }
              this.showTip(i, event);
            });
            canvas.addEventListener("pointerup", (event) => {
              const drag = this.drag;
              this.drag = null;
              if (drag && !drag.moved) {
                const [x, y] = this.canvasPoint(event);
                const i = this.pointAt(x, y);
                if (i >= 0) searchIndex(i, kValue(), true);
              }
            });
            canvas.addEventListener("pointerleave", () => { $("tip").hidden = true; this.hover = -1; this.request(); });
            canvas.addEventListener("wheel", (event) => {
              event.preventDefault();
              const [x, y] = this.canvasPoint(event);
              this.zoom(Math.exp(-event.deltaY * 0.002), x, y);
            }, { passive: false });
            canvas.addEventListener("keydown", (event) => {
              const step = 40 / this.scale;
              const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
              if (moves[event.key]) {
                event.preventDefault();
                this.center = [this.center[0] + moves[event.key][0], this.center[1] + moves[event.key][1]];
                this.request();
              } else if (event.key === "+" || event.key === "=") this.zoom(1.25);
              else if (event.key === "-") this.zoom(0.8);
            });
            $("zoom-in").addEventListener("click", () => this.zoom(1.5));
            $("zoom-out").addEventListener("click", () => this.zoom(1 / 1.5));
            $("zoom-reset").addEventListener("click", () => this.fit());
            document.querySelectorAll("input[name=color]").forEach((radio) => radio.addEventListener("change", () => {
              this.colorBy = radio.value;
              this.legend();
              this.request();
            }));
          },

          legend() {
            const names = this.colorBy === "class" ? info.classNames
              : Array.from({ length: this.clusterCount }, (_, i) => "cluster " + i);
            $("legend").replaceChildren(...names.map((name, i) => {
              const item = document.createElement("li");
              const swatch = document.createElement("i");
              swatch.style.background = PALETTE[i % PALETTE.length];
              swatch.setAttribute("aria-hidden", "true");
              item.append(swatch, document.createTextNode(name));
              return item;
            }));
          },
        };

        // ---- Start ----

        async function start() {
          $("about").textContent = info.count.toLocaleString() + " images indexed - " + info.provenance;
          if (/random weights/i.test(info.provenance)) {
            $("warning").textContent = "These embeddings come from a network with random weights: neighbours reflect " +
              "colours and textures, not learned features.";
            $("warning").hidden = false;
          }
          $("row").max = String(info.count - 1);
          $("k").max = String(info.maxK);
          defaultK = Math.min(10, info.maxK);
          setK(String(defaultK));
          if (!info.acceptsImages) {
            $("file").disabled = true;
            $("drop").title = "this server has no embedding model loaded";
          }
          setUpUploads();
          $("k").addEventListener("input", () => { $("k-value").textContent = kValue(); });
          $("random").addEventListener("click", () => searchIndex(randomRow(), kValue(), true));
          $("search").addEventListener("submit", (event) => { event.preventDefault(); searchIndex($("row").value, kValue(), true); });
          window.addEventListener("popstate", searchFromURL);
          await Promise.all([searchFromURL(), mapView.load()]);
        }

        start();
        </script>
        </body>
        </html>
        """#
}
