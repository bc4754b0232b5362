"""Day 13: the packed classifier reads no pads, and the warm-up schedule equals transformers'."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.rnn import SentimentRNN, pad_invariance_gap, per_example_gap
from helpers.schedules import linear_warmup, linear_warmup_factor
from helpers.text import make_pad_collate

PAD = 0


def _batch(seed: int = 0, size: int = 7, vocab: int = 50) -> dict:
    """A right-padded batch of random reviews of lengths 1..12 (the first is the longest)."""
    generator = torch.Generator().manual_seed(seed)
    lengths = [12] + torch.randint(1, 12, (size - 1,), generator=generator).tolist()
    examples = [{"input_ids": torch.randint(1, vocab, (n,), generator=generator).tolist(), "labels": i % 2}
                for i, n in enumerate(lengths)]
    return make_pad_collate(PAD)(examples)


class SeedReadout(SentimentRNN):
    """The seed articles' readout: unpacked padded batch, output[:, -1]."""

    def features(self, input_ids, lengths):
        output, _ = self.rnn(self.embedding(input_ids))
        return output[:, -1]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_packed_batch_equals_each_example_alone(cell: str, bidirectional: bool, num_layers: int) -> None:
    torch.manual_seed(0)
    model = SentimentRNN(cell, 50, 8, 6, PAD, num_layers=num_layers, bidirectional=bidirectional)
    batch = _batch()
    assert per_example_gap(model, batch["input_ids"], batch["lengths"]) < 1e-6


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_appending_pads_changes_no_logit(cell: str, bidirectional: bool) -> None:
    torch.manual_seed(1)
    model = SentimentRNN(cell, 50, 8, 6, PAD, bidirectional=bidirectional)
    batch = _batch(seed=1)
    assert pad_invariance_gap(model, batch["input_ids"], batch["lengths"], PAD, extra=5) < 1e-6


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_seed_readout_fails_both_checks(cell: str) -> None:
    """The checks can fail: out[:, -1] of an unpacked batch reads pads."""
    torch.manual_seed(2)
    model = SeedReadout(cell, 50, 8, 6, PAD, bidirectional=True)
    batch = _batch(seed=2)
    assert pad_invariance_gap(model, batch["input_ids"], batch["lengths"], PAD) > 1e-3
    assert per_example_gap(model, batch["input_ids"], batch["lengths"]) > 1e-3


def test_classifier_follows_the_trainer_contract() -> None:
    torch.manual_seed(3)
    model = SentimentRNN("gru", 50, 8, 6, PAD, num_classes=3)
    batch = _batch(seed=3)
    batch["labels"] = batch["labels"] % 3
    out = model(**batch)
    assert out["logits"].shape == (7, 3)
    torch.testing.assert_close(out["loss"], nn.functional.cross_entropy(out["logits"], batch["labels"]))
    out["loss"].backward()
    assert model.embedding.weight.grad[PAD].abs().sum() == 0          # padding_idx: the pad row never learns
    with pytest.raises(ValueError, match="cell must be one of"):
        SentimentRNN("transformer", 50, 8, 6, PAD)


@pytest.mark.parametrize(("warmup", "total"), [(0, 10), (3, 10), (10, 10), (7, 50), (1, 1)])
def test_linear_warmup_equals_transformers(warmup: int, total: int) -> None:
    from transformers import get_linear_schedule_with_warmup

    def trace(make):
        param = nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([param], lr=0.3)
        scheduler = make(optimizer)
        lrs = []
        for _ in range(total + 4):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return lrs

    mine = trace(lambda opt: linear_warmup(opt, warmup, total))
    reference = trace(lambda opt: get_linear_schedule_with_warmup(opt, warmup, total))
    assert mine == pytest.approx(reference, abs=1e-12)


def test_warmup_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="warmup_steps <= total_steps"):
        linear_warmup_factor(0, 20, 10)
    with pytest.raises(ValueError, match="total_steps >= 1"):
        linear_warmup(torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1), 0, 0)
