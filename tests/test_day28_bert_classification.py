"""Day 28: the attention mask matters exactly where pads exist; mean pooling ignores pads; helpers.Trainer and
the transformers Trainer give the same per-step losses on the same batches; subsets, freezing, prior loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from helpers.finetune import (
    MeanPoolClassifier,
    TokenizedSplit,
    freeze_lower,
    hf_trainer_losses,
    padded_rows,
    prior_entropy,
    stratified_subset,
)
from helpers.trainer import Trainer

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=40)


def _model(dropout: float = 0.1) -> MeanPoolClassifier:
    torch.manual_seed(0)
    config = BertConfig(**TINY, hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    return MeanPoolClassifier(BertModel(config, add_pooling_layer=False), 32, 2, dropout=dropout)


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 99, (3, 10), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    ids[1, 6:] = 0  # [PAD]
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


@torch.no_grad()
def test_mask_changes_logits_only_where_pads_exist():
    model, batch = _model().eval(), _batch()
    with_mask = model(**batch)["logits"]
    no_mask = model(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])["logits"]
    padded = padded_rows(batch["attention_mask"])
    assert padded.tolist() == [False, True, False]
    torch.testing.assert_close(no_mask[~padded], with_mask[~padded], atol=1e-6, rtol=0)
    assert (no_mask[padded] - with_mask[padded]).abs().max() > 1e-3


@torch.no_grad()
def test_masked_padded_row_equals_the_row_alone():
    """Reference: the same review with no padding at all."""
    model, batch = _model().eval(), _batch()
    with_mask = model(**batch)["logits"][1]
    alone = model(input_ids=batch["input_ids"][1:2, :6], token_type_ids=batch["token_type_ids"][1:2, :6])
    torch.testing.assert_close(with_mask, alone["logits"][0], atol=1e-5, rtol=0)


def _dataset(n: int = 32) -> TokenizedSplit:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 99, (n, 8), generator=g)
    mask = torch.ones_like(ids)
    mask[::3, 5:] = 0
    return TokenizedSplit({"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)},
                          torch.randint(0, 2, (n,), generator=g).tolist())


def test_course_trainer_matches_transformers_trainer(tmp_path):
    data, steps, lr = _dataset(), 4, 1e-3
    model = _model(dropout=0.0)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=False)
    ours = Trainer(model, opt, loader, max_steps=steps, grad_clip=1.0, mixed_precision="no", device="cpu",
                   restore_best=False, progress="lines").fit().steps
    ours = [s["loss"] for s in ours]
    model.load_state_dict(initial)
    theirs = hf_trainer_losses(model, data, lr=lr, batch_size=8, steps=steps, seed=0,
                               output_dir=str(tmp_path))
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)
    assert abs(ours[-1] - ours[0]) > 1e-4  # the weights moved: the later steps test the optimizer too


def test_stratified_subset_keeps_shares_and_rejects_bad_n():
    texts = [str(i) for i in range(100)]
    labels = [1] * 65 + [0] * 35
    sub_texts, sub_labels = stratified_subset(texts, labels, 20, seed=0)
    assert len(sub_texts) == 20 and sub_labels.sum() == 13
    assert all(labels[int(t)] == y for t, y in zip(sub_texts, sub_labels, strict=True))
    with pytest.raises(ValueError, match="n must be"):
        stratified_subset(texts, labels, 0, seed=0)
    with pytest.raises(ValueError, match="one label per text"):
        stratified_subset(texts, labels[:-1], 10, seed=0)


def test_freeze_lower_and_prior_entropy():
    model = _model()
    frozen = freeze_lower(model, 1)
    assert frozen == sum(p.numel() for p in model.encoder.embeddings.parameters()) + sum(
        p.numel() for p in model.encoder.encoder.layer[0].parameters())
    assert all(p.requires_grad for p in model.encoder.encoder.layer[1].parameters())
    with pytest.raises(ValueError, match="n_layers"):
        freeze_lower(model, 3)
    assert prior_entropy([0, 1, 0, 1]) == pytest.approx(math.log(2))
    assert prior_entropy([1, 1, 1, 0]) == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
