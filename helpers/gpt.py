"""GPT-2 written by hand, with the module names of Hugging Face's ``GPT2LMHeadModel``.

Defined in Day 31 (GPT from scratch). Because every parameter has the library's name and layout
(``transformer.wte``, ``transformer.h.0.attn.c_attn``, ...), a ``GPT2LMHeadModel`` state dict loads into
:class:`GPT` with ``strict=True`` and back, so the two models can be compared weight for weight, and the real
``openai-community/gpt2`` checkpoint loads into the hand model without a renaming table.

The pieces:

- :class:`Conv1D`: GPT-2's "1-D convolution", a linear layer whose weight is stored as (in, out), i.e. the
  transpose of ``nn.Linear``'s (out, in);
- :class:`CausalSelfAttention` (``c_attn`` makes Q, K and V in one product, ``c_proj`` mixes the heads);
- :class:`MLP` (``c_fc``, the tanh GELU, ``c_proj``), :class:`Block` (pre-LN: ``ln_1``, ``attn``, ``ln_2``,
  ``mlp``);
- :class:`GPT`: ``wte`` + ``wpe``, the blocks, ``ln_f`` and an ``lm_head`` tied to ``wte``; it computes the
  shifted next-token loss (labels ``-100`` are ignored) as the library does;
- :func:`generate` (greedy or sampled, with top-k), :func:`pack_blocks`, :func:`train_byte_level_bpe`,
  :func:`to_library` / :func:`from_library`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_INDEX = -100
END_OF_TEXT = "<|endoftext|>"


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GPT-2's GELU, the tanh approximation ``0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))``.

    Defined in Day 31. Written exactly as transformers' ``gelu_new`` so that the two agree bit for bit.
    """
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """GPT-2's linear layer: ``y = x W + b``, ``W`` stored as (n_in, n_out), the transpose of ``nn.Linear``.

    Defined in Day 31. The name comes from OpenAI's TensorFlow code, where it was a convolution of width 1.
    """

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.size(-1) != self.n_in:
            raise ValueError(f"Conv1D expects {self.n_in} input features, got {x.size(-1)}")
        # addmm(b, x, W) = b + x @ W, the library's exact operation (same rounding)
        out = torch.addmm(self.bias, x.reshape(-1, self.n_in), self.weight)
        return out.view(*x.shape[:-1], self.n_out)

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}"


def _check_config(config: Any) -> None:
    if config.n_embd % config.n_head:
        raise ValueError(f"n_embd={config.n_embd} is not divisible by n_head={config.n_head}")
    if config.activation_function not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"this GPT uses GPT-2's tanh GELU; got activation_function="
                         f"{config.activation_function!r} (use 'gelu_new')")
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
        if getattr(config, flag, False):
            raise ValueError(f"{flag}=True is not implemented here; build the GPT2Config with {flag}=False")


class CausalSelfAttention(nn.Module):
    """Masked multi-head self-attention with GPT-2's fused ``c_attn`` (Q, K, V) and ``c_proj``.

    Defined in Day 31.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        _check_config(config)
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.head_dim = config.n_embd // config.n_head
        self.c_attn = Conv1D(config.n_embd, 3 * config.n_embd)
        self.c_proj = Conv1D(config.n_embd, config.n_embd)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, T, C) -> (output (B, T, C), weights (B, h, T, T) if ``need_weights`` else None)."""
        batch, length, _ = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = (t.view(batch, length, self.n_head, self.head_dim).transpose(1, 2) for t in (q, k, v))
        weights = None
        if need_weights:  # written out, to return the weights
            scores = q @ k.transpose(-2, -1) * self.head_dim ** -0.5
            future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
            weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
            heads = self.attn_dropout(weights) @ v
        else:  # the same computation in one fused kernel
            heads = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                   dropout_p=self.attn_dropout.p if self.training else 0.0)
        heads = heads.transpose(1, 2).reshape(batch, length, self.n_embd)
        return self.resid_dropout(self.c_proj(heads)), weights


class MLP(nn.Module):
    """Position-wise feed-forward network: ``c_proj(gelu(c_fc(x)))``, width ``n_inner`` (default 4·n_embd).

    Defined in Day 31.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.c_fc = Conv1D(config.n_embd, inner)
        self.c_proj = Conv1D(inner, config.n_embd)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(gelu_tanh(self.c_fc(x))))


class Block(nn.Module):
    """A pre-LN decoder block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Defined in Day 31.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        update, weights = self.attn(self.ln_1(x), need_weights)
        x = x + update
        return x + self.mlp(self.ln_2(x)), weights


