"""Generative QA and translation with a decoder: prompts, answer-only labels, batched greedy decoding.

Defined in Day 32. A causal language model answers a question, or translates a sentence, by continuing a
prompt. Everything here serves that one idea:

- :func:`qa_prompt` and :func:`translation_prompt` write the prompts (the 2024 series' ``### Context:`` /
  ``### Question:`` / ``### Answer:`` template, the 2025 series' "Translate ... =>" line); the rows are
  ``{"prompt", "completion"}`` dicts, TRL's prompt/completion format, so the same rows feed TRL;
- :class:`PromptCompletionCollator` tokenises the prompt and the completion (plus EOS), concatenates them
  and pads the *whole* sequence on the right, so there is never a pad in the middle, with labels ``-100`` on
  the prompt and on the pads: the loss counts the answer only (equal to TRL's ``SFTTrainer`` masking,
  tested);
- :func:`completion_loss` computes that loss applying the output layer only where a label is kept (the same
  number as ``model(**batch).loss``, for a fraction of the head's cost);
- :func:`left_pad` and :func:`greedy_generate` decode a batch of prompts of different lengths: left padding,
  position ids that skip the pads, a KV cache; equal to ``model.generate`` and to one-by-one decoding;
- :func:`generate_completions` returns the text of the new tokens only, cut at the pads' column (not at each
  prompt's own length, the 2025 series' bug).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

#: The label value that ``cross_entropy`` (and every Hugging Face model) ignores.
IGNORE_INDEX = -100

#: The completion taught for an unanswerable SQuAD v2 question (scored as the empty answer).
NO_ANSWER = "no answer"


# ---------------------------------------------------------------- prompts and rows
def qa_prompt(context: str, question: str) -> str:
    """The 2024 series' QA template: ``### Context:``, ``### Question:``, ``### Answer:`` headers.

    Defined in Day 32. The prompt ends with ``"### Answer:"`` and the completion starts with a space, so
    the prompt ends on a token boundary: its tokens are a prefix of the tokens of prompt + completion.
    """
    return f"### Context:\n{context.strip()}\n### Question:\n{question.strip()}\n### Answer:"


def translation_prompt(source: str, source_language: str = "English", target_language: str = "German") -> str:
    """The 2025 series' prompt, ``"Translate English to German: <sentence> =>"``. Defined in Day 32."""
    return f"Translate {source_language} to {target_language}: {source.strip()} =>"


def qa_row(row: dict[str, Any]) -> dict[str, str]:
    """A SQuAD-v2 row (``context``, ``question``, ``answers.text``) as ``{"prompt", "completion", "id"}``.

    Defined in Day 32. Unanswerable questions get the completion ``NO_ANSWER``; the first gold answer is
    the target of answerable ones.
    """
    answers = [text for text in row["answers"]["text"] if text.strip()]
    answer = answers[0] if answers else NO_ANSWER
    return {"prompt": qa_prompt(row["context"], row["question"]), "completion": " " + answer.strip(),
            "id": row["id"], "task": "qa"}


def translation_row(source: str, target: str) -> dict[str, str]:
    """An (English, German) pair as ``{"prompt", "completion"}``. Defined in Day 32."""
    return {"prompt": translation_prompt(source), "completion": " " + target.strip(), "task": "translation"}


def answer_for_scoring(text: str) -> str:
    """A generated answer as SQuAD v2 scores it: ``NO_ANSWER`` becomes the empty answer ``""``."""
    return "" if text.strip().lower().rstrip(".") == NO_ANSWER else text.strip()


def sample_rows(rows: Sequence[dict[str, Any]], n: int | None, seed: int) -> list[dict[str, Any]]:
    """``n`` rows drawn without replacement in a fixed order (all of them, shuffled, if ``n`` is None)."""
    items = list(rows)
    random.Random(seed).shuffle(items)
    return items[:n]


