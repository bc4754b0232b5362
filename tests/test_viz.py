import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers import viz
from helpers.trainer import History


def test_plot_history_draws_losses_metrics_and_best_epoch():
    history = History(epochs=[{"epoch": 1, "train_loss": 1.0, "valid_loss": 0.9, "accuracy": 0.5, "lr": 0.1},
                              {"epoch": 2, "train_loss": 0.5, "valid_loss": 0.6, "accuracy": 0.7, "lr": 0.1}],
                      best_epoch=2)
    fig = viz.plot_history(history, title="run")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert {line.get_label() for line in fig.axes[0].lines} >= {"train_loss", "valid_loss"}
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == ["train_loss", "valid_loss", "best (epoch 2)"]  # the best line is in the legend
    assert len(viz.plot_history(history.epochs, keys=["train_loss"]).axes) == 1
    with pytest.raises(ValueError, match="no epochs"):
        viz.plot_history([])


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 1, 28, 28), (5, 3, 8, 8), (5, 8, 8, 3)])
def test_image_grid_accepts_common_layouts(shape):
    fig = viz.image_grid(torch.rand(shape), titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "a"


def test_decision_boundary_and_shape_error():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    fig = viz.decision_boundary(lambda g: (g.sum(1) > 1).astype(int), x, [0, 0, 0, 1], resolution=20)
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="N×2"):
        viz.decision_boundary(lambda g: g, np.zeros((4, 3)), [0, 0, 0, 1])


def test_attention_heatmap_labels_and_checks_shape():
    weights = torch.softmax(torch.randn(3, 4), dim=-1)
    fig = viz.attention_heatmap(weights, ["a", "b", "c"], ["w", "x", "y", "z"], title="head 0")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w", "x", "y", "z"]
    with pytest.raises(ValueError, match="do not match"):
        viz.attention_heatmap(weights, ["a", "b"])


def test_attention_grid_layers_by_heads():
    fig = viz.attention_grid(torch.softmax(torch.randn(2, 3, 4, 4), -1), list("abcd"))
    assert len(fig.axes) == 6 and fig.axes[4].get_title() == "layer 1 head 1"
    assert len(viz.attention_grid(np.ones((2, 4, 4)) / 4, list("abcd")).axes) == 2
    with pytest.raises(ValueError):
        viz.attention_grid(np.ones((4, 4)), list("abcd"))


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embedding_projection(method):
    vectors = np.random.default_rng(0).normal(size=(12, 5))
    fig = viz.embedding_projection(vectors, labels=[f"w{i}" for i in range(12)], groups=["a", "b"] * 6,
                                   method=method)
    assert len(fig.axes[0].texts) == 12
    assert viz.project_2d(vectors, method).shape == (12, 2)
    with pytest.raises(ValueError):
        viz.project_2d(vectors, "umap")


@pytest.mark.parametrize("normalize", [None, "true", "pred"])
def test_confusion_matrix_counts_and_normalisations(normalize):
    fig = viz.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["a", "b", "c"], normalize=normalize)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 9
    expected = {None: "1", "true": "0.50", "pred": "0.50"}[normalize]
    assert texts[5] == expected  # row b, column c


def test_to_numpy_handles_grad_tensors():
    assert viz.to_numpy(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
