"""SQuAD v2: prompts for day 34's LoRA recipe, and extractive-QA rows for day 29 (with an offline stand-in).

Day 34 (``laptop``/``gpu``): SQuAD v2 questions in the prompt format of the 2023 GPT-J LoRA recipe.
Day 29: ``load_squad_v2_rows`` returns rows in the schema of ``datasets.load_dataset("rajpurkar/squad_v2")``
(``id``, ``title``, ``context``, ``question``, ``answers{text, answer_start}``). Outside ``ci`` they come from
the Hub; ``ci`` reads ``lee_squad_v2.json``, a SQuAD-v2-format file that ``write_lee_squad`` builds
deterministically from gensim's Lee news corpus (see ``build_lee_squad`` for how), through the same flattening
as the official SQuAD JSON files.

The data download with ``datasets`` (``rajpurkar/squad_v2``, CC BY-SA 4.0); there is no offline copy, so
``ci`` uses the chatterbot dialogues of ``helpers.dialogues`` instead. Each question becomes an
``Exchange`` that ``helpers.dialogues.encode_exchange`` tokenises with the prompt masked.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
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


# --- Day 29: extractive QA rows, and a SQuAD-v2-format stand-in built from the Lee corpus -------------------

SQUAD_V2_ID = "rajpurkar/squad_v2"
LEE_SQUAD_VERSION = 1  # bump when build_lee_squad changes, so a stale cached file is rebuilt
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
# answer candidates: numbers (with , . : inside) or runs of capitalised words (names, places, months)
_CANDIDATE = re.compile(r"\b\d[\d,.:]*\d\b|\b\d\b|\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+)*\b")
_STOP_CAPS = {"The", "A", "An", "He", "She", "It", "They", "We", "I", "In", "On", "At", "But", "And", "Mr",
              "Ms", "Mrs", "Dr", "This", "That", "There", "His", "Her", "Their", "Its", "If", "As", "For",
              "After"}


def _sentences(paragraph: str) -> list[tuple[int, str]]:
    """``(character offset, sentence)`` pairs of a paragraph."""
    out, start = [], 0
    for match in _SENTENCE_END.finditer(paragraph):
        out.append((start, paragraph[start:match.start()]))
        start = match.end()
    out.append((start, paragraph[start:]))
    return [(o, s) for o, s in out if s.strip()]


def _cloze(sentence: str, rng: random.Random, window: int = 9) -> tuple[str, int, str] | None:
    """Pick an answer in ``sentence`` and turn the sentence into a question: ``(answer, offset, question)``.

    The answer is replaced by a wh-word (``how many`` before a lower-case word for numbers, else ``what``),
    and only ``window`` words either side are kept, so the question is a cropped cloze, not the sentence.
    """
    found = [m for m in _CANDIDATE.finditer(sentence) if m.start() > 0 and m.group() not in _STOP_CAPS]
    if not found:
        return None
    match = rng.choice(found)
    before, after = sentence[:match.start()].split(), sentence[match.end():].split()
    number = match.group()[0].isdigit()
    wh = "how many" if number and after and after[0][:1].islower() else "what"
    words = before[-window:] + [wh] + after[:window]
    question = re.sub(r"\s+([,;:])", r"\1", " ".join(words)).strip(".,;:!?\"' ") + "?"
    return match.group(), match.start(), question[0].upper() + question[1:]


def build_lee_squad(n_context_sentences: int = 3, answerable_per_paragraph: int = 2,
                    unanswerable_per_paragraph: int = 1, valid_every: int = 4,
                    seed: int = 29) -> dict[str, Any]:
    """A SQuAD-v2-format dict built from gensim's Lee corpus (300 Australian news paragraphs, real text).

    Defined in Day 29. How: each paragraph's first ``n_context_sentences`` sentences are the context.
    Answerable questions: a sentence of the context, an answer picked at random among its numbers and
    capitalised names (not the first word), and the sentence turned into a cropped cloze question (the
    answer replaced by "what"/"how many", nine words kept each side). Unanswerable questions: the same
    construction on a *later* sentence of the same paragraph, kept only if its answer does not occur in the
    context, so the question is on topic but its answer is absent (SQuAD v2's ``is_impossible``, with
    ``plausible_answers``).
    Every ``valid_every``-th paragraph goes to the validation split. Deterministic for a given ``seed``.
    """
    from helpers.corpora.gensim_data import load_lee_background

    rng = random.Random(seed)
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "validation": []}
    for p, paragraph in enumerate(load_lee_background()):
        sents = _sentences(paragraph.strip())
        if len(sents) <= n_context_sentences:
            continue
        last_offset, last = sents[n_context_sentences - 1]
        context = paragraph.strip()[:last_offset + len(last)]
        qas = []
        inside = rng.sample(range(n_context_sentences), n_context_sentences)
        for s in inside:
            if sum(not q["is_impossible"] for q in qas) >= answerable_per_paragraph:
                break
            offset, sentence = sents[s]
            made = _cloze(sentence, rng)
            if made is None:
                continue
            answer, where, question = made
            qas.append({"id": f"lee{p:03d}-{s}", "question": question, "is_impossible": False,
                        "answers": [{"text": answer, "answer_start": offset + where}]})
        later = list(range(n_context_sentences, len(sents)))
        rng.shuffle(later)
        for s in later:
            if sum(q["is_impossible"] for q in qas) >= unanswerable_per_paragraph:
                break
            made = _cloze(sents[s][1], rng)
            if made is None or made[0].lower() in context.lower():
                continue
            qas.append({"id": f"lee{p:03d}-{s}", "question": made[2], "is_impossible": True, "answers": [],
                        "plausible_answers": [{"text": made[0], "answer_start": -1}]})
        if qas:
            split = "validation" if p % valid_every == 0 else "train"
            splits[split].append({"title": f"lee-{p:03d}", "paragraphs": [{"context": context, "qas": qas}]})
    return {"version": f"lee-squad-v2.{LEE_SQUAD_VERSION}", "seed": seed, "data": splits}


def write_lee_squad(path: Path | None = None) -> Path:
    """Write ``build_lee_squad()`` as JSON (once; ``data/cache/lee_squad_v2.json`` by default)."""
    from helpers.data import data_dir

    path = Path(path) if path else data_dir() / f"lee_squad_v2.{LEE_SQUAD_VERSION}.json"
    if not path.exists():
        path.write_text(json.dumps(build_lee_squad(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def flatten_squad(articles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQuAD JSON articles (``title/paragraphs/context/qas``) as rows in the ``rajpurkar/squad_v2`` schema."""
    rows = []
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                rows.append({"id": qa["id"], "title": article["title"], "context": paragraph["context"],
                             "question": qa["question"],
                             "answers": {"text": [a["text"] for a in answers],
                                         "answer_start": [a["answer_start"] for a in answers]}})
    return rows


def load_squad_v2_rows(split: str = "train", profile: str | None = None) -> list[dict[str, Any]]:
    """Extractive-QA rows (the ``rajpurkar/squad_v2`` schema): the Hub outside ``ci``, the Lee stand-in in it.

    Defined in Day 29. ``split`` is ``"train"`` or ``"validation"``.
    """
    from helpers.data import load_hub_dataset
    from helpers.profile import resolve_profile

    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}.")
    if resolve_profile(profile) == "ci":
        data = json.loads(write_lee_squad().read_text(encoding="utf-8"))
        return flatten_squad(data["data"][split])
    rows = load_hub_dataset("SQuAD v2", SQUAD_V2_ID, "reads a SQuAD-v2-format set generated from gensim's "
                            "Lee corpus", split=split)
    return [dict(row) for row in rows]
