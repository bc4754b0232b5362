"""Figures the course draws again and again. Every function returns the matplotlib ``Figure``.

Loss curves, image grids, 2-D decision boundaries, attention heatmaps (one head, or layers × heads),
embedding projections (PCA / t-SNE) and confusion matrices (raw, or normalised by row or column).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

ArrayLike = Any  # numpy array, torch tensor or nested lists


def to_numpy(values: ArrayLike) -> np.ndarray:
    """A NumPy copy of a tensor (any device, with or without grad), array or list."""
    if hasattr(values, "detach"):
        values = values.detach().float().cpu().numpy()
    return np.asarray(values)


def plot_history(history: Any, keys: Sequence[str] | None = None, title: str = "") -> Figure:
    """Loss curves per epoch from a ``History`` (or a list of epoch dicts); metrics on a 2nd panel."""
    epochs = history.epochs if hasattr(history, "epochs") else list(history)
    if not epochs:
        raise ValueError("history has no epochs to plot")
    skip = {"epoch", "step", "seconds", "lr"}
    keys = list(keys or [k for k in epochs[0] if k not in skip])
    losses = [k for k in keys if "loss" in k]
    others = [k for k in keys if k not in losses]
    fig, axes = plt.subplots(1, 1 + bool(others), figsize=(5 + 4 * bool(others), 3.2), squeeze=False)
    x = [r["epoch"] for r in epochs]
    for ax, group, label in ((axes[0, 0], losses, "loss"), (axes[0, -1], others, "metric")):
        for key in group:
            ax.plot(x, [r.get(key, np.nan) for r in epochs], marker="o", label=key)
        if group:
            ax.set(xlabel="epoch", ylabel=label)
            ax.legend()
            ax.grid(alpha=0.3)
    best = getattr(history, "best_epoch", None)
    if best is not None:
        axes[0, 0].axvline(best, color="grey", linestyle=":", label="best")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images: ArrayLike, titles: Sequence[str] | None = None, ncols: int = 8,
               cmap: str = "gray", size: float = 1.4) -> Figure:
    """Show N images (N×H×W, N×C×H×W or N×H×W×C) in a grid, with optional titles."""
    array = to_numpy(images)
    if array.ndim == 4 and array.shape[1] in (1, 3):  # channels first -> last
        array = array.transpose(0, 2, 3, 1)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    count = len(array)
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2 * bool(titles)),
                             squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            image = array[index]
            if image.ndim == 3:
                image = np.clip(image, 0, 1) if image.dtype.kind == "f" else image
            ax.imshow(image, cmap=None if image.ndim == 3 else cmap)
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize=8)
    fig.tight_layout()
    return fig


def decision_boundary(predict: Callable[[np.ndarray], ArrayLike], x: ArrayLike, y: ArrayLike,
                      ax: Any = None, resolution: int = 200, margin: float = 0.5,
                      title: str = "") -> Figure:
    """Colour the plane by ``predict`` (N×2 points -> labels or probabilities) and overlay the data."""
    points, labels = to_numpy(x), to_numpy(y).ravel()
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"decision_boundary needs N×2 inputs, got shape {points.shape}")
    lo, hi = points.min(0) - margin, points.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[gx.ravel(), gy.ravel()]
    values = to_numpy(predict(grid)).reshape(gx.shape)
    fig = ax.figure if ax is not None else plt.figure(figsize=(3.6, 3.2))
    ax = ax if ax is not None else fig.add_subplot()
    ax.contourf(gx, gy, values, levels=20 if values.dtype.kind == "f" else None, cmap="RdBu",
                alpha=0.6)
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu", edgecolors="k", s=60)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title=title)
    return fig


def attention_heatmap(weights: ArrayLike, query_tokens: Sequence[str],
                      key_tokens: Sequence[str] | None = None, ax: Any = None,
                      title: str = "") -> Figure:
    """One attention matrix (queries × keys) with token labels; rows sum to 1."""
    matrix = to_numpy(weights)
    key_tokens = list(key_tokens if key_tokens is not None else query_tokens)
    if matrix.shape != (len(query_tokens), len(key_tokens)):
        raise ValueError(f"weights {matrix.shape} do not match {len(query_tokens)} query and "
                         f"{len(key_tokens)} key tokens")
    fig = ax.figure if ax is not None else plt.figure(figsize=(0.4 * len(key_tokens) + 2,
                                                               0.4 * len(query_tokens) + 1.5))
    ax = ax if ax is not None else fig.add_subplot()
    image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=max(matrix.max(), 1e-9))
    ax.set_xticks(range(len(key_tokens)), key_tokens, rotation=90, fontsize=8)
    ax.set_yticks(range(len(query_tokens)), query_tokens, fontsize=8)
    ax.set(xlabel="key", ylabel="query", title=title)
    if ax is fig.axes[0]:
        fig.colorbar(image, ax=ax, fraction=0.046)
    return fig


def attention_grid(weights: ArrayLike, tokens: Sequence[str], title: str = "") -> Figure:
    """All heads of all layers: ``weights`` is layers × heads × T × T (or heads × T × T)."""
    array = to_numpy(weights)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"attention_grid needs layers×heads×T×T, got shape {array.shape}")
    layers, heads = array.shape[:2]
    cell = 0.25 * len(tokens) + 1
    fig, axes = plt.subplots(layers, heads, figsize=(cell * heads, cell * layers), squeeze=False)
    for layer in range(layers):
        for head in range(heads):
            ax = axes[layer, head]
            ax.imshow(array[layer, head], cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=6)
            ax.set_yticks(range(len(tokens)), tokens, fontsize=6)
            ax.set_title(f"layer {layer} head {head}", fontsize=8)
            if head:
                ax.set_yticklabels([])
            if layer < layers - 1:
                ax.set_xticklabels([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def project_2d(vectors: ArrayLike, method: str = "pca", seed: int = 0) -> np.ndarray:
    """N×D vectors to N×2 with PCA or t-SNE (scikit-learn)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    array = to_numpy(vectors).astype(np.float64)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(array)
    if method == "tsne":
        perplexity = float(min(30, max(2, (len(array) - 1) // 3)))
        return TSNE(n_components=2, perplexity=perplexity, random_state=seed,
                    init="pca").fit_transform(array)
    raise ValueError("method must be 'pca' or 'tsne'")


def embedding_projection(vectors: ArrayLike, labels: Sequence[str] | None = None,
                         groups: Sequence[Any] | None = None, method: str = "pca",
                         title: str = "", seed: int = 0) -> Figure:
    """Scatter of N vectors projected to 2-D, with text labels and colours by group."""
    points = project_2d(vectors, method, seed)
    fig, ax = plt.subplots(figsize=(5, 4))
    colours = None
    if groups is not None:
        names = sorted(set(groups), key=str)
        colours = [names.index(g) for g in groups]
    scatter = ax.scatter(points[:, 0], points[:, 1], c=colours, cmap="tab10", s=25)
    if groups is not None:
        handles = scatter.legend_elements()[0]
        ax.legend(handles, [str(n) for n in names], fontsize=7, loc="best")
    for (px, py), text in zip(points, labels or [], strict=False):
        ax.annotate(str(text), (px, py), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.set(title=title or f"{method.upper()} projection", xticks=[], yticks=[])
    return fig


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, class_names: Sequence[str] | None = None,
                     normalize: str | None = None, title: str = "") -> Figure:
    """Confusion matrix; ``normalize='true'`` (rows: recall on the diagonal) or ``'pred'`` (precision)."""
    from sklearn.metrics import confusion_matrix as sk_confusion

    true, pred = to_numpy(y_true).ravel(), to_numpy(y_pred).ravel()
    labels = list(range(len(class_names))) if class_names is not None else None
    matrix = sk_confusion(true, pred, labels=labels, normalize=normalize)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(matrix))]
    size = 0.45 * len(names) + 2
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    image = ax.imshow(matrix, cmap="Blues")
    fmt = "{:.2f}" if normalize else "{:d}"
    threshold = matrix.max() / 2
    for (row, col), value in np.ndenumerate(matrix):
        ax.text(col, row, fmt.format(value.item()), ha="center", va="center", fontsize=7,
                color="white" if value > threshold else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    default = {None: "counts", "true": "normalised by row (recall)",
               "pred": "normalised by column (precision)", "all": "share of all"}[normalize]
    ax.set(xlabel="predicted", ylabel="true", title=title or f"Confusion matrix, {default}")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig
