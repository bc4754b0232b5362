"""A decoder LLM as a sequence classifier: last-token pooling, the pad = eos trap, a layer-fusion head.

Defined in Day 38 (LLM classifiers). A decoder reads left to right, so only its last real token has seen
the whole text: ``*ForSequenceClassification`` models of decoder families (Llama, Qwen2, Mistral...) apply
their ``score`` layer to every position and keep the logits at the rightmost token that is not the pad
token (``last_non_pad_index``). That rule looks at token ids, not at the attention mask, so when the pad
token is also a real token of the text (SmolLM2: pad = eos = ``<|im_end|>``), a text that ends with it is
pooled one token early; ``last_attended_index`` is the mask's answer.

``LayerFusionHead`` is the custom head of the course's seed article (a Qwen2.5 sentiment classifier):
a softmax-weighted sum of the last N hidden layers, single-head QKV attention pooling plus mean pooling
(a residual sum) and an MLP. The seed pooled over the pads in both poolings; here pads are masked unless
``mask_pads=False`` reproduces the seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def _check_2d(name: str, tensor: torch.Tensor) -> None:
    if tensor.dim() != 2:
        raise ValueError(f"{name} must be (batch, seq_len), got shape {tuple(tensor.shape)}")


def last_non_pad_index(input_ids: torch.Tensor, pad_token_id: int) -> torch.Tensor:
    """Per row, the rightmost position whose id is not ``pad_token_id`` (0 if every id is the pad).

    Defined in Day 38. This is the rule of transformers' ``*ForSequenceClassification`` for decoders
    (``GenericForSequenceClassification``); it works for right and left padding alike, and it ignores the
    attention mask.
    """
    _check_2d("input_ids", input_ids)
    positions = torch.arange(input_ids.shape[-1], device=input_ids.device)
    return ((input_ids != pad_token_id).long() * positions).argmax(-1)


def last_attended_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Per row, the rightmost position where ``attention_mask`` is 1: the last real token, whatever its id.

    Defined in Day 38. Works for right and left padding; a row without any 1 is an error.
    """
    _check_2d("attention_mask", attention_mask)
    mask = attention_mask.bool()
    if not mask.any(-1).all():
        raise ValueError("a row of attention_mask has no real token (all zeros): drop empty texts first")
    positions = torch.arange(mask.shape[-1], device=mask.device)
    return (mask.long() * positions).argmax(-1)


def gather_positions(hidden: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``hidden[b, index[b]]`` for every row: (batch, seq, d), (batch,) -> (batch, d). Defined in Day 38."""
    if hidden.dim() != 3 or index.shape != hidden.shape[:1]:
        raise ValueError(f"expected hidden (batch, seq_len, d) and index (batch,), got {tuple(hidden.shape)} "
                         f"and {tuple(index.shape)}")
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), index.to(hidden.device)]


def masked_mean(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the positions where ``attention_mask`` is 1 (all if it is None). Defined in Day 38."""
    if attention_mask is None:
        return hidden.mean(dim=1)
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)


def fuse_layers(layers: torch.Tensor, weight_logits: torch.Tensor) -> torch.Tensor:
    """Softmax-weighted sum of stacked hidden layers: (n, batch, seq, d), (n,) -> (batch, seq, d).

    Defined in Day 38 (the seed's "multi-layer fusion").
    """
    if layers.dim() != 4 or weight_logits.shape != layers.shape[:1]:
        raise ValueError(f"expected layers (n, batch, seq, d) and weight_logits (n,), got "
                         f"{tuple(layers.shape)} and {tuple(weight_logits.shape)}")
    weights = torch.softmax(weight_logits, dim=0)
    return torch.einsum("n,nbtd->btd", weights.to(layers.dtype), layers)