class GPT(nn.Module):
    """GPT-2 with the library's parameter names; ``forward(input_ids, labels)`` returns a dict.

    Defined in Day 31. ``config`` is a ``transformers.GPT2Config`` (any object with its fields). The output
    head shares its weight with the token embedding (weight tying), as in GPT-2.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        _check_config(config)
        self.config = config
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(config.vocab_size, config.n_embd),
            "wpe": nn.Embedding(config.n_positions, config.n_embd),
            "drop": nn.Dropout(config.embd_pdrop),
            "h": nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            "ln_f": nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon),
        })
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied: one matrix, two uses
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():  # GPT-2: residual projections scaled by 1/√(2L)
            if name.endswith("c_proj.weight"):
                nn.init.normal_(parameter, std=config.initializer_range / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Embedding | Conv1D):
            nn.init.normal_(module.weight, std=std)
        if isinstance(module, Conv1D):
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                return_attention: bool = False) -> dict[str, Any]:
        """Logits (B, T, V); with ``labels``, the mean next-token loss (position t predicts label t+1).

        ``return_attention=True`` also returns ``attentions``, a tuple of (B, h, T, T) tensors, one per layer.
        """
        if input_ids.ndim != 2:
            raise ValueError(f"input_ids must be (batch, time), got shape {tuple(input_ids.shape)}")
        length = input_ids.size(1)
        if length > self.config.n_positions:
            raise ValueError(f"{length} tokens but the model has n_positions={self.config.n_positions}; "
                             "crop the input (generate() keeps the last n_positions tokens)")
        if input_ids.numel() and (input_ids.min() < 0 or input_ids.max() >= self.config.vocab_size):
            raise ValueError(f"token ids must lie in 0..{self.config.vocab_size - 1}: is the tokenizer the "
                             "one the model was built for?")
        positions = torch.arange(length, device=input_ids.device)
        x = self.transformer.drop(self.transformer.wte(input_ids) + self.transformer.wpe(positions))
        attentions = []
        for block in self.transformer.h:
            x, weights = block(x, return_attention)
            attentions.append(weights)
        logits = self.lm_head(self.transformer.ln_f(x))
        out: dict[str, Any] = {"logits": logits}
        if labels is not None:
            out["loss"] = causal_lm_loss(logits, labels)
        if return_attention:
            out["attentions"] = tuple(attentions)
        return out


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of position t's logits against label t+1; labels ``-100`` are ignored.

    Defined in Day 31. ``labels`` are the *unshifted* targets (usually ``input_ids`` themselves), as in
    transformers: the shift happens here.
    """
    if logits.shape[:2] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} disagree on (B, T)")
    # next_labels[t] = labels[t + 1]; the last position has no next token and gets IGNORE_INDEX
    next_labels = F.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:]
    return F.cross_entropy(logits.flatten(0, 1).float(), next_labels.flatten(), ignore_index=IGNORE_INDEX)


@torch.no_grad()
def generate(model: nn.Module, input_ids: torch.Tensor, max_new_tokens: int, *, greedy: bool = False,
             temperature: float = 1.0, top_k: int | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Append ``max_new_tokens`` tokens to ``input_ids`` (B, T), one at a time, without a cache.

    Defined in Day 31. ``greedy`` takes the argmax; otherwise the next token is sampled from
    ``softmax(logits / temperature)``, restricted to the ``top_k`` largest logits if given. The model
    sees at most its last ``n_positions`` tokens. Works for :class:`GPT` and for ``GPT2LMHeadModel``.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0 (use greedy=True for the argmax)")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be >= 1 or None")
    was_training = model.training
    model.eval()
    context = model.config.n_positions
    ids = input_ids
    for _ in range(max_new_tokens):
        logits = model(ids[:, -context:])["logits"][:, -1, :].float()
        if greedy:
            next_id = logits.argmax(dim=-1, keepdim=True)
        else:
            logits = logits / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = logits.softmax(dim=-1)
            next_id = torch.multinomial(probs.cpu(), 1, generator=generator).to(ids.device)
        ids = torch.cat([ids, next_id], dim=1)
    model.train(was_training)
    return ids


