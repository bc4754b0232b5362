"""The Llama architecture by hand: RMSNorm, SwiGLU, rotary positions, grouped-query attention, a KV cache.

Defined in Day 35. Module and parameter names follow transformers' ``LlamaForCausalLM``
(``model.embed_tokens``, ``model.layers.i.self_attn.q_proj``, ``model.layers.i.mlp.gate_proj``,
``model.norm``, ``lm_head``), so that a published Llama-family state dict (SmolLM2, TinyLlama, Llama 2)
loads into ``LlamaLM`` with ``strict=True``.

Two RoPE layouts are implemented. ``"half"`` pairs dimension ``i`` with ``i + d/2`` (``rotate_half``), the
layout of transformers and of every Llama checkpoint on the Hub. ``"interleaved"`` pairs ``2i`` with
``2i + 1``, the layout of the RoPE paper and of Meta's original code. Both are valid rotary embeddings,
but a checkpoint only works with the layout its ``q_proj``/``k_proj`` rows were arranged for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

ROPE_LAYOUTS = ("half", "interleaved")


@dataclass(frozen=True)
class LlamaDims:
    """The sizes of a Llama-family decoder (the fields of ``LlamaConfig`` that the architecture uses).

    Defined in Day 35.
    """

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rope_theta: float = 10_000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = True

    def __post_init__(self) -> None:
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_heads={self.num_heads} must be a multiple of "
                             f"num_kv_heads={self.num_kv_heads}: each key/value head serves a whole group "
                             "of query heads.")
        if self.head_dim % 2:
            raise ValueError(f"head_dim={self.head_dim} must be even: RoPE rotates pairs of dimensions.")

    @property
    def group_size(self) -> int:
        """Query heads per key/value head (1: multi-head attention; num_heads: multi-query attention)."""
        return self.num_heads // self.num_kv_heads

    @classmethod
    def from_hf(cls, config: Any) -> LlamaDims:
        """The sizes of a transformers ``LlamaConfig``; refuses features this hand model does not have."""
        rope = dict(getattr(config, "rope_parameters", None) or {})
        theta = rope.get("rope_theta", getattr(config, "rope_theta", 10_000.0))
        rope_type = rope.get("rope_type", "default")
        problems = []
        if rope_type != "default":
            problems.append(f"RoPE scaling {rope_type!r} (only plain RoPE is written here)")
        if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False):
            problems.append("biases in the attention or MLP projections (Llama has none)")
        if getattr(config, "hidden_act", "silu") != "silu":
            problems.append(f"activation {config.hidden_act!r} (SwiGLU uses silu)")
        if problems:
            raise ValueError(f"{type(config).__name__} has {'; '.join(problems)}: use a plain Llama "
                             "checkpoint such as SmolLM2 or TinyLlama, or transformers' LlamaForCausalLM.")
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(vocab_size=config.vocab_size, hidden_size=config.hidden_size,
                   intermediate_size=config.intermediate_size, num_layers=config.num_hidden_layers,
                   num_heads=config.num_attention_heads,
                   num_kv_heads=getattr(config, "num_key_value_heads", None) or config.num_attention_heads,
                   head_dim=head_dim, rope_theta=float(theta), rms_norm_eps=config.rms_norm_eps,
                   tie_word_embeddings=bool(config.tie_word_embeddings))


# ----------------------------------------------------------------------------------------------- blocks
class RMSNorm(nn.Module):
    """Root-mean-square normalisation: ``x / sqrt(mean(x**2) + eps) * weight``, no mean and no bias.

    Computed in float32 whatever the input dtype, as Llama does. Defined in Day 35.
    """

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * normed.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, eps={self.eps}"


class SwiGLU(nn.Module):
    """Llama's feed-forward block: ``down(silu(gate(x)) * up(x))``, three projections without bias.

    Defined in Day 35.
    """

    def __init__(self, hidden_size: int, intermediate_size: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


# ------------------------------------------------------------------------------------------------- RoPE
def rope_inverse_frequencies(head_dim: int, theta: float = 10_000.0) -> torch.Tensor:
    """``theta ** (-2i / head_dim)`` for ``i = 0 .. head_dim/2 - 1``: the angle per position of each pair.

    Computed in float32 exactly as transformers does, so that the angles match bit for bit. Defined in Day 35.
    """
    if head_dim % 2:
        raise ValueError(f"head_dim={head_dim} must be even: RoPE rotates pairs of dimensions.")
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float = 10_000.0,
                 layout: str = "half") -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` of the rotation angles, shaped ``(*positions.shape, head_dim)``.

    With ``layout="half"`` the angles of the ``head_dim/2`` pairs are repeated as ``[a, a]`` (pair ``i`` is
    dimensions ``i`` and ``i + head_dim/2``); with ``"interleaved"`` as ``[a0, a0, a1, a1, ...]`` (pair ``i``
    is dimensions ``2i`` and ``2i + 1``). Defined in Day 35.
    """
    _check_layout(layout)
    inv_freq = rope_inverse_frequencies(head_dim, theta).to(positions.device)
    angles = positions[..., None].float() * inv_freq  # (..., head_dim/2)
    full = torch.cat((angles, angles), dim=-1) if layout == "half" else angles.repeat_interleave(2, dim=-1)
    return full.cos(), full.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``[x1, x2] -> [-x2, x1]`` on the two halves of the last dimension (the ``"half"`` layout)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """``(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...)`` on neighbouring pairs (``"interleaved"``)."""
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((-odd, even), dim=-1).flatten(-2)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, layout: str = "half") -> torch.Tensor:
    """Rotate each pair of ``x`` (``(..., T, head_dim)``) by its angle: ``x cos + rotate(x) sin``.

    ``cos``/``sin`` come from ``rope_cos_sin`` with the same ``layout`` and broadcast against ``x``.
    Defined in Day 35.
    """
    _check_layout(layout)
    rotated = rotate_half(x) if layout == "half" else rotate_pairs(x)
    return x * cos + rotated * sin


