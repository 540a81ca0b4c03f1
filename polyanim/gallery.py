"""``DIR/index.html`` of a batch: a contact sheet of every unit, sortable by final loss.

The page is one small file that works offline: no script or style from a
network, the animations referenced by relative links to the files next to it
(so the page stays small and the folder can be moved or zipped as a whole).
Units that failed are listed too, with their error, so the sheet shows the
whole batch.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from .fileio import atomic_path
from .html import POLICY
from .registry.formats import FORMATS
from .style import no_bidi

# the player's policy; the cards show the batch's own files beside the page (relative links)
GALLERY_POLICY = POLICY + "; img-src 'self' file: data:; media-src 'self' file:"

# what a card shows, best first: something that moves in an <img>, then a still, then a video, then a link
# how the contact sheet shows a unit: its first image format, else its first video (table order)
IMAGES = tuple(s.lstrip(".") for s, spec in FORMATS.items() if spec.embed == "img")
VIDEOS = tuple(s.lstrip(".") for s, spec in FORMATS.items() if spec.embed == "video")

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; background: #fafafa; color: #222; }
header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0 0 8px; }
#cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; align-items: start; }
figure { margin: 0; padding: 8px; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
figure img, figure video { width: 100%; height: auto; display: block; background: #eee; }
figcaption { margin-top: 6px; word-break: break-word; }
.loss { font-variant-numeric: tabular-nums; }
.failed, .diverged { border-color: #c33; }
.failed .status, .diverged .status { color: #c33; font-weight: 600; }
.error { color: #c33; font-size: 12px; }
.links a { margin-right: 8px; font-size: 12px; }
"""

_SCRIPT = """
(function () {
  var box = document.getElementById("cards"), pick = document.getElementById("sort");
  var cards = Array.prototype.slice.call(box.children);
  function loss(c) { var v = parseFloat(c.getAttribute("data-loss")); return isNaN(v) ? Infinity : v; }
  function order() {
    var how = pick.value, sorted = cards.slice();
    sorted.sort(function (a, b) {
      if (how === "name") return +a.getAttribute("data-order") - +b.getAttribute("data-order");
      var la = loss(a), lb = loss(b);
      if (la === lb) return +a.getAttribute("data-order") - +b.getAttribute("data-order");
      if (la === Infinity) return 1;
      if (lb === Infinity) return -1;
      return how === "loss-desc" ? lb - la : la - lb;
    });
    sorted.forEach(function (c) { box.appendChild(c); });
  }
  pick.addEventListener("change", order);
  order();
})();
"""


def write_index(path, results, title: str = "polyanim batch") -> Path:
    """Write the gallery page for ``results`` (batch Results, in batch order) to ``path``, atomically."""
    path = Path(path)
    failed = sum(r.status == "failed" for r in results)
    cards = "\n".join(_card(k, r) for k, r in enumerate(results))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{GALLERY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(no_bidi(title))}</title>
<style>{_STYLE}</style></head>
<body>
<header><h1><bdi>{html.escape(no_bidi(title))}</bdi></h1>
<span id="count">{len(results)} animations{f", {failed} failed" if failed else ""}</span>
<label>Sort <select id="sort">
<option value="loss-asc">by final loss, lowest first</option>
<option value="loss-desc">by final loss, highest first</option>
<option value="name">in batch order</option>
</select></label></header>
<main id="cards">
{cards}
</main>
<script>{_SCRIPT}</script>
</body></html>
"""
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _card(order: int, r) -> str:
    status = r.outcome
    loss = r.final_loss if r.final_loss is not None and math.isfinite(r.final_loss) else None
    shown = f"{loss:.4g}" if loss is not None else "–"
    files = [f for f in r.outputs if not f.endswith(".npz")]
    links = " ".join(f'<a href="{_href(f)}">{html.escape(f.rsplit(".", 1)[-1])}</a>' for f in r.outputs)
    caption = (f'<figcaption><b class="label"><bdi>{html.escape(no_bidi(r.label))}</bdi></b><br>'
               f'final loss <span class="loss">{shown}</span> · <span class="status">{html.escape(status)}</span>'
               + (f'<div class="error"><bdi>{html.escape(no_bidi(r.error))}</bdi></div>' if r.error else "")
               + (f'<div class="links">{links}</div>' if links else "") + "</figcaption>")
    return (f'<figure class="{html.escape(status)}" data-order="{order}" data-loss="{"" if loss is None else repr(loss)}"'
            f' data-name="{html.escape(r.name)}">{_media(files, r.label)}{caption}</figure>')


def _media(files: list[str], alt: str) -> str:
    by_format = {f.rsplit(".", 1)[-1]: f for f in files}
    for fmt in IMAGES:
        if fmt in by_format:
            return f'<img src="{_href(by_format[fmt])}" alt="{html.escape(no_bidi(alt))}" loading="lazy">'
    for fmt in VIDEOS:
        if fmt in by_format:
            return f'<video src="{_href(by_format[fmt])}" autoplay loop muted playsinline></video>'
    return ""


def _href(name: str) -> str:
    from urllib.parse import quote

    return html.escape(quote(name))
