/// The single search page: pick Random, By index or Upload, set k, see the neighbours.
///
/// Self-contained HTML with inline CSS and JavaScript that talks only to the JSON API
/// (`/api/info`, `/api/search`, `/api/image/N`). Thumbnails are scaled with
/// `image-rendering: pixelated` so 32x32 images stay crisp when enlarged. When the
/// search finishes, `#results` gets `data-state="done"` and `data-count`, which the
/// browser check waits for.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pic2Vec image search</title>
<style>
  :root { --tile: 128px; font-family: "DejaVu Sans", system-ui, sans-serif; color: #1d1d1f; }
  body { margin: 0; background: #f4f5f7; }
  header { background: #20232a; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; font-size: 13px; color: #c9ccd3; }
  main { padding: 18px 24px; }
  form { display: flex; flex-wrap: wrap; gap: 18px; align-items: center; background: #fff;
         padding: 14px 18px; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  fieldset { border: 0; margin: 0; padding: 0; display: flex; gap: 12px; align-items: center; }
  label { font-size: 14px; }
  .pane[hidden] { display: none; }
  input[type=number] { width: 7em; }
  input[type=range] { width: 220px; vertical-align: middle; }
  button { font-size: 14px; padding: 7px 18px; border: 0; border-radius: 6px; background: #2f6fde;
           color: #fff; cursor: pointer; }
  button:disabled { background: #9aa7bd; cursor: wait; }
  #error { color: #b3261e; font-weight: bold; margin: 12px 0; min-height: 1.2em; }
  #warning { background: #fff3cd; color: #664d03; padding: 8px 12px; border-radius: 6px; margin-top: 12px; }
  #warning[hidden] { display: none; }
  section h2 { font-size: 16px; margin: 18px 0 8px; }
  .grid { display: flex; flex-wrap: wrap; gap: 12px; }
  figure { margin: 0; background: #fff; padding: 8px; border-radius: 8px; width: var(--tile);
           box-shadow: 0 1px 3px rgba(0,0,0,.12); border: 3px solid transparent; }
  figure.query { border-color: #2f6fde; }
  figure.miss { border-color: #d93025; }
  figure.hit { border-color: #1e8e3e; }
  figure img { width: var(--tile); height: var(--tile); object-fit: contain; display: block;
               image-rendering: pixelated; background: #eee; }
  figcaption { font-size: 12px; margin-top: 6px; line-height: 1.35; overflow-wrap: anywhere; }
  figcaption b { font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>Pic2Vec image search</h1>
  <p id="about">Loading the index...</p>
</header>
<main>
  <form id="search">
    <fieldset>
      <label><input type="radio" name="mode" value="random" checked> Random</label>
      <label><input type="radio" name="mode" value="index"> By index</label>
      <label><input type="radio" name="mode" value="upload"> Upload an image</label>
    </fieldset>
    <span class="pane" id="pane-index" hidden>
      <label>Row <input type="number" id="row" min="0" value="42"></label>
    </span>
    <span class="pane" id="pane-upload" hidden>
      <input type="file" id="file" accept="image/jpeg,image/png">
    </span>
    <label>k = <output id="k-value">5</output>
      <input type="range" id="k" min="1" max="50" value="5"></label>
    <button type="submit" id="go">Search</button>
  </form>
  <div id="warning" hidden></div>
  <div id="error" role="alert"></div>
  <section>
    <h2>Query</h2>
    <div class="grid" id="query"></div>
  </section>
  <section>
    <h2 id="results-title">Results</h2>
    <div class="grid" id="results" data-state="idle" data-count="0"></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let info = null;

function mode() { return document.querySelector("input[name=mode]:checked").value; }

function showPane() {
  $("pane-index").hidden = mode() !== "index";
  $("pane-upload").hidden = mode() !== "upload";
}

function tile(src, lines, cls) {
  const figure = document.createElement("figure");
  if (cls) figure.className = cls;
  const img = document.createElement("img");
  img.src = src;
  img.alt = lines[0];
  const caption = document.createElement("figcaption");
  lines.forEach((text, i) => {
    const line = document.createElement(i === 0 ? "b" : "div");
    line.textContent = text;
    caption.appendChild(line);
    if (i === 0) caption.appendChild(document.createElement("br"));
  });
  figure.append(img, caption);
  return figure;
}

async function call(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ error: "the server sent no JSON (" + response.status + ")" }));
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

function render(answer, querySrc) {
  const q = answer.query;
  const name = q.kind === "index" ? "#" + q.id + (q.label ? " " + q.label : "") : (q.source || "upload");
  const detail = q.kind === "index" ? q.source : q.width + "x" + q.height + " upload";
  $("query").replaceChildren(tile(querySrc, [name, detail], "query"));
  const results = $("results");
  results.replaceChildren(...answer.results.map((r) => {
    const cls = q.label && r.label ? (r.label === q.label ? "hit" : "miss") : "";
    return tile("/api/image/" + r.id, [
      r.rank + ". " + (r.label || "unlabeled"),
      "id " + r.id,
      "distance " + r.distance.toFixed(4),
    ], cls);
  }));
  const same = q.label ? answer.results.filter((r) => r.label === q.label).length : null;
  $("results-title").textContent = "Top " + answer.results.length + " results" +
    (same === null ? "" : " (" + same + " of " + answer.results.length + " share the query's label)");
  results.dataset.count = String(answer.results.length);
  results.dataset.state = "done";
}

async function search(event) {
  if (event) event.preventDefault();
  $("error").textContent = "";
  $("results").dataset.state = "busy";
  $("go").disabled = true;
  const k = $("k").value;
  try {
    if (mode() === "upload") {
      const file = $("file").files[0];
      if (!file) throw new Error("choose a JPEG or PNG file first");
      const form = new FormData();
      form.append("image", file);
      const answer = await call("/api/search?k=" + k, { method: "POST", body: form });
      render(answer, URL.createObjectURL(file));
    } else {
      const row = mode() === "random" ? Math.floor(Math.random() * info.count) : Number($("row").value);
      if (mode() === "random") $("row").value = row;
      const answer = await call("/api/search?index=" + row + "&k=" + k);
      render(answer, "/api/image/" + row);
    }
  } catch (error) {
    $("error").textContent = error.message;
    $("results").dataset.state = "error";
  } finally {
    $("go").disabled = false;
  }
}

async function start() {
  try {
    info = await call("/api/info");
  } catch (error) {
    $("about").textContent = "The index could not be loaded: " + error.message;
    return;
  }
  $("about").textContent = info.count.toLocaleString() + " images indexed - " + info.provenance;
  if (/random weights/i.test(info.provenance)) {
    $("warning").textContent = "These embeddings come from a network with random weights: neighbours reflect " +
      "colours and textures, not learned features.";
    $("warning").hidden = false;
  }
  $("row").max = String(info.count - 1);
  $("k").max = String(info.maxK);
  if (!info.acceptsImages) {
    const upload = document.querySelector("input[value=upload]");
    upload.disabled = true;
    upload.parentElement.title = "this server has no embedding model loaded";
  }
}

document.querySelectorAll("input[name=mode]").forEach((radio) => radio.addEventListener("change", showPane));
$("k").addEventListener("input", () => { $("k-value").textContent = $("k").value; });
$("file").addEventListener("change", () => { if ($("file").files.length) search(); });
$("search").addEventListener("submit", search);
start();
</script>
</body>
</html>
"""#
}
