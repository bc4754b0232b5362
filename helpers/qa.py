"""Extractive question answering: SQuAD v2 EM/F1, feature preparation, n-best post-processing, highlighting.

Defined in Day 29 (day 32 reuses ``exact_match``/``f1``/``squad_scores``). ``normalize_answer``,
``exact_match`` and ``f1`` follow the official SQuAD v2.0 evaluation script (``evaluate-v2.0.py``):
lower-case, drop punctuation, drop the articles a/an/the, collapse whitespace; an unanswerable question has
the gold answer ``""``. Feature preparation follows the Hugging Face course (chapter 7, "Question
answering"): the question goes first, only the context is truncated, long contexts overflow into several
windows that overlap by ``stride`` tokens, and a window that does not contain the answer is labelled with the
CLS token (index 0), as unanswerable questions are.
"""

from __future__ import annotations

import collections
import html
import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, remove punctuation, articles (a/an/the) and extra whitespace (the official script's order).

    Defined in Day 29.
    """
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised strings are equal, else 0.0 (``""`` answers unanswerable questions)."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalised strings; if either is empty, 1.0 only when both are (official)."""
    pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], golds: dict[str, Sequence[str]]) -> dict[str, float]:
    """Mean EM and F1 in percent, each the maximum over a question's gold answers (``[]`` = unanswerable).

    Also reports them on the answerable (``HasAns``) and unanswerable (``NoAns``) questions separately.
    """
    missing = set(golds) - set(predictions)
    if missing:
        raise ValueError(f"{len(missing)} questions have no prediction (e.g. {sorted(missing)[0]!r}); "
                         "predict every id of the gold set (use '' for 'no answer').")
    rows: dict[str, list[tuple[float, float]]] = {"all": [], "HasAns": [], "NoAns": []}
    for qid, answers in golds.items():
        answers = [a for a in answers if normalize_answer(a)] or [""]
        pred = predictions[qid]
        pair = (max(exact_match(pred, a) for a in answers), max(f1(pred, a) for a in answers))
        rows["all"].append(pair)
        rows["HasAns" if answers != [""] else "NoAns"].append(pair)
    out: dict[str, float] = {}
    for key, pairs in rows.items():
        if pairs:
            prefix = "" if key == "all" else f"{key}_"
            out[f"{prefix}exact"] = 100 * float(np.mean([p[0] for p in pairs]))
            out[f"{prefix}f1"] = 100 * float(np.mean([p[1] for p in pairs]))
            out[f"{prefix}total"] = len(pairs)
    return out


