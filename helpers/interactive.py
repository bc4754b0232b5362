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
