"""Retrieval-augmented generation ("ask the course"): chunking, retrieval, metrics, prompts, greedy answers.

Defined in Day 41. The pieces, each small and checked against a library in the day's notebook and tests:

- ``chunk_markdown``/``course_chunks``: the course's own pages (``book/*.md`` and the markdown cells of the
  ``notebooks/dayNN_*.py`` sources) cut into passages that remember their page and section, so that an
  answer can cite them; ``faq_chunks`` turns question/answer pairs into passages too;
- ``source_scores``/``gold_ranks``/``hit_at_k``/``mrr``: retrieval metrics at the level of (page, section),
  on top of day 30's cosine search (``helpers.sentence_embeddings.top_k_cosine``);
- ``load_questions``/``paraphrase``: the held-out evaluation questions;
- ``chatml_prompt``: SmolLM2's chat template written out by hand (equal to ``apply_chat_template``), and
  ``rag_messages``, the question with its numbered passages (answers are decoded greedily with day 23's
  ``helpers.sampling.generate``);
- ``attribute``: which retrieved passage an answer used, by token overlap, for the citation.
"""

from __future__ import annotations

import gzip
import json
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: SmolLM2-Instruct's default system turn, which its chat template adds when the messages have none.
SMOLLM2_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage and where it comes from.

    ``source`` is the file stem (``day34_lora``) or ``faq/<topic>``; ``page`` the page's title; ``section``
    its level-2 heading (``"Introduction"`` before the first one), the unit that citations and the
    retrieval metrics count; ``subsection`` a level-3 heading inside it, or ``""``.
    """

    source: str
    page: str
    section: str
    text: str
    subsection: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """What a citation points to: (source, section)."""
        return (self.source, self.section)

    @property
    def citation(self) -> str:
        """``page › section`` (› subsection), as the assistant prints it."""
        parts = [self.page, self.section] + ([self.subsection] if self.subsection else [])
        return " › ".join(parts)

    def for_embedding(self) -> str:
        """The text that is embedded: the page and section titles in front of the passage."""
        return f"{self.page} | {self.section}: {self.text}"


# ------------------------------------------------------------------------------------------- chunking
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(.*)$")
_GLUE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")
_ROLE = re.compile(r"\{[\w:.-]+\}`([^`]*)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def notebook_markdown(source: str) -> str:
    """The markdown cells of a jupytext percent source (``# %% [markdown]`` cells), comment marks removed.

    Defined in Day 41. Code cells are left out: the assistant answers from the prose.
    """
    cells, current, in_markdown = [], [], False
    for line in source.splitlines():
        if line.startswith("# %%"):
            if in_markdown and current:
                cells.append("\n".join(current))
            current, in_markdown = [], "[markdown]" in line
            continue
        if in_markdown:
            current.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    if in_markdown and current:
        cells.append("\n".join(current))
    return "\n\n".join(cells)


def clean_myst(markdown: str) -> str:
    """Prose only: drop code blocks, fence lines of MyST directives (keeping their text), directive
    options (``:label:``...), images, HTML lines; glue roles become ``…``, other roles their text.

    Defined in Day 41.
    """
    kept, stack = [], []  # stack of (fence, keep contents?)
    for line in markdown.splitlines():
        fence = _FENCE.match(line)
        if fence:
            marks, info = fence.groups()
            if stack and not info and marks[0] == stack[-1][0][0] and len(marks) >= len(stack[-1][0]):
                stack.pop()
                continue
            if not stack or stack[-1][1]:
                stack.append((marks, info.startswith("{")))
                continue
        if stack and not stack[-1][1]:
            continue  # inside a code block
        stripped = line.strip()
        if re.match(r"^:[\w-]+:", stripped) or stripped.startswith(("![", "<")):
            continue
        line = _ROLE.sub(r"\1", _GLUE.sub("…", line))
        kept.append(line)
    return "\n".join(kept)


def _heading_text(text: str) -> str:
    return " ".join(text.replace("`", "").replace("$", "").split())


def _pack(paragraphs: Sequence[str], max_words: int) -> list[str]:
    """Greedily pack paragraphs into passages of at most ``max_words`` words (long paragraphs are cut)."""
    passages, current = [], []
    for paragraph in paragraphs:
        words = paragraph.split()
        while len(words) > max_words:  # a paragraph longer than a passage: cut it into windows
            if current:
                passages.append(" ".join(current))
                current = []
            passages.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if current and len(current) + len(words) > max_words:
            passages.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        passages.append(" ".join(current))
    return passages


def chunk_markdown(markdown: str, source: str, max_words: int = 120, min_words: int = 8) -> list[Chunk]:
    """Cut a page into passages of at most ``max_words`` words that never cross a heading.

    Defined in Day 41. The first level-1 heading is the page title (else ``source``); level-2 headings are
    sections, deeper ones subsections. Passages shorter than ``min_words`` words are dropped (a lone
    heading, a one-word line). Paragraphs are kept whole when they fit, so a passage ends at a paragraph
    boundary where it can.
    """
    if max_words < 1 or min_words < 0:
        raise ValueError(f"need max_words >= 1 and min_words >= 0, got {max_words} and {min_words}")
    page, section, subsection = "", "Introduction", ""
    blocks: list[tuple[str, str, list[str]]] = []  # (section, subsection, paragraphs)
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            if not blocks or blocks[-1][:2] != (section, subsection):
                blocks.append((section, subsection, []))
            blocks[-1][2].append(" ".join(paragraph))
            paragraph.clear()

    for line in clean_myst(markdown).splitlines():
        heading = _HEADING.match(line)
        if heading:
            flush_paragraph()
            level, text = len(heading.group(1)), _heading_text(heading.group(2))
            if level == 1 and not page:
                page = text
            elif level <= 2:
                section, subsection = text, ""
            else:
                subsection = text
        elif line.strip():
            paragraph.append(line.strip())
        else:
            flush_paragraph()
    flush_paragraph()
    page = page or source
    return [Chunk(source, page, sec, text, sub)
            for sec, sub, paragraphs in blocks
            for text in _pack(paragraphs, max_words) if len(text.split()) >= min_words]


def course_root() -> Path:
    """The course checkout (its ``book/`` and ``notebooks/`` are the pages), or an error saying what to do."""
    from helpers.profile import repo_root

    root = repo_root()
    if root is None:
        raise FileNotFoundError("Day 41 indexes the course's own pages and reads data/day41_*.json*, which "
                                "only a checkout has: git clone https://github.com/wxb-course/wxb-to-llm and "
                                "run the notebook from there.")
    return root


def course_pages(root: str | Path,
                 patterns: Sequence[str] = ("book/*.md", "notebooks/day*.py")) -> list[Path]:
    """The course's page files under ``root``, sorted by name within each pattern."""
    root = Path(root)
    files = [path for pattern in patterns for path in sorted(root.glob(pattern))]
    if not files:
        raise FileNotFoundError(f"no course pages matching {list(patterns)} under {root}: "
                                "pass the repository's root folder")
    return files


def course_chunks(files: Iterable[str | Path], max_words: int = 120) -> list[Chunk]:
    """``chunk_markdown`` of every page: markdown files as they are, notebook sources' markdown cells.

    Defined in Day 41.
    """
    chunks: list[Chunk] = []
    for path in map(Path, files):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            text = notebook_markdown(text)
        chunks.extend(chunk_markdown(text, path.stem, max_words=max_words))
    return chunks


def save_chunks(chunks: Sequence[Chunk], path: str | Path) -> Path:
    """Write passages as gzipped JSON lines (a fixed snapshot of the pages for ``ci``)."""
    path = Path(path)
    lines = "".join(json.dumps(asdict(chunk), ensure_ascii=False) + "\n" for chunk in chunks)
    # No file name and mtime=0 in the gzip header: the same chunks give the same bytes.
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
        handle.write(lines.encode("utf-8"))
    return path


def load_chunks(path: str | Path) -> list[Chunk]:
    """Read passages written by ``save_chunks``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: make it with `python -m helpers.rag snapshot`.")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [Chunk(**json.loads(line)) for line in handle if line.strip()]


def faq_chunks(pairs: Iterable[tuple[str, str, str]]) -> list[Chunk]:
    """FAQ entries ``(topic, question, answer)`` as passages: one per entry, its question as section.

    Defined in Day 41.
    """
    return [Chunk(f"faq/{topic}", f"FAQ: {topic}", question, f"Q: {question} A: {answer}")
            for topic, question, answer in pairs]


# ------------------------------------------------------------------------------------------ retrieval
def source_scores(scores: np.ndarray, chunk_keys: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Per-source scores: the best chunk score of each distinct key, (n_queries, n_keys), and the keys.

    Defined in Day 41. A section cut into several passages is found when any of them is.
    """
    keys = list(dict.fromkeys(chunk_keys))
    index = {key: i for i, key in enumerate(keys)}
    columns = np.array([index[key] for key in chunk_keys])
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(columns):
        raise ValueError(f"scores must be (n_queries, {len(columns)} chunks), got {scores.shape}")
    out = np.full((scores.shape[0], len(keys)), -np.inf)
    for column in range(len(keys)):
        out[:, column] = scores[:, columns == column].max(axis=1)
    return out, keys


def gold_ranks(per_source: np.ndarray, keys: Sequence[Any], gold: Sequence[Any]) -> np.ndarray:
    """1-based rank of each query's gold key among the sources (ties count against it, as in sklearn's LRAP).

    Defined in Day 41. A gold key that is not in ``keys`` is an error: the question has no answer to find.
    """
    index = {key: i for i, key in enumerate(keys)}
    missing = [g for g in gold if g not in index]
    if missing:
        raise KeyError(f"gold sources not in the index: {missing[:3]}; check the page and section names")
    columns = np.array([index[g] for g in gold])
    gold_scores = per_source[np.arange(len(gold)), columns]
    return (per_source >= gold_scores[:, None]).sum(axis=1)


def hit_at_k(ranks: Sequence[int] | np.ndarray, k: int) -> float:
    """Share of queries whose gold source is in the top ``k``. Defined in Day 41."""
    ranks = np.asarray(ranks)
    if ranks.size == 0 or k < 1:
        raise ValueError("need at least one rank and k >= 1")
    return float((ranks <= k).mean())


def mrr(ranks: Sequence[int] | np.ndarray) -> float:
    """Mean reciprocal rank of the gold source. Defined in Day 41."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if ranks.size == 0 or (ranks < 1).any():
        raise ValueError("need at least one rank, each >= 1")
    return float((1.0 / ranks).mean())


# ------------------------------------------------------------------------------------------ prompting
def chatml_prompt(messages: Sequence[dict[str, str]], add_generation_prompt: bool = True,
                  default_system: str | None = SMOLLM2_DEFAULT_SYSTEM) -> str:
    """SmolLM2's chat template by hand (ChatML): ``<|im_start|>role\\ncontent<|im_end|>\\n`` per turn.

    Defined in Day 41. When the first message is not a system turn, ``default_system`` is added (SmolLM2's
    template does this; ``None`` for templates that do not). ``add_generation_prompt`` opens the assistant
    turn that the model is to complete.
    """
    roles = {"system", "user", "assistant"}
    for message in messages:
        if set(message) != {"role", "content"} or message["role"] not in roles:
            raise ValueError(f"each message needs exactly 'role' (one of {sorted(roles)}) and 'content': "
                             f"got {message!r}")
    turns = list(messages)
    if default_system is not None and (not turns or turns[0]["role"] != "system"):
        turns.insert(0, {"role": "system", "content": default_system})
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in turns)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


def rag_messages(question: str, passages: Sequence[Chunk], system: str) -> list[dict[str, str]]:
    """The system turn and one user turn holding the numbered passages, then the question.

    Defined in Day 41. The question goes in the *user* turn: the seed article appended it as an assistant
    turn, which asks the model to continue its own reply instead of answering.
    """
    if not question.strip():
        raise ValueError("empty question")
    context = "\n".join(f"[{i}] {chunk.page} › {chunk.section}: {chunk.text}"
                        for i, chunk in enumerate(passages, start=1))
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Passages:\n{context}\n\nQuestion: {question}"}]


# ------------------------------------------------------------------------------------ evaluation data
@dataclass(frozen=True)
class Question:
    """A held-out question, the (source, section) that answers it, and a reference answer.

    ``source`` is ``None`` for an off-topic question that the assistant should decline.
    """

    question: str
    source: str | None
    section: str | None
    answer: str

    @property
    def key(self) -> tuple[str, str] | None:
        return None if self.source is None else (self.source, self.section or "")


def load_questions(path: str | Path) -> tuple[list[Question], list[Question]]:
    """``(course, off_topic)`` questions from the day's JSON file (``data/day41_questions.json``)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    course = [Question(q["question"], q["source"], q["section"], q["answer"]) for q in data["course"]]
    off_topic = [Question(text, None, None, "") for text in data["off_topic"]]
    return course, off_topic


#: Paraphrase templates: wrappers around the FAQ question (lower-cased, without its final mark).
PARAPHRASE_TEMPLATES = ("Could you tell me {q}?", "I have a question: {q}?", "{Q}? I would like to know.",
                        "Quick question, {q}?", "Please answer this for me: {q}?")
#: Word-level rewrites applied before the template (the first one that matches).
PARAPHRASE_REWRITES = (("what is", "what's"), ("who is", "who's"), ("do you", "do you happen to"),
                       ("are you", "would you say you are"), ("tell me", "explain to me"),
                       ("who wrote", "who was the author of"), ("who invented", "who came up with"),
                       ("how many", "what number of"), ("what are", "what would be"))


def paraphrase(question: str, index: int) -> str:
    """A templated paraphrase of an FAQ question: one word-level rewrite, then template ``index % 5``.

    Defined in Day 41. Deterministic: the same question and index give the same text.
    """
    core = question.strip().rstrip("?!. ")
    if not core:
        raise ValueError("empty question")
    lowered = core[0].lower() + core[1:]
    for old, new in PARAPHRASE_REWRITES:
        pattern = re.compile(rf"\b{re.escape(old)}\b", re.IGNORECASE)
        if pattern.search(lowered):
            lowered = pattern.sub(new, lowered, count=1)
            break
    template = PARAPHRASE_TEMPLATES[index % len(PARAPHRASE_TEMPLATES)]
    return template.format(q=lowered, Q=lowered[0].upper() + lowered[1:])


# ----------------------------------------------------------------------------------------- citations
_PUNCT = str.maketrans("", "", string.punctuation)
_STOP = frozenset("a an the of to in is are and or for on it its this that with as by be was i you".split())


def content_tokens(text: str) -> list[str]:
    """Lower-cased words without punctuation and common function words (for overlap scores)."""
    return [w for w in text.lower().translate(_PUNCT).split() if w not in _STOP]


def attribute(answer: str, passages: Sequence[Chunk]) -> tuple[int, float]:
    """Which passage the answer used: the index with the largest share of the answer's content words,
    and that share (0 when the answer shares no word with any passage; ties go to the earlier passage).

    Defined in Day 41.
    """
    if not passages:
        raise ValueError("no passages to attribute the answer to")
    words = Counter(content_tokens(answer))
    total = sum(words.values())
    if total == 0:
        return 0, 0.0
    shares = [sum((words & Counter(content_tokens(p.text))).values()) / total for p in passages]
    best = int(np.argmax(shares))
    return best, float(shares[best])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m helpers.rag snapshot [ROOT] [OUT]``: write the ``ci`` snapshot of the course's pages."""
    import sys

    from helpers.days.day41 import SNAPSHOT_PATTERNS

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "snapshot":
        raise SystemExit("usage: python -m helpers.rag snapshot [ROOT] [OUT]")
    root = Path(args[1]) if len(args) > 1 else Path(__file__).resolve().parent.parent
    out = Path(args[2]) if len(args) > 2 else root / "data" / "day41_course_pages.jsonl.gz"
    chunks = course_chunks(course_pages(root, SNAPSHOT_PATTERNS))
    save_chunks(chunks, out)
    print(f"{len(chunks)} passages from {len({c.source for c in chunks})} pages -> {out}")


if __name__ == "__main__":
    main()
