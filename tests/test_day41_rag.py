"""Day 41: the RAG pieces of ``helpers.rag`` against references (scikit-learn, chat template, generate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import label_ranking_average_precision_score, top_k_accuracy_score

from helpers import rag

ROOT = Path(__file__).resolve().parent.parent
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"

PAGE = """# Day 99: A test page

Intro paragraph with enough words to be kept as a passage of its own here.

## First section

Some text about attention {glue:text}`day99_value:.2f` and a {numref}`fig-one` role in it.

```python
print("code is dropped")
```

````{exercise}
:label: day99-ex
Exercise text that stays, because directives keep their prose.
````

### A subsection

Subsection words one two three four five six seven eight nine ten.

## Second section

tiny

""" + " ".join(f"w{i}" for i in range(25)) + "\n"


def test_chunk_markdown_keeps_sections_and_drops_code() -> None:
    chunks = rag.chunk_markdown(PAGE, "day99_test", max_words=10, min_words=3)
    assert {c.page for c in chunks} == {"Day 99: A test page"}
    assert [c.section for c in chunks][0] == "Introduction"
    text = " ".join(c.text for c in chunks)
    assert "code is dropped" not in text and ":label:" not in text and "```" not in text
    assert "Exercise text that stays" in text
    assert "{glue" not in text and "…" in text and "fig-one" in text and "{numref}" not in text
    assert all(len(c.text.split()) <= 10 for c in chunks)
    sub = [c for c in chunks if c.subsection]
    assert sub and all(c.section == "First section" and c.subsection == "A subsection" for c in sub)
    assert sub[0].citation == "Day 99: A test page › First section › A subsection"
    second = [c for c in chunks if c.section == "Second section"]
    # a paragraph longer than a passage starts its own windows; the lone "tiny" is under min_words
    assert [c.text.split()[0] for c in second] == ["w0", "w10", "w20"]
    assert [len(c.text.split()) for c in second] == [10, 10, 5]


def test_chunk_markdown_drops_short_passages_and_checks_arguments() -> None:
    chunks = rag.chunk_markdown("# T\n\n## S\n\none two\n", "x", min_words=3)
    assert chunks == []
    with pytest.raises(ValueError, match="max_words"):
        rag.chunk_markdown(PAGE, "x", max_words=0)


def test_notebook_markdown_reads_markdown_cells_only() -> None:
    source = ('# %% [markdown]\n# # Title\n#\n# Prose line.\n\n# %%\nx = 1  # code\n\n'
              '# %% [markdown]\n# ## Section\n# More prose.\n')
    text = rag.notebook_markdown(source)
    assert "# Title" in text and "Prose line." in text and "## Section" in text
    assert "x = 1" not in text


def test_save_load_round_trip_is_byte_stable(tmp_path: Path) -> None:
    chunks = rag.chunk_markdown(PAGE, "day99_test", max_words=12)
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    rag.save_chunks(chunks, first)
    rag.save_chunks(chunks, second)
    assert rag.load_chunks(first) == chunks
    assert first.read_bytes() == second.read_bytes()
    with pytest.raises(FileNotFoundError, match="snapshot"):
        rag.load_chunks(tmp_path / "missing.jsonl.gz")


def test_snapshot_holds_every_course_question_source() -> None:
    chunks = rag.load_chunks(ROOT / "data" / "day41_course_pages.jsonl.gz")
    keys = {c.key for c in chunks}
    course, off_topic = rag.load_questions(ROOT / "data" / "day41_questions.json")
    assert len(course) >= 10 and len(off_topic) >= 5
    assert [q.key for q in course if q.key not in keys] == []
    assert all(q.key is None for q in off_topic)


@pytest.mark.parametrize("seed", range(5))
def test_ranks_metrics_equal_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_queries, n_chunks = 12, 40
    chunk_keys = [("page", f"s{rng.integers(0, 9)}") for _ in range(n_chunks)]
    scores = rng.normal(size=(n_queries, n_chunks))
    per_source, keys = rag.source_scores(scores, chunk_keys)
    # by hand: the best chunk score of each source
    for j, key in enumerate(keys):
        columns = [i for i, k in enumerate(chunk_keys) if k == key]
        np.testing.assert_array_equal(per_source[:, j], scores[:, columns].max(axis=1))
    gold_columns = rng.integers(0, len(keys), size=n_queries)
    ranks = rag.gold_ranks(per_source, keys, [keys[c] for c in gold_columns])
    one_hot = np.zeros_like(per_source, dtype=int)
    one_hot[np.arange(n_queries), gold_columns] = 1
    lrap = label_ranking_average_precision_score(one_hot, per_source)
    assert rag.mrr(ranks) == pytest.approx(lrap, abs=1e-12)
    for k in (1, 2, 3, 5):
        expected = top_k_accuracy_score(gold_columns, per_source, k=k, labels=np.arange(len(keys)))
        assert rag.hit_at_k(ranks, k) == pytest.approx(expected, abs=1e-12)


def test_metric_errors_and_values() -> None:
    assert rag.mrr([1, 2, 4]) == pytest.approx((1 + 0.5 + 0.25) / 3)
    assert rag.hit_at_k([1, 2, 4], 2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        rag.mrr([0, 1])
    with pytest.raises(KeyError, match="gold sources"):
        rag.gold_ranks(np.zeros((1, 1)), [("a", "b")], [("missing", "x")])


@pytest.fixture(scope="module")
def smollm2_tokenizer():
    from transformers import AutoTokenizer

    from helpers.hub import cached_copy

    return AutoTokenizer.from_pretrained(str(cached_copy(SMOLLM2)))


@pytest.mark.parametrize("with_system", [True, False])
@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_chatml_prompt_equals_apply_chat_template(smollm2_tokenizer, with_system: bool,
                                                  add_generation_prompt: bool) -> None:
    passages = rag.chunk_markdown(PAGE, "day99_test", max_words=12)[:2]
    messages = rag.rag_messages("What is in the first section?", passages, "Answer briefly.")
    if not with_system:
        messages = messages[1:] + [{"role": "assistant", "content": "An answer."},
                                   {"role": "user", "content": "And the second?"}]
    mine = rag.chatml_prompt(messages, add_generation_prompt=add_generation_prompt)
    reference = smollm2_tokenizer.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=add_generation_prompt)
    assert mine == reference


def test_rag_messages_put_the_question_in_the_user_turn() -> None:
    passages = rag.chunk_markdown(PAGE, "day99_test", max_words=12)[:2]
    messages = rag.rag_messages("Why?", passages, "System.")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[1]["content"].startswith("Passages:\n[1] Day 99: A test page › Introduction: ")
    assert "\n[2] " in messages[1]["content"] and messages[1]["content"].endswith("Question: Why?")
    with pytest.raises(ValueError, match="empty"):
        rag.rag_messages("  ", passages, "System.")
    with pytest.raises(ValueError, match="role"):
        rag.chatml_prompt([{"role": "robot", "content": "x"}])


def test_greedy_generate_with_chat_eos_equals_generate() -> None:
    """Day 23's loop, as day 41 calls it (one prompt, ChatML's end of turn as EOS), on a tiny random Llama."""
    from helpers import load_pretrained
    from helpers.sampling import generate

    torch.manual_seed(0)
    model, tokenizer = load_pretrained(SMOLLM2, profile="ci", tiny=True)
    model.eval()
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    prompt = rag.chatml_prompt([{"role": "user", "content": "Hello there, how are you?"}])
    input_ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    mine = generate(model, input_ids, 12, eos_token_id=eos).tokens
    with torch.inference_mode():
        reference = model.generate(input_ids, do_sample=False, max_new_tokens=12, eos_token_id=eos,
                                   pad_token_id=eos)[0, input_ids.shape[1]:].tolist()
    assert mine == reference


def test_attribute_picks_the_passage_with_most_answer_words() -> None:
    passages = [rag.Chunk("a", "A", "s1", "The cat sat on the mat."),
                rag.Chunk("b", "B", "s2", "Transformers use attention over all tokens."),
                rag.Chunk("c", "C", "s3", "Attention tokens transformers, again.")]
    assert rag.attribute("Transformers rely on attention.", passages) == (1, pytest.approx(2 / 3))
    assert rag.attribute("the a of", passages) == (0, 0.0)  # only function words: nothing to attribute
    assert rag.attribute("A dog barked.", passages) == (0, 0.0)
    with pytest.raises(ValueError):
        rag.attribute("x", [])


def test_paraphrase_is_deterministic_and_rewrites() -> None:
    assert rag.paraphrase("What is AI?", 0) == "Could you tell me what's AI?"
    assert rag.paraphrase("Who wrote Hamlet?", 1) == "I have a question: who was the author of Hamlet?"
    assert rag.paraphrase("Are you sentient?", 2) == "Would you say you are sentient? I would like to know."
    assert rag.paraphrase("x", 7) == rag.paraphrase("x", 2)
    with pytest.raises(ValueError):
        rag.paraphrase(" ? ", 0)


def test_faq_chunks_cite_their_question() -> None:
    [chunk] = rag.faq_chunks([("ai", "What is AI?", "A field.")])
    assert chunk.key == ("faq/ai", "What is AI?")
    assert chunk.for_embedding() == "FAQ: ai | What is AI?: Q: What is AI? A: A field."