# ---------------------------------------------------------------- labels: the answer only, pads at the end
def encode_prompt_completion(tokenizer: Any, prompt: str, completion: str) -> dict[str, list[int]]:
    """Ids of prompt + completion + EOS, with labels ``-100`` on the prompt. Defined in Day 32.

    The two parts are tokenised separately and concatenated, so the prompt's tokens are exactly those the
    model sees at inference (where it only gets the prompt). EOS stays a target: the model learns to stop.
    """
    if tokenizer.eos_token is None:
        raise ValueError("The tokenizer has no EOS token: the completions could not end.")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completion + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    if not prompt_ids:
        raise ValueError("Empty prompt: a completion needs something to continue.")
    ids = list(prompt_ids) + list(completion_ids)
    return {"input_ids": ids, "labels": [IGNORE_INDEX] * len(prompt_ids) + list(completion_ids)}


class PromptCompletionCollator:
    """Tokenise ``{"prompt", "completion"}`` rows and pad them on the right into a batch. Defined in Day 32.

    Pads go after the EOS of each row, never between prompt and answer: ``input_ids`` get ``pad_token_id``,
    ``attention_mask`` 0 and ``labels`` ``-100``. Labels are masked by position, not by id, so a real EOS
    that shares its id with the pad token stays a target. Rows longer than ``max_length`` raise an error
    (filter them first with :meth:`fits`): cutting them would cut the answer.
    """

    def __init__(self, tokenizer: Any, max_length: int | None = None) -> None:
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad is None:
            raise ValueError("The tokenizer has neither a pad nor an EOS token: set tokenizer.pad_token.")
        self.tokenizer, self.pad_token_id, self.max_length = tokenizer, int(pad), max_length

    def fits(self, row: dict[str, str]) -> bool:
        """Whether the row's prompt + completion + EOS has at most ``max_length`` tokens."""
        if self.max_length is None:
            return True
        return len(encode_prompt_completion(self.tokenizer, row["prompt"], row["completion"])["input_ids"]) \
            <= self.max_length

    def __call__(self, rows: Sequence[dict[str, str]]) -> dict[str, torch.Tensor]:
        if not rows:
            raise ValueError("Cannot collate an empty batch.")
        encoded = [encode_prompt_completion(self.tokenizer, row["prompt"], row["completion"]) for row in rows]
        width = max(len(item["input_ids"]) for item in encoded)
        if self.max_length is not None and width > self.max_length:
            raise ValueError(f"A row has {width} tokens, more than max_length={self.max_length}: filter the "
                             "rows with collator.fits(row) before batching them.")
        batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        for item in encoded:
            fill = width - len(item["input_ids"])
            batch["input_ids"].append(item["input_ids"] + [self.pad_token_id] * fill)
            batch["attention_mask"].append([1] * len(item["input_ids"]) + [0] * fill)
            batch["labels"].append(item["labels"] + [IGNORE_INDEX] * fill)
        return {key: torch.tensor(value, dtype=torch.long) for key, value in batch.items()}


def completion_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean next-token cross-entropy over the kept labels, the head applied only where a label is kept.

    Defined in Day 32. Equals ``model(**batch).loss`` of a Hugging Face causal LM (labels shifted by one,
    ``-100`` ignored), but the output layer (576 x 49,152 for SmolLM2) runs on the answer positions only
    instead of every position: on QA prompts that is most of the head's cost saved. Works for plain
    ``*ForCausalLM`` models and for PEFT models wrapping one.
    """
    labels = batch["labels"]
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal.base_model(input_ids=batch["input_ids"],
                               attention_mask=batch.get("attention_mask")).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    if not keep.any():
        raise ValueError("No label is kept in this batch (every label is -100): nothing to learn.")
    logits = causal.get_output_embeddings()(hidden[:, :-1][keep])
    return F.cross_entropy(logits.float(), targets[keep])


# ---------------------------------------------------------------- batched greedy decoding
def left_pad(tokenizer: Any, prompts: Sequence[str],
             device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Token ids of ``prompts`` padded on the *left*, so that every prompt ends in the last column.

    Defined in Day 32. Generation appends new tokens on the right: with right padding a short prompt would
    be followed by pads and then its answer.
    """
    if not prompts:
        raise ValueError("No prompts to pad.")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    width = max(len(row) for row in ids)
    input_ids = torch.tensor([[pad] * (width - len(row)) + row for row in ids], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in ids], dtype=torch.long)
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}


