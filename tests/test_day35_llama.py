"""Day 35: the hand-written Llama (helpers/llama.py) against transformers' Llama and PyTorch.

Tiny random configurations, except one test that loads the packaged SmolLM2 (about 3 s; skipped when
set-up has not made its safetensors copy).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama as hf_llama

from helpers import llama
from helpers.data import MissingDataError

TINY = {"vocab_size": 97, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2,
        "num_attention_heads": 6, "num_key_value_heads": 2, "max_position_embeddings": 64,
        "rope_theta": 10_000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": True}


def tiny_reference(**overrides: object) -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(**{**TINY, **overrides})).eval()


def random_ids(batch: int = 2, length: int = 11, vocab: int = TINY["vocab_size"]) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(1))


def permute_half_to_interleaved(weight: torch.Tensor, head_dim: int) -> torch.Tensor:
    """Within each head, rows [0..d/2-1 | d/2..d-1] -> [0, d/2, 1, d/2+1, ...] (by index)."""
    half = head_dim // 2
    order = torch.tensor([pair + side * half for pair in range(half) for side in (0, 1)])
    heads = weight.shape[0] // head_dim
    index = torch.cat([order + h * head_dim for h in range(heads)])
    return weight[index]


# ------------------------------------------------------------------------------------------------ blocks
def test_rmsnorm_matches_torch_and_llama():
    x = torch.randn(3, 5, 16) * 4 + 2
    mine = llama.RMSNorm(16, eps=1e-5)
    with torch.no_grad():
        mine.weight.normal_()
    for reference in (nn.RMSNorm(16, eps=1e-5), hf_llama.LlamaRMSNorm(16, eps=1e-5)):
        reference.load_state_dict(mine.state_dict())
        torch.testing.assert_close(mine(x), reference(x), rtol=0, atol=1e-6)
    half = x.to(torch.float16)
    assert mine.to(torch.float16)(half).dtype == torch.float16  # computed in fp32, returned as the input


def test_swiglu_matches_llama_mlp_and_has_no_bias():
    mlp = llama.SwiGLU(48, 96)
    reference = hf_llama.LlamaMLP(LlamaConfig(**TINY))
    reference.load_state_dict(mlp.state_dict(), strict=True)
    x = torch.randn(2, 7, 48)
    torch.testing.assert_close(mlp(x), reference(x), rtol=0, atol=1e-6)
    assert all(module.bias is None for module in (mlp.gate_proj, mlp.up_proj, mlp.down_proj))


# -------------------------------------------------------------------------------------------------- RoPE
def test_rope_matches_llama_rotary_embedding():
    config = LlamaConfig(**{**TINY, "rope_theta": 1e5})
    head_dim = config.hidden_size // config.num_attention_heads
    positions = torch.arange(13)
    q, k = torch.randn(2, 6, 13, head_dim), torch.randn(2, 2, 13, head_dim)
    hf_cos, hf_sin = hf_llama.LlamaRotaryEmbedding(config)(q, positions[None])
    cos, sin = llama.rope_cos_sin(positions, head_dim, 1e5)
    torch.testing.assert_close(cos, hf_cos[0], rtol=0, atol=0)
    torch.testing.assert_close(sin, hf_sin[0], rtol=0, atol=0)
    hf_q, hf_k = hf_llama.apply_rotary_pos_emb(q, k, hf_cos, hf_sin)
    torch.testing.assert_close(llama.apply_rope(q, cos, sin), hf_q, rtol=0, atol=1e-6)
    torch.testing.assert_close(llama.apply_rope(k, cos, sin), hf_k, rtol=0, atol=1e-6)


@pytest.mark.parametrize("layout", llama.ROPE_LAYOUTS)
def test_rope_scores_depend_on_the_offset_only(layout):
    head_dim, n = 32, 24
    q, k = torch.randn(head_dim), torch.randn(head_dim)

    def rotated(vector: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        cos, sin = llama.rope_cos_sin(positions, head_dim, 1e4, layout)
        return llama.apply_rope(vector.expand(len(positions), -1), cos, sin, layout)

    grid = torch.arange(n)
    scores = rotated(q, grid) @ rotated(k, grid).T
    offsets = (grid[:, None] - grid[None, :]).flatten()
    expected = (rotated(q, offsets) @ rotated(k, torch.zeros(1)).T).view(n, n)
    torch.testing.assert_close(scores, expected, rtol=0, atol=1e-4)
    assert scores.std() > 0.1  # not trivially constant


def test_interleaved_layout_is_half_layout_on_permuted_dimensions():
    head_dim = 16
    x = torch.randn(3, 5, head_dim)
    positions = torch.arange(5)
    half = llama.apply_rope(x, *llama.rope_cos_sin(positions, head_dim), layout="half")
    order = permute_half_to_interleaved(torch.arange(head_dim)[:, None], head_dim)[:, 0]
    cos, sin = llama.rope_cos_sin(positions, head_dim, layout="interleaved")
    interleaved = llama.apply_rope(x[..., order], cos, sin, layout="interleaved")
    torch.testing.assert_close(interleaved, half[..., order], rtol=0, atol=1e-6)
    assert not torch.allclose(llama.apply_rope(x, cos, sin, layout="interleaved"), half, atol=1e-3)


# ------------------------------------------------------------------------------------------------- model
@pytest.mark.parametrize("overrides", [{}, {"num_key_value_heads": 6}, {"num_key_value_heads": 1},
                                       {"tie_word_embeddings": False}])
def test_hand_llama_matches_llama_for_causal_lm(overrides):
    reference = tiny_reference(**overrides)
    model = llama.from_hf(reference)
    ids = random_ids()
    with torch.no_grad():
        torch.testing.assert_close(model(ids), reference(ids).logits, rtol=0, atol=1e-5)
    assert (model.lm_head.weight is model.model.embed_tokens.weight) == reference.config.tie_word_embeddings


def test_wrong_rope_layout_loads_but_gives_wrong_logits_and_permuting_fixes_it():
    reference = tiny_reference()
    ids = random_ids()
    with torch.no_grad():
        expected = reference(ids).logits
        wrong = llama.from_hf(reference, rope_layout="interleaved")(ids)
    assert (wrong - expected).abs().max() > 1e-3
    dims = llama.LlamaDims.from_hf(reference.config)
    rotated = ("q_proj.weight", "k_proj.weight")
    state = {name: permute_half_to_interleaved(t, dims.head_dim) if name.endswith(rotated) else t
             for name, t in reference.state_dict().items()}
    fixed = llama.LlamaLM(dims, rope_layout="interleaved").eval()
    fixed.load_state_dict(state, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(fixed(ids), expected, rtol=0, atol=1e-5)


def test_strict_loading_rejects_a_checkpoint_with_biases():
    model = llama.LlamaLM(llama.LlamaDims.from_hf(LlamaConfig(**TINY)))
    state = tiny_reference().state_dict()
    state["model.layers.0.self_attn.q_proj.bias"] = torch.zeros(48)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        model.load_state_dict(state, strict=True)


def test_kv_cache_prefill_then_steps_equals_one_pass():
    reference = tiny_reference()
    model = llama.from_hf(reference)
    ids = random_ids(length=12)
    with torch.no_grad():
        full = model(ids)
        cache = model.new_cache()
        pieces = [model(ids[:, :5], cache)] + [model(ids[:, t:t + 1], cache) for t in range(5, 12)]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=0, atol=1e-5)
    assert len(cache) == 12
    dims = model.dims
    assert cache.nbytes() == llama.kv_cache_bytes(dims, 12, batch_size=2)
    mha = llama.kv_cache_bytes(dims, 12, num_kv_heads=dims.num_heads)
    assert mha == dims.group_size * llama.kv_cache_bytes(dims, 12)


def test_cache_holds_what_dynamic_cache_holds():
    reference = tiny_reference()
    model = llama.from_hf(reference)
    ids = random_ids(batch=1)
    with torch.no_grad():
        hf_cache = reference(ids, use_cache=True).past_key_values
        cache = model.new_cache()
        model(ids, cache)
    for layer in range(reference.config.num_hidden_layers):
        torch.testing.assert_close(cache.keys[layer], hf_cache.layers[layer].keys, rtol=0, atol=1e-6)
        torch.testing.assert_close(cache.values[layer], hf_cache.layers[layer].values, rtol=0, atol=1e-6)


def test_greedy_cached_equals_uncached_and_generate():
    reference = tiny_reference()
    model = llama.from_hf(reference)
    prompt = random_ids(batch=1, length=6)
    cached = llama.greedy_generate(model, prompt, 10, use_cache=True)
    uncached = llama.greedy_generate(model, prompt, 10, use_cache=False)
    with torch.no_grad():
        library = reference.generate(prompt, max_new_tokens=10, min_new_tokens=10, do_sample=False,
                                     eos_token_id=None, pad_token_id=0)[0, 6:]
    assert torch.equal(cached.tokens, uncached.tokens)
    assert torch.equal(cached.tokens, library)
    assert cached.positions_processed == 6 + 9
    assert uncached.positions_processed == sum(range(6, 16))


def test_greedy_stops_at_eos():
    model = llama.from_hf(tiny_reference())
    prompt = random_ids(batch=1, length=6)
    first = llama.greedy_generate(model, prompt, 5).tokens[0].item()
    stopped = llama.greedy_generate(model, prompt, 5, eos_token_id=first)
    assert stopped.tokens.tolist() == [first]


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="multiple of"):
        llama.LlamaDims(vocab_size=10, hidden_size=8, intermediate_size=8, num_layers=1, num_heads=3,
                        num_kv_heads=2, head_dim=4)
    with pytest.raises(ValueError, match="Unknown RoPE layout"):
        llama.rope_cos_sin(torch.arange(3), 8, layout="neox")
    with pytest.raises(ValueError, match="RoPE scaling"):
        llama.LlamaDims.from_hf(LlamaConfig(**TINY, rope_scaling={"rope_type": "linear", "factor": 2.0}))
    with pytest.raises(ValueError, match=r"\(1, T\)"):
        llama.greedy_generate(llama.from_hf(tiny_reference()), random_ids(batch=2), 3)


# ------------------------------------------------------------------------------------------ real weights
def test_smollm2_real_weights_load_strictly_and_match():
    from helpers import hub

    try:
        reference, tokenizer = hub.load_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct", profile="ci")
    except MissingDataError as err:
        pytest.skip(str(err))
    model = llama.from_hf(reference.eval())
    assert (model.dims.num_heads, model.dims.num_kv_heads, model.dims.num_layers) == (9, 3, 30)
    ids = tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        expected = reference(ids).logits
        torch.testing.assert_close(model(ids), expected, rtol=0, atol=1e-3)
        wrong = llama.from_hf(reference, rope_layout="interleaved")(ids)
    assert (wrong - expected).abs().max() > 1.0