def _check_layout(layout: str) -> None:
    if layout not in ROPE_LAYOUTS:
        raise ValueError(f"Unknown RoPE layout {layout!r}; use 'half' (transformers, Hub checkpoints) "
                         "or 'interleaved' (the RoPE paper, Meta's original code).")


# ---------------------------------------------------------------------------------------------- KV cache
class KVCache:
    """The keys and values of every layer for the positions seen so far, grown one step at a time.

    Keys are stored after RoPE, so that a cached key never needs rotating again. Each layer holds tensors
    of shape ``(batch, num_kv_heads, positions, head_dim)``. Defined in Day 35.
    """

    def __init__(self, num_layers: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * num_layers
        self.values: list[torch.Tensor | None] = [None] * num_layers

    def __len__(self) -> int:
        """How many positions are cached (those of layer 0)."""
        return 0 if self.keys[0] is None else self.keys[0].shape[-2]

    def update(self, layer: int, keys: torch.Tensor,
               values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new positions' keys and values to ``layer`` and return all of them."""
        old_keys, old_values = self.keys[layer], self.values[layer]
        if old_keys is not None:
            keys = torch.cat((old_keys, keys), dim=-2)
            values = torch.cat((old_values, values), dim=-2)
        self.keys[layer], self.values[layer] = keys, values
        return keys, values

    def nbytes(self) -> int:
        """Memory held by the cached tensors, in bytes."""
        return sum(t.numel() * t.element_size() for t in (*self.keys, *self.values) if t is not None)


def kv_cache_bytes(dims: LlamaDims, positions: int, batch_size: int = 1, bytes_per_value: int = 4,
                   num_kv_heads: int | None = None) -> int:
    """``2 x layers x kv_heads x head_dim x positions x batch x bytes``: a KV cache's size, by formula.

    ``num_kv_heads`` overrides the model's (pass ``dims.num_heads`` for the multi-head-attention
    equivalent). Defined in Day 35.
    """
    heads = dims.num_kv_heads if num_kv_heads is None else num_kv_heads
    return 2 * dims.num_layers * heads * dims.head_dim * positions * batch_size * bytes_per_value


# -------------------------------------------------------------------------------------------- attention
class GroupedQueryAttention(nn.Module):
    """Causal self-attention with ``num_heads`` query heads sharing ``num_kv_heads`` key/value heads.

    Query head ``h`` reads key/value head ``h // group_size`` (as ``repeat_kv`` in transformers). With a
    ``KVCache`` only the new positions are projected; earlier keys and values come from the cache.
    Set ``keep_weights = True`` to keep the last attention weights in ``weights``. Defined in Day 35.
    """

    def __init__(self, dims: LlamaDims, layer: int, rope_layout: str = "half") -> None:
        super().__init__()
        _check_layout(rope_layout)
        self.dims, self.layer, self.rope_layout = dims, layer, rope_layout
        d, h, kv, hd = dims.hidden_size, dims.num_heads, dims.num_kv_heads, dims.head_dim
        self.q_proj = nn.Linear(d, h * hd, bias=False)
        self.k_proj = nn.Linear(d, kv * hd, bias=False)
        self.v_proj = nn.Linear(d, kv * hd, bias=False)
        self.o_proj = nn.Linear(h * hd, d, bias=False)
        self.keep_weights = False
        self.weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                cache: KVCache | None = None) -> torch.Tensor:
        """``x``: ``(batch, T, hidden)`` for the new positions; ``cos``/``sin``: ``(T, head_dim)``."""
        batch, length, _ = x.shape
        hd = self.dims.head_dim
        q = self.q_proj(x).view(batch, length, -1, hd).transpose(1, 2)  # (B, heads, T, hd)
        k = self.k_proj(x).view(batch, length, -1, hd).transpose(1, 2)  # (B, kv_heads, T, hd)
        v = self.v_proj(x).view(batch, length, -1, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin, self.rope_layout)
        k = apply_rope(k, cos, sin, self.rope_layout)
        start = 0
        if cache is not None:
            start = cache.keys[self.layer].shape[-2] if cache.keys[self.layer] is not None else 0
            k, v = cache.update(self.layer, k, v)
        # GQA: each key/value head serves group_size consecutive query heads.
        k = k.repeat_interleave(self.dims.group_size, dim=1)
        v = v.repeat_interleave(self.dims.group_size, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)  # (B, heads, T, start + T)
        query_pos = torch.arange(start, start + length, device=x.device)[:, None]
        key_pos = torch.arange(start + length, device=x.device)[None, :]
        scores = scores.masked_fill(key_pos > query_pos, float("-inf"))  # causal: no peeking ahead
        weights = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        if self.keep_weights:
            self.weights = weights.detach()
        out = (weights @ v).transpose(1, 2).reshape(batch, length, -1)
        return self.o_proj(out)


class DecoderLayer(nn.Module):
    """Pre-norm block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``. Defined in Day 35."""

    def __init__(self, dims: LlamaDims, layer: int, rope_layout: str = "half") -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(dims.hidden_size, dims.rms_norm_eps)
        self.self_attn = GroupedQueryAttention(dims, layer, rope_layout)
        self.post_attention_layernorm = RMSNorm(dims.hidden_size, dims.rms_norm_eps)
        self.mlp = SwiGLU(dims.hidden_size, dims.intermediate_size)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                cache: KVCache | None = None) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaBody(nn.Module):
    """Token embedding, the decoder layers and the final RMSNorm (``LlamaModel``). Defined in Day 35."""

    def __init__(self, dims: LlamaDims, rope_layout: str = "half") -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(dims.vocab_size, dims.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(dims, i, rope_layout) for i in range(dims.num_layers))
        self.norm = RMSNorm(dims.hidden_size, dims.rms_norm_eps)


