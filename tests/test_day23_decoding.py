"""Day 23: the hand filters equal transformers' logits processors, hand sampling equals torch.multinomial,
and hand greedy/beam decoding equal ``model.generate`` on a tiny random Llama (seconds, not SmolLM2)."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.generation.logits_process import (
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from helpers.sampling import (
    beam_search_lm,
    generate,
    hypothesis_ids,
    make_filters,
    repetition_penalty,
    sample,
    temperature,
    top_k,
    top_p,
)

V = 50


def _logits(seed: int, rows: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(rows, V, generator=g) * 3
    ids = torch.randint(0, V, (rows, 12), generator=g)
    return ids, scores


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("value", [0.3, 0.7, 1.0, 2.5])
def test_temperature(seed: int, value: float) -> None:
    ids, scores = _logits(seed)
    torch.testing.assert_close(temperature(scores, value), TemperatureLogitsWarper(value)(ids, scores))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 2, 10, V, V + 7])
def test_top_k(seed: int, k: int) -> None:
    ids, scores = _logits(seed)
    mine, ref = top_k(scores, k), TopKLogitsWarper(k)(ids, scores)
    assert torch.equal(mine.isinf(), ref.isinf())
    torch.testing.assert_close(mine, ref)
    assert (~mine.isinf()).sum(-1).eq(min(k, V)).all()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("p", [0.05, 0.5, 0.9, 0.99, 1.0])
def test_top_p(seed: int, p: float) -> None:
    ids, scores = _logits(seed)
    mine, ref = top_p(scores, p), TopPLogitsWarper(p)(ids, scores)
    assert torch.equal(mine.isinf(), ref.isinf())
    torch.testing.assert_close(mine, ref)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("penalty", [0.8, 1.3, 2.5])
def test_repetition_penalty(seed: int, penalty: float) -> None:
    ids, scores = _logits(seed)
    mine = repetition_penalty(ids, scores, penalty)
    torch.testing.assert_close(mine, RepetitionPenaltyLogitsProcessor(penalty)(ids, scores))
    unseen = torch.ones_like(scores, dtype=torch.bool).scatter(1, ids, False)
    assert torch.equal(mine[unseen], scores[unseen])  # tokens never seen are untouched


def test_filters_reject_bad_values() -> None:
    ids, scores = _logits(0)
    with pytest.raises(ValueError, match="greedy"):
        temperature(scores, 0.0)
    with pytest.raises(ValueError, match="top_p"):
        top_p(scores, 1.5)
    with pytest.raises(ValueError, match="top_k"):
        top_k(scores, 0)
    with pytest.raises(ValueError, match="logits"):
        top_k(scores[0], 3)


def test_sample_equals_multinomial() -> None:
    probs = _logits(3)[1].softmax(-1)
    mine_gen, ref_gen = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    mine = torch.cat([sample(probs, mine_gen) for _ in range(200)], dim=1)
    ref = torch.cat([torch.multinomial(probs, 1, generator=ref_gen) for _ in range(200)], dim=1)
    assert torch.equal(mine, ref)


def test_sample_frequencies_match_probs() -> None:
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    g = torch.Generator().manual_seed(0)
    draws = torch.cat([sample(probs.expand(1000, -1), g) for _ in range(20)]).flatten()
    freq = torch.bincount(draws, minlength=4).float() / draws.numel()
    torch.testing.assert_close(freq, probs[0], atol=0.01, rtol=0)


@pytest.fixture(scope="module")
def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                         bos_token_id=0, eos_token_id=1, pad_token_id=1)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # a sharper random model: more decisive choices, and <eos> sometimes wins
        model.lm_head.weight.mul_(8)
    return model


PROMPTS = [[0, 5, 9, 13], [0, 22], [0, 7, 7, 7, 30, 2]]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_equals_generate_with_and_without_cache(tiny_llama: LlamaForCausalLM,
                                                      prompt: list[int]) -> None:
    ids = torch.tensor([prompt])
    ref = tiny_llama.generate(ids, do_sample=False, num_beams=1, max_new_tokens=12, eos_token_id=1,
                              pad_token_id=1)[0, ids.shape[1]:].tolist()
    assert generate(tiny_llama, ids, 12, eos_token_id=1).tokens == ref
    assert generate(tiny_llama, ids, 12, eos_token_id=1, use_cache=False).tokens == ref


@pytest.mark.parametrize("prompt", PROMPTS)
def test_penalised_greedy_equals_generate(tiny_llama: LlamaForCausalLM, prompt: list[int]) -> None:
    ids = torch.tensor([prompt])
    ref = tiny_llama.generate(ids, do_sample=False, num_beams=1, max_new_tokens=12, eos_token_id=1,
                              pad_token_id=1, repetition_penalty=1.8)[0, ids.shape[1]:].tolist()
    mine = generate(tiny_llama, ids, 12, eos_token_id=1, filters=make_filters(penalty=1.8)).tokens
    assert mine == ref


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize(("beams", "alpha"), [(2, 1.0), (3, 0.0), (4, 2.0)])
def test_beam_equals_generate(tiny_llama: LlamaForCausalLM, prompt: list[int], beams: int,
                              alpha: float) -> None:
    ids = torch.tensor([prompt])
    ref = tiny_llama.generate(ids, do_sample=False, num_beams=beams, length_penalty=alpha,
                              early_stopping=True, max_new_tokens=8, eos_token_id=1,
                              pad_token_id=1)[0, ids.shape[1]:].tolist()
    best = beam_search_lm(tiny_llama, ids, 8, num_beams=beams, eos_token_id=1, length_penalty=alpha)[0]
    assert hypothesis_ids(best, 1) == ref


def test_seeded_sampling_equals_generate(tiny_llama: LlamaForCausalLM) -> None:
    """generate(do_sample=True) draws with torch.multinomial from the global RNG: same seed, same tokens."""
    ids = torch.tensor([PROMPTS[0]])
    torch.manual_seed(11)
    ref = tiny_llama.generate(ids, do_sample=True, temperature=0.8, top_k=20, top_p=0.9, max_new_tokens=12,
                              eos_token_id=1, pad_token_id=1)[0, ids.shape[1]:].tolist()
    torch.manual_seed(11)
    filters = make_filters(temperature_value=0.8, top_k_value=20, top_p_value=0.9)
    assert generate(tiny_llama, ids, 12, filters=filters, do_sample=True, eos_token_id=1).tokens == ref


def test_generate_rejects_batches(tiny_llama: LlamaForCausalLM) -> None:
    with pytest.raises(ValueError, match="one prompt"):
        generate(tiny_llama, torch.zeros(2, 3, dtype=torch.long), 4)
    with pytest.raises(ValueError, match="prompt"):
        generate(tiny_llama, torch.zeros(1, 3, dtype=torch.long), 0)
