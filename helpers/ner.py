"""Named-entity tagging: IOB2 spans, a BiLSTM tagger, and the two F1 scores that disagree.

Defined in Day 15. Checked in ``tests/test_day15_ner.py``: ``entity_f1`` against seqeval (strict IOB2),
``seed_token_f1`` against scikit-learn, the tagger's padding (``ignore_index``, a PAD *word* id that is not a
tag) and the pretrained copy, which raises on a shape mismatch instead of skipping it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from helpers.text import pack, unpack

#: label id of padded positions: ``nn.CrossEntropyLoss`` ignores it; it is never a real tag id.
IGNORE_INDEX = -100


def entities(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Strict IOB2 spans (type, start, end exclusive). An ``I-X`` that does not continue a ``B-X``/``I-X``
    starts no entity (seqeval's strict IOB2 mode drops it too). Defined in Day 15."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        if start is not None and not (prefix == "I" and label == kind):
            spans.add((kind, start, i))
            start, kind = None, None
        if prefix == "B":
            start, kind = i, label
        elif prefix not in ("I", "O"):
            raise ValueError(f"not an IOB2 tag: {tag!r} (expected O, B-TYPE or I-TYPE)")
    return spans


def entity_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level micro precision, recall and F1: an entity counts only if its type and both ends match."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    true_pos = n_gold = n_pred = 0
    for number, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {number}: {len(g)} gold tags but {len(p)} predicted ones")
        gold_spans, pred_spans = entities(g), entities(p)
        true_pos += len(gold_spans & pred_spans)
        n_gold += len(gold_spans)
        n_pred += len(pred_spans)
    precision = true_pos / n_pred if n_pred else 0.0
    recall = true_pos / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def seed_token_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    """The 2023 article's metric: micro-F1 over the tokens whose *gold* tag is not O.

    On those tokens micro-F1 is plain accuracy: it never sees a false alarm on an O token, and it gives
    credit for each correct token of a half-found entity. Defined in Day 15.
    """
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in pred for t in s]
    kept = [(g, p) for g, p in zip(flat_gold, flat_pred, strict=True) if g != "O"]
    return sum(g == p for g, p in kept) / len(kept) if kept else 0.0


class BiLSTMTagger(nn.Module):
    """Embedding → bidirectional LSTM (packed, so pads are never read) → a linear layer over the tags.

    Word id ``pad_id`` is the padding *word*; padded *labels* are ``IGNORE_INDEX``, so no real tag doubles as
    padding (the seed's ``PAD_IDX = 0`` was also the id of a tag). Defined in Day 15.
    """

    def __init__(self, vocab_size: int, emb_dim: int, hidden: int, num_tags: int, pad_id: int,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.lstm = nn.LSTM(emb_dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, num_tags)

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, time) ids and (batch,) lengths → (batch, time, tags) logits (zeros-in at pads)."""
        embedded = self.dropout(self.embedding(input_ids))
        output, _ = self.lstm(pack(embedded, lengths))
        output, _ = unpack(output, total_length=input_ids.size(1))
        return self.out(self.dropout(output))


def tagging_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real tokens: labels equal to ``IGNORE_INDEX`` (pads) do not count."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1),
                                       ignore_index=IGNORE_INDEX)


def pretrained_matrix(words: Sequence[str], lookup: dict[str, np.ndarray], dim: int,
                      lowercase: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Rows for ``words`` from ``lookup`` (word → vector); returns (matrix, found mask).

    Missing words get zeros (the caller keeps their random init); ``lowercase`` tries the lower-cased word
    when the word itself is missing (GloVe-style vocabularies are lower-case).
    """
    matrix, found = np.zeros((len(words), dim), dtype=np.float32), np.zeros(len(words), dtype=bool)
    for i, word in enumerate(words):
        vector = lookup.get(word)
        if vector is None and lowercase:
            vector = lookup.get(word.lower())
        if vector is not None:
            matrix[i], found[i] = vector, True
    return matrix, found
