"""Attention for recurrent encoder-decoders: additive (Bahdanau) and multiplicative (Luong).

Defined in Day 19 (reused by Days 20, 22-23 and 31-33).

Every module has the same call::

    context, weights = attention(query, keys, values=None, key_padding_mask=None)

- ``query``: (B, Dq) for one decoder step, or (B, T, Dq) for T queries at once;
- ``keys``: (B, S, Dk), the encoder outputs; ``values`` defaults to ``keys`` (B, S, Dv);
- ``key_padding_mask``: (B, S) bool, **True at pads** (PyTorch's ``key_padding_mask`` convention;
  build it with :func:`lengths_to_mask`). Pads get exactly zero weight;
- returns ``context`` (B, Dv) or (B, T, Dv) and ``weights`` (B, S) or (B, T, S); each row of weights
  sums to 1 over the real keys.

Scores:

- :class:`AdditiveAttention` (Bahdanau et al., 2015): ``score(q, k) = vᵀ tanh(W_q q + W_k k)``;
- :class:`LuongAttention` (Luong et al., 2015): ``"dot"``: ``qᵀk``, ``"general"``: ``qᵀ W_a k``; an
  optional ``scale`` multiplies the scores (1 by default, as in the paper; ``1/sqrt(d)`` gives the
  Transformer's scaled dot product).
"""

from __future__ import annotations

import torch
from torch import nn


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """(B, max_len) bool mask, True at the pads of sequences of the given lengths. Defined in Day 19."""
    lengths = torch.as_tensor(lengths)
    max_len = int(lengths.max()) if max_len is None else max_len
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D (one length per sequence), got shape {tuple(lengths.shape)}")
    if (lengths < 1).any() or (lengths > max_len).any():
        raise ValueError(f"lengths must lie in 1..{max_len}, got {lengths.tolist()}")
    return torch.arange(max_len, device=lengths.device) >= lengths[:, None]


def masked_softmax(scores: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis of ``scores`` (B, [T,] S), with exactly zero weight where the mask is True.

    Defined in Day 19. The masked scores are set to -inf before the softmax, so ``exp`` gives an exact 0
    (a large negative number such as -1e9 would give a tiny but nonzero weight, and NaN-free rows only as
    long as some key is real). A row whose every key is masked has no answer and raises an error.
    """
    if key_padding_mask is None:
        return scores.softmax(dim=-1)
    if key_padding_mask.dtype != torch.bool:
        raise TypeError(f"key_padding_mask must be bool (True at pads), got {key_padding_mask.dtype}")
    if key_padding_mask.shape != (scores.shape[0], scores.shape[-1]):
        raise ValueError(f"key_padding_mask has shape {tuple(key_padding_mask.shape)}, expected "
                         f"(batch, keys) = {(scores.shape[0], scores.shape[-1])}")
    if key_padding_mask.all(dim=-1).any():
        raise ValueError("a sample has every key masked (a source of length 0?): nothing to attend to")
    mask = key_padding_mask if scores.ndim == 2 else key_padding_mask[:, None, :]
    return scores.masked_fill(mask, float("-inf")).softmax(dim=-1)


class _Attention(nn.Module):
    """Shared plumbing: shapes, masking, the weighted sum. Subclasses define ``score``."""

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:  # (B,T,Dq),(B,S,Dk)->(B,T,S)
        raise NotImplementedError

    def forward(self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(context, weights)``; see the module docstring for the shapes."""
        values = keys if values is None else values
        if keys.ndim != 3 or values.ndim != 3:
            raise ValueError(f"keys and values must be (batch, keys, dim), got {tuple(keys.shape)} "
                             f"and {tuple(values.shape)}")
        if keys.shape[:2] != values.shape[:2]:
            raise ValueError(f"keys {tuple(keys.shape)} and values {tuple(values.shape)} differ in batch "
                             "or length")
        single = query.ndim == 2
        if single:
            query = query.unsqueeze(1)
        if query.ndim != 3 or query.shape[0] != keys.shape[0]:
            raise ValueError(f"query must be (batch, dim) or (batch, queries, dim) with the keys' batch "
                             f"{keys.shape[0]}, got {tuple(query.shape)}")
        weights = masked_softmax(self.score(query, keys), key_padding_mask)   # (B, T, S)
        context = weights @ values                                             # (B, T, Dv)
        return (context.squeeze(1), weights.squeeze(1)) if single else (context, weights)


class AdditiveAttention(_Attention):
    """Bahdanau's additive attention: ``score(q, k) = vᵀ tanh(W_q q + W_k k)``. Defined in Day 19.

    Args:
        query_size, key_size: widths of the queries (decoder states) and keys (encoder outputs).
        hidden_size: width of the hidden layer of the scoring MLP.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False)
        self.key_proj = nn.Linear(key_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        # (B, T, 1, H) + (B, 1, S, H) -> (B, T, S, H) -> (B, T, S)
        features = torch.tanh(self.query_proj(query).unsqueeze(2) + self.key_proj(keys).unsqueeze(1))
        return self.v(features).squeeze(-1)


class LuongAttention(_Attention):
    """Luong's multiplicative attention. Defined in Day 19.

    Args:
        mode: ``"dot"`` (``qᵀk``: queries and keys of the same width, no parameters) or ``"general"``
            (``qᵀ W_a k``, with ``W_a`` a (query_size x key_size) matrix).
        query_size, key_size: needed by ``"general"``; ``"dot"`` checks that they agree when given.
        scale: multiplies the scores (1.0 as in Luong et al.; ``d ** -0.5`` for a scaled dot product).
    """

    def __init__(self, mode: str = "dot", query_size: int | None = None, key_size: int | None = None,
                 scale: float = 1.0) -> None:
        super().__init__()
        if mode not in ("dot", "general"):
            raise ValueError(f"mode must be 'dot' or 'general', got {mode!r} (additive scores are "
                             "AdditiveAttention)")
        self.mode, self.scale = mode, scale
        if mode == "general":
            if query_size is None or key_size is None:
                raise ValueError("LuongAttention('general') needs query_size and key_size")
            self.W_a = nn.Linear(key_size, query_size, bias=False)   # W_a k, then dotted with q
        elif query_size is not None and key_size is not None and query_size != key_size:
            raise ValueError(f"'dot' attention needs queries and keys of one width, got {query_size} and "
                             f"{key_size}: use mode='general'")

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        if self.mode == "general":
            keys = self.W_a(keys)
        if query.shape[-1] != keys.shape[-1]:
            raise ValueError(f"'dot' attention needs queries and keys of one width, got {query.shape[-1]} "
                             f"and {keys.shape[-1]}: use mode='general'")
        scores = query @ keys.transpose(-2, -1)
        return scores * self.scale if self.scale != 1.0 else scores

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, scale={self.scale}"
