"""The Transformer's layers, and the encoder-decoder built from them.

Defined in Day 21 (the Transformer from scratch): scaled dot-product attention, the padding, causal and
additive masks, multi-head attention, sinusoidal positional encoding, encoder and decoder layers, and
``from_torch_state`` (PyTorch's weight names to ours). Day 21 derives each of them in its notebook, step by
step, and checks each against ``torch.nn``; this module is the same code, for the days that build on it.

Defined in Day 22 (Transformer summarisation): the encoder and decoder stacks and ``Transformer``, equal to
``nn.Transformer(batch_first=True)`` with copied weights; ``Seq2SeqTransformer`` (embeddings, positions,
the stacks and an output layer, returning the cross-attention weights on request); label-smoothed
cross-entropy, equal to ``nn.CrossEntropyLoss(label_smoothing=..., ignore_index=...)``; and
``decoding_step``, which lets ``helpers.decoding``'s greedy and beam search drive the model.

Masks follow PyTorch's convention: boolean, ``True`` = forbidden (a pad key, a future position).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- Day 21: the layers
def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, dropout_p: float = 0.0,
                                 training: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ/√d_k + mask) v over the last two axes; returns (output, weights)."""
    if q.size(-1) != k.size(-1):
        raise ValueError(f"queries have d_k={q.size(-1)} but keys have d_k={k.size(-1)}")
    if k.size(-2) != v.size(-2):
        raise ValueError(f"{k.size(-2)} keys but {v.size(-2)} values")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores + mask
    weights = scores.softmax(dim=-1)
    return F.dropout(weights, dropout_p, training) @ v, weights


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) boolean mask, True at the pad positions of sequences of the given lengths."""
    if (lengths > max_len).any() or (lengths < 1).any():
        raise ValueError(f"lengths must lie in 1..{max_len}, got {lengths.tolist()}")
    return torch.arange(max_len, device=lengths.device) >= lengths[:, None]


def causal_mask(size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(size, size) boolean mask, True above the diagonal: position i may not see j > i."""
    return torch.ones(size, size, dtype=torch.bool, device=device).triu(diagonal=1)


