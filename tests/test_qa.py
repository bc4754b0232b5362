"""Day 29: SQuAD v2 EM/F1 (official normalisation) on known cases, post-processing rules, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.qa import exact_match, f1, highlight, normalize_answer, postprocess, squad_scores


@pytest.mark.parametrize(("text", "expected"), [
    ("The Hume Highway", "hume highway"),
    ("  An apple,   a day! ", "apple day"),
    ("Theatre of the Absurd", "theatre of absurd"),  # "the" inside a word stays
    ("4:00pm AEDT.", "400pm aedt"),                  # punctuation removed before articles
    ("the", ""),
    ("A.", ""),
])
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_and_f1_known_cases():
    assert exact_match("the Hume Highway.", "Hume highway") == 1.0
    assert exact_match("Hume", "Hume Highway") == 0.0
    # 2 shared words: precision 2/2, recall 2/3 -> 0.8
    assert f1("the Hume Highway", "Hume Highway closure") == pytest.approx(0.8)
    assert f1("Sydney", "Hill Top") == 0.0
    # official rule for empty strings: 1 only if both are empty
    assert f1("", "") == 1.0 and f1("", "Sydney") == 0.0 and f1("Sydney", "") == 0.0
    # repeated words count with multiplicity (Counter intersection)
    assert f1("fire fire fire", "fire") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))


def test_squad_scores_max_over_golds_and_noans():
    golds = {"a": ["Hume Highway", "the highway"], "b": [], "c": ["Sydney"]}
    preds = {"a": "highway", "b": "", "c": "Goulburn"}
    s = squad_scores(preds, golds)
    assert s["exact"] == pytest.approx(200 / 3)  # "highway" == "the highway" once normalised
    assert s["f1"] == pytest.approx(100 * (1.0 + 1.0 + 0.0) / 3)  # "highway" vs "the highway" -> F1 1
    assert s["NoAns_exact"] == 100.0 and s["HasAns_total"] == 2


def test_squad_scores_missing_prediction():
    with pytest.raises(ValueError, match="no prediction"):
        squad_scores({}, {"a": ["x"]})


def _toy():
    context = "Fire reached Hill Top today."
    none: dict = {"text": [], "answer_start": []}
    rows = [{"id": "q", "question": "Where?", "context": context, "answers": none}]
    # tokens: CLS, q, SEP, Fire, reached, Hill, Top, today, SEP
    offsets = [None, None, None, (0, 4), (5, 12), (13, 17), (18, 21), (22, 27), None]
    return rows, {"example_index": [0], "offset_mapping": [offsets]}


def test_postprocess_picks_best_valid_span_and_null():
    rows, feats = _toy()
    start = np.full((1, 9), -5.0)
    end = np.full((1, 9), -5.0)
    start[0, 5], end[0, 6] = 3.0, 3.0      # "Hill Top"
    start[0, 1], end[0, 1] = 9.0, 9.0      # a question token: never allowed
    end[0, 3] = 8.0                        # end before start: not allowed with start 5
    out = postprocess(rows, feats, start, end)["q"]
    assert out["text"] == "Hill Top" and out["span"] == (13, 21)
    start[0, 0], end[0, 0] = 4.0, 4.0      # null 8 > span 6 -> no answer
    out = postprocess(rows, feats, start, end)["q"]
    assert out["text"] == "" and out["best_span_text"] == "Hill Top"
    assert postprocess(rows, feats, start, end, null_threshold=3.0)["q"]["text"] == "Hill Top"
    short = postprocess(rows, feats, start, end, max_answer_length=1, null_threshold=99)["q"]
    assert short["text"] != "Hill Top"


def test_postprocess_bad_shapes():
    rows, feats = _toy()
    with pytest.raises(ValueError, match="windows"):
        postprocess(rows, feats, np.zeros((2, 9)), np.zeros((2, 9)))


def test_highlight_marks_and_escapes():
    page = highlight("a <b> c", (0, 1), (2, 5), "q?")
    assert "&lt;b&gt;" in page and "background" in page and "underline" in page
    assert "unanswerable" in highlight("abc", None, None)