def qkv_attention_pool(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Single-head scaled dot-product self-attention, then the mean over positions: (batch, d).

    Defined in Day 38. With ``attention_mask`` the pads are neither attended to (their keys get -inf) nor
    averaged (their query rows are left out of the mean); without it every position counts, as in the seed.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if attention_mask is not None:
        scores = scores.masked_fill(~attention_mask.bool()[:, None, :], float("-inf"))
    context = torch.softmax(scores, dim=-1) @ v
    return masked_mean(context, attention_mask)


class LayerFusionHead(nn.Module):
    """The seed's custom head: last-N layer fusion -> QKV attention pooling + mean pooling -> MLP.

    Defined in Day 38. ``forward(layers, attention_mask, labels)`` takes the last ``num_layers`` hidden
    states stacked as (num_layers, batch, seq, hidden) (``last_layers`` makes them) and returns
    ``{"logits"}`` plus ``"loss"`` (cross-entropy) when ``labels`` are given. ``mask_pads=False`` reproduces
    the seed, which attends to and averages over the pads.
    """

    def __init__(self, hidden_size: int, num_labels: int, num_layers: int = 4, mlp_size: int = 256,
                 dropout: float = 0.1, mask_pads: bool = True) -> None:
        super().__init__()
        if num_layers < 1 or num_labels < 2:
            raise ValueError(f"need num_layers >= 1 and num_labels >= 2, got {num_layers} and {num_labels}")
        self.num_layers, self.mask_pads = num_layers, mask_pads
        self.layer_logits = nn.Parameter(torch.zeros(num_layers))  # softmax(0) = equal weights at the start
        self.q_proj = nn.Linear(hidden_size, hidden_size)
        self.k_proj = nn.Linear(hidden_size, hidden_size)
        self.v_proj = nn.Linear(hidden_size, hidden_size)
        # The MLP ("a multi-layer classifier" in the seed); the LayerNorm puts the residual stream of the
        # inner layers (large, uneven scales) and the final-norm output on one scale.
        self.classifier = nn.Sequential(nn.LayerNorm(hidden_size), nn.Linear(hidden_size, mlp_size),
                                        nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_size, num_labels))

    def layer_weights(self) -> torch.Tensor:
        """The fusion weights, softmax of ``layer_logits`` (they sum to 1), oldest layer first."""
        return torch.softmax(self.layer_logits.detach(), dim=0)

    def pooled(self, layers: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The (batch, hidden) vector before the MLP: attention pooling + mean pooling (the residual sum)."""
        if layers.shape[0] != self.num_layers:
            raise ValueError(f"this head fuses {self.num_layers} layers, got {layers.shape[0]}: pass "
                             f"last_layers(..., n={self.num_layers})")
        mask = attention_mask if self.mask_pads else None
        fused = fuse_layers(layers, self.layer_logits)
        attended = qkv_attention_pool(self.q_proj(fused), self.k_proj(fused), self.v_proj(fused), mask)
        return attended + masked_mean(fused, mask)

    def forward(self, layers: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        out = {"logits": self.classifier(self.pooled(layers, attention_mask))}
        if labels is not None:
            out["loss"] = F.cross_entropy(out["logits"], labels)
        return out


def last_layers(outputs: Any, n: int) -> torch.Tensor:
    """The last ``n`` hidden states of a model run with ``output_hidden_states=True``, stacked.

    Defined in Day 38. For Llama-family models ``hidden_states`` holds the embeddings and then every layer's
    output, the last one after the final norm (it equals ``last_hidden_state``).
    """
    states = getattr(outputs, "hidden_states", None)
    if states is None:
        raise ValueError("the outputs carry no hidden_states: call the model with output_hidden_states=True")
    if not 1 <= n < len(states):
        raise ValueError(f"n must be between 1 and {len(states) - 1} (the model's layers), got {n}")
    return torch.stack(states[-n:])


@torch.no_grad()  # not inference_mode: the cached tensors are inputs of a head that trains
def collect_last_layers(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, n: int,
                        batch_size: int = 16, device: str | torch.device = "cpu",
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Run a frozen base model once over a split and keep its last ``n`` layers: (n, rows, seq, hidden).

    Defined in Day 38. The result lives on the CPU in ``dtype``, so that a head can train for many epochs
    without running the large model again.
    """
    _check_2d("input_ids", input_ids)
    model.eval()
    chunks = []
    for start in range(0, len(input_ids), batch_size):
        ids = input_ids[start:start + batch_size].to(device)
        mask = attention_mask[start:start + batch_size].to(device)
        outputs = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        chunks.append(last_layers(outputs, n).to("cpu", dtype))
    return torch.cat(chunks, dim=1)


def fit_steps(model: nn.Module, batches: Iterable[Mapping[str, torch.Tensor]],
              optimizer: torch.optim.Optimizer, steps: int, device: str | torch.device = "cpu",
              grad_clip: float | None = 1.0) -> list[float]:
    """``steps`` optimizer steps of ``loss = model(**batch)["loss"]``; the losses.

    Defined in Day 38: the plain loop behind the LoRA, head and MiniLM runs (no printing). ``batches`` is
    iterated again from the start when it runs out (a shuffling DataLoader then reshuffles).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    model.train()
    losses = []
    for batch in itertools.islice(_repeat(batches), steps):
        loss = model(**{k: v.to(device) for k, v in batch.items()})["loss"]
        optimizer.zero_grad()
        loss.backward()
        if grad_clip is not None:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()
        losses.append(loss.item())
    return losses


def _repeat(batches: Iterable[Mapping[str, torch.Tensor]]) -> Iterator[Mapping[str, torch.Tensor]]:
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("batches is empty (or a generator already used up): pass a DataLoader or a list")


def saved_head_keys(peft_model: Any, names: Sequence[str] = ("score", "classifier")) -> list[str]:
    """The keys of a PEFT model's saved state (what ``save_pretrained`` writes) that belong to the head.

    Defined in Day 38. Empty means the head is not saved: reloading the adapter gives a new random head.
    """
    from peft import get_peft_model_state_dict

    return sorted(k for k in get_peft_model_state_dict(peft_model) if any(f"{n}." in k for n in names))
