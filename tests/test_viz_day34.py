"""Day 34's trainable-parameter bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from helpers import viz


def test_parameter_bars_labels_counts_and_shares() -> None:
    counts = {"full fine-tuning": 1_000_000, "LoRA r=4": 1_000, "LoRA r=16": 4_000}
    fig = viz.parameter_bars(counts, total=1_000_000, title="toy")
    ax = fig.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == list(counts)
    assert ax.get_xscale() == "log"
    texts = [text.get_text() for text in ax.texts]
    assert " 1,000 (0.1%)" in texts and " 1,000,000 (100%)" in texts
    plt.close(fig)


def test_parameter_bars_draws_into_a_given_axes() -> None:
    fig, axes = plt.subplots(1, 2)
    assert viz.parameter_bars({"a": 5, "b": 50}, ax=axes[1]) is fig
    assert len(axes[1].patches) == 2 and not axes[0].patches
    plt.close(fig)


def test_parameter_bars_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        viz.parameter_bars({})
    with pytest.raises(ValueError, match="log scale"):
        viz.parameter_bars({"frozen": 0})
