"""Day 08's live loss curve: a Trainer callback that redraws the history."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from helpers import History, viz


class FakeTrainer:
    def __init__(self) -> None:
        self.history = History()


def _epoch(trainer: FakeTrainer, epoch: int) -> dict[str, float]:
    record = {"epoch": epoch, "train_loss": 1.0 / epoch, "valid_loss": 1.2 / epoch, "lr": 1e-3}
    trainer.history.epochs.append(record)
    return record


def test_live_history_writes_a_png_every_n_epochs_outside_jupyter(tmp_path) -> None:
    path = tmp_path / "live.png"
    trainer, callback = FakeTrainer(), viz.live_history(every=2, path=str(path))
    callback(trainer, _epoch(trainer, 1))
    assert not path.exists()
    callback(trainer, _epoch(trainer, 2))
    assert path.exists() and path.stat().st_size > 0
    assert not plt.get_fignums()  # each drawing is closed: no figure piles up


def test_live_history_updates_one_display_in_ipython(monkeypatch) -> None:
    shown = []

    class Handle:
        def update(self, fig) -> None:
            shown.append(("update", fig))

    def fake_display(fig, display_id=False):
        shown.append(("display", fig))
        return Handle()

    import IPython.display

    monkeypatch.setattr(viz, "_in_ipython", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    trainer, callback = FakeTrainer(), viz.live_history()
    for epoch in (1, 2, 3):
        callback(trainer, _epoch(trainer, epoch))
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    assert len(shown[-1][1].axes[0].lines[0].get_xdata()) == 3


def test_live_history_rejects_bad_interval() -> None:
    with pytest.raises(ValueError, match="every"):
        viz.live_history(every=0)
