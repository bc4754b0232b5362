"""Day 31: the hand GPT-2 (helpers.gpt) equals transformers' GPT2LMHeadModel with the same weights."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPT2LMHeadModel
from transformers.activations import NewGELUActivation
from transformers.pytorch_utils import Conv1D as LibraryConv1D

from helpers.gpt import (
    GPT,
    Conv1D,
    causal_lm_loss,
    from_library,
    gelu_tanh,
    generate,
    join_paragraphs,
    library_config,
    load_gpt2,
    pack_blocks,
    to_library,
    train_byte_level_bpe,
)
from helpers.profile import ProfileError

SIZES = [
    {"vocab_size": 97, "n_positions": 16, "n_embd": 32, "n_layer": 1, "n_head": 4},
    {"vocab_size": 300, "n_positions": 32, "n_embd": 48, "n_layer": 3, "n_head": 6},
    {"vocab_size": 64, "n_positions": 24, "n_embd": 24, "n_layer": 2, "n_head": 2, "n_inner": 40},
]


def _pair(seed: int, sizes: dict) -> tuple[GPT, GPT2LMHeadModel]:
    """A library model initialised by transformers, and the hand model loaded from it (strict)."""
    torch.manual_seed(seed)
    library = GPT2LMHeadModel(library_config(**sizes)).eval()
    hand, report = from_library(library)
    assert report.missing_keys == [] and report.unexpected_keys == []
    return hand, library


def _batch(seed: int, vocab: int, batch: int = 3, length: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, length), generator=generator)
    labels = ids.clone()
    labels[0, :3] = -100          # a masked prompt
    labels[-1, -2:] = -100        # and masked padding
    return ids, labels


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: f"d{s['n_embd']}L{s['n_layer']}")
def test_logits_loss_attention_equal_library(seed: int, sizes: dict) -> None:
    hand, library = _pair(seed, sizes)
    ids, labels = _batch(seed, sizes["vocab_size"])
    mine = hand(ids, labels=labels, return_attention=True)
    theirs = library(ids, labels=labels, output_attentions=True)
    torch.testing.assert_close(mine["logits"], theirs.logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(mine["loss"], theirs.loss, rtol=0, atol=1e-6)
    for a, b in zip(mine["attentions"], theirs.attentions, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    # the fused attention path (training's) agrees too
    torch.testing.assert_close(hand(ids)["logits"], theirs.logits, rtol=0, atol=1e-5)


@pytest.mark.parametrize("seed", range(2))
def test_gradients_equal_library(seed: int) -> None:
    hand, library = _pair(seed, SIZES[1])
    hand.train()
    library.train()
    ids, labels = _batch(seed, SIZES[1]["vocab_size"])
    hand(ids, labels=labels)["loss"].backward()
    library(ids, labels=labels).loss.backward()
    theirs = dict(library.named_parameters())
    for name, parameter in hand.named_parameters():
        torch.testing.assert_close(parameter.grad, theirs[name].grad, rtol=1e-4, atol=1e-6, msg=name)


def test_state_dict_names_round_trip_and_tied_head() -> None:
    torch.manual_seed(0)
    hand = GPT(library_config(**SIZES[0]))
    library = to_library(hand)
    assert list(hand.state_dict()) == list(library.state_dict())
    assert hand.lm_head.weight is hand.transformer.wte.weight
    back, report = from_library(library)
    assert report.missing_keys == [] and report.unexpected_keys == []
    for name, tensor in hand.state_dict().items():
        assert torch.equal(tensor, back.state_dict()[name]), name
    ids, _ = _batch(0, SIZES[0]["vocab_size"])
    torch.testing.assert_close(hand.eval()(ids)["logits"], library(ids).logits, rtol=0, atol=1e-6)


def test_a_wrong_weight_is_caught() -> None:
    """The check can fail: a transposed square c_proj (the classic loader bug) changes the logits."""
    hand, library = _pair(1, SIZES[0])
    with torch.no_grad():
        weight = hand.transformer.h[0].attn.c_proj.weight
        weight.copy_(weight.T.clone())
    ids, _ = _batch(1, SIZES[0]["vocab_size"])
    assert (hand(ids)["logits"] - library(ids).logits).abs().max() > 1e-4


def test_causality_future_tokens_do_not_change_the_past() -> None:
    hand, _ = _pair(2, SIZES[1])
    ids, _ = _batch(2, SIZES[1]["vocab_size"], length=20)
    altered = ids.clone()
    altered[:, 10:] = (altered[:, 10:] + 1) % SIZES[1]["vocab_size"]
    with torch.no_grad():
        before, after = hand(ids)["logits"], hand(altered)["logits"]
    torch.testing.assert_close(after[:, :10], before[:, :10], rtol=0, atol=0)
    assert not torch.allclose(after[:, 10:], before[:, 10:])


def test_conv1d_is_a_transposed_linear_and_equals_the_library() -> None:
    torch.manual_seed(0)
    conv = Conv1D(7, 5)
    nn.init.normal_(conv.bias)
    library = LibraryConv1D(5, 7)
    library.load_state_dict(conv.state_dict())
    linear = nn.Linear(7, 5)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.T)
        linear.bias.copy_(conv.bias)
    x = torch.randn(2, 3, 7)
    assert torch.equal(conv(x), library(x))
    torch.testing.assert_close(conv(x), linear(x))
    with pytest.raises(ValueError, match="input features"):
        conv(torch.randn(2, 6))


def test_gelu_tanh_equals_gelu_new() -> None:
    x = torch.linspace(-6, 6, 1001)
    assert torch.equal(gelu_tanh(x), NewGELUActivation()(x))
    torch.testing.assert_close(gelu_tanh(x), F.gelu(x, approximate="tanh"))


def test_causal_lm_loss_shifts_and_ignores_minus_100() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 11, generator=generator)
    labels = torch.randint(0, 11, (2, 5), generator=generator)
    labels[1, 2] = -100
    terms = [F.cross_entropy(logits[b, t], labels[b, t + 1], reduction="sum")
             for b in range(2) for t in range(4) if labels[b, t + 1] != -100]
    torch.testing.assert_close(causal_lm_loss(logits, labels), torch.stack(terms).mean())
    with pytest.raises(ValueError, match="disagree"):
        causal_lm_loss(logits, labels[:, :4])


def test_generate_greedy_equals_library_and_sampling_is_seeded() -> None:
    hand, library = _pair(3, SIZES[1])
    prompt, _ = _batch(3, SIZES[1]["vocab_size"], batch=2, length=5)
    mine = generate(hand, prompt, 12, greedy=True)
    theirs = library.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12,
                              do_sample=False, pad_token_id=0)
    assert torch.equal(mine, theirs)
    first = generate(hand, prompt, 8, generator=torch.Generator().manual_seed(5), top_k=10)
    second = generate(hand, prompt, 8, generator=torch.Generator().manual_seed(5), top_k=10)
    assert torch.equal(first, second)
    assert torch.equal(generate(hand, prompt, 8, top_k=1), generate(hand, prompt, 8, greedy=True))
    long = generate(hand, prompt, SIZES[1]["n_positions"] + 3, greedy=True)   # crops its context
    assert long.shape == (2, 5 + SIZES[1]["n_positions"] + 3)
    with pytest.raises(ValueError, match="temperature"):
        generate(hand, prompt, 1, temperature=0)


def test_bad_inputs_raise_clear_errors() -> None:
    hand, _ = _pair(0, SIZES[0])
    with pytest.raises(ValueError, match="n_positions"):
        hand(torch.zeros(1, SIZES[0]["n_positions"] + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids"):
        hand(torch.full((1, 3), SIZES[0]["vocab_size"]))
    with pytest.raises(ValueError, match="batch, time"):
        hand(torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        GPT(library_config(vocab_size=10, n_positions=8, n_embd=30, n_layer=1, n_head=4))
    with pytest.raises(ValueError, match="gelu_new"):
        GPT(library_config(vocab_size=10, n_positions=8, n_embd=8, n_layer=1, n_head=2,
                           activation_function="relu"))


def test_gpt2_small_has_124m_parameters() -> None:
    from transformers import GPT2Config

    with torch.device("meta"):
        model = GPT(GPT2Config())
    assert sum(p.numel() for p in model.parameters()) == 124_439_808   # tied head counted once


def test_pack_blocks() -> None:
    rows = pack_blocks(range(10), 4)
    assert rows.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="fewer"):
        pack_blocks(range(3), 4)
    with pytest.raises(ValueError, match="block_size"):
        pack_blocks(range(10), 1)


def test_join_paragraphs() -> None:
    lines = ["It was", "a truth.", "", "", "Next one", "here."]
    assert join_paragraphs(lines) == "It was a truth.\n\nNext one here.\n"


def test_byte_level_bpe_round_trips_and_saves_with_the_model(tmp_path) -> None:
    text = "It is a truth universally acknowledged, that a single man in possession of a good fortune. " * 20
    tokenizer = train_byte_level_bpe([text], 300)
    assert len(tokenizer) == 300 and tokenizer.convert_ids_to_tokens(0) == "<|endoftext|>"
    for probe in (text[:200], "naïve café, 北京 🙂\n\tindented", "  two  spaces"):
        assert tokenizer.decode(tokenizer(probe)["input_ids"]) == probe
    with pytest.raises(ValueError, match="vocab_size"):
        train_byte_level_bpe([text], 200)
    # the export-and-load path the notebook takes under ci
    torch.manual_seed(0)
    hand = GPT(library_config(vocab_size=300, n_positions=16, n_embd=16, n_layer=1, n_head=2)).eval()
    to_library(hand).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    library, loaded_tokenizer = load_gpt2(str(tmp_path))
    reloaded, report = from_library(library)
    assert report.missing_keys == [] and report.unexpected_keys == []
    ids = torch.tensor([loaded_tokenizer("a single man")["input_ids"]])
    torch.testing.assert_close(reloaded(ids)["logits"], hand(ids)["logits"], rtol=0, atol=0)


def test_hub_ids_are_refused_offline_under_ci() -> None:
    with pytest.raises(ProfileError, match="no offline copy"):
        load_gpt2("openai-community/gpt2", profile="ci")
