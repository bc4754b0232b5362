"""Task heads on a pretrained encoder: a hand-written classification head, freezing, parameter counts.

Defined in Day 26 (the Hugging Face tour); day 28 reuses ``HandSequenceClassifier``, ``freeze`` and
``count_parameters`` when it fine-tunes MiniLM on the fine-food reviews.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``module`` (only those with ``requires_grad`` if ``trainable_only``).

    Defined in Day 26.
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def freeze(module: nn.Module) -> int:
    """Turn off gradients for every parameter of ``module``; return how many scalars were frozen.

    Defined in Day 26. Frozen weights get no gradient, so an optimizer built afterwards on
    ``[p for p in model.parameters() if p.requires_grad]`` trains only the rest (a "linear probe" when the
    rest is one linear layer).
    """
    n = 0
    for p in module.parameters():
        p.requires_grad_(False)
        n += p.numel()
    return n


def new_parameters(model: nn.Module, missing_keys: Iterable[str]) -> dict[str, int]:
    """The parameters that ``from_pretrained`` had to initialise at random, by name, with their sizes.

    Defined in Day 26. ``missing_keys`` comes from ``from_pretrained(..., output_loading_info=True)``:
    the checkpoint had no tensor for these names, so transformers drew them from the config's
    ``initializer_range``. A tensor shared under several names (the MLM decoder's bias is the head's ``bias``)
    is counted once; a decoder tied to the word embeddings is loaded, hence not new.
    """
    params = dict(model.named_parameters(remove_duplicate=False))  # tied weights under every name
    missing = set(missing_keys)
    unknown = missing - set(params) - {n for n, _ in model.named_buffers()}
    if unknown:
        raise ValueError(f"these missing keys are not parameters of the model: {sorted(unknown)[:5]}; pass "
                         "the loading_info['missing_keys'] of this same model")
    seen: set[int] = set()
    out = {}
    for name, p in params.items():  # a tensor shared by several names is counted once, under its first name
        if name in missing and id(p) not in seen:
            out[name] = p.numel()
        seen.add(id(p))
    return out


class HandSequenceClassifier(nn.Module):
    """BERT's sequence-classification head written out: [CLS] vector -> pooler (dense + tanh) -> dropout ->
    linear, on top of any encoder that returns ``last_hidden_state``.

    Defined in Day 26. With the weights of a ``BertForSequenceClassification`` (``from_hf``) it gives the
    same logits in eval mode (dropout off).
    """

    def __init__(self, encoder: nn.Module, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        if num_labels < 1:
            raise ValueError(f"num_labels must be at least 1, got {num_labels}")
        self.encoder = encoder
        self.pooler = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    @classmethod
    def from_hf(cls, model: Any) -> HandSequenceClassifier:
        """Share the encoder and copy the pooler and classifier of a ``BertForSequenceClassification``."""
        bert = getattr(model, "bert", None)
        if bert is None or getattr(bert, "pooler", None) is None:
            raise TypeError("expected a BertForSequenceClassification (a .bert encoder with a pooler), got "
                            f"{type(model).__name__}")
        config = model.config
        head = cls(bert, config.hidden_size, config.num_labels,
                   config.classifier_dropout if config.classifier_dropout is not None
                   else config.hidden_dropout_prob)
        head.pooler.load_state_dict(bert.pooler.dense.state_dict())
        head.classifier.load_state_dict(model.classifier.state_dict())
        return head.to(next(model.parameters()).device)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        pooled = torch.tanh(self.pooler(hidden[:, 0]))  # the [CLS] position only
        return self.classifier(self.dropout(pooled))
