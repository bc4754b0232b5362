"""Shared fixtures: every test runs on CPU with the `ci` profile (pinned numerics: course_plugin.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _ci_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "ci")
    monkeypatch.setenv("COURSE_PROGRESS", "lines")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