def pack_blocks(ids: Iterable[int] | torch.Tensor, block_size: int) -> torch.Tensor:
    """Cut a token stream into non-overlapping rows of ``block_size`` tokens (the tail is dropped).

    Defined in Day 31. Each row is a training example whose labels are the row itself (the model shifts).
    """
    ids = torch.as_tensor(ids if isinstance(ids, torch.Tensor) else list(ids), dtype=torch.long)
    if block_size < 2:
        raise ValueError("block_size must be >= 2: a row needs an input and a next token")
    rows = ids.numel() // block_size
    if rows == 0:
        raise ValueError(f"{ids.numel()} tokens are fewer than one block of {block_size}")
    return ids[: rows * block_size].view(rows, block_size)


def join_paragraphs(lines: Iterable[str]) -> str:
    """Hard-wrapped lines -> one line per paragraph (blank lines separate paragraphs).

    Defined in Day 31 (the Austen novels come as printed lines).
    """
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"(?<=\S)\n(?=\S)", " ", text)        # a single line break inside a paragraph
    return re.sub(r"\n{2,}", "\n\n", text).strip() + "\n"


def train_byte_level_bpe(texts: Iterable[str], vocab_size: int) -> Any:
    """Train a GPT-2-style byte-level BPE with Hugging Face ``tokenizers``; return a fast tokenizer.

    Defined in Day 31. The 256 byte symbols are always in the vocabulary, so any string can be encoded and
    decoded back exactly; ``<|endoftext|>`` is the only special token (id 0).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 257:
        raise ValueError(f"vocab_size must exceed the 256 bytes + <|endoftext|>, got {vocab_size}")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[END_OF_TEXT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT,
                                   unk_token=END_OF_TEXT)


def library_config(**sizes: Any) -> Any:
    """A ``GPT2Config`` for the hand model and the library's: dropout 0 unless given, eager attention.

    Defined in Day 31. ``sizes`` are GPT2Config fields (``vocab_size``, ``n_positions``, ``n_embd``,
    ``n_layer``, ``n_head``, dropouts...). ``<|endoftext|>`` is id 0, as :func:`train_byte_level_bpe`
    makes it.
    """
    from transformers import GPT2Config

    fields = {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "bos_token_id": 0, "eos_token_id": 0,
              **sizes}
    config = GPT2Config(**fields)
    config._attn_implementation = "eager"  # the written-out attention, which can return its weights
    return config


def to_library(model: GPT) -> Any:
    """A ``GPT2LMHeadModel`` with the same config and weights as the hand ``model`` (strict copy).

    Defined in Day 31.
    """
    from transformers import GPT2LMHeadModel

    library = GPT2LMHeadModel(model.config).to(next(model.parameters()).device)
    library.load_state_dict(model.state_dict(), strict=True)
    return library.eval()


def from_library(library: Any) -> tuple[GPT, Any]:
    """The hand :class:`GPT` holding a ``GPT2LMHeadModel``'s weights, and the load report.

    Defined in Day 31. The copy is strict: the report's ``missing_keys`` and ``unexpected_keys`` are empty,
    or ``load_state_dict`` raises and names the keys.
    """
    model = GPT(library.config).to(next(library.parameters()).device)
    report = model.load_state_dict(library.state_dict(), strict=True)
    return model.eval(), report


def load_gpt2(source: str, revision: str | None = None, profile: str | None = None) -> tuple[Any, Any]:
    """``(GPT2LMHeadModel, tokenizer)`` from a folder made by ``save_pretrained`` or from a Hub id.

    Defined in Day 31. A Hub id goes through :func:`helpers.hub.load_pretrained` (pinned ``revision``, a clear
    error without a network, never in ``ci``); a local folder is read directly, in every profile.
    """
    from pathlib import Path

    from transformers import AutoTokenizer, GPT2LMHeadModel

    if Path(source).is_dir():
        return GPT2LMHeadModel.from_pretrained(source), AutoTokenizer.from_pretrained(source)
    from helpers.hub import load_pretrained

    kwargs = {"revision": revision} if revision else {}
    return load_pretrained(source, task="causal-lm", profile=profile, **kwargs)
