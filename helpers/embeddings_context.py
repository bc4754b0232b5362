"""Contextual embeddings: sub-token alignment, per-layer word vectors and mean pooling.

Defined in Day 25; days 30 and 41 reuse ``mean_pool`` and ``encode_mean_pooled`` (the pooling of
sentence-transformers' all-MiniLM-L6-v2: mean over real tokens, then L2 normalisation).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors where ``attention_mask`` is 1: (B, T, d), (B, T) -> (B, d).

    Defined in Day 25. Padding positions get weight 0; the count is clamped so that an all-padding row
    gives zeros rather than NaN.
    """
    if hidden.dim() != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(f"expected hidden (B, T, d) and mask (B, T); got {tuple(hidden.shape)} and "
                         f"{tuple(attention_mask.shape)}")
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


@torch.no_grad()
def encode_mean_pooled(model: Any, tokenizer: Any, sentences: Sequence[str], batch_size: int = 32,
                       max_length: int = 256, normalize: bool = True,
                       device: str | torch.device = "cpu") -> torch.Tensor:
    """Sentence vectors by hand: encoder -> ``mean_pool`` -> optional L2 normalisation, shape (N, d).

    Defined in Day 25. ``max_length`` is the truncation that sentence-transformers applies
    (``max_seq_length``: 256 for all-MiniLM-L6-v2).
    """
    if isinstance(sentences, str):
        raise TypeError("pass a list of sentences, not one string")
    model.eval()
    out = []
    for start in range(0, len(sentences), batch_size):
        batch = tokenizer(list(sentences[start:start + batch_size]), padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt").to(device)
        pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
        out.append(F.normalize(pooled, dim=-1) if normalize else pooled)
    return torch.cat(out).cpu()


def find_word(sentence: str, word: str) -> tuple[int, int]:
    """Character span ``(start, end)`` of the first whole-word, case-insensitive ``word`` in ``sentence``."""
    match = re.search(rf"\b{re.escape(word)}\b", sentence, flags=re.IGNORECASE)
    if match is None:
        raise ValueError(f"{word!r} does not occur as a whole word in {sentence[:60]!r}")
    return match.span()


def subtoken_indices(offsets: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    """Positions of the tokens whose character offsets overlap ``[start, end)``.

    Defined in Day 25. ``offsets`` is a fast tokenizer's ``offset_mapping`` for one sequence; special
    tokens have the empty span (0, 0) and never match. A word that WordPiece splits into several pieces
    returns all of them.
    """
    if end <= start:
        raise ValueError(f"empty character span [{start}, {end})")
    found = [i for i, (s, e) in enumerate(offsets) if e > s and s < end and e > start]
    if not found:
        raise ValueError(f"no token covers characters [{start}, {end}); was the span truncated away?")
    return found


@torch.no_grad()
def word_vectors_per_layer(model: Any, tokenizer: Any, sentences: Sequence[str], words: Sequence[str],
                           batch_size: int = 32, max_length: int = 128,
                           device: str | torch.device = "cpu") -> np.ndarray:
    """Vector of ``words[i]`` in ``sentences[i]`` at every layer, shape (layers + 1, N, d).

    Defined in Day 25. Index 0 is the embedding layer's output; the word's vector is the mean of its
    sub-tokens (``subtoken_indices``).
    """
    if len(sentences) != len(words):
        raise ValueError(f"{len(sentences)} sentences but {len(words)} target words")
    model.eval()
    rows = []
    for begin in range(0, len(sentences), batch_size):
        chunk = list(sentences[begin:begin + batch_size])
        batch = tokenizer(chunk, padding=True, truncation=True, max_length=max_length,
                          return_offsets_mapping=True, return_tensors="pt")
        offsets = batch.pop("offset_mapping").tolist()
        states = model(**batch.to(device), output_hidden_states=True).hidden_states
        hidden = torch.stack(states)  # (layers + 1, batch, tokens, d)
        for j, sentence in enumerate(chunk):
            span = subtoken_indices(offsets[j], *find_word(sentence, words[begin + j]))
            rows.append(hidden[:, j, span].mean(1).float().cpu())
    return torch.stack(rows, dim=1).numpy()


def pair_cosines(vectors: np.ndarray, groups: Sequence[Any]) -> tuple[float, float]:
    """Mean cosine over pairs in the same group and over pairs in different groups (each pair once).

    Defined in Day 25. Returns NaN for a kind of pair that does not exist.
    """
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    cos = unit @ unit.T
    labels = np.asarray([str(g) for g in groups])
    upper = np.triu(np.ones_like(cos, dtype=bool), k=1)
    same = labels[:, None] == labels[None, :]
    within, across = cos[upper & same], cos[upper & ~same]
    return (float(within.mean()) if within.size else float("nan"),
            float(across.mean()) if across.size else float("nan"))


def load_sentence_transformer(model_id: str, profile: str | None = None, device: str = "cpu") -> Any:
    """``SentenceTransformer(model_id)``: the packaged copy in ``ci``, the Hub (with the course's error) else.

    Defined in Day 25.
    """
    from sentence_transformers import SentenceTransformer

    from helpers.hub import _from_hub, _source
    from helpers.profile import resolve_profile

    name = resolve_profile(profile)
    source, _ = _source(model_id, name)
    return _from_hub(model_id, name, lambda: SentenceTransformer(source, device=device))
