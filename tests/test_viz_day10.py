"""Day 10: precision-recall and ROC curves."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import viz


def _scores(seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    labels = (rng.random(200) < 0.3).astype(int)
    return labels, {"good": labels + rng.normal(0, 0.5, 200), "random": rng.random(200)}


def test_pr_roc_curves_draws_one_line_per_scorer_and_reports_ap_auc() -> None:
    labels, scores = _scores()
    fig = viz.pr_roc_curves(labels, scores, threshold=0.5, title="demo")
    ax_pr, ax_roc = fig.axes
    pr_legend = [text.get_text() for text in ax_pr.get_legend().get_texts()]
    roc_legend = [text.get_text() for text in ax_roc.get_legend().get_texts()]
    assert pr_legend[0].startswith("good (AP ") and pr_legend[-1] == "chance"
    assert roc_legend[1].startswith("random (AUC ")
    auc_good = float(roc_legend[0].split("AUC ")[1].rstrip(")"))
    assert auc_good > 0.9
    chance = [line for line in ax_pr.get_lines() if line.get_linestyle() == "--"][0]
    assert chance.get_ydata()[0] == pytest.approx(labels.mean())


def test_pr_roc_curves_operating_point_is_recall_and_precision_at_threshold() -> None:
    labels = np.array([0, 0, 1, 1])
    fig = viz.pr_roc_curves(labels, {"s": np.array([0.1, 0.6, 0.4, 0.9])}, threshold=0.5)
    ax_pr, ax_roc = fig.axes
    point = [line for line in ax_pr.get_lines() if line.get_marker() == "o"][0]
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (0.5, 0.5)  # recall 1/2, precision 1/2
    point = [line for line in ax_roc.get_lines() if line.get_marker() == "o"][0]
    assert (point.get_xdata()[0], point.get_ydata()[0]) == (0.5, 0.5)  # FPR 1/2, TPR 1/2


def test_pr_roc_curves_rejects_bad_input() -> None:
    labels, scores = _scores()
    with pytest.raises(ValueError, match="0/1 labels"):
        viz.pr_roc_curves(labels + 1, scores)
    with pytest.raises(ValueError, match="199 values for 200 labels"):
        viz.pr_roc_curves(labels, {"short": scores["good"][:-1]})
    with pytest.raises(ValueError, match="at least one"):
        viz.pr_roc_curves(labels, {})
