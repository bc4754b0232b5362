"""Day 29: every answer of the generated SQuAD-v2 set is recovered from its token labels and offsets; the
generated file is deterministic, in the official layout, and read in the rajpurkar/squad_v2 schema."""

from __future__ import annotations

import pytest

from helpers.corpora import squad
from helpers.data import MissingDataError
from helpers.qa import normalize_answer, prepare_features


@pytest.fixture(scope="module")
def tokenizer():
    from helpers.hub import load_pretrained

    model_id = "sentence-transformers/all-MiniLM-L6-v2"
    _, tok = load_pretrained(model_id, task="question-answering", profile="ci")
    return tok


@pytest.fixture(scope="module")
def train_rows():
    return squad.load_squad_v2_rows("train", "ci")


def test_generated_set_layout_and_determinism():
    data = squad.build_lee_squad()
    assert data == squad.build_lee_squad()
    article = data["data"]["train"][0]
    qa = article["paragraphs"][0]["qas"][0]
    assert set(qa) >= {"id", "question", "answers", "is_impossible"}
    rows = squad.flatten_squad(data["data"]["validation"])
    for row in rows:
        assert set(row) == {"id", "title", "context", "question", "answers"}
        for text, start in zip(row["answers"]["text"], row["answers"]["answer_start"], strict=True):
            assert row["context"][start:start + len(text)] == text
        if not row["answers"]["text"]:  # unanswerable: its plausible answer is absent from the context
            assert row["question"].endswith("?")
    impossible = sum(not r["answers"]["text"] for r in rows) / len(rows)
    assert 0.2 < impossible < 0.45
    ids = [r["id"] for split in data["data"].values() for r in squad.flatten_squad(split)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("max_length,stride", [(128, 32), (64, 16)])
def test_every_training_span_recovered(tokenizer, train_rows, max_length, stride):
    feats = prepare_features(train_rows, tokenizer, max_length, stride)
    answered = set()
    for i, r in enumerate(feats["example_index"]):
        row = train_rows[r]
        s, e = feats["start_positions"][i], feats["end_positions"][i]
        offsets = feats["offset_mapping"][i]
        if s == 0:
            assert e == 0
            continue
        assert s <= e and offsets[s] is not None and offsets[e] is not None
        assert row["context"][offsets[s][0]:offsets[e][1]] == row["answers"]["text"][0]
        answered.add(r)
    # every answerable question has at least one window that holds its whole answer (stride large enough)
    expected = {i for i, row in enumerate(train_rows) if row["answers"]["text"]}
    assert answered == expected
    assert len(feats["input_ids"]) > len(train_rows)  # some contexts overflow into a second window


def test_question_first_and_only_context_truncated(tokenizer, train_rows):
    row = train_rows[0]
    feats = prepare_features([row], tokenizer, 48, 8)
    for ids in feats["input_ids"]:
        text = tokenizer.decode(ids, skip_special_tokens=True)
        assert text.startswith(normalize_answer(row["question"]).split()[0])
    assert all(len(ids) == 48 for ids in feats["input_ids"])


def test_bad_rows_and_split():
    with pytest.raises(ValueError, match="keys"):
        prepare_features([{"question": "q"}], None)
    with pytest.raises(ValueError, match="split must be"):
        squad.load_squad_v2_rows("dev", "ci")


def test_hub_failure_is_clear(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def fail(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", fail)
    with pytest.raises(MissingDataError, match="COURSE_PROFILE=ci"):
        squad.load_squad_v2_rows("train", "laptop")
