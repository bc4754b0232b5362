"""Supervised fine-tuning (SFT) of a chat model by hand: chat-template examples, answer-only loss, NEFTune.

Defined in Day 36 (QLoRA SFT). Each piece is the hand-written counterpart of what TRL's ``SFTTrainer``
does for a conversational prompt/completion dataset, so the day can compare them:

- ``encode_chat_completion``: the prompt messages rendered by the chat template with the generation prompt,
  then the whole conversation; labels are ``-100`` on the prompt's tokens, so only the answer is learned;
- ``pad_batch`` and ``completion_loss``: right padding with ``-100`` labels, and the mean cross-entropy of
  the next token over the answer tokens;
- ``add_neftune``: NEFTune's uniform noise on the input embeddings while training (Jain et al., 2023).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

#: The label that cross-entropy (and every Hugging Face model) ignores.
IGNORE_INDEX = -100


def chat_messages(prompt: str, answer: str | None = None) -> list[dict[str, str]]:
    """A user turn, and the assistant's answer when given, in the chat-template format."""
    messages = [{"role": "user", "content": prompt}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def encode_chat_completion(tokenizer: Any, prompt: str, answer: str,
                           max_length: int | None = None) -> dict[str, list[int]]:
    """Token ids of a one-turn chat and labels that keep the answer only.

    Defined in Day 36. The prompt is the user turn rendered with ``add_generation_prompt=True`` (it ends
    with the assistant header); the full text is the conversation with the answer, which the template closes
    with its end-of-turn token. The prompt's tokens get the label ``-100``. Too long examples are cut at
    ``max_length`` from the right, as TRL does.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("This tokenizer has no chat template: SFT on chats needs an instruct tokenizer.")
    prompt_text = tokenizer.apply_chat_template(chat_messages(prompt), tokenize=False,
                                                add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(chat_messages(prompt, answer), tokenize=False)
    if not full_text.startswith(prompt_text):
        raise ValueError("The chat template renders the prompt differently once an answer follows it: "
                         "the answer's tokens cannot be found by position.")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    input_ids = tokenizer(full_text, add_special_tokens=False)["input_ids"]
    if input_ids[: len(prompt_ids)] != prompt_ids:
        raise ValueError("The prompt tokenises differently inside the full conversation.")
    labels = [IGNORE_INDEX] * len(prompt_ids) + input_ids[len(prompt_ids):]
    if max_length is not None:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


def pad_batch(features: Sequence[dict[str, Sequence[int]]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Pad on the right: ``pad_token_id`` in the ids, 0 in the mask, ``-100`` in the labels."""
    if not features:
        raise ValueError("Cannot pad an empty batch.")
    width = max(len(item["input_ids"]) for item in features)
    fills = {"input_ids": pad_token_id, "attention_mask": 0, "labels": IGNORE_INDEX}
    return {key: torch.tensor([list(item[key]) + [fill] * (width - len(item[key])) for item in features])
            for key, fill in fills.items()}


def completion_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over the positions whose label is not ``-100``.

    Defined in Day 36. The logits at position ``t`` predict the token at ``t + 1``, so labels are shifted
    left by one, as every causal language model in transformers does internally.
    """
    if logits.shape[:2] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} disagree")
    shifted = labels[:, 1:]
    if not bool((shifted != IGNORE_INDEX).any()):
        raise ValueError("Every label is -100: there is no answer token to learn.")
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), shifted.flatten(), ignore_index=IGNORE_INDEX)


def neftune_bound(alpha: float, seq_len: int, hidden_size: int) -> float:
    """NEFTune's noise bound alpha / sqrt(L * d): each coordinate's noise is uniform in [-bound, bound]."""
    if alpha < 0 or seq_len < 1 or hidden_size < 1:
        raise ValueError("alpha must be >= 0, and the sequence length and hidden size positive")
    return alpha / math.sqrt(seq_len * hidden_size)


def add_neftune(embedding: nn.Module, alpha: float) -> torch.utils.hooks.RemovableHandle:
    """Register NEFTune on ``embedding``: in training mode, add uniform noise to its output.

    Defined in Day 36. The noise of a batch of shape (B, L, d) is uniform in ``[-b, b]`` with
    ``b = alpha / sqrt(L * d)``; in evaluation mode the embedding is untouched. Returns the hook's handle:
    ``handle.remove()`` switches NEFTune off.
    """
    def hook(module: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        if not module.training:
            return output
        bound = neftune_bound(alpha, output.shape[1], output.shape[2])
        return output + torch.empty_like(output).uniform_(-bound, bound)

    return embedding.register_forward_hook(hook)
