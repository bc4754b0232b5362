"""Prompting a chat model: ChatML by hand, label-word scoring with a cached prefix, word problems.

Defined in Day 33 (prompting). Day 41 (RAG) can reuse ``chatml`` and ``label_log_probs``.

- ``chatml(messages)`` builds the ChatML text that SmolLM2 and Qwen2.5 use
  (``<|im_start|>role\\ncontent<|im_end|>\\n``), so it can be compared with ``apply_chat_template``;
  ``check_turns`` rejects the conversation shapes that silently produce nonsense (a user's text sent
  as the assistant's turn, two user turns in a row).
- ``continuation_log_probs`` scores ``log P(continuation | prefix + context)`` for many rows in batches:
  the shared ``prefix`` (system prompt, few-shot examples) runs once and its key/value cache is reused;
  rows are padded on the right so that every token keeps the position it would have alone.
  ``label_log_probs`` uses it to score label words ("positive", "negative") after each prompt: a
  classifier with no training, deterministic and cheaper than generating.
- ``reference_log_prob`` is the same quantity from the library's own loss, one sequence at a time,
  without a cache: the reference that the tests and the notebook compare with.
- ``make_word_problems`` generates two-step arithmetic word problems with known answers, and
  ``last_number`` reads a model's final number, for chain-of-thought experiments.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

ROLES = ("system", "user", "assistant")


# ---------------------------------------------------------------------------------------- ChatML
def check_turns(messages: Sequence[dict[str, str]], expect_reply: bool = True) -> None:
    """Raise ``ValueError`` unless ``messages`` is a well-formed chat.

    Defined in Day 33. Every message is ``{"role": ..., "content": str}`` with a role in ``ROLES``; a
    system message may only come first; after it, user and assistant turns alternate, starting with the
    user. With ``expect_reply`` (we are about to ask the model for the assistant's next turn), the last
    message must be the user's: a conversation that ends with an assistant turn asks the model to reply
    to itself, which is what code that appends the user's text as an "assistant" message does.
    """
    if not messages:
        raise ValueError("messages is empty: pass at least one {'role': 'user', 'content': ...} message.")
    turns = list(messages)
    for i, message in enumerate(turns):
        if set(message) != {"role", "content"} or not isinstance(message["content"], str):
            raise ValueError(f"message {i} must be a dict with a 'role' and a string 'content', "
                             f"got {message!r}")
        if message["role"] not in ROLES:
            raise ValueError(f"message {i} has role {message['role']!r}; use one of {ROLES}.")
        if message["role"] == "system" and i > 0:
            raise ValueError(f"message {i} is a system message: put the system message first, once.")
    dialogue = turns[1:] if turns[0]["role"] == "system" else turns
    for i, message in enumerate(dialogue):
        expected = "user" if i % 2 == 0 else "assistant"
        if message["role"] != expected:
            raise ValueError(f"turn {i} after the system message is {message['role']!r}, "
                             f"expected {expected!r}: user and assistant turns must alternate, "
                             "starting with the user.")
    if expect_reply and (not dialogue or dialogue[-1]["role"] != "user"):
        raise ValueError("the last message must be the user's when asking for a reply; a user's text sent "
                         "with role 'assistant' makes the model continue its own turn instead of answering.")


def chatml(messages: Sequence[dict[str, str]], add_generation_prompt: bool = False,
           default_system: str | None = None) -> str:
    """The ChatML text of ``messages``: ``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per message.

    Defined in Day 33. ``add_generation_prompt`` appends ``<|im_start|>assistant\\n``, the cue for the
    model's reply. ``default_system`` is the system message that some templates insert when the
    conversation has none (SmolLM2's and Qwen2.5's do); ``None`` inserts nothing.
    """
    check_turns(messages, expect_reply=add_generation_prompt)
    turns = list(messages)
    if default_system is not None and turns[0]["role"] != "system":
        turns = [{"role": "system", "content": default_system}, *turns]
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in turns)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


# ------------------------------------------------------------------------------- label scoring
def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _batched_hidden(model: Any, prefix_ids: Sequence[int], inputs: Sequence[Sequence[int]],
                    batch_size: int) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, hidden)`` for each batch of ``inputs`` run after ``prefix_ids`` (whose cache runs once)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if any(not row for row in inputs):
        raise ValueError("every row needs at least one token after the prefix")
    device = next(model.parameters()).device
    cache = None
    if prefix_ids:
        prefix = torch.tensor([list(prefix_ids)], dtype=torch.long, device=device)
        cache = model.base_model(input_ids=prefix, use_cache=True).past_key_values
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start:start + batch_size]
        width = max(len(row) for row in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long, device=device)
        mask = torch.zeros(len(chunk), len(prefix_ids) + width, dtype=torch.long, device=device)
        mask[:, :len(prefix_ids)] = 1
        for r, row in enumerate(chunk):  # right padding: each token keeps the position it has alone
            ids[r, :len(row)] = torch.tensor(list(row), dtype=torch.long)
            mask[r, len(prefix_ids):len(prefix_ids) + len(row)] = 1
        past = None
        if cache is not None:  # the model appends to the cache it is given: each batch gets its own copy
            past = copy.deepcopy(cache)
            past.batch_repeat_interleave(len(chunk))
        output = model.base_model(input_ids=ids, attention_mask=mask, past_key_values=past,
                                  use_cache=past is not None)
        yield start, output.last_hidden_state


@torch.inference_mode()
def continuation_log_probs(model: Any, prefix_ids: Sequence[int],
                           rows: Sequence[tuple[Sequence[int], Sequence[int]]],
                           batch_size: int = 8) -> torch.Tensor:
    """``log P(continuation | prefix + context)`` for each ``(context, continuation)`` row, as float64.

    Defined in Day 33. The prefix runs once; each batch of rows starts from a copy of its key/value
    cache. Rows are padded on the right, so that every token has the position it would have alone, and
    only the hidden states of the positions that predict continuation tokens go through the output
    layer (a 49k-wide product per position is a large share of the cost otherwise). The model must
    compute its logits as ``get_output_embeddings()(hidden)``, as Llama, Qwen2, Mistral and GPT-2 do.
    """
    for i, (context, continuation) in enumerate(rows):
        if not context or not continuation:
            raise ValueError(f"row {i} needs a non-empty context and continuation (the context's last token "
                             "predicts the continuation's first)")
    head = model.get_output_embeddings()
    # the last continuation token is never an input: no position predicts what comes after it
    inputs = [list(context) + list(continuation)[:-1] for context, continuation in rows]
    scores = torch.zeros(len(rows), dtype=torch.float64)
    for start, hidden in _batched_hidden(model, prefix_ids, inputs, batch_size):
        for r in range(hidden.shape[0]):
            context, continuation = rows[start + r]
            # the token at position t is predicted by the hidden state at t - 1
            first = len(context) - 1
            positions = torch.arange(first, first + len(continuation), device=hidden.device)
            targets = torch.tensor(list(continuation), dtype=torch.long, device=hidden.device)
            log_probs = torch.log_softmax(head(hidden[r, positions]).float(), dim=-1)
            scores[start + r] = log_probs.gather(1, targets[:, None]).sum().double().cpu()
    return scores


@torch.inference_mode()
def next_token_log_probs(model: Any, prefix_ids: Sequence[int], contexts: Sequence[Sequence[int]],
                         tokens: Sequence[int], batch_size: int = 8) -> torch.Tensor:
    """``log P(token | prefix + context)`` for every context and token: ``(len(contexts), len(tokens))``.

    Defined in Day 33. One row per context, whatever the number of tokens: the log-softmax at the last
    position holds the probability of every next token at once.
    """
    head = model.get_output_embeddings()
    columns = torch.tensor(list(tokens), dtype=torch.long)
    scores = torch.zeros(len(contexts), len(tokens), dtype=torch.float64)
    for start, hidden in _batched_hidden(model, prefix_ids, contexts, batch_size):
        n = hidden.shape[0]
        last = torch.tensor([len(contexts[start + r]) - 1 for r in range(n)], device=hidden.device)
        rows = hidden[torch.arange(n, device=hidden.device), last]
        log_probs = torch.log_softmax(head(rows).float(), dim=-1)
        scores[start:start + n] = log_probs[:, columns.to(hidden.device)].double().cpu()
    return scores


def label_log_probs(model: Any, tokenizer: Any, prefix: str, queries: Sequence[str], labels: Sequence[str],
                    batch_size: int = 8) -> torch.Tensor:
    """A ``(len(queries), len(labels))`` tensor: ``log P(label | prefix + query)`` for every pair (float64).

    Defined in Day 33. The texts are tokenized separately and the ids concatenated, which equals
    tokenizing the whole text when the pieces meet at special tokens or line breaks (ChatML does; the
    notebook checks it). When every label is one token, each query runs once whatever the number of
    labels; otherwise each (query, label) pair is a row.
    """
    if not queries or not labels:
        raise ValueError("need at least one query and one label")
    label_ids = [_ids(tokenizer, label) for label in labels]
    if any(not ids for ids in label_ids):
        raise ValueError(f"a label tokenizes to nothing: {labels!r}")
    prefix_ids = _ids(tokenizer, prefix) if prefix else []
    contexts = [_ids(tokenizer, query) for query in queries]
    if all(len(ids) == 1 for ids in label_ids):
        return next_token_log_probs(model, prefix_ids, contexts, [ids[0] for ids in label_ids], batch_size)
    rows = [(context, ids) for context in contexts for ids in label_ids]
    return continuation_log_probs(model, prefix_ids, rows, batch_size).view(len(queries), len(labels))


@torch.inference_mode()
def reference_log_prob(model: Any, context_ids: Sequence[int], continuation_ids: Sequence[int]) -> float:
    """``log P(continuation | context)`` from the library's own loss: one sequence, no cache, no padding.

    Defined in Day 33. Labels ``-100`` on the context make ``model(...).loss`` the mean negative
    log-likelihood of the continuation tokens; times their number, it is minus the summed log-probability.
    """
    if not context_ids or not continuation_ids:
        raise ValueError("need a non-empty context and continuation")
    device = next(model.parameters()).device
    ids = torch.tensor([list(context_ids) + list(continuation_ids)], dtype=torch.long, device=device)
    labels = ids.clone()
    labels[:, :len(context_ids)] = -100
    loss = model(input_ids=ids, labels=labels).loss
    return -float(loss.double()) * len(continuation_ids)


# ------------------------------------------------------------------------------- word problems
@dataclass(frozen=True)
class WordProblem:
    """An arithmetic word problem, its answer, its number of operations, and a worked solution."""

    question: str
    answer: int
    n_steps: int
    steps: str


_NAMES = ("Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam")
_THINGS = ("apples", "pencils", "stickers", "cookies", "marbles", "books", "stamps", "shells")


def _one_step(rng: random.Random, name: str, thing: str) -> WordProblem:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    kind = rng.randrange(3)
    if kind == 0:
        return WordProblem(f"{name} has {a} {thing} and buys {b} more. How many {thing} does {name} have?",
                           a + b, 1, f"{a} + {b} = {a + b}.")
    if kind == 1:
        a += b  # never negative
        return WordProblem(f"{name} has {a} {thing} and gives away {b}. How many {thing} are left?",
                           a - b, 1, f"{a} - {b} = {a - b}.")
    return WordProblem(f"{name} has {a} bags with {b} {thing} in each bag. "
                       f"How many {thing} does {name} have?", a * b, 1, f"{a} x {b} = {a * b}.")


def _two_steps(rng: random.Random, name: str, thing: str) -> WordProblem:
    a, b, c = rng.randint(2, 9), rng.randint(2, 6), rng.randint(2, 9)
    kind = rng.randrange(3)
    if kind == 0:  # a + b * c
        return WordProblem(f"{name} has {a} {thing}. {name} buys {b} bags with {c} {thing} in each bag. "
                           f"How many {thing} does {name} have now?", a + b * c, 2,
                           f"{b} bags of {c} is {b} x {c} = {b * c}. {a} + {b * c} = {a + b * c}.")
    if kind == 1:  # b * c - a, with a < b * c
        a = rng.randint(1, b * c - 1)
        return WordProblem(f"{name} has {b} boxes with {c} {thing} in each box and gives away {a} {thing}. "
                           f"How many {thing} are left?", b * c - a, 2,
                           f"{b} boxes of {c} is {b} x {c} = {b * c}. {b * c} - {a} = {b * c - a}.")
    a += b  # a - b + c, never negative
    return WordProblem(f"{name} has {a} {thing}, loses {b} and then finds {c} more. "
                       f"How many {thing} does {name} have?", a - b + c, 2,
                       f"{a} - {b} = {a - b}. {a - b} + {c} = {a - b + c}.")


def make_word_problems(n: int, seed: int = 0) -> list[WordProblem]:
    """``n`` arithmetic word problems with small numbers, alternately of one and two operations.

    Defined in Day 33. One operation: a purchase (a + b), a gift (a - b), bags (a x b); two: a
    purchase of bags (a + b x c), a gift from boxes (b x c - a), a loss and a find (a - b + c). Names
    and objects vary; answers are positive integers; the same ``seed`` gives the same problems.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = random.Random(seed)
    problems = []
    for i in range(n):
        name, thing = rng.choice(_NAMES), rng.choice(_THINGS)
        problems.append(_one_step(rng, name, thing) if i % 2 == 0 else _two_steps(rng, name, thing))
    return problems


_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def last_number(text: str) -> float | None:
    """The last number written in ``text`` (``"3 + 4 = 7."`` -> 7.0), or None when there is none.

    Defined in Day 33. Thousands separators are dropped (``"1,200"`` -> 1200.0). Reading the last number
    is the usual way to grade a chain of thought: the answer comes after the reasoning.
    """
    found = _NUMBER.findall(text)
    return float(found[-1].replace(",", "")) if found else None
