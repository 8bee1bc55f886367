/// The audit page: duplicate pairs and label-issue candidates, paged, each image with buttons to
/// mark it "keep", "duplicate" or "wrong label".
///
/// Self-contained HTML with inline CSS and JavaScript that talks only to the API
/// (`/api/audit`, `/api/audit/marks`, `/api/image/N`). The view and page live in the URL
/// (`?view=labels&page=2`). State a browser check waits for: `#items[data-state]` (busy, done,
/// error) and each mark button's `aria-pressed`.
enum AuditPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Pic2Vec audit</title>
        <style>
          :root { font-family: "DejaVu Sans", system-ui, sans-serif; color: #1d1d1f; }
          * { box-sizing: border-box; }
          body { margin: 0; background: #f4f5f7; }
          header { background: #20232a; color: #fff; padding: 12px 20px; display: flex; flex-wrap: wrap; gap: 10px 20px; align-items: center; }
          header h1 { margin: 0; font-size: 20px; }
          header a { color: #c9d8ff; font-size: 14px; }
          nav { display: flex; gap: 8px; }
          nav button { font-size: 14px; padding: 6px 12px; border: 0; border-radius: 6px; background: #3a3f4b; color: #fff; cursor: pointer; }
          nav button[aria-current=page] { background: #2f6fde; }
          #summary { padding: 10px 20px 0; font-size: 14px; margin: 0; }
          #error { color: #b3261e; font-weight: bold; padding: 0 20px; }
          #items { padding: 12px 20px; display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
          .card { background: #fff; border-radius: 8px; padding: 10px 12px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
          .card h2 { font-size: 14px; margin: 0 0 6px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
          .tier { font-size: 12px; padding: 2px 8px; border-radius: 10px; color: #fff; }
          .tier.identical { background: #b3261e; } .tier.near-duplicate { background: #c26401; } .tier.similar { background: #5f6b7a; }
          .evidence { font-size: 12px; color: #555; font-weight: normal; }
          .images { display: flex; gap: 10px; flex-wrap: wrap; }
          figure { margin: 0; width: 128px; }
          figure img { width: 128px; height: 128px; object-fit: contain; image-rendering: pixelated; background: #eee; display: block; border-radius: 4px; }
          figcaption { font-size: 11px; overflow-wrap: anywhere; margin: 3px 0; }
          .neighbors { display: flex; gap: 4px; flex-wrap: wrap; margin-top: 6px; }
          .neighbors img { width: 48px; height: 48px; image-rendering: pixelated; background: #eee; border-radius: 3px; }
          .marks { display: flex; gap: 4px; flex-wrap: wrap; }
          .marks button { font-size: 12px; padding: 3px 7px; border: 1px solid #9aa7bd; border-radius: 5px; background: #fff; cursor: pointer; }
          .marks button[aria-pressed=true] { background: #1e8e3e; border-color: #1e8e3e; color: #fff; }
          .marks button[data-mark=duplicate][aria-pressed=true], .marks button[data-mark=wrong-label][aria-pressed=true] { background: #b3261e; border-color: #b3261e; }
          footer { padding: 0 20px 20px; display: flex; gap: 12px; align-items: center; font-size: 14px; }
          footer button { font-size: 14px; padding: 6px 12px; border: 0; border-radius: 6px; background: #2f6fde; color: #fff; cursor: pointer; }
          footer button:disabled { background: #b8c2d3; cursor: default; }
        </style>
        </head>
        <body>
        <header>
          <h1>Pic2Vec audit</h1>
          <nav aria-label="What to review">
            <button type="button" data-view="duplicates">Duplicates</button>
            <button type="button" data-view="labels">Label issues</button>
          </nav>
          <a href="/api/audit/marks" download="audit-marks.json">Export marks (JSON)</a>
          <a href="/">Search</a>
        </header>
        <p id="summary">Making the audit (the first time takes a while on a large collection)…</p>
        <p id="error" role="alert"></p>
        <main id="items" data-state="busy" aria-live="polite"></main>
        <footer>
          <button type="button" id="prev">Previous</button>
          <span id="pageinfo"></span>
          <button type="button" id="next">Next</button>
        </footer>
        <script>
        "use strict";
        const per = 12;
        const query = new URLSearchParams(location.search);
        let view = query.get("view") === "labels" ? "labels" : "duplicates";
        let page = Math.max(0, parseInt(query.get("page") || "0", 10) || 0);
        let generation = null, total = 0, loads = 0;
        const items = document.getElementById("items");
        const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
        const choices = { duplicates: [["keep", "Keep"], ["duplicate", "Duplicate"]], labels: [["keep", "Keep"], ["wrong-label", "Wrong label"]] };

        function picture(image, buttons) {
          const label = image.label ? escape(image.label) + " · " : "";
          const marks = buttons.map(([mark, text]) =>
            `<button type="button" data-row="${image.row}" data-mark="${mark}" aria-pressed="${image.mark === mark}"` +
            ` aria-label="${text}: ${escape(image.path)}">${text}</button>`).join("");
          return `<figure><img src="/api/image/${image.row}?generation=${generation}" alt="${escape(image.path)}" loading="lazy">` +
            `<figcaption>${label}${escape(image.path)}</figcaption><div class="marks">${marks}</div></figure>`;
        }

        function pairCard(pair) {
          return `<article class="card"><h2><span class="tier ${pair.tier}">${pair.tier}</span>` +
            `<span class="evidence">pixels ${pair.pixelDistance.toFixed(4)} · network ${pair.networkDistance.toFixed(4)}</span></h2>` +
            `<div class="images">${pair.images.map((image) => picture(image, choices.duplicates)).join("")}</div></article>`;
        }

        function issueCard(issue) {
          const neighbors = issue.neighbors.map((n) =>
            `<img src="/api/image/${n.row}?generation=${generation}" alt="${escape(n.path)} (${escape(n.label || "")})" title="${escape(n.path)}">`).join("");
          return `<article class="card"><h2>${escape(issue.image.label || "?")} → ${escape(issue.suggested)}` +
            `<span class="evidence">score ${issue.score.toFixed(3)}</span></h2>` +
            `<div class="images">${picture(issue.image, choices.labels)}<div><span class="evidence">neighbors labelled ${escape(issue.suggested)}:</span>` +
            `<div class="neighbors">${neighbors}</div></div></div></article>`;
        }

        function navigation(enabled) {
          for (const button of document.querySelectorAll("nav button, footer button")) button.disabled = !enabled;
        }

        async function load() {
          const mine = ++loads;
          items.dataset.state = "busy";
          navigation(false);
          document.getElementById("error").textContent = "";
          for (const button of document.querySelectorAll("nav button")) {
            button.setAttribute("aria-current", button.dataset.view === view ? "page" : "false");
          }
          history.replaceState(null, "", `?view=${view}&page=${page}`);
          try {
            const response = await fetch(`/api/audit?view=${view}&page=${page}&per=${per}`);
            const answer = await response.json();
            if (mine !== loads) return;
            if (!response.ok) throw new Error(answer.error || response.statusText);
            generation = answer.generation;
            total = answer.total;
            const tiers = ["identical", "near-duplicate", "similar"].map((t) => `${answer.tiers[t] || 0} ${t}`).join(", ");
            document.getElementById("summary").textContent = view === "duplicates"
              ? `Duplicate pairs: ${tiers}. Marks are saved beside the index.`
              : answer.labelsChecked ? `${answer.total} labels flagged as probably wrong, most suspicious first.`
              : "This collection has no labels to check.";
            const cards = view === "duplicates" ? answer.pairs.map(pairCard) : answer.labelIssues.map(issueCard);
            items.innerHTML = cards.join("") || "<p>Nothing to review here.</p>";
            const pages = Math.max(1, Math.ceil(total / per));
            if (page >= pages) { page = pages - 1; return load(); }
            document.getElementById("pageinfo").textContent = `page ${page + 1} of ${pages}`;
            navigation(true);
            document.getElementById("prev").disabled = page === 0;
            document.getElementById("next").disabled = page + 1 >= pages;
            items.dataset.state = "done";
          } catch (error) {
            if (mine !== loads) return;
            document.getElementById("error").textContent = error.message;
            navigation(true);
            items.dataset.state = "error";
          }
        }

        items.addEventListener("click", async (event) => {
          const button = event.target.closest("button[data-mark]");
          if (!button) return;
          const row = Number(button.dataset.row);
          const mark = button.getAttribute("aria-pressed") === "true" ? null : button.dataset.mark;
          try {
            const response = await fetch("/api/audit/marks", { method: "POST", headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ row, mark, generation }) });
            const answer = await response.json();
            if (!response.ok) throw new Error(answer.error || response.statusText);
            for (const other of items.querySelectorAll(`button[data-row="${row}"]`)) {
              other.setAttribute("aria-pressed", String(other.dataset.mark === answer.mark));
            }
          } catch (error) {
            document.getElementById("error").textContent = error.message;
          }
        });
        for (const button of document.querySelectorAll("nav button")) {
          button.addEventListener("click", () => { view = button.dataset.view; page = 0; load(); });
        }
        document.getElementById("prev").addEventListener("click", () => { page = Math.max(0, page - 1); load(); });
        document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
        load();
        </script>
        </body>
        </html>
        """#
}