def additive_mask(key_padding_mask: torch.Tensor | None = None,
                  attn_mask: torch.Tensor | None = None) -> torch.Tensor | None:
    """Boolean masks (True = forbidden) or float ones, as one additive mask broadcastable to (B,1,T,S)."""
    def to_float(mask: torch.Tensor) -> torch.Tensor:
        if mask.dtype == torch.bool:
            return torch.zeros(mask.shape, device=mask.device).masked_fill(mask, float("-inf"))
        return mask

    total = None
    if key_padding_mask is not None:
        if key_padding_mask.ndim != 2:
            raise ValueError(f"key_padding_mask must be (batch, keys), got {tuple(key_padding_mask.shape)}")
        total = to_float(key_padding_mask)[:, None, None, :]   # (B, 1, 1, S)
    if attn_mask is not None:
        if attn_mask.ndim != 2:
            raise ValueError(f"attn_mask must be (queries, keys), got {tuple(attn_mask.shape)}")
        total = to_float(attn_mask) if total is None else total + to_float(attn_mask)
    return total


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate Q/K/V projections; returns (output, per-head weights)."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.num_heads, self.d_k, self.dropout = num_heads, d_model // num_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, h, T, d_k)."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.d_k).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None,
                attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, T, d), key and value (B, S, d); masks as in ``additive_mask``.

        Returns the output (B, T, d) and the attention weights (B, h, T, S).
        """
        q, k, v = (self.split_heads(proj(x)) for proj, x in
                   ((self.q_proj, query), (self.k_proj, key), (self.v_proj, value)))
        heads, weights = scaled_dot_product_attention(q, k, v, additive_mask(key_padding_mask, attn_mask),
                                                      self.dropout, self.training)
        batch, _, length, _ = heads.shape
        concatenated = heads.transpose(1, 2).reshape(batch, length, self.num_heads * self.d_k)
        return self.out_proj(concatenated), weights


def from_torch_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """PyTorch Transformer weights under our names: ``in_proj_*`` split into ``q/k/v_proj``."""
    converted = {}
    for name, tensor in state.items():
        name = name.replace("multihead_attn.", "cross_attn.")
        prefix, found, leaf = name.rpartition("in_proj_")
        if found:
            for part, chunk in zip("qkv", tensor.chunk(3), strict=True):
                converted[f"{prefix}{part}_proj.{leaf}"] = chunk.clone()
        else:
            converted[name] = tensor.clone()
    return converted


def sinusoidal_encoding(num_positions: int, d_model: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(num_positions, d_model) matrix: sin in even columns, cos in odd ones (computed in float64)."""
    if d_model % 2:
        raise ValueError(f"d_model must be even for sine-cosine pairs, got {d_model}")
    positions = torch.arange(num_positions, dtype=torch.float64)[:, None]
    frequencies = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    encoding = torch.zeros(num_positions, d_model, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(positions * frequencies)
    encoding[:, 1::2] = torch.cos(positions * frequencies)
    return encoding.to(dtype)


class PositionalEncoding(nn.Module):
    """Add sinusoidal encodings along the *sequence* axis of (batch, seq, d_model) inputs."""

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.size(-1) != self.pe.size(1):
            raise ValueError(f"expected (batch, seq, {self.pe.size(1)}), got {tuple(x.shape)}")
        if x.size(1) > self.pe.size(0):
            raise ValueError(f"sequence of {x.size(1)} tokens but max_len={self.pe.size(0)}")
        return x + self.pe[: x.size(1)]          # (T, d) broadcasts over the batch axis


class FeedForwardBlock(nn.Module):
    """The residual FFN sub-layer shared by encoder and decoder layers (ReLU, as PyTorch's default)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))


class EncoderLayer(FeedForwardBlock):
    """Self-attention + FFN, each with a residual and a LayerNorm (post-LN, or pre-LN if norm_first)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False) -> None:
        super().__init__(d_model, d_ff, dropout)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first

    def attend(self, x: torch.Tensor, **masks: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        output, weights = self.self_attn(x, x, x, **masks)
        return self.dropout1(output), weights

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None,
                attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        masks = {"key_padding_mask": key_padding_mask, "attn_mask": attn_mask}
        if self.norm_first:
            update, weights = self.attend(self.norm1(x), **masks)
            x = x + update
            x = x + self.dropout2(self.feed_forward(self.norm2(x)))
        else:
            update, weights = self.attend(x, **masks)
            x = self.norm1(x + update)
            x = self.norm2(x + self.dropout2(self.feed_forward(x)))
        return x, weights


class DecoderLayer(FeedForwardBlock):
    """Masked self-attention, cross-attention to the memory, FFN; returns (x, self weights, cross weights)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False) -> None:
        super().__init__(d_model, d_ff, dropout)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))
        self.norm_first = norm_first

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                tgt_key_padding_mask: torch.Tensor | None = None,
                memory_key_padding_mask: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        def self_block(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out, w = self.self_attn(h, h, h, key_padding_mask=tgt_key_padding_mask, attn_mask=tgt_mask)
            return self.dropout1(out), w

        def cross_block(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out, w = self.cross_attn(h, memory, memory, key_padding_mask=memory_key_padding_mask)
            return self.dropout2(out), w

        if self.norm_first:
            update, self_weights = self_block(self.norm1(x))
            x = x + update
            update, cross_weights = cross_block(self.norm2(x))
            x = x + update
            x = x + self.dropout3(self.feed_forward(self.norm3(x)))
        else:
            update, self_weights = self_block(x)
            x = self.norm1(x + update)
            update, cross_weights = cross_block(x)
            x = self.norm2(x + update)
            x = self.norm3(x + self.dropout3(self.feed_forward(x)))
        return x, self_weights, cross_weights


# ---------------------------------------------------------------- Day 22: the encoder-decoder
class EncoderStack(nn.Module):
    """Encoder layers and a final LayerNorm (``nn.TransformerEncoder``'s names). Defined in Day 22.

    Returns the output (B, S, d) and the self-attention weights of every layer, (B, layers, h, S, S).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, num_layers: int, dropout: float = 0.0,
                 norm_first: bool = False) -> None:
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        weights = []
        for layer in self.layers:
            x, w = layer(x, key_padding_mask=key_padding_mask)
            weights.append(w)
        return self.norm(x), torch.stack(weights, dim=1)


class DecoderStack(nn.Module):
    """Decoder layers and a final LayerNorm (``nn.TransformerDecoder``'s names). Defined in Day 22.

    Returns the output (B, T, d), the self-attention weights (B, layers, h, T, T) and the cross-attention
    weights (B, layers, h, T, S).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, num_layers: int, dropout: float = 0.0,
                 norm_first: bool = False) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout, norm_first)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                tgt_key_padding_mask: torch.Tensor | None = None,
                memory_key_padding_mask: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self_weights, cross_weights = [], []
        for layer in self.layers:
            x, w_self, w_cross = layer(x, memory, tgt_mask=tgt_mask,
                                       tgt_key_padding_mask=tgt_key_padding_mask,
                                       memory_key_padding_mask=memory_key_padding_mask)
            self_weights.append(w_self)
            cross_weights.append(w_cross)
        return self.norm(x), torch.stack(self_weights, dim=1), torch.stack(cross_weights, dim=1)


class Transformer(nn.Module):
    """Encoder and decoder stacks: ``nn.Transformer(batch_first=True)``, written out. Defined in Day 22.

    Same attribute names as PyTorch's, so ``load_state_dict(from_torch_state(torch_model.state_dict()))``
    copies an ``nn.Transformer`` into it. Like PyTorch's, both stacks end with a LayerNorm, in the post-LN
    layout as in the pre-LN one.
    """

    def __init__(self, d_model: int = 512, num_heads: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, d_ff: int = 2048, dropout: float = 0.1,
                 norm_first: bool = False) -> None:
        super().__init__()
        if num_encoder_layers < 1 or num_decoder_layers < 1:
            raise ValueError(f"need at least one encoder and one decoder layer, got "
                             f"{num_encoder_layers} and {num_decoder_layers}")
        self.encoder = EncoderStack(d_model, num_heads, d_ff, num_encoder_layers, dropout, norm_first)
        self.decoder = DecoderStack(d_model, num_heads, d_ff, num_decoder_layers, dropout, norm_first)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                src_key_padding_mask: torch.Tensor | None = None,
                tgt_key_padding_mask: torch.Tensor | None = None,
                memory_key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """src (B, S, d) and tgt (B, T, d) embedded sequences -> decoder output (B, T, d)."""
        memory, _ = self.encoder(src, key_padding_mask=src_key_padding_mask)
        output, _, _ = self.decoder(tgt, memory, tgt_mask=tgt_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                                    memory_key_padding_mask=memory_key_padding_mask)
        return output


class Seq2SeqTransformer(nn.Module):
    """Token ids in, next-token logits out: embeddings, positions, ``Transformer``, a linear layer.

    Defined in Day 22. Source and target share one vocabulary and one embedding matrix (scaled by
    √d_model, initialised with std d_model^-½ as in the paper, so that tokens and positions have the same
    scale). ``positional`` is the module class that adds positions (``PositionalEncoding``; Day 22's
    exercise swaps in the seed's buggy one). ``pad_id`` marks the pads of the source and the target.
    """

    def __init__(self, vocab_size: int, d_model: int = 128, num_heads: int = 4, num_encoder_layers: int = 2,
                 num_decoder_layers: int = 2, d_ff: int = 512, dropout: float = 0.1, norm_first: bool = True,
                 max_len: int = 512, pad_id: int = 0,
                 positional: type[nn.Module] = PositionalEncoding) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=d_model ** -0.5)
        self.positions = positional(d_model, max_len)
        self.dropout = nn.Dropout(dropout)
        self.transformer = Transformer(d_model, num_heads, num_encoder_layers, num_decoder_layers, d_ff,
                                       dropout, norm_first)
        self.generator = nn.Linear(d_model, vocab_size)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T) ids -> (B, T, d): scaled embeddings plus positions, then dropout."""
        if ids.ndim != 2:
            raise ValueError(f"expected token ids of shape (batch, length), got {tuple(ids.shape)}")
        return self.dropout(self.positions(self.embedding(ids) * math.sqrt(self.embedding.embedding_dim)))

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Source ids (B, S) -> memory (B, S, d) and the source padding mask (B, S), True at pads."""
        src_pad = src == self.pad_id
        memory, _ = self.transformer.encoder(self.embed(src), key_padding_mask=src_pad)
        return memory, src_pad

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_pad: torch.Tensor,
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Target prefix (B, T) -> logits (B, T, V) and cross-attention weights (B, layers, h, T, S).

        Only the causal mask is applied to the target: pads sit at the end (right padding), so no real
        token reads one, and their own outputs are ignored by the loss.
        """
        output, _, cross = self.transformer.decoder(
            self.embed(tgt_in), memory, tgt_mask=causal_mask(tgt_in.size(1), tgt_in.device),
            memory_key_padding_mask=src_pad)
        return self.generator(output), cross

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, V) of the next token after each prefix of ``tgt_in``."""
        memory, src_pad = self.encode(src)
        return self.decode(tgt_in, memory, src_pad)[0]


def label_smoothed_cross_entropy(logits: torch.Tensor, target: torch.Tensor, epsilon: float = 0.1,
                                 ignore_index: int = -100) -> torch.Tensor:
    """Mean over the non-ignored tokens of (1 − ε)·(−log p_y) + ε·mean_k(−log p_k). Defined in Day 22.

    The target distribution puts 1 − ε on the right token and spreads ε uniformly over all V classes
    (the right one included), as ``nn.CrossEntropyLoss(label_smoothing=ε, ignore_index=...)`` does.
    ``logits`` (N, V) or (B, T, V), ``target`` the matching (N,) or (B, T) ids.
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
    if logits.shape[:-1] != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not match targets {tuple(target.shape)}: "
                         "logits need one more (class) axis")
    log_probs = logits.reshape(-1, logits.size(-1)).log_softmax(dim=-1)
    target = target.reshape(-1)
    keep = target != ignore_index
    if not keep.any():
        raise ValueError("every target equals ignore_index: there is no token to compute a loss on")
    log_probs, target = log_probs[keep], target[keep]
    nll = -log_probs.gather(1, target[:, None]).squeeze(1)
    uniform = -log_probs.mean(dim=-1)
    return ((1 - epsilon) * nll + epsilon * uniform).mean()


def decoding_step(model: Seq2SeqTransformer):
    """A ``step(tokens, state) -> (log_probs, state)`` for ``helpers.decoding``. Defined in Day 22.

    ``state`` is ``{"memory": (N, S, d), "src_pad": (N, S)}`` from ``model.encode``; the step re-reads the
    whole prefix (no cache) and returns the log-probabilities of the next token, (N, V).
    """
    def step(tokens: torch.Tensor, state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        logits, _ = model.decode(tokens, state["memory"], state["src_pad"])
        return logits[:, -1].log_softmax(dim=-1), state

    return step
