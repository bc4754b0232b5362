"""Prompt/answer pairs for fine-tuning a causal language model, tokenised with the prompt masked.

Sources of pairs, one tokenisation:

- ``load_chatterbot_dialogues``: the English dialogues that the ``chatterbot-corpus`` PyPI package
  ships (offline; ``conversations: [[prompt, reply, ...], ...]`` in YAML files, one per topic);
- SQuAD v2 questions in the 2023 GPT-J LoRA recipe's format live in ``helpers.corpora.squad`` (their
  names still import from here);
- ``encode_exchange`` turns a pair into ``input_ids`` and ``labels`` where the prompt tokens are
  ``-100`` (ignored by the loss), and ``CausalLMCollator`` pads a batch with ``-100`` labels on the
  pads, so the loss is the loss of the answer tokens only.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

#: The label value that ``torch.nn.functional.cross_entropy`` (and every HF model) ignores.
IGNORE_INDEX = -100

#: Names that moved to ``helpers.corpora.squad`` and still import from here.
_SQUAD_NAMES = ("SQUAD_INSTRUCTION", "SQUAD_UNANSWERABLE", "squad_prompt", "squad_exchange",
                "load_squad_v2_exchanges")


@dataclass(frozen=True)
class Exchange:
    """One prompt and the answer the model should learn to give."""

    prompt: str
    answer: str
    topic: str = ""


def __getattr__(name: str) -> Any:
    """``helpers.dialogues.load_squad_v2_exchanges`` and friends, from ``helpers.corpora.squad``."""
    if name in _SQUAD_NAMES:
        from helpers.corpora import squad

        return getattr(squad, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- chatterbot-corpus (offline)
def chatterbot_data_dir(language: str = "english") -> Path:
    """The folder of ``chatterbot-corpus`` YAML files for ``language`` (located without importing)."""
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The dialogues come from the PyPI package 'chatterbot-corpus': "
            "pip install --no-deps chatterbot-corpus==1.3.3"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "data" / language
    if not folder.is_dir():
        languages = sorted(p.name for p in folder.parent.iterdir() if p.is_dir())
        raise ValueError(f"chatterbot-corpus has no language {language!r}; available: {', '.join(languages)}")
    return folder


def load_chatterbot_dialogues(
    topics: Sequence[str] | None = None,
    language: str = "english",
    unique_prompts: bool = True,
) -> list[Exchange]:
    """The first (prompt, reply) exchange of every chatterbot-corpus conversation.

    Args:
        topics: file stems such as ``["ai", "trivia"]``; None reads every topic of ``language``.
        language: a folder of ``chatterbot_corpus/data`` (``english``, ``chinese``...).
        unique_prompts: keep only the first reply to a prompt that appears several times (the corpus
            often lists alternatives), so that a prompt cannot land in both train and valid splits.
    Returns:
        Exchanges in a fixed order (topics sorted by name, conversations in file order).
    """
    import yaml

    folder = chatterbot_data_dir(language)
    available = sorted(path.stem for path in folder.glob("*.yml"))
    wanted = sorted(topics) if topics is not None else available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise ValueError(f"Unknown chatterbot topics {unknown}; available: {', '.join(available)}")
    exchanges, seen = [], set()
    for topic in wanted:
        document = yaml.safe_load((folder / f"{topic}.yml").read_text(encoding="utf-8")) or {}
        for conversation in document.get("conversations", []):
            if not isinstance(conversation, list) or len(conversation) < 2:
                continue
            prompt, answer = (str(turn).strip() for turn in conversation[:2])
            if not prompt or not answer or (unique_prompts and prompt in seen):
                continue
            seen.add(prompt)
            exchanges.append(Exchange(prompt, answer, topic))
    return exchanges


# ---------------------------------------------------------------- splitting
def split_exchanges(
    exchanges: Sequence[Exchange],
    valid_fraction: float = 0.2,
    max_train: int | None = None,
    max_valid: int | None = None,
    shuffle_seed: int | None = 0,
) -> tuple[list[Exchange], list[Exchange]]:
    """Deterministic train/valid split; ``shuffle_seed=None`` keeps the order (valid = the tail)."""
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    items = list(exchanges)
    if len(items) < 2:
        raise ValueError(f"Need at least 2 exchanges to split, got {len(items)}")
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(items)
    n_valid = max(1, round(len(items) * valid_fraction))
    train, valid = items[:-n_valid], items[-n_valid:]
    return train[:max_train], valid[:max_valid]


# ---------------------------------------------------------------- tokenisation with the prompt masked
def format_prompt(tokenizer: Any, prompt: str, chat_template: bool) -> str:
    """The text the model reads before its answer: the chat template's user turn, or ``prompt`` as is."""
    if not chat_template:
        return prompt
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("This tokenizer has no chat template: set chat_template=False for a base model.")
    messages = [{"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def encode_exchange(
    tokenizer: Any, exchange: Exchange, max_length: int, chat_template: bool = True
) -> dict[str, list[int]] | None:
    """Token ids of prompt + answer + EOS, with labels ``-100`` on the prompt tokens.

    The answer ends with the tokenizer's EOS token, which stays in the labels, so the model learns
    to stop. Returns None when the whole sequence is longer than ``max_length`` (cutting it would
    cut the answer or the question, so the example is dropped instead).
    """
    if tokenizer.eos_token is None:
        raise ValueError("The tokenizer has no EOS token: the answers could not end.")
    prompt_ids = tokenizer(format_prompt(tokenizer, exchange.prompt, chat_template),
                           add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(exchange.answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    input_ids = list(prompt_ids) + list(answer_ids)
    if len(input_ids) > max_length:
        return None
    labels = [IGNORE_INDEX] * len(prompt_ids) + list(answer_ids)
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


def encode_exchanges(
    tokenizer: Any, exchanges: Sequence[Exchange], max_length: int, chat_template: bool = True
) -> list[dict[str, list[int]]]:
    """``encode_exchange`` over a list, dropping (and counting in a printed line) the ones too long."""
    encoded = [encode_exchange(tokenizer, ex, max_length, chat_template) for ex in exchanges]
    kept = [item for item in encoded if item is not None]
    if len(kept) < len(encoded):
        dropped = len(encoded) - len(kept)
        print(f"dropped {dropped} of {len(encoded)} exchanges longer than {max_length} tokens")
    if not kept:
        raise ValueError(f"Every exchange is longer than max_length={max_length}: raise it.")
    return kept


@dataclass
class CausalLMCollator:
    """Pad a list of ``encode_exchange`` outputs on the right into a batch of tensors.

    Pads get ``pad_token_id`` in ``input_ids``, 0 in ``attention_mask`` and ``-100`` in ``labels``.
    The labels are masked by position, not by id: with ``pad = eos`` (GPT-J, SmolLM2) masking every
    ``labels == pad_token_id`` would also mask the real EOS, and the model would never learn to stop.
    Works as a ``DataLoader`` ``collate_fn`` and as a ``transformers.Trainer`` ``data_collator``.
    """

    pad_token_id: int

    def __call__(self, features: Sequence[dict[str, Sequence[int]]]) -> dict[str, torch.Tensor]:
        if not features:
            raise ValueError("Cannot collate an empty batch.")
        width = max(len(item["input_ids"]) for item in features)
        fills = {"input_ids": self.pad_token_id, "attention_mask": 0, "labels": IGNORE_INDEX}
        batch = {}
        for key, fill in fills.items():
            rows = [list(item[key]) + [fill] * (width - len(item[key])) for item in features]
            batch[key] = torch.tensor(rows, dtype=torch.long)
        return batch
