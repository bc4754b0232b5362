"""helpers.viz.decision_boundary with label predictions (day 02): one-class planes keep their class colour."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import viz

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 0, 0, 1])


def band_colours(predict) -> dict[int, tuple]:
    """The fill colour of each class band that ``decision_boundary`` draws for ``predict``."""
    fig, ax = plt.subplots()
    viz.decision_boundary(predict, X, Y, ax=ax, resolution=10)
    contour = ax.collections[0]
    colours = contour.to_rgba(contour.get_array())
    plt.close(fig)
    # Bands are bounded by half-integer levels, so band k covers the class k - 0.5 .. k + 0.5.
    return {round(lo + 0.5): tuple(colour) for lo, colour in zip(contour.levels[:-1], colours, strict=True)}


def test_two_classes_get_one_band_each():
    colours = band_colours(lambda grid: (grid.sum(1) > 1.5).astype(int))
    assert sorted(colours) == [0, 1] and colours[0] != colours[1]


@pytest.mark.parametrize("constant", [0, 1])
def test_a_plane_of_one_class_keeps_that_class_colour(constant):
    two_classes = band_colours(lambda grid: (grid.sum(1) > 1.5).astype(int))
    one_class = band_colours(lambda grid: np.full(len(grid), constant))
    assert one_class[constant] == two_classes[constant]


def test_boolean_predictions_are_labels():
    assert band_colours(lambda grid: grid.sum(1) > 1.5) == band_colours(
        lambda grid: (grid.sum(1) > 1.5).astype(int))


def test_probabilities_keep_their_own_range():
    fig, ax = plt.subplots()
    viz.decision_boundary(lambda grid: 0.25 + 0.5 * (grid[:, 0] > 0.5), X, Y, ax=ax, resolution=10)
    low, high = ax.collections[0].get_clim()
    assert low >= 0.2 and high <= 0.8
    plt.close(fig)
