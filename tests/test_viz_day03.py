"""helpers.viz.loss_surface: contours of a two-parameter loss with optimisation paths (day 03)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import viz


def bowl(w, b):
    return (w - 1.0) ** 2 + 4.0 * (b + 0.5) ** 2 + 0.1


def test_draws_paths_minimum_and_window():
    path = np.array([[-2.0, 2.0], [0.0, 0.5], [1.0, -0.5]])
    runaway = np.array([[-2.0, 2.0], [5.0, -5.0], [np.inf, np.nan]])
    fig = viz.loss_surface(bowl, (-3, 3), (-2, 2), paths={"good": path, "divergent": runaway},
                           minimum=(1.0, -0.5), resolution=30)
    ax = fig.axes[0]
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-2, 2)
    assert ax.get_xlabel() == "w" and ax.get_ylabel() == "b"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["good", "divergent", "minimum"]
    good_line = next(line for line in ax.lines if line.get_label() == "good")
    np.testing.assert_array_equal(good_line.get_xydata(), path)
    divergent_line = next(line for line in ax.lines if line.get_label() == "divergent")
    assert len(divergent_line.get_xydata()) == 2  # the non-finite point is dropped
    plt.close(fig)


def test_accepts_tensor_path_and_existing_axes():
    torch = pytest.importorskip("torch")
    fig, axes = plt.subplots(1, 2)
    returned = viz.loss_surface(bowl, (-1, 1), (-1, 1), paths={"t": torch.zeros(4, 2)}, ax=axes[1],
                                log_levels=False, labels=("p", "q"))
    assert returned is fig and axes[1].get_xlabel() == "p"
    plt.close(fig)


def test_flat_loss_still_draws():
    fig = viz.loss_surface(lambda w, b: np.zeros_like(w), (0, 1), (0, 1), resolution=5)
    assert fig.axes[0].get_legend() is None
    plt.close(fig)


@pytest.mark.parametrize("kwargs, message", [
    ({"x_range": (1, 1)}, "low < high"),
    ({"resolution": 1}, "at least 2"),
    ({"paths": {"bad": np.zeros((3, 3))}}, "T×2"),
    ({"paths": {"empty": np.zeros((0, 2))}}, "non-empty"),
])
def test_bad_input_is_a_clear_error(kwargs, message):
    arguments = {"x_range": (-1, 1), "y_range": (-1, 1), "resolution": 10} | kwargs
    with pytest.raises(ValueError, match=message):
        viz.loss_surface(bowl, **arguments)
    plt.close("all")


def test_loss_that_does_not_broadcast_is_a_clear_error():
    with pytest.raises(ValueError, match="broadcast"):
        viz.loss_surface(lambda w, b: float(np.sum(w)), (-1, 1), (-1, 1), resolution=4)
    plt.close("all")
