"""Day 39: per-type entity scores equal seqeval, the span matcher places generated mentions right, word ids
from offsets equal BERT's word_ids(), label alignment round-trips, a token-classification model is a linear
head on its hidden states, and left-padded batched generation equals one prompt at a time."""

from __future__ import annotations

import random

import pytest
import torch

from helpers import llm_ner as ln
from helpers.ner import IGNORE_INDEX, entities

seqeval = pytest.importorskip("seqeval")
TYPES = ["PER", "LOC", "ORG"]


def _random_tags(rng: random.Random, length: int) -> list[str]:
    return [rng.choice(["O", "O", "O"] + [f"{p}-{t}" for p in "BI" for t in TYPES]) for _ in range(length)]


@pytest.mark.parametrize("seed", range(10))
def test_span_counts_equal_seqeval_report(seed: int) -> None:
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    rng = random.Random(seed)
    gold = [_random_tags(rng, rng.randint(1, 12)) for _ in range(30)]
    pred = [[t if rng.random() < 0.6 else _random_tags(rng, 1)[0] for t in g] for g in gold]
    counts = ln.span_counts(gold, pred)
    report = classification_report(gold, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    for kind, c in counts.items():
        if kind in report:
            assert c.precision == pytest.approx(report[kind]["precision"], abs=1e-12)
            assert c.recall == pytest.approx(report[kind]["recall"], abs=1e-12)
            assert c.f1 == pytest.approx(report[kind]["f1-score"], abs=1e-12)
            assert c.support == report[kind]["support"]
        else:  # seqeval lists only the types that have gold entities
            assert c.support == 0
    assert ln.micro_f1(counts) == pytest.approx(report["micro avg"]["f1-score"], abs=1e-12)


def test_span_counts_crafted() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "O", "O", "B-LOC"]]  # a cut name: one FP and one FN for PER, not half a hit
    counts = ln.span_counts(gold, pred, extra_fp=[[("LOC", "Paris")]])
    assert (counts["PER"].tp, counts["PER"].fp, counts["PER"].fn) == (0, 1, 1)
    assert (counts["LOC"].tp, counts["LOC"].fp, counts["LOC"].fn) == (1, 1, 0)
    with pytest.raises(ValueError, match="gold tags"):
        ln.span_counts([["O"]], [["O", "O"]])


def test_support_weighted_is_not_micro() -> None:
    counts = {"A": ln.TypeCounts(tp=8, fp=0, fn=2), "B": ln.TypeCounts(tp=1, fp=9, fn=1)}
    f1 = {k: c.f1 for k, c in counts.items()}
    weighted = ln.support_weighted_f1(f1, {k: c.support for k, c in counts.items()})
    assert abs(weighted - ln.micro_f1(counts)) > 0.05
    balanced = {"A": ln.TypeCounts(tp=3, fp=1, fn=1), "B": ln.TypeCounts(tp=1, fp=1, fn=1)}  # P = R per type
    f1 = {k: c.f1 for k, c in balanced.items()}
    assert ln.support_weighted_f1(f1, {k: c.support for k, c in balanced.items()}) == pytest.approx(
        ln.micro_f1(balanced))


def test_span_matcher_crafted_cases() -> None:
    tokens = "Ana met Ana Lopez in Paris , then Ana .".split()
    # in order: the second "Ana" line goes to the first free "Ana" after the previous match
    pairs = [("PER", "Ana"), ("PER", "Ana Lopez"), ("LOC", "Paris"), ("PER", "Ana")]
    tags = ln.mentions_to_tags(tokens, pairs)
    assert entities(tags) == {("PER", 0, 1), ("PER", 2, 4), ("LOC", 5, 6), ("PER", 8, 9)}
    # out of order: falls back to the start; overlapping or absent mentions are returned as unplaced
    pairs = [("LOC", "Paris"), ("PER", "Ana Lopez"), ("PER", "Bob"), ("LOC", "Paris")]
    assert entities(ln.mentions_to_tags(tokens, pairs)) == {("LOC", 5, 6), ("PER", 2, 4)}
    assert ln.unplaced(tokens, pairs) == [("PER", "Bob"), ("LOC", "Paris")]
    # a partial word does not match
    assert ln.mentions_to_tags(["Anabel"], [("PER", "Ana")]) == ["O"]


