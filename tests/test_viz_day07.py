"""Day 07's plots: feature maps and kernel grids."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers import viz


def test_feature_maps_draws_one_panel_per_map_with_a_symmetric_scale_for_signed_maps() -> None:
    maps = torch.randn(1, 5, 12, 16)
    fig = viz.feature_maps(maps, titles=list("abcde"), ncols=3)
    visible = [ax for ax in fig.axes if ax.images]
    assert len(visible) == 5 and len(fig.axes) == 6
    low, high = visible[0].images[0].get_clim()
    assert low == pytest.approx(-high)
    assert visible[4].get_title() == "e"
    plt.close(fig)


def test_feature_maps_unsigned_and_single_map() -> None:
    fig = viz.feature_maps(np.random.rand(8, 8))
    assert len(fig.axes) == 1 and fig.axes[0].images[0].get_cmap().name == "gray"
    plt.close(fig)


def test_feature_maps_rejects_bad_shapes_and_titles() -> None:
    with pytest.raises(ValueError, match="C×H×W"):
        viz.feature_maps(np.zeros((2, 2, 3, 4, 5)))
    with pytest.raises(ValueError, match="titles"):
        viz.feature_maps(np.zeros((3, 4, 4)), titles=["a"])


def test_kernel_grid_single_channel_annotates_small_kernels() -> None:
    sobel = torch.tensor([[[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]])
    fig = viz.kernel_grid(torch.stack([sobel, sobel.transpose(1, 2)]), titles=["x", "y"])
    assert len(fig.axes) == 2
    assert len(fig.axes[0].texts) == 9
    plt.close(fig)


def test_kernel_grid_rgb_kernels_are_scaled_to_unit_range() -> None:
    fig = viz.kernel_grid(torch.randn(6, 3, 5, 5), ncols=4)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (5, 5, 3) and float(image.min()) == 0.0 and float(image.max()) == 1.0
    assert not fig.axes[0].texts
    plt.close(fig)


def test_kernel_grid_rejects_many_input_channels() -> None:
    with pytest.raises(ValueError, match="pick one input channel"):
        viz.kernel_grid(torch.randn(4, 6, 3, 3))


def test_feature_maps_accepts_maps_of_different_sizes_and_a_shared_scale() -> None:
    small, large = np.full((4, 4), 1.0), np.full((6, 8), 3.0)
    large[0, 0] = 4.0
    fig = viz.feature_maps([small, large], titles=["small", "large"], shared_scale=True, clip_percentile=100)
    assert [ax.images[0].get_array().shape for ax in fig.axes] == [(4, 4), (6, 8)]
    assert fig.axes[0].images[0].get_clim() == fig.axes[1].images[0].get_clim() == (1.0, 4.0)
    plt.close(fig)


def test_feature_maps_clips_extreme_values() -> None:
    values = np.linspace(-1, 1, 400).reshape(20, 20)
    values[0, 0] = 100.0
    fig = viz.feature_maps(values, clip_percentile=99)
    assert fig.axes[0].images[0].get_clim()[1] < 2
    plt.close(fig)
    with pytest.raises(ValueError, match="clip_percentile"):
        viz.feature_maps(values, clip_percentile=0)


def test_kernel_grid_accepts_kernels_of_different_sizes() -> None:
    fig = viz.kernel_grid([np.ones((3, 3)), np.ones((5, 5)) / 25], titles=["3×3", "5×5"])
    assert len(fig.axes[0].texts) == 9 and len(fig.axes[1].texts) == 25
    plt.close(fig)