class LlamaLM(nn.Module):
    """A Llama decoder with a language-model head, written by hand (``LlamaForCausalLM``'s names).

    ``forward(input_ids, cache)`` returns the logits of the new positions; with a ``KVCache`` the positions
    continue from the cached ones. Padding is not supported: batch rows must have equal lengths.
    With ``tie_word_embeddings`` the head *is* the embedding matrix (SmolLM2, Llama 3.2 1B/3B); otherwise
    it has its own weights (Llama 2/3 8B, TinyLlama). Defined in Day 35.
    """

    def __init__(self, dims: LlamaDims, rope_layout: str = "half") -> None:
        super().__init__()
        _check_layout(rope_layout)
        self.dims, self.rope_layout = dims, rope_layout
        self.model = LlamaBody(dims, rope_layout)
        self.lm_head = nn.Linear(dims.hidden_size, dims.vocab_size, bias=False)
        if dims.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        if input_ids.dim() != 2:
            raise ValueError(f"input_ids must be (batch, length), got shape {tuple(input_ids.shape)}")
        start = len(cache) if cache is not None else 0
        positions = torch.arange(start, start + input_ids.shape[1], device=input_ids.device)
        cos, sin = rope_cos_sin(positions, self.dims.head_dim, self.dims.rope_theta, self.rope_layout)
        x = self.model.embed_tokens(input_ids)
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        for layer in self.model.layers:
            x = layer(x, cos, sin, cache)
        return self.lm_head(self.model.norm(x))

    def new_cache(self) -> KVCache:
        """An empty ``KVCache`` with one slot per layer."""
        return KVCache(self.dims.num_layers)


