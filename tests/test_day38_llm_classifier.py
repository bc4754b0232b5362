"""Day 38: last-token pooling equals transformers' decoder classifiers, the pad = eos trap, the masked
fusion head (against scaled_dot_product_attention and the unpadded review), and PEFT saving the head."""

from __future__ import annotations

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch.nn import functional as F
from transformers import LlamaConfig, LlamaForSequenceClassification

from helpers.llm_heads import (
    LayerFusionHead,
    collect_last_layers,
    fit_steps,
    fuse_layers,
    gather_positions,
    last_attended_index,
    last_layers,
    last_non_pad_index,
    masked_mean,
    qkv_attention_pool,
    saved_head_keys,
)

PAD, EOS = 2, 2  # SmolLM2: pad = eos = <|im_end|>


def tiny_llama(pad_token_id: int = PAD, seed: int = 0) -> LlamaForSequenceClassification:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                         num_attention_heads=4, num_key_value_heads=2, num_labels=2,
                         pad_token_id=pad_token_id)
    return LlamaForSequenceClassification(config).eval()


def right_padded(lengths: list[int], pad: int = PAD, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ids in 3..63 (never 0, 1 or 2), right-padded with ``pad``; and the mask."""
    g = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.full((len(lengths), width), pad)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(3, 64, (n,), generator=g)
        mask[row, :n] = 1
    return ids, mask


def test_index_rules_on_crafted_rows():
    ids = torch.tensor([[5, 6, 7, PAD, PAD], [PAD, PAD, 5, 6, 7], [5, 6, 7, 8, 9], [5, 6, EOS, PAD, PAD]])
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    assert last_non_pad_index(ids, PAD).tolist() == [2, 4, 4, 1]  # the last row: one token early
    assert last_attended_index(mask).tolist() == [2, 4, 4, 2]
    with pytest.raises(ValueError, match="no real token"):
        last_attended_index(torch.tensor([[1, 0], [0, 0]]))
    with pytest.raises(ValueError, match="batch, seq_len"):
        last_non_pad_index(torch.tensor([1, 2, 3]), PAD)


def test_hand_pooling_equals_llama_for_sequence_classification():
    model = tiny_llama()
    ids, mask = right_padded([3, 7, 5, 1])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        hand = model.score(gather_positions(out.hidden_states[-1], last_non_pad_index(ids, PAD)))
    torch.testing.assert_close(hand, out.logits, atol=1e-6, rtol=0)
    # and each row equals the same text run alone, without padding
    for row, n in enumerate(mask.sum(-1).tolist()):
        with torch.no_grad():
            alone = model(input_ids=ids[row:row + 1, :n]).logits
        torch.testing.assert_close(out.logits[row:row + 1], alone, atol=1e-5, rtol=1e-4)


def test_pad_equals_eos_pools_one_token_early_and_a_distinct_pad_fixes_it():
    ids, mask = right_padded([4, 6, 3])
    for row, n in enumerate(mask.sum(-1).tolist()):
        ids[row, n - 1] = EOS  # texts that end with the end-of-sequence token
    with torch.no_grad():
        trapped = tiny_llama(pad_token_id=PAD)
        out = trapped(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        at_end = trapped.score(gather_positions(out.hidden_states[-1], last_attended_index(mask)))
        early = trapped.score(gather_positions(out.hidden_states[-1], last_attended_index(mask) - 1))
        torch.testing.assert_close(out.logits, early, atol=1e-6, rtol=0)
        assert (out.logits - at_end).abs().max() > 1e-3
        trapped.config.pad_token_id = 0  # pad with id 0 (<|endoftext|>) instead, same weights
        fixed = trapped(input_ids=ids.masked_fill(mask == 0, 0), attention_mask=mask).logits
    torch.testing.assert_close(fixed, at_end, atol=1e-5, rtol=1e-4)


def test_fuse_layers_is_the_seed_loop():
    g = torch.Generator().manual_seed(0)
    layers, logits = torch.randn(4, 2, 5, 8, generator=g), torch.randn(4, generator=g)
    weights = F.softmax(logits, dim=0)
    expected = torch.zeros_like(layers[0])
    for i, layer in enumerate(layers):  # the seed's loop
        expected += weights[i].unsqueeze(-1).unsqueeze(-1) * layer
    torch.testing.assert_close(fuse_layers(layers, logits), expected)


def test_masked_attention_pool_equals_sdpa_and_unmasked_is_the_seed():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 6, 8, generator=g) for _ in range(3))
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.bool()[:, None, :])
    expected = (reference * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    torch.testing.assert_close(qkv_attention_pool(q, k, v, mask), expected, atol=1e-6, rtol=1e-5)
    seed = (F.softmax(q @ k.transpose(-2, -1) / 8 ** 0.5, dim=-1) @ v).mean(1)
    torch.testing.assert_close(qkv_attention_pool(q, k, v), seed)
    torch.testing.assert_close(masked_mean(q, None), q.mean(1))


def test_fusion_head_ignores_pads_only_when_masked():
    model = tiny_llama()
    ids, mask = right_padded([2, 6, 4])
    torch.manual_seed(0)
    head = LayerFusionHead(32, 2, num_layers=2, mlp_size=16).eval()
    seed_head = LayerFusionHead(32, 2, num_layers=2, mlp_size=16, mask_pads=False).eval()
    seed_head.load_state_dict(head.state_dict())
    with torch.no_grad():
        head.layer_logits.copy_(torch.tensor([0.3, -0.2]))
        seed_head.layer_logits.copy_(head.layer_logits)
        layers = last_layers(model.model(input_ids=ids, attention_mask=mask, output_hidden_states=True), 2)
        batched, seed_batched = head(layers, mask)["logits"], seed_head(layers, mask)["logits"]
        for row, n in enumerate(mask.sum(-1).tolist()):
            alone = last_layers(model.model(input_ids=ids[row:row + 1, :n], output_hidden_states=True), 2)
            torch.testing.assert_close(batched[row:row + 1], head(alone)["logits"], atol=1e-5, rtol=1e-4)
            if n < ids.shape[1]:  # a padded row: the seed's head sees the pads
                assert (seed_batched[row:row + 1] - seed_head(alone)["logits"]).abs().max() > 1e-4
    with pytest.raises(ValueError, match="fuses 2 layers"):
        head(torch.cat([layers, layers]), mask)


def test_collect_last_layers_and_a_head_that_learns():
    model = tiny_llama()
    ids, mask = right_padded([5, 3, 6, 2, 4, 6, 1, 5])
    cached = collect_last_layers(model.model, ids, mask, n=2, batch_size=3)
    with torch.no_grad():
        direct = last_layers(model.model(input_ids=ids, attention_mask=mask, output_hidden_states=True), 2)
    torch.testing.assert_close(cached, direct, atol=1e-5, rtol=1e-4)
    labels = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    torch.manual_seed(0)
    head = LayerFusionHead(32, 2, num_layers=2, mlp_size=16, dropout=0.0)
    batches = [{"layers": cached, "attention_mask": mask, "labels": labels}]
    losses = fit_steps(head, batches, torch.optim.Adam(head.parameters(), lr=1e-2), steps=40)
    assert len(losses) == 40 and losses[-1] < 0.5 * losses[0]
    assert torch.isclose(head.layer_weights().sum(), torch.tensor(1.0))
    with pytest.raises(ValueError, match="empty"):
        fit_steps(head, [], torch.optim.Adam(head.parameters()), steps=1)


def test_peft_saves_the_head_only_with_seq_cls_or_modules_to_save(tmp_path):
    ids, mask = right_padded([4, 6])
    kept = get_peft_model(tiny_llama(), LoraConfig(task_type="SEQ_CLS", r=2, lora_alpha=4,
                                                   target_modules=["q_proj", "v_proj"],
                                                   modules_to_save=["score"]))
    assert saved_head_keys(kept) == ["base_model.model.score.weight"]
    with torch.no_grad():
        for _, p in kept.named_parameters():
            if p.requires_grad:  # stands in for training: LoRA B and the head move
                p.add_(0.1 * torch.randn_like(p))
    kept.eval()
    kept.save_pretrained(tmp_path / "kept")
    fresh = tiny_llama()
    torch.nn.init.normal_(fresh.score.weight, std=1.0)  # a new random head, as from_pretrained would draw
    reloaded = PeftModel.from_pretrained(fresh, tmp_path / "kept").eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=ids, attention_mask=mask).logits,
                                   kept(input_ids=ids, attention_mask=mask).logits, atol=1e-6, rtol=0)

    lost = get_peft_model(tiny_llama(), LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    assert saved_head_keys(lost) == []
    assert not lost.base_model.model.score.weight.requires_grad  # not trained either