@torch.inference_mode()
def greedy_generate(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new_tokens: int,
                    eos_token_id: int, pad_token_id: int) -> torch.Tensor:
    """Greedy decoding of a left-padded batch, written out: the new tokens, ``[batch, <= max_new_tokens]``.

    Defined in Day 32. Three details make a padded row decode exactly like the same prompt alone:
    the attention mask hides the pads; the position ids count real tokens only (``cumsum(mask) - 1``, so
    the first real token is at position 0 whatever the padding); and the KV cache keeps the keys and values
    of every earlier column, so each step feeds one new token per row. A row that has produced EOS gets
    ``pad_token_id`` afterwards; decoding stops when every row has finished.
    """
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if input_ids.shape != attention_mask.shape:
        raise ValueError("input_ids and attention_mask must have the same shape (left-padded batch).")
    mask = attention_mask.clone()
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
    past, logits = out.past_key_values, out.logits[:, -1]
    finished = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    new_tokens = []
    for _ in range(max_new_tokens):
        token = logits.argmax(-1)
        token = torch.where(finished, torch.full_like(token, pad_token_id), token)
        new_tokens.append(token)
        finished |= token == eos_token_id
        if finished.all():
            break
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        positions = positions[:, -1:] + 1
        out = model(input_ids=token[:, None], attention_mask=mask, position_ids=positions,
                    past_key_values=past, use_cache=True)
        past, logits = out.past_key_values, out.logits[:, -1]
    return torch.stack(new_tokens, dim=1)


def cut_at_eos(tokens: Sequence[int], eos_token_id: int) -> list[int]:
    """The tokens before the first EOS (all of them if there is none)."""
    tokens = list(tokens)
    return tokens[: tokens.index(eos_token_id)] if eos_token_id in tokens else tokens


def generate_completions(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int,
                         batch_size: int = 16, first_line: bool = True) -> list[str]:
    """Greedy completions of ``prompts`` (text of the new tokens only, stripped), in batches.

    Defined in Day 32. Uses ``model.generate`` on left-padded batches; the new tokens of every row start
    at the padded width ``input_ids.shape[1]``, the same column for all rows. ``first_line`` keeps the text
    before the first newline (a model that has not learned to stop goes on with a new "### ..." block).
    """
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    device = next(model.parameters()).device
    texts = []
    for start in range(0, len(prompts), batch_size):
        batch = left_pad(tokenizer, prompts[start : start + batch_size], device)
        with torch.inference_mode():
            output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                    eos_token_id=eos, pad_token_id=pad)
        for row in output[:, batch["input_ids"].shape[1] :].tolist():
            text = tokenizer.decode(cut_at_eos(row, eos), skip_special_tokens=True).strip()
            texts.append(text.split("\n")[0].strip() if first_line else text)
    return texts


# ---------------------------------------------------------------- data
def load_qa_rows(split: str, source: str, context_sentences: int = 3) -> list[dict[str, Any]]:
    """SQuAD-v2 rows (the ``rajpurkar/squad_v2`` schema) for ``split`` (``train`` or ``validation``).

    Defined in Day 32. ``source="lee"`` builds day 29's offline stand-in from gensim's Lee corpus with
    ``context_sentences`` sentences per context (1 keeps the prompts short for a CPU); ``"squad_v2"``
    downloads the real set from the Hub (a failure raises ``MissingDataError`` naming ``COURSE_PROFILE=ci``).
    """
    from helpers.corpora import squad

    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}.")
    if source == "lee":
        built = squad.build_lee_squad(n_context_sentences=context_sentences)
        return squad.flatten_squad(built["data"][split])
    if source == "squad_v2":
        return squad.load_squad_v2_rows(split, profile="laptop")  # the Hub, whatever the profile
    raise ValueError(f"Unknown QA source {source!r}: use 'lee' (offline) or 'squad_v2' (downloads).")
