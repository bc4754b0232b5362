"""Day 15: entity F1 equals seqeval (strict IOB2), the seed's metric equals scikit-learn, padding never
looks like a tag, and pretrained vectors are copied or refused, never silently skipped."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers import embeddings as emb
from helpers import ner
from helpers.corpora import wnut16
from helpers.text import make_pad_collate

seqeval = pytest.importorskip("seqeval")
TYPES = ["PER", "LOC", "ORG"]


def _random_tags(rng: random.Random, length: int) -> list[str]:
    return [rng.choice(["O", "O", "O"] + [f"{p}-{t}" for p in "BI" for t in TYPES]) for _ in range(length)]


@pytest.mark.parametrize("seed", range(20))
def test_entity_f1_equals_seqeval_strict(seed: int) -> None:
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    rng = random.Random(seed)
    gold = [_random_tags(rng, rng.randint(1, 12)) for _ in range(30)]
    pred = [[t if rng.random() < 0.6 else _random_tags(rng, 1)[0] for t in g] for g in gold]
    mine = ner.entity_f1(gold, pred)
    for key, reference in (("f1", f1_score), ("precision", precision_score), ("recall", recall_score)):
        assert mine[key] == pytest.approx(reference(gold, pred, mode="strict", scheme=IOB2), abs=1e-12)


def test_entities_strict_iob2() -> None:
    tags = ["B-PER", "I-PER", "B-PER", "O", "I-LOC", "I-LOC", "B-ORG", "I-PER"]
    assert ner.entities(tags) == {("PER", 0, 2), ("PER", 2, 3), ("ORG", 6, 7)}
    with pytest.raises(ValueError, match="IOB2"):
        ner.entities(["B-PER", "X-PER"])


@pytest.mark.parametrize("seed", range(10))
def test_seed_token_f1_equals_sklearn(seed: int) -> None:
    from sklearn.metrics import f1_score

    rng = random.Random(seed)
    gold = [_random_tags(rng, rng.randint(1, 10)) for _ in range(20)]
    pred = [_random_tags(rng, len(g)) for g in gold]
    pairs = [(g, p) for gs, ps in zip(gold, pred, strict=True)
             for g, p in zip(gs, ps, strict=True) if g != "O"]
    expected = f1_score([g for g, _ in pairs], [p for _, p in pairs], average="micro")
    assert ner.seed_token_f1(gold, pred) == pytest.approx(expected, abs=1e-12)


def test_token_and_entity_scores_differ_on_false_alarms() -> None:
    gold, pred = [["B-PER", "I-PER", "O", "O"]], [["B-PER", "I-PER", "B-LOC", "B-ORG"]]
    assert ner.seed_token_f1(gold, pred) == 1.0
    assert ner.entity_f1(gold, pred)["f1"] == pytest.approx(0.5)


def _batch():
    collate = make_pad_collate(pad_id=0, label_pad_id=ner.IGNORE_INDEX)
    return collate([{"input_ids": [3, 4, 5], "labels": [0, 1, 2]}, {"input_ids": [6], "labels": [0]}])


def test_padding_uses_ignore_index_not_a_tag() -> None:
    batch = _batch()
    assert batch["labels"][1, 1:].tolist() == [ner.IGNORE_INDEX] * 2
    assert ner.IGNORE_INDEX < 0  # never the id of a real tag (tags are 0..n-1)
    logits = torch.randn(2, 3, 4)
    real = batch["labels"] != ner.IGNORE_INDEX
    expected = torch.nn.functional.cross_entropy(logits[real], batch["labels"][real])
    torch.testing.assert_close(ner.tagging_loss(logits, batch["labels"]), expected)
    # the seed's bug: padding with tag 0 changes the loss
    seed_labels = batch["labels"].masked_fill(~real, 0)
    seed_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 4), seed_labels.reshape(-1))
    assert not torch.allclose(seed_loss, expected)


def test_tagger_ignores_pads() -> None:
    torch.manual_seed(0)
    model = ner.BiLSTMTagger(10, 6, 5, 4, pad_id=0, dropout=0.0).eval()
    short = model(torch.tensor([[3, 4, 5]]), torch.tensor([3]))
    padded = model(torch.tensor([[3, 4, 5, 0, 0]]), torch.tensor([3]))
    torch.testing.assert_close(short, padded[:, :3])
    assert model.embedding.padding_idx == 0


def test_pretrained_copy_raises_on_mismatch_and_copies_rows() -> None:
    model = ner.BiLSTMTagger(6, 4, 3, 5, pad_id=0)
    with pytest.raises(ValueError, match="width"):
        emb.copy_pretrained(model.embedding, np.ones((6, 3)))
    before = model.embedding.weight.detach().clone()
    emb.copy_pretrained(model.embedding, np.full((2, 4), 7.0), rows=[2, 5])
    after = model.embedding.weight.detach()
    assert torch.all(after[[2, 5]] == 7.0)
    torch.testing.assert_close(after[[0, 1, 3, 4]], before[[0, 1, 3, 4]])


def test_pretrained_matrix_lowercase_fallback() -> None:
    lookup = {"paris": np.ones(2), "Apple": np.full(2, 2.0)}
    matrix, found = ner.pretrained_matrix(["Paris", "Apple", "zzz"], lookup, 2)
    assert found.tolist() == [True, True, False]
    assert matrix[0].tolist() == [1, 1] and matrix[2].tolist() == [0, 0]
    assert not ner.pretrained_matrix(["Paris"], lookup, 2, lowercase=False)[1][0]


def test_wnut16_loader() -> None:
    data = wnut16.load_wnut16()
    assert len(data) == 2394
    assert sum(len(t) for t, _ in data) == 46469
    assert data[0][0][:3] == ["@paulwalk", "It", "'s"]
    types = {tag[2:] for _, tags in data for tag in tags if tag != "O"}
    assert types == set(wnut16.TYPES)
    train, dev = wnut16.split(data, 0.2, seed=0)
    assert len(train) + len(dev) == len(data) and len(dev) == 479
    assert wnut16.split(data, 0.2, seed=0)[1][0] == dev[0]
    with pytest.raises(ValueError, match="token<TAB>tag"):
        wnut16.read_conll("a\tO\tX\n")