def test_parse_entity_lines() -> None:
    text = "PER | Ana  Lopez\nnone\nLOC|Paris\nXYZ | junk\nPER |\nno bar here\n DATE | 3 May "
    assert ln.parse_entity_lines(text, ["PER", "LOC", "DATE"]) == [("PER", "Ana Lopez"), ("LOC", "Paris"),
                                                                   ("DATE", "3 May")]


def test_generation_target_round_trips() -> None:
    sentences = ln.make_pii_sentences(60, [["Ana", "Lopez"], ["Bo"]], [["New", "York"], ["Lyon"]], seed=3)
    for tokens, tags in sentences:
        pairs = ln.parse_entity_lines(ln.format_entities(tokens, tags), ln.PII_TYPES)
        assert ln.mentions_to_tags(tokens, pairs) == tags
    assert ln.format_entities(["hi"], ["O"]) == "none"


def test_make_pii_sentences() -> None:
    first = ln.make_pii_sentences(20, [["Ana"]], [["Lyon"]], seed=1)
    assert first == ln.make_pii_sentences(20, [["Ana"]], [["Lyon"]], seed=1)
    for tokens, tags in first:
        assert len(tokens) == len(tags)
        assert {label for label, *_ in entities(tags)} <= set(ln.PII_TYPES)
    with pytest.raises(ValueError, match="person"):
        ln.make_pii_sentences(3, [], [["Lyon"]])


def test_keep_types() -> None:
    sentence = (["a", "b", "c", "d"], ["B-person", "I-person", "B-company", "B-geo-loc"])
    assert ln.keep_types([sentence], ln.WNUT_TO_PII)[0][1] == ["B-PERSON", "I-PERSON", "O", "B-LOC"]


def test_align_labels_and_back() -> None:
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    labels = [3, 0, 1]
    assert ln.align_labels(word_ids, labels, "first") == [IGNORE_INDEX, 3, IGNORE_INDEX, 0, 1, IGNORE_INDEX,
                                                          IGNORE_INDEX, IGNORE_INDEX]
    assert ln.align_labels(word_ids, labels, "last") == [IGNORE_INDEX, IGNORE_INDEX, 3, 0, IGNORE_INDEX,
                                                         IGNORE_INDEX, 1, IGNORE_INDEX]
    for position in ("first", "last"):
        aligned = ln.align_labels(word_ids, labels, position)
        assert ln.word_predictions(word_ids, aligned, position) == labels
    with pytest.raises(ValueError, match="position"):
        ln.align_labels(word_ids, labels, "middle")
    with pytest.raises(ValueError, match="word labels"):
        ln.align_labels([0, 1], [5])


def _hf_course_align(word_ids: list[int | None], labels: list[int]) -> list[int]:
    """The transformers token-classification guide's tokenize_and_align_labels (first sub-token)."""
    out, previous = [], None
    for word in word_ids:
        out.append(-100 if word is None or word == previous else labels[word])
        previous = word
    return out


def _minilm_tokenizer():
    from transformers import AutoTokenizer

    from helpers.hub import OFFLINE_MODELS, ProfileError

    try:
        path = OFFLINE_MODELS["sentence-transformers/all-MiniLM-L6-v2"].path()
    except ProfileError as err:
        pytest.skip(str(err))
    return AutoTokenizer.from_pretrained(str(path))


