"""SQuAD v2 questions in the prompt format of the 2023 GPT-J LoRA recipe (day 34 under ``laptop``/``gpu``).

The data download with ``datasets`` (``rajpurkar/squad_v2``, CC BY-SA 4.0); there is no offline copy, so
``ci`` uses the chatterbot dialogues of ``helpers.dialogues`` instead. Each question becomes an
``Exchange`` that ``helpers.dialogues.encode_exchange`` tokenises with the prompt masked.
"""

from __future__ import annotations

from typing import Any

from helpers.data import MissingDataError
from helpers.dialogues import Exchange

#: The 2023 recipe's instruction and its answer for unanswerable SQuAD v2 questions.
SQUAD_INSTRUCTION = "Read the context and question to find the correct answer:"
SQUAD_UNANSWERABLE = "answers not in context"


def squad_prompt(context: str, question: str) -> str:
    """The 2023 recipe's prompt: instruction, then ``context:``, ``question:`` and ``answer:`` lines.

    Defined in Day 34.
    """
    return f"{SQUAD_INSTRUCTION}\ncontext: {context}\nquestion: {question}\nanswer:"


def squad_exchange(row: dict[str, Any]) -> Exchange:
    """A SQuAD v2 row (``context``, ``question``, ``answers.text``) as an Exchange."""
    answers = row["answers"]["text"]
    answer = answers[0] if answers else SQUAD_UNANSWERABLE
    return Exchange(squad_prompt(row["context"], row["question"]), " " + answer, row.get("title", ""))


def load_squad_v2_exchanges(split: str = "train", first_paragraph_only: bool = True) -> list[Exchange]:
    """SQuAD v2 questions as Exchanges (needs the network the first time; ``datasets`` caches it).

    ``first_paragraph_only`` keeps the questions about the first paragraph of each article, as the
    2023 recipe did (about 3.9k questions, a quarter of them unanswerable).
    """
    from datasets import load_dataset

    try:
        rows = load_dataset("rajpurkar/squad_v2", split=split)
    except (ConnectionError, OSError) as err:
        raise MissingDataError(
            f"Could not download SQuAD v2 (rajpurkar/squad_v2, split {split!r}): {err}. Check the network, "
            "or run with COURSE_PROFILE=ci, which fine-tunes on the packaged chatterbot dialogues instead."
        ) from err
    first_context: dict[str, str] = {}
    exchanges = []
    for row in rows:
        first = first_context.setdefault(row["title"], row["context"])
        if first_paragraph_only and row["context"] != first:
            continue
        exchanges.append(squad_exchange(row))
    return exchanges
