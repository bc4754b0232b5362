"""Interactive figures that work offline in the static website.

``interactive_projection`` draws an embedding projection as inline SVG: every point carries its label as
an SVG ``<title>``, so hovering shows it even with scripts disabled; a few lines of inline JavaScript (no
library, nothing fetched) add zoom with the mouse wheel, panning by dragging, and a reset on double click.
The notebook output also carries a PNG of the same figure, for viewers that show neither HTML nor SVG.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.viz import embedding_projection, project_2d

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]

_SCRIPT = """
(function () {
  var svg = document.getElementById("%(id)s");
  if (!svg) { return; }
  var home = svg.getAttribute("viewBox").split(" ").map(Number), box = home.slice(), drag = null;
  function show() { svg.setAttribute("viewBox", box.join(" ")); }
  function point(event) {
    var r = svg.getBoundingClientRect();
    return [box[0] + (event.clientX - r.left) / r.width * box[2],
            box[1] + (event.clientY - r.top) / r.height * box[3]];
  }
  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    var p = point(event), k = event.deltaY < 0 ? 0.8 : 1.25;
    box = [p[0] - (p[0] - box[0]) * k, p[1] - (p[1] - box[1]) * k, box[2] * k, box[3] * k];
    show();
  });
  svg.addEventListener("mousedown", function (event) { drag = point(event); });
  window.addEventListener("mouseup", function () { drag = null; });
  svg.addEventListener("mousemove", function (event) {
    if (!drag) { return; }
    var p = point(event);
    box[0] -= p[0] - drag[0]; box[1] -= p[1] - drag[1];
    show();
  });
  svg.addEventListener("dblclick", function () { box = home.slice(); show(); });
  svg.setAttribute("data-interactive", "ready");
})();
"""


class InteractiveFigure:
    """An SVG scatter with hover labels and zoom; displays as HTML, with a PNG fallback."""

    def __init__(self, svg: str, png: bytes, title: str) -> None:
        self.svg = svg
        self.png = png
        self.title = title

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/html": self.svg,
            "image/png": base64.b64encode(self.png).decode("ascii"),
            "text/plain": f"<InteractiveFigure: {self.title}>",
        }


def _scale(values: np.ndarray, low: float, high: float) -> np.ndarray:
    span = values.max() - values.min()
    return np.full_like(values, (low + high) / 2) if span == 0 else \
        low + (values - values.min()) / span * (high - low)


def interactive_projection(vectors: Any, labels: Sequence[str], groups: Sequence[Any] | None = None,
                           method: str = "pca", title: str = "", show_text: bool | None = None,
                           seed: int = 0, width: int = 560, height: int = 420) -> InteractiveFigure:
    """Project N vectors to 2-D (PCA or t-SNE) and draw them with hover labels, zoom and pan.

    ``show_text`` writes each label next to its point; by default only when there are at most 60 points
    (beyond that the labels overlap, and hovering shows them anyway).
    """
    if len(labels) != len(vectors):
        raise ValueError(f"{len(labels)} labels for {len(vectors)} vectors")
    points = project_2d(vectors, method, seed)
    if show_text is None:
        show_text = len(labels) <= 60
    legend = 90 if groups is not None else 0  # a column on the right keeps the legend off the points
    xs = _scale(points[:, 0], 30, width - 30 - legend)
    ys = _scale(-points[:, 1], 40, height - 20)
    names = sorted(set(groups), key=str) if groups is not None else []
    title = title or f"{method.upper()} projection (scroll to zoom, drag to pan, double-click to reset)"
    ident = "proj-" + hashlib.sha1(np.round(points, 6).tobytes() + "".join(labels).encode()).hexdigest()[:10]
    parts = [f'<svg id="{ident}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px;border:1px solid #ddd;cursor:grab" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="12">'
             f"{html.escape(title)}</text>"]
    for index, (x, y, label) in enumerate(zip(xs, ys, labels, strict=True)):
        group = groups[index] if groups is not None else None
        colour = PALETTE[names.index(group) % len(PALETTE)] if groups is not None else PALETTE[0]
        shown = str(label) if group is None or str(group) in str(label) else f"{label} ({group})"
        tooltip = html.escape(shown)
        parts.append(f'<g><title>{tooltip}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" '
                     f'fill-opacity="0.8"/>')
        if show_text:
            parts.append(f'<text x="{x + 5:.1f}" y="{y - 4:.1f}" font-size="9">'
                         f"{html.escape(str(label))}</text>")
        parts.append("</g>")
    for row, name in enumerate(names):
        colour = PALETTE[row % len(PALETTE)]
        parts.append(f'<circle cx="{width - legend + 12}" cy="{34 + 14 * row}" r="4" fill="{colour}"/>'
                     f'<text x="{width - legend + 22}" y="{38 + 14 * row}" font-size="10">'
                     f"{html.escape(str(name))}</text>")
    parts.append("</svg>")
    parts.append(f"<script>{_SCRIPT % {'id': ident}}</script>")
    few = len(labels) <= 60  # labels are written only while they stay legible
    figure = embedding_projection(vectors, labels=list(labels) if few else None, groups=groups,
                                  method=method, title=title.split(" (")[0], seed=seed)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return InteractiveFigure("\n".join(parts), buffer.getvalue(), title)


_ATTENTION_SCRIPT = """
(function () {
  var root = document.getElementById("%(id)s");
  if (!root) { return; }
  var svg = root.querySelector("svg"), data = %(data)s, layer = 0, head = 0, fixed = null;
  var lines = svg.querySelectorAll("line[data-q]"), layerBox = root.querySelector("select[name=layer]"),
      headBox = root.querySelector("select[name=head]");
  function draw(side, index) {
    var w = data[layer][head];
    for (var n = 0; n < lines.length; n++) {
      var q = +lines[n].getAttribute("data-q"), k = +lines[n].getAttribute("data-k"), v = w[q][k];
      if (side === "q" && q !== index) { v = 0; }
      if (side === "k" && k !== index) { v = 0; }
      if (side === null) { v = v / 2; }
      lines[n].setAttribute("stroke-opacity", v.toFixed(3));
    }
    svg.querySelectorAll("text[data-side]").forEach(function (t) {
      var on = t.getAttribute("data-side") === side && +t.getAttribute("data-i") === index;
      t.setAttribute("font-weight", on ? "bold" : "normal");
    });
  }
  svg.querySelectorAll("text[data-side]").forEach(function (t) {
    t.addEventListener("mouseenter", function () {
      draw(t.getAttribute("data-side"), +t.getAttribute("data-i"));
    });
    t.addEventListener("mouseleave", function () { draw(null, -1); });
  });
  layerBox.addEventListener("change", function () { layer = +layerBox.value; draw(null, -1); });
  headBox.addEventListener("change", function () { head = +headBox.value; draw(null, -1); });
  draw(null, -1);
  svg.setAttribute("data-interactive", "ready");
})();
"""


def interactive_attention(weights: Any, tokens: Sequence[str], title: str = "",
                          layer_labels: Sequence[Any] | None = None, width: int = 420) -> InteractiveFigure:
    """Attention of every layer and head as a bertviz-like view that works offline.

    ``weights`` is layers × heads × T × T (or heads × T × T); queries on the left, keys on the right, one
    line per pair with opacity = weight. Hover a query token to see whom it attends to, a key token to see
    who attends to it; two drop-down lists choose the layer and the head. Inline SVG and a few lines of
    JavaScript, nothing fetched; without scripts the SVG shows layer 0, head 0, and the PNG fallback is
    the heatmap of that head. ``layer_labels`` names the layers in the list (default 0, 1, ...).
    Defined in Day 27.
    """
    import json

    from helpers.checks import to_numpy
    from helpers.viz import attention_heatmap

    array = to_numpy(weights, np.float64)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[2] != array.shape[3]:
        raise ValueError(f"interactive_attention needs layers×heads×T×T weights, got shape {array.shape}")
    layers, heads, length = array.shape[:3]
    if len(tokens) != length:
        raise ValueError(f"{len(tokens)} tokens for attention over {length} positions")
    layer_labels = list(layer_labels) if layer_labels is not None else list(range(layers))
    if len(layer_labels) != layers:
        raise ValueError(f"{len(layer_labels)} layer labels for {layers} layers")
    title = title or "Attention (hover a token; choose the layer and head)"
    step, top = 18, 40
    height = top + step * length + 10
    left, right = 120, width - 120
    rounded = np.round(array, 3)
    ident = "attn-" + hashlib.sha1(rounded.tobytes() + "".join(tokens).encode()).hexdigest()[:10]
    layer_options = "".join(f'<option value="{i}">{html.escape(str(name))}</option>'
                            for i, name in enumerate(layer_labels))
    parts = [f'<div id="{ident}" style="max-width:{width}px">',
             f'<label>layer <select name="layer">{layer_options}</select></label> ',
             '<label>head <select name="head">' + "".join(
                 f'<option value="{i}">{i}</option>' for i in range(heads)) + "</select></label>",
             f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="12">'
             f"{html.escape(title)}</text>",
             f'<text x="{left}" y="32" text-anchor="end" font-size="10" fill="#555">query</text>'
             f'<text x="{right}" y="32" font-size="10" fill="#555">key</text>']
    for q in range(length):
        for k in range(length):
            parts.append(f'<line data-q="{q}" data-k="{k}" x1="{left + 4}" y1="{top + step * q + 6}" '
                         f'x2="{right - 4}" y2="{top + step * k + 6}" stroke="{PALETTE[0]}" stroke-width="2" '
                         f'stroke-opacity="{rounded[0, 0, q, k] / 2:.3f}"/>')
    for side, x, anchor in (("q", left, "end"), ("k", right, "start")):
        for index, token in enumerate(tokens):
            parts.append(f'<text data-side="{side}" data-i="{index}" x="{x}" y="{top + step * index + 10}" '
                         f'text-anchor="{anchor}" font-size="11" style="cursor:pointer">'
                         f"<title>{html.escape(str(token))} ({'query' if side == 'q' else 'key'} {index})"
                         f"</title>{html.escape(str(token))}</text>")
    parts.append("</svg>")
    data = json.dumps(rounded.tolist(), separators=(",", ":"))
    parts.append(f"<script>{_ATTENTION_SCRIPT % {'id': ident, 'data': data}}</script></div>")
    figure = attention_heatmap(array[0, 0], list(tokens),
                               title=f"layer {layer_labels[0]}, head 0 (static view)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return InteractiveFigure("\n".join(parts), buffer.getvalue(), title)
