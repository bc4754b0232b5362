"""Figures the course draws again and again. Every function returns the matplotlib ``Figure``.

Loss curves, image grids, 2-D decision boundaries, attention heatmaps (one head, or layers × heads),
embedding projections (PCA / t-SNE), confusion matrices (raw, or normalised by row or column)
and loss surfaces of two parameters with optimisation paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from helpers.checks import to_numpy  # re-exported: ``viz.to_numpy`` is the same function

ArrayLike = Any  # numpy array, torch tensor or nested lists


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
    best = getattr(history, "best_epoch", None)
    for ax, group, label in ((axes[0, 0], losses, "loss"), (axes[0, -1], others, "metric")):
        for key in group:
            ax.plot(x, [r.get(key, np.nan) for r in epochs], marker="o", label=key)
        if best is not None and ax is axes[0, 0]:  # before the legend, so that the legend shows it
            ax.axvline(best, color="grey", linestyle=":", label=f"best (epoch {best})")
        if group:
            ax.set(xlabel="epoch", ylabel=label)
            ax.legend()
            ax.grid(alpha=0.3)
    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
    if values.dtype.kind == "f":
        ax.contourf(gx, gy, values, levels=20, cmap="RdBu", alpha=0.6)
    else:  # labels: one band per class, each class in the same colour even when it fills the whole plane
        first = int(min(values.min(), labels.min()))
        last = int(max(values.max(), labels.max()))
        ax.contourf(gx, gy, values.astype(int), levels=np.arange(first, last + 2) - 0.5, cmap="RdBu",
                    alpha=0.6, vmin=first - 0.5, vmax=last + 0.5)
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


def loss_surface(loss: Callable[[np.ndarray, np.ndarray], ArrayLike], x_range: tuple[float, float],
                 y_range: tuple[float, float], paths: dict[str, ArrayLike] | None = None,
                 minimum: Sequence[float] | None = None, resolution: int = 200, levels: int = 25,
                 log_levels: bool = True, labels: tuple[str, str] = ("w", "b"), ax: Any = None,
                 title: str = "") -> Figure:
    """Contours of a loss of two parameters, with optimisation paths drawn on top.

    Args:
        loss: ``loss(P1, P2)`` gets two grids of the same shape and returns the loss at every point
            (write it with broadcasting, or wrap a scalar function in ``np.vectorize``).
        x_range, y_range: the window, ``(low, high)`` for the first and the second parameter.
        paths: label -> T×2 array of the parameters visited, start first. Points outside the window
            are clipped by the axes (a divergent path runs off the plot); non-finite points are dropped.
        minimum: a point to mark with a star (e.g. the least-squares solution).
        levels: number of contour levels, log-spaced when ``log_levels`` and the loss is positive.
    """
    for name, (low, high) in (("x_range", x_range), ("y_range", y_range)):
        if not low < high:
            raise ValueError(f"{name} must be (low, high) with low < high, got {(low, high)}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    grid_x, grid_y = np.meshgrid(np.linspace(*x_range, resolution), np.linspace(*y_range, resolution))
    values = to_numpy(loss(grid_x, grid_y)).astype(np.float64)
    if values.shape != grid_x.shape:
        raise ValueError(f"loss returned shape {values.shape} for grids of shape {grid_x.shape}: "
                         "make it broadcast over arrays (or wrap it in np.vectorize)")
    low, high = np.nanmin(values), np.nanmax(values)
    if log_levels and low > 0 and high > low:
        contour_levels = np.geomspace(low, high, levels)
    else:
        contour_levels = np.linspace(low, high, levels) if high > low else levels
    fig = ax.figure if ax is not None else plt.figure(figsize=(5.2, 4))
    ax = ax if ax is not None else fig.add_subplot()
    ax.contour(grid_x, grid_y, values, levels=contour_levels, cmap="viridis", linewidths=0.8)
    for index, (label, points) in enumerate((paths or {}).items()):
        path = to_numpy(points).astype(np.float64)
        if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
            raise ValueError(f"path {label!r} must be a non-empty T×2 array, got shape {path.shape}")
        path = path[np.isfinite(path).all(axis=1)]
        colour = plt.cm.tab10(index % 10)
        ax.plot(path[:, 0], path[:, 1], "-o", color=colour, markersize=2.5, linewidth=1, label=label)
        ax.plot(path[0, 0], path[0, 1], "s", color=colour, markersize=5)
    if minimum is not None:
        ax.plot(minimum[0], minimum[1], "*", color="black", markersize=12, label="minimum")
    ax.set(xlim=x_range, ylim=y_range, xlabel=labels[0], ylabel=labels[1], title=title)
    if paths or minimum is not None:
        ax.legend(fontsize=7, loc="best")
    return fig


def _map_list(maps: ArrayLike) -> list[np.ndarray]:
    """C×H×W, 1×C×H×W, H×W or a sequence of 2-D maps (sizes may differ) -> list of 2-D float arrays."""
    if isinstance(maps, (list, tuple)) and maps and np.ndim(to_numpy(maps[0])) == 2:
        return [to_numpy(m).astype(np.float64) for m in maps]
    array = to_numpy(maps).astype(np.float64)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"feature_maps needs C×H×W (or 1×C×H×W, H×W, a list of H×W) maps, got shape "
                         f"{array.shape}")
    return list(array)


def feature_maps(maps: ArrayLike, titles: Sequence[str] | None = None, ncols: int = 4,
                 signed: bool | None = None, shared_scale: bool = False, clip_percentile: float = 99.5,
                 size: float = 2.2, title: str = "") -> Figure:
    """Show feature maps: C×H×W, 1×C×H×W, H×W, or a list of H×W maps of different sizes.

    ``signed`` maps (default: when any value is negative) use a diverging colormap centred on 0 (red
    positive, blue negative); unsigned maps are grey. Each map has its own colour scale unless
    ``shared_scale``; the scale ends at the ``clip_percentile`` of the values, so that a few extreme
    pixels (a border, one hot spot) do not wash out the rest (100 shows the full range).
    """
    arrays = _map_list(maps)
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"{len(titles)} titles for {len(arrays)} maps")
    if not 0 < clip_percentile <= 100:
        raise ValueError(f"clip_percentile must be in (0, 100], got {clip_percentile}")
    signed = any(a.min() < 0 for a in arrays) if signed is None else signed

    def limits(values: np.ndarray) -> tuple[float, float]:
        if signed:
            bound = max(float(np.percentile(np.abs(values), clip_percentile)), 1e-12)
            return -bound, bound
        return (float(np.percentile(values, 100 - clip_percentile)),
                float(np.percentile(values, clip_percentile)))

    shared = limits(np.concatenate([a.ravel() for a in arrays])) if shared_scale else None
    count = len(arrays)
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    aspect = arrays[0].shape[0] / arrays[0].shape[1]
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(size * ncols, size * aspect * nrows + 0.3 * bool(titles) * nrows))
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        low, high = shared or limits(arrays[index])
        ax.imshow(arrays[index], cmap="RdBu_r" if signed else "gray", vmin=low, vmax=high)
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def kernel_grid(weights: ArrayLike, titles: Sequence[str] | None = None, ncols: int = 8,
                annotate: bool | None = None, size: float = 1.3, title: str = "") -> Figure:
    """Show convolution kernels: K×kH×kW, K×1×kH×kW or a list of kH×kW (diverging colours centred on 0),
    or K×3×kH×kW (RGB, a first layer on colour images, each kernel min-max scaled to [0, 1]).

    ``annotate`` writes each weight in its cell (default: single-channel kernels up to 5×5).
    """
    if isinstance(weights, (list, tuple)) and weights and np.ndim(to_numpy(weights[0])) == 2:
        kernels = [to_numpy(k).astype(np.float64) for k in weights]
        rgb = False
    else:
        array = to_numpy(weights).astype(np.float64)
        if array.ndim == 4 and array.shape[1] == 1:
            array = array[:, 0]
        rgb = array.ndim == 4 and array.shape[1] == 3
        if not (array.ndim == 3 or rgb):
            raise ValueError(f"kernel_grid needs K×kH×kW, K×1×kH×kW or K×3×kH×kW weights, got shape "
                             f"{array.shape}; pick one input channel with weights[:, c]")
        kernels = list(array)
    if titles is not None and len(titles) != len(kernels):
        raise ValueError(f"{len(titles)} titles for {len(kernels)} kernels")
    annotate = (not rgb and max(max(k.shape[-2:]) for k in kernels) <= 5) if annotate is None else annotate
    count = len(kernels)
    ncols = min(ncols, count)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(size * ncols, size * nrows + 0.3 * bool(titles) * nrows))
    for index, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= count:
            ax.axis("off")
            continue
        kernel = kernels[index]
        if rgb:
            low, high = kernel.min(), kernel.max()
            ax.imshow(((kernel - low) / max(high - low, 1e-12)).transpose(1, 2, 0))
        else:
            bound = max(float(np.abs(kernel).max()), 1e-12)
            ax.imshow(kernel, cmap="RdBu_r", vmin=-bound, vmax=bound)
            if annotate:
                for (row, col), value in np.ndenumerate(kernel):
                    ax.text(col, row, f"{value:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if abs(value) > 0.6 * bound else "black")
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def pr_roc_curves(y_true: ArrayLike, scores: dict[str, ArrayLike], threshold: float | None = None,
                  title: str = "") -> Figure:
    """Precision-recall (left) and ROC (right) curves of binary scorers, one line per entry of ``scores``.

    ``y_true`` holds 0/1 labels (1 = the positive class); each score array ranks the positives high
    (a probability or a decision value). The legends give average precision (AP) and ROC AUC. Dashed
    lines are chance: the positive rate on the PR panel, the diagonal on the ROC panel. ``threshold``
    marks each curve's operating point (predict positive when score >= threshold).
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    labels = to_numpy(y_true).ravel()
    if set(np.unique(labels).tolist()) - {0, 1}:
        raise ValueError("pr_roc_curves needs 0/1 labels (1 = positive class)")
    if not scores:
        raise ValueError("pr_roc_curves needs at least one score array")
    fig, (ax_pr, ax_roc) = plt.subplots(1, 2, figsize=(9, 3.8))
    for name, values in scores.items():
        score = to_numpy(values).ravel()
        if score.shape != labels.shape:
            raise ValueError(f"scores[{name!r}] has {score.size} values for {labels.size} labels")
        precision, recall, _ = precision_recall_curve(labels, score)
        fpr, tpr, _ = roc_curve(labels, score)
        ap, auc = average_precision_score(labels, score), roc_auc_score(labels, score)
        line = ax_pr.step(recall, precision, where="post", label=f"{name} (AP {ap:.3f})")[0]
        ax_roc.plot(fpr, tpr, color=line.get_color(), label=f"{name} (AUC {auc:.3f})")
        if threshold is not None:
            predicted = score >= threshold
            tp = float(np.sum(predicted & (labels == 1)))
            point_recall = tp / max(float(np.sum(labels == 1)), 1.0)
            point_precision = tp / max(float(np.sum(predicted)), 1.0)
            point_fpr = float(np.sum(predicted & (labels == 0))) / max(float(np.sum(labels == 0)), 1.0)
            ax_pr.plot(point_recall, point_precision, "o", color=line.get_color())
            ax_roc.plot(point_fpr, point_recall, "o", color=line.get_color())
    ax_pr.axhline(labels.mean(), color="grey", linestyle="--", linewidth=1, label="chance")
    ax_roc.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance")
    ax_pr.set(xlabel="recall", ylabel="precision", xlim=(0, 1.01), ylim=(0, 1.02), title="Precision-recall")
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate (recall)", xlim=(-0.01, 1),
               ylim=(0, 1.02), title="ROC")
    for ax in (ax_pr, ax_roc):
        ax.legend(fontsize=7, loc="lower left" if ax is ax_pr else "lower right")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def live_history(keys: Sequence[str] | None = None, title: str = "", every: int = 1,
                 path: str | None = None) -> Callable[[Any, dict[str, float]], None]:
    """A ``Trainer`` callback that redraws ``plot_history`` every ``every`` epochs while training runs.

    In Jupyter the figure is updated in place (one output that changes, not one figure per epoch);
    elsewhere, give ``path`` to rewrite a PNG after each update (open it in an image viewer).

    >>> trainer = Trainer(..., callbacks=[viz.live_history()])  # doctest: +SKIP
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    handle: Any = None

    def callback(trainer: Any, record: dict[str, float]) -> None:
        nonlocal handle
        if int(record["epoch"]) % every:
            return
        fig = plot_history(trainer.history, keys, title)
        if path is not None:
            fig.savefig(path, dpi=100)
        if _in_ipython():
            from IPython.display import display

            if handle is None:
                handle = display(fig, display_id=True)
            else:
                handle.update(fig)
        plt.close(fig)

    return callback


def _in_ipython() -> bool:
    """True inside Jupyter/IPython, where figures can be displayed and updated in place."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def parameter_bars(counts: dict[str, int], total: int | None = None, ax: Any = None, title: str = "",
                   log: bool = True) -> Figure:
    """Horizontal bars of parameter counts (full fine-tuning vs LoRA ranks...), log scale by default.

    Args:
        counts: label -> number of parameters, drawn top to bottom in the given order.
        total: the model's size; when given, each bar also shows its share of ``total``.
        ax: draw into this axes (for side-by-side panels); default: a new figure.
        log: logarithmic x axis, so that counts that differ by orders of magnitude stay visible.
    """
    if not counts:
        raise ValueError("counts is empty: nothing to draw")
    if any(value <= 0 for value in counts.values()) and log:
        raise ValueError("a log scale needs positive counts; pass log=False to draw zeros")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(counts)))
    labels, values = list(counts), [int(value) for value in counts.values()]
    positions = np.arange(len(values))[::-1]
    ax.barh(positions, values, color=plt.cm.Blues(np.linspace(0.9, 0.45, len(values))))
    for position, value in zip(positions, values, strict=True):
        text = f" {value:,}" + (f" ({100 * value / total:.3g}%)" if total else "")
        ax.text(value, position, text, va="center", fontsize=8)
    ax.set_yticks(positions, labels)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 10, max(values) * 60)  # room on the left for the shortest bar
    else:
        ax.set_xlim(0, max(values) * 1.6)
    ax.set(xlabel="trainable parameters", title=title)
    ax.grid(axis="x", alpha=0.3)
    fig = ax.figure
    fig.tight_layout()
    return fig
