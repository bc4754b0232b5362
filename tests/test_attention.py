"""helpers.attention (Day 19): Luong and Bahdanau scores against references, and masking of pads."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from helpers.attention import AdditiveAttention, LuongAttention, lengths_to_mask, masked_softmax

B, T, S, D = 3, 4, 6, 8


@pytest.fixture
def tensors():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(B, n, D, generator=g, dtype=torch.float64) for n in (T, S, S))
    return q, k, v, lengths_to_mask(torch.tensor([6, 3, 1]), S)


def test_lengths_to_mask():
    assert lengths_to_mask(torch.tensor([2, 3]), 4).tolist() == [[False, False, True, True],
                                                                  [False, False, False, True]]
    with pytest.raises(ValueError, match="lengths must lie"):
        lengths_to_mask(torch.tensor([0, 2]), 4)


def test_luong_dot_equals_sdpa_with_scale_one(tensors):
    q, k, v, mask = tensors
    attention = LuongAttention("dot")
    context, weights = attention(q, k, v)
    torch.testing.assert_close(context, F.scaled_dot_product_attention(q, k, v, scale=1.0))
    context, weights = attention(q, k, v, key_padding_mask=mask)
    # sdpa's boolean attn_mask is True where attention is *allowed*: the opposite of a key_padding_mask
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=~mask[:, None, :], scale=1.0)
    torch.testing.assert_close(context, reference)


def test_luong_dot_differs_from_default_scaled_sdpa(tensors):
    """The check can fail: with sdpa's default 1/sqrt(d) scale the outputs differ."""
    q, k, v, _ = tensors
    context, _ = LuongAttention("dot")(q, k, v)
    assert not torch.allclose(context, F.scaled_dot_product_attention(q, k, v))
    context, _ = LuongAttention("dot", scale=D ** -0.5)(q, k, v)
    torch.testing.assert_close(context, F.scaled_dot_product_attention(q, k, v))


def test_luong_general_is_dot_after_w_a(tensors):
    q, k, v, mask = tensors
    general = LuongAttention("general", D, D).double()
    context, weights = general(q, k, v, key_padding_mask=mask)
    ref_context, ref_weights = LuongAttention("dot")(q, general.W_a(k), v, key_padding_mask=mask)
    torch.testing.assert_close(context, ref_context)
    torch.testing.assert_close(weights, ref_weights)
    # by hand: q^T W_a k
    scores = torch.einsum("btd,de,bse->bts", q, general.W_a.weight, k)
    torch.testing.assert_close(weights, scores.masked_fill(mask[:, None], float("-inf")).softmax(-1))


def test_additive_matches_hand_formula(tensors):
    q, k, v, mask = tensors
    attention = AdditiveAttention(D, D, 5).double()
    _, weights = attention(q, k, v, key_padding_mask=mask)
    W, U, w_v = attention.query_proj.weight, attention.key_proj.weight, attention.v.weight[0]
    scores = torch.empty(B, T, S, dtype=torch.float64)
    for b in range(B):
        for t in range(T):
            for s in range(S):
                scores[b, t, s] = w_v @ torch.tanh(W @ q[b, t] + U @ k[b, s])
    torch.testing.assert_close(weights, scores.masked_fill(mask[:, None], float("-inf")).softmax(-1))


@pytest.mark.parametrize("make", [lambda: LuongAttention("dot"), lambda: LuongAttention("general", D, D),
                                  lambda: AdditiveAttention(D, D, 7)])
def test_pads_get_exactly_zero_weight_and_are_invisible(tensors, make):
    q, k, v, mask = tensors
    attention = make().double()
    context, weights = attention(q, k, v, key_padding_mask=mask)
    assert (weights.masked_select(mask[:, None].expand_as(weights)) == 0).all()   # exactly zero
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T, dtype=torch.float64))
    # whatever sits in the padded slots (here huge values) changes nothing
    garbage_k = k.masked_fill(mask[..., None], 1e6)
    garbage_v = v.masked_fill(mask[..., None], -1e6)
    context2, weights2 = attention(q, garbage_k, garbage_v, key_padding_mask=mask)
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(weights2, weights)
    # and a sample equals itself alone, unpadded (pad invariance)
    n = 3
    alone, _ = attention(q[1:2], k[1:2, :n], v[1:2, :n])
    torch.testing.assert_close(alone, context[1:2])


def test_single_query_matches_sequence_of_queries(tensors):
    q, k, v, mask = tensors
    attention = AdditiveAttention(D, D, 7).double()
    context, weights = attention(q, k, v, key_padding_mask=mask)
    c1, w1 = attention(q[:, 2], k, v, key_padding_mask=mask)
    assert c1.shape == (B, D) and w1.shape == (B, S)
    torch.testing.assert_close(c1, context[:, 2])
    torch.testing.assert_close(w1, weights[:, 2])


def test_unmasked_pads_do_leak(tensors):
    """Without the mask, the pads get weight: the masking test above can fail."""
    q, k, v, mask = tensors
    _, weights = LuongAttention("dot")(q, k, v)
    assert weights.masked_select(mask[:, None].expand_as(weights)).min() > 0


def test_bad_inputs_raise_clear_errors(tensors):
    q, k, v, mask = tensors
    with pytest.raises(ValueError, match="mode must be"):
        LuongAttention("concat")
    with pytest.raises(ValueError, match="needs query_size and key_size"):
        LuongAttention("general")
    with pytest.raises(ValueError, match="use mode='general'"):
        LuongAttention("dot")(q, torch.randn(B, S, D + 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="must be bool"):
        LuongAttention("dot")(q, k, v, key_padding_mask=mask.long())
    with pytest.raises(ValueError, match="every key masked"):
        masked_softmax(torch.zeros(2, 3), torch.tensor([[False, True, True], [True, True, True]]))
    with pytest.raises(ValueError, match="key_padding_mask has shape"):
        LuongAttention("dot")(q, k, v, key_padding_mask=mask[:, :3])
