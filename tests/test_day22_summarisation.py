"""Day 22: the generated names task, ROUGE, the Reuters loader and the data helpers."""

from __future__ import annotations

import re

import pytest
from rouge_score import rouge_scorer

from helpers.data import MissingDataError
from helpers.summarisation import NAMES, lead_words, load_real_pairs, names_task, rouge, truncate


def test_names_task_targets_are_the_names_in_order() -> None:
    pairs = names_task(200, seed=4)
    assert pairs == names_task(200, seed=4)
    assert pairs != names_task(200, seed=5)
    for source, summary in pairs:
        capitalised = [word for word in source.split() if word[0].isupper()]
        assert summary.split() == capitalised
        assert 2 <= len(capitalised) <= 5 and set(capitalised) <= set(NAMES)
        assert all(re.fullmatch(r"[a-z]+", word) for word in source.split() if word not in NAMES)


def test_names_task_rejects_bad_ranges() -> None:
    with pytest.raises(ValueError):
        names_task(3, seed=0, min_names=4, max_names=2)


def test_rouge_is_rouge_score_with_the_reference_first() -> None:
    refs = ["the cat sat on the mat", "oil prices rise"]
    preds = ["the cat lay on a mat", "prices of oil rise sharply"]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    scores = [scorer.score(r, p) for r, p in zip(refs, preds, strict=True)]
    got = rouge(refs, preds)
    for kind in ("rouge1", "rouge2", "rougeL"):
        assert got[kind] == pytest.approx(sum(s[kind].fmeasure for s in scores) / 2)
    assert rouge(["a b c d"], ["a b c d"])["rouge2"] == 1.0
    assert rouge(["a b c d"], ["d c b a"])["rouge2"] == 0.0
    with pytest.raises(ValueError):
        rouge(["a"], [])


def test_lead_and_truncate() -> None:
    assert lead_words("one two  three four", 2) == "one two"
    assert truncate([[1, 2, 3], [4]], 2) == [[1, 2], [4]]
    with pytest.raises(ValueError):
        truncate([[1]], 0)


def test_load_real_pairs_rejects_unknown_source() -> None:
    with pytest.raises(ValueError, match="unknown source"):
        load_real_pairs("xsum", 10)


def test_reuters_pairs() -> None:
    try:
        train, test = load_real_pairs("reuters", 10, seed=0)
    except MissingDataError:
        pytest.skip("r-cran-tm is not fetched (python -m helpers fetch-offline)")
    assert len(train) == 60 and len(test) == 10
    assert not {h for _, h in train} & {h for _, h in test}
    from helpers.corpora import reuters

    articles = reuters.load_articles()
    assert [a.topic for a in articles].count("acq") == 50 and len(articles) == 70
    first = articles[0]
    assert first.headline == "COMPUTER TERMINAL SYSTEMS <CPML> COMPLETES SALE"
    assert first.body.startswith("Computer Terminal Systems Inc said it has completed")
    assert not first.body.endswith("Reuter") and "&lt;" not in first.body
    with pytest.raises(ValueError):
        reuters.load_articles(("earn",))
