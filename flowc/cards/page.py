"""One card as one self-contained HTML file: styles inline, images as data URLs, and, only in a
card that holds a ``VegaChart``, Vega + Vega-Lite + vega-embed inlined from
``flowc/cards/assets/`` (fetched from npm at pinned versions by ``scripts/fetch-card-assets``).
Nothing is loaded from the network when the file is opened.
"""

from __future__ import annotations

import gzip
import html
from pathlib import Path

__all__ = ["ASSETS", "VEGA_SCRIPTS", "card_page", "vega_scripts"]

ASSETS = Path(__file__).resolve().parent / "assets"
#: In load order (vega-lite and vega-embed need vega).
VEGA_SCRIPTS = ("vega", "vega-lite", "vega-embed")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933}
main{max-width:1100px;margin:0 auto;padding:20px 28px}
h1,h2,h3{font-weight:600} h1{font-size:1.5em}
h2{font-size:1.2em;border-bottom:1px solid #e4e7eb;padding-bottom:4px}
.fc-header{color:#52606d;font-size:.9em} .fc-meta{color:#616e7c;font-size:.85em;margin:2px 0}
.fc-table{border-collapse:collapse;margin:8px 0;font-size:.9em}
.fc-table th,.fc-table td{border:1px solid #d9dde2;padding:4px 8px;text-align:left;vertical-align:top}
.fc-table th{background:#f5f7fa}
pre{background:#f5f7fa;padding:8px;overflow:auto;font-size:.85em;max-height:480px}
.fc-error{border:1px solid #e12d39;background:#ffe3e3;padding:8px;margin:8px 0;color:#610316}
.fc-warning{border:1px solid #f0b429;background:#fffbea;padding:6px;margin:6px 0}
.fc-image{max-width:100%;min-width:16px;image-rendering:pixelated}
.fc-figure{margin:8px 0} figcaption{color:#616e7c;font-size:.85em}
.fc-valuebox{display:inline-block;min-width:160px;border-radius:6px;padding:10px 14px;margin:6px;
background:#f0f4f8}
.fc-vb-value{font-size:1.8em;font-weight:600}
.fc-vb-title,.fc-vb-subtitle,.fc-vb-change{font-size:.85em}
.fc-theme-success{background:#e3f9e5} .fc-theme-warning{background:#fffbea}
.fc-theme-danger{background:#ffe3e3}
.fc-theme-bg-gradient-indigo-purple{background:linear-gradient(90deg,#6366f1,#a855f7);color:#fff}
.fc-progress progress{width:300px;vertical-align:middle}
.fc-event{border-left:4px solid #9aa5b1;padding:2px 8px;margin:6px 0}
.fc-graph{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.fc-step{border:1px solid #9aa5b1;border-radius:4px;padding:3px 8px;font-size:.85em}
.fc-step.fc-here{background:#2680c2;color:#fff;border-color:#2680c2}
"""

# Draws every chart of the page; a chart that fails shows why instead of a blank space.
_EMBED = """
document.querySelectorAll(".fc-vega").forEach(function (box) {
  var item = JSON.parse(box.querySelector(".fc-vega-spec").textContent);
  vegaEmbed(box.querySelector(".fc-vega-target"), item.spec, {actions: item.actions, renderer: "svg"})
    .catch(function (error) { box.textContent = "The chart could not be drawn: " + error; });
});
"""


def vega_scripts() -> str:
    """The ``<script>`` elements of Vega, Vega-Lite and vega-embed (about 1 MB once inflated)."""
    scripts = []
    for name in VEGA_SCRIPTS:
        code = gzip.decompress((ASSETS / f"{name}.min.js.gz").read_bytes()).decode("utf-8")
        # Inline JS cannot contain "</script"; the minified builds do not, this keeps it true.
        code = code.replace("</script", "<\\/script")
        scripts.append(f"<script>{code}</script>")
    return "\n".join(scripts)


def card_page(title: str, body: str, *, refresh_seconds: int | None = None) -> str:
    """A whole card page around ``body`` (HTML fragments of components).

    Args:
        title: the page's title.
        body: the card's content.
        refresh_seconds: set while the task runs: the page reloads itself from its file (which
            ``flowc card view --follow`` keeps current); the final card has none.
    """
    refresh = f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">' if refresh_seconds else ""
    charts = ""
    if 'class="fc-vega-spec"' in body:
        charts = vega_scripts() + f"\n<script>{_EMBED}</script>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main>{charts}</body></html>\n"
    )