def from_hf(hf_model: nn.Module, rope_layout: str = "half") -> LlamaLM:
    """A ``LlamaLM`` with the sizes and weights of a transformers ``LlamaForCausalLM`` (loaded strictly).

    The copy is made on the reference model's device and dtype. Defined in Day 35.
    """
    dims = LlamaDims.from_hf(hf_model.config)
    reference = next(hf_model.parameters())
    with torch.device("meta"):  # no storage until the weights are loaded
        model = LlamaLM(dims, rope_layout)
    state = hf_model.state_dict()
    model.load_state_dict(state, strict=True, assign=True)  # raises on any missing or unexpected key
    if dims.tie_word_embeddings:  # assign=True replaced the shared tensor: tie it again
        model.lm_head.weight = model.model.embed_tokens.weight
    return model.to(device=reference.device, dtype=reference.dtype).eval()


# ------------------------------------------------------------------------------------------- generation
@dataclass
class Generation:
    """Greedy decoding's result: the new tokens, and how many positions the model ran in total."""

    tokens: torch.Tensor
    positions_processed: int


@torch.inference_mode()
def greedy_generate(model: LlamaLM, input_ids: torch.Tensor, max_new_tokens: int, use_cache: bool = True,
                    eos_token_id: int | None = None) -> Generation:
    """Greedy decoding of one prompt (``(1, T)``), with or without the KV cache. Defined in Day 35.

    Without the cache every step runs the whole sequence again; with it, the prompt is run once
    ("prefill") and then one position per step. Stops after ``eos_token_id`` when it is given.
    """
    if input_ids.dim() != 2 or input_ids.shape[0] != 1:
        raise ValueError("greedy_generate decodes one prompt: input_ids must be (1, T), "
                         f"got {tuple(input_ids.shape)}")
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens must be at least 1")
    cache = model.new_cache() if use_cache else None
    sequence, step_input, processed, new = input_ids, input_ids, 0, []
    for _ in range(max_new_tokens):
        logits = model(step_input, cache)
        processed += step_input.shape[1]
        token = logits[:, -1].argmax(dim=-1, keepdim=True)
        new.append(token)
        sequence = torch.cat((sequence, token), dim=1)
        step_input = token if use_cache else sequence
        if eos_token_id is not None and token.item() == eos_token_id:
            break
    return Generation(torch.cat(new, dim=1)[0], processed)