def _check_rows(rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        raise ValueError("No QA rows given; pass SQuAD-format rows (question, context, answers).")
    needed = {"id", "question", "context", "answers"}
    if not needed <= set(rows[0]):
        raise ValueError(f"QA rows need the keys {sorted(needed)}, got {sorted(rows[0])}: use the rows of "
                         "helpers.corpora.squad.load_squad_v2_rows (the rajpurkar/squad_v2 schema).")


def prepare_features(rows: Sequence[dict[str, Any]], tokenizer: Any, max_length: int = 384, stride: int = 128,
                     labels: bool = True) -> dict[str, Any]:
    """Tokenise question + context into overlapping windows; with ``labels``, the answer's start/end tokens.

    Defined in Day 29. Returns the tokenizer's lists plus ``example_index`` (window -> row, from
    ``overflow_to_sample_mapping``), ``offset_mapping`` with ``None`` outside the context (so post-processing
    can only pick context tokens) and, with ``labels``, ``start_positions``/``end_positions`` (inclusive
    token indices; 0, the CLS token, when the answer is absent from the window or the question has none).
    """
    _check_rows(rows)
    enc = tokenizer([r["question"].strip() for r in rows], [r["context"] for r in rows],
                    truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True, padding="max_length")
    sample_map = enc.pop("overflow_to_sample_mapping")
    starts, ends, offsets_out = [], [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        seq_ids = enc.sequence_ids(i)
        row = rows[sample_map[i]]
        offsets_out.append([o if s == 1 else None for o, s in zip(offsets, seq_ids, strict=True)])
        if not labels:
            continue
        texts, answer_starts = row["answers"]["text"], row["answers"]["answer_start"]
        ctx_first = seq_ids.index(1)
        ctx_last = len(seq_ids) - 1 - seq_ids[::-1].index(1)
        if not texts:
            starts.append(0)
            ends.append(0)
            continue
        char_start = answer_starts[0]
        char_end = char_start + len(texts[0])
        if offsets[ctx_first][0] > char_start or offsets[ctx_last][1] < char_end:
            starts.append(0)  # the answer is not (wholly) in this window: label CLS
            ends.append(0)
            continue
        tok = ctx_first
        while tok <= ctx_last and offsets[tok][0] <= char_start:
            tok += 1
        starts.append(tok - 1)
        tok = ctx_last
        while tok >= ctx_first and offsets[tok][1] >= char_end:
            tok -= 1
        ends.append(tok + 1)
    features: dict[str, Any] = dict(enc)
    features["offset_mapping"] = offsets_out
    features["example_index"] = list(sample_map)
    if labels:
        features["start_positions"], features["end_positions"] = starts, ends
    return features


def postprocess(rows: Sequence[dict[str, Any]], features: dict[str, Any], start_logits: np.ndarray,
                end_logits: np.ndarray, n_best: int = 20, max_answer_length: int = 30,
                null_threshold: float = 0.0) -> dict[str, dict[str, Any]]:
    """n-best span search over every window of every row; returns ``{id: {"text", "score", "null_score"}}``.

    Defined in Day 29. Per window, the ``n_best`` highest start and end logits are paired; a pair is kept if
    both tokens are context tokens, ``start <= end`` and the span has at most ``max_answer_length`` tokens.
    A span's score is ``start_logit + end_logit``; the null (no-answer) score is the CLS pair's, the minimum
    over windows (the window most sure there is an answer). The prediction is ``""`` when
    ``null_score - best_span_score > null_threshold``, as in the official SQuAD v2 recipe. ``best_span`` and
    ``best_span_text`` keep the best span whatever the null rule says (``span`` is ``None`` for no answer).
    """
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)
    if len(start_logits) != len(features["example_index"]):
        raise ValueError(f"{len(start_logits)} rows of logits for {len(features['example_index'])} windows: "
                         "run the model on every window of prepare_features(..., labels=False).")
    by_row: dict[int, list[int]] = collections.defaultdict(list)
    for feature, row in enumerate(features["example_index"]):
        by_row[row].append(feature)
    out = {}
    for r, row in enumerate(rows):
        best: tuple[float, str, int, int] = (-np.inf, "", -1, -1)
        null_score = np.inf
        for feature in by_row.get(r, []):
            s_log, e_log = start_logits[feature], end_logits[feature]
            offsets = features["offset_mapping"][feature]
            null_score = min(null_score, float(s_log[0] + e_log[0]))
            for s in np.argsort(s_log)[::-1][:n_best]:
                for e in np.argsort(e_log)[::-1][:n_best]:
                    if offsets[s] is None or offsets[e] is None or e < s or e - s + 1 > max_answer_length:
                        continue
                    score = float(s_log[s] + e_log[e])
                    if score > best[0]:
                        a, b = offsets[s][0], offsets[e][1]
                        best = (score, row["context"][a:b], a, b)
        text = best[1] if null_score - best[0] <= null_threshold else ""
        out[row["id"]] = {"text": text, "score": best[0], "null_score": null_score,
                          "span": (best[2], best[3]) if text else None, "best_span_text": best[1],
                          "best_span": (best[2], best[3]) if best[2] >= 0 else None}
    return out


def highlight(context: str, predicted: tuple[int, int] | None, gold: tuple[int, int] | None,
              question: str = "") -> str:
    """HTML of ``context`` with the predicted span (blue) and the gold span (green, underlined) marked.

    Defined in Day 29. Spans are ``(start_char, end_char)``; ``None`` means no answer (shown as a note).
    Display it with ``IPython.display.HTML``.
    """
    marks = np.zeros((len(context), 2), dtype=bool)
    for k, span in enumerate((predicted, gold)):
        if span is not None:
            marks[span[0]:span[1], k] = True
    parts, i = [], 0
    while i < len(context):
        j = i
        while j < len(context) and (marks[j] == marks[i]).all():
            j += 1
        piece = html.escape(context[i:j])
        pred, gold_on = marks[i]
        style = []
        if pred:
            style.append("background:#cfe2ff")
        if gold_on:
            style.append("text-decoration:underline 2px #198754;color:#0f5132;font-weight:600")
        parts.append(f'<span style="{";".join(style)}">{piece}</span>' if style else piece)
        i = j
    notes = []
    if predicted is None:
        notes.append("model: <i>no answer</i>")
    if gold is None:
        notes.append("gold: <i>unanswerable</i>")
    head = f"<b>Q:</b> {html.escape(question)}<br>" if question else ""
    tail = f"<br><small>{'; '.join(notes)}</small>" if notes else ""
    return (f'<div style="font-family:sans-serif;line-height:1.5;margin:0.5em 0">{head}'
            f"{''.join(parts)}{tail}</div>")