def test_word_ids_from_offsets_equal_bert_word_ids() -> None:
    tokenizer = _minilm_tokenizer()
    sentences = ln.make_pii_sentences(25, [["Ana", "López-Ruiz"], ["O'Neil"]], [["São", "Paulo"]], seed=0)
    for tokens, _ in sentences:
        joined = tokenizer(" ".join(tokens), return_offsets_mapping=True)
        split = tokenizer(tokens, is_split_into_words=True)
        assert joined["input_ids"] == split["input_ids"]
        word_ids = ln.word_ids_from_offsets(joined["offset_mapping"], tokens)
        assert word_ids == split.word_ids()
        labels = list(range(len(tokens)))
        assert ln.align_labels(word_ids, labels, "first") == _hf_course_align(split.word_ids(), labels)


def test_word_ids_from_offsets_space_tokens() -> None:
    words = ["on", "555"]  # byte-level BPE: " 555" -> "Ġ", "5", "5", "5"
    offsets = [(0, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 0)]
    assert ln.word_ids_from_offsets(offsets, words) == [0, 1, 1, 1, 1, None]


def test_encode_tagged_refuses_unknown_tags_and_long_sentences() -> None:
    tokenizer = _minilm_tokenizer()
    with pytest.raises(ValueError, match="not in the label list"):
        ln.encode_tagged(tokenizer, [(["a"], ["B-X"])], ["O"])
    with pytest.raises(ValueError, match="max_length"):
        ln.encode_tagged(tokenizer, [(["a"] * 20, ["O"] * 20)], ["O"], max_length=8)


@pytest.mark.parametrize("family", ["llama", "bert"])
def test_token_logits_by_hand(family: str) -> None:
    from transformers import BertConfig, BertForTokenClassification, LlamaConfig, LlamaForTokenClassification

    torch.manual_seed(0)
    if family == "llama":
        model = LlamaForTokenClassification(LlamaConfig(
            vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, num_labels=5, pad_token_id=0))
    else:
        model = BertForTokenClassification(BertConfig(
            vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_labels=5))
    model.eval()
    batch = {"input_ids": torch.randint(1, 50, (3, 7)), "attention_mask": torch.ones(3, 7, dtype=torch.long)}
    batch["attention_mask"][1, 5:] = 0
    with torch.no_grad():
        reference = model(**batch).logits
        torch.testing.assert_close(ln.token_logits_by_hand(model, batch), reference)
        head = model.score if family == "llama" else model.classifier
        head.weight.add_(0.1)  # a different head gives different logits: the check can fail
        assert not torch.allclose(ln.token_logits_by_hand(model, batch), reference)


def test_char_spans_to_tags() -> None:
    text = "Hi Ana Lopez, mail ana@x.org (before 3 May)."
    spans = [{"start": 3, "end": 12, "label": "givenname"}, {"start": 19, "end": 28, "label": "email"},
             {"start": 37, "end": 42, "label": "date"}]
    tokens, tags = ln.char_spans_to_tags(text, spans)
    assert tokens == ["Hi", "Ana", "Lopez", ",", "mail", "ana@x.org", "(", "before", "3", "May", ")", "."]
    assert tags == ["O", "B-GIVENNAME", "I-GIVENNAME", "O", "O", "B-EMAIL", "O", "O", "B-DATE", "I-DATE", "O",
                    "O"]


def test_generate_batched_left_padding_equals_one_by_one() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    from helpers.data import MissingDataError
    from helpers.hub import cached_copy

    try:
        path = cached_copy("HuggingFaceTB/SmolLM2-135M-Instruct")
    except MissingDataError as err:
        pytest.skip(str(err))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                         pad_token_id=tokenizer.pad_token_id))
    prompts = ["Text: a short one\n", "Text: a rather longer prompt with many more words in it\n"]
    batched = ln.generate_batched(model, tokenizer, prompts, max_new_tokens=6, batch_size=2)
    single = [ln.generate_batched(model, tokenizer, [p], max_new_tokens=6)[0] for p in prompts]
    assert batched == single
    assert tokenizer.padding_side == "right"  # restored
