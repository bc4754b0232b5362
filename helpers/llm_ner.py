"""Named entities three ways: a token-classification head, generated "TYPE | mention" lines, and the scoring.

Defined in Day 39 (NER and PII detection with a decoder LLM). Checked in ``tests/test_day39_llm_ner.py``:
the label alignment round-trips through ``word_ids()``, the per-type scores equal seqeval's
``classification_report`` (strict IOB2), the span matcher is tested on crafted cases, and a
``LlamaForTokenClassification``'s logits equal a hand head on its hidden states.

The ``ci`` data are synthetic PII sentences (names and places are real WNUT-16 entity mentions, e-mails,
phone numbers and dates are generated) mixed with real WNUT-16 tweets; ``laptop``/``gpu`` read the
ai4privacy PII set of the 2025 source articles from the Hugging Face Hub.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from helpers.ner import IGNORE_INDEX, entities

#: the entity types of the ``ci`` data (the PII framing: who, where, and how to reach them).
PII_TYPES = ("PERSON", "LOC", "EMAIL", "PHONE", "DATE")
#: WNUT-16 types kept (renamed) when tweets join the PII data; the other eight types become ``O``.
WNUT_TO_PII = {"person": "PERSON", "geo-loc": "LOC"}

Sentence = tuple[list[str], list[str]]  # (tokens, IOB2 tags)

_TEMPLATES = (
    "Please contact {PERSON} at {EMAIL} before {DATE} .",
    "{PERSON} moved to {LOC} on {DATE} .",
    "Call {PERSON} on {PHONE} if the parcel is late .",
    "My name is {PERSON} and my number is {PHONE} .",
    "Send the {LOC} invoice to {EMAIL} by {DATE} .",
    "The meeting with {PERSON} in {LOC} is on {DATE} .",
    "{PERSON} 's e-mail is {EMAIL} , phone {PHONE} .",
    "just saw {PERSON} in {LOC} lol",
    "Patient {PERSON} , born {DATE} , lives in {LOC} .",
    "Reach me at {PHONE} or {EMAIL} .",
    "Thanks {PERSON} ! see you in {LOC} on {DATE}",
    "New address for {PERSON} : {LOC} , tel {PHONE} .",
)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DOMAINS = ("example.com", "mail.example.org", "example.net")


def entity_mentions(sentences: Sequence[Sentence], kind: str) -> list[list[str]]:
    """Distinct mentions (token lists) of type ``kind`` in IOB2-tagged sentences, in order of first use."""
    seen: dict[tuple[str, ...], None] = {}
    for tokens, tags in sentences:
        for label, start, end in sorted(entities(tags), key=lambda span: span[1]):
            if label == kind:
                seen.setdefault(tuple(tokens[start:end]), None)
    return [list(mention) for mention in seen]


def _email(rng: random.Random, person: list[str]) -> list[str]:
    local = ".".join(re.sub(r"[^a-z0-9]", "", word.lower()) for word in person).strip(".") or "info"
    return [f"{local}{rng.randint(1, 99) if rng.random() < 0.5 else ''}@{rng.choice(_DOMAINS)}"]


def _phone(rng: random.Random) -> list[str]:
    digits = [rng.randint(0, 9) for _ in range(10)]
    a, b, c = "".join(map(str, digits[:3])), "".join(map(str, digits[3:6])), "".join(map(str, digits[6:]))
    return [rng.choice((f"{a}-{b}-{c}", f"({a}){b}-{c}", f"+1-{a}-{b}-{c}", f"{a}.{b}.{c}"))]


def _date(rng: random.Random) -> list[str]:
    year, month, day = rng.randint(1950, 2024), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(([str(day), _MONTHS[month - 1], str(year)], [f"{year}-{month:02d}-{day:02d}"],
                       [f"{day:02d}/{month:02d}/{year}"], [_MONTHS[month - 1], str(day)]))


def make_pii_sentences(n: int, people: Sequence[Sequence[str]], places: Sequence[Sequence[str]],
                       seed: int = 0) -> list[Sentence]:
    """``n`` synthetic PII sentences as (tokens, IOB2 tags), from templates with five entity types.

    ``people`` and ``places`` are mentions (token lists) to draw names and locations from; e-mails (built
    from the sentence's name), phone numbers and dates are generated. Seeded: the same call gives the same
    sentences. Defined in Day 39.
    """
    if not people or not places:
        raise ValueError("make_pii_sentences needs at least one person and one place mention to draw from")
    rng = random.Random(seed)
    sentences = []
    for _ in range(n):
        template = rng.choice(_TEMPLATES)
        person = list(rng.choice(people))
        tokens, tags = [], []
        for word in template.split():
            slot = re.fullmatch(r"\{(\w+)\}", word)
            if slot is None:
                tokens.append(word)
                tags.append("O")
                continue
            kind = slot.group(1)
            if kind == "PERSON":
                mention = person
            elif kind == "LOC":
                mention = list(rng.choice(places))
            elif kind == "EMAIL":
                mention = _email(rng, person)
            else:
                mention = _phone(rng) if kind == "PHONE" else _date(rng)
            tokens.extend(mention)
            tags.extend([f"B-{kind}"] + [f"I-{kind}"] * (len(mention) - 1))
        sentences.append((tokens, tags))
    return sentences


def keep_types(sentences: Sequence[Sentence], mapping: dict[str, str]) -> list[Sentence]:
    """Rename entity types by ``mapping`` and turn every type not in it into ``O`` (tags stay strict IOB2)."""
    renamed = []
    for tokens, tags in sentences:
        new = ["O"] * len(tags)
        for label, start, end in entities(tags):
            if label in mapping:
                new[start:end] = [f"B-{mapping[label]}"] + [f"I-{mapping[label]}"] * (end - start - 1)
        renamed.append((list(tokens), new))
    return renamed


def tag_names(types: Sequence[str]) -> list[str]:
    """``O`` then ``B-X``, ``I-X`` for each type: index = label id."""
    return ["O"] + [f"{prefix}-{kind}" for kind in types for prefix in "BI"]


# ------------------------------------------------------------------ sub-word alignment (word ids)
def word_ids_from_offsets(offsets: Sequence[tuple[int, int]], words: Sequence[str],
                          separator: str = " ") -> list[int | None]:
    """The word of each token of ``separator.join(words)``, from the tokenizer's character offsets.

    A token belongs to the word holding its first non-space character; a token of spaces only (byte-level
    BPE writes the space before a digit as its own token) belongs to the word that follows it. Special
    tokens (empty offsets) get ``None``. This is what ``word_ids()`` gives for ``is_split_into_words``
    input on a BERT tokenizer, but it works for every fast tokenizer, including byte-level BPE ones whose
    ``is_split_into_words`` glues the words together. Defined in Day 39.
    """
    owner, position = {}, 0
    for number, word in enumerate(words):
        for char in range(position, position + len(word)):
            owner[char] = number
        position += len(word) + len(separator)
    text = separator.join(words)
    ids: list[int | None] = []
    for start, end in offsets:
        if start == end:
            ids.append(None)
            continue
        first = next((i for i in range(start, end) if not text[i].isspace()), end)
        ids.append(owner.get(first))
    return ids


def align_labels(word_ids: Sequence[int | None], word_labels: Sequence[int],
                 position: str = "first") -> list[int]:
    """Word-level label ids → one label per token: each word's label on one of its tokens, -100 elsewhere.

    ``position="first"`` labels the first token of each word (the Hugging Face course's algorithm, right
    for an encoder, which sees the whole sentence from every token). ``"last"`` labels the last token: a
    causal decoder has read the whole word only there. Tokens of no word (special tokens, ``None``) and
    the other tokens of a word get ``IGNORE_INDEX``. Defined in Day 39.
    """
    if position not in ("first", "last"):
        raise ValueError(f"position must be 'first' or 'last', got {position!r}")
    chosen = _chosen_tokens(word_ids, position)
    aligned = [IGNORE_INDEX] * len(word_ids)
    for word, index in chosen.items():
        if word >= len(word_labels):
            raise ValueError(f"word id {word} but only {len(word_labels)} word labels: wrong sentence?")
        aligned[index] = int(word_labels[word])
    return aligned


def word_predictions(word_ids: Sequence[int | None], token_predictions: Sequence[int],
                     position: str = "first") -> list[int]:
    """Token-level predicted ids → one per word, read at the token ``align_labels`` trained on."""
    if len(word_ids) != len(token_predictions):
        raise ValueError(f"{len(word_ids)} word ids but {len(token_predictions)} token predictions")
    chosen = _chosen_tokens(word_ids, position)
    return [int(token_predictions[chosen[word]]) for word in sorted(chosen)]


def _chosen_tokens(word_ids: Sequence[int | None], position: str) -> dict[int, int]:
    chosen: dict[int, int] = {}
    for index, word in enumerate(word_ids):
        if word is not None and (position == "last" or word not in chosen):
            chosen[word] = index
    return chosen


def encode_tagged(tokenizer: Any, sentences: Sequence[Sentence], tags: Sequence[str], max_length: int = 128,
                  position: str = "first") -> tuple[list[dict[str, list[int]]], list[list[int | None]]]:
    """Tokenize sentences (words joined by spaces) and align their tags: model-ready features and word ids.

    Word ids come from the character offsets (``word_ids_from_offsets``). A sentence longer than
    ``max_length`` tokens raises: a cut sentence would lose the labels of its last words.
    """
    index = {tag: i for i, tag in enumerate(tags)}
    features, all_word_ids = [], []
    for tokens, sentence_tags in sentences:
        unknown = set(sentence_tags) - set(index)
        if unknown:
            raise ValueError(f"tags {sorted(unknown)} are not in the label list {list(tags)}")
        encoding = tokenizer(" ".join(tokens), return_offsets_mapping=True)
        if len(encoding["input_ids"]) > max_length:
            raise ValueError(f"a sentence of {len(encoding['input_ids'])} tokens is longer than "
                             f"max_length={max_length}: raise it, or drop long sentences first")
        word_ids = word_ids_from_offsets(encoding["offset_mapping"], tokens)
        features.append({"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"],
                         "labels": align_labels(word_ids, [index[t] for t in sentence_tags], position)})
        all_word_ids.append(word_ids)
    return features, all_word_ids


# ------------------------------------------------------------------ generative extraction
def format_entities(tokens: Sequence[str], tags: Sequence[str]) -> str:
    """The generative target: one "TYPE | mention" line per entity, in sentence order; "none" if empty."""
    spans = sorted(entities(tags), key=lambda span: span[1])
    return "\n".join(f"{label} | {' '.join(tokens[start:end])}" for label, start, end in spans) or "none"


def parse_entity_lines(text: str, types: Sequence[str]) -> list[tuple[str, str]]:
    """(type, mention) pairs from generated "TYPE | mention" lines; malformed lines and unknown types are
    dropped (a generator can write anything), and so is "none"."""
    pairs = []
    for line in text.splitlines():
        kind, bar, mention = line.partition("|")
        kind, mention = kind.strip(), " ".join(mention.split())
        if bar and kind in types and mention:
            pairs.append((kind, mention))
    return pairs


def mentions_to_tags(tokens: Sequence[str], mentions: Sequence[tuple[str, str]]) -> list[str]:
    """Place generated (type, mention) pairs on the sentence's tokens as IOB2 tags: the span matcher.

    Each mention is matched as a whole token sequence (after splitting it on spaces), at its first
    occurrence that overlaps no mention placed before it, searching left to right from the end of the
    previous match first (generated lines come in sentence order), then from the start. A mention that
    is not in the sentence (a hallucination, or a repeat with no free occurrence) places nothing;
    ``unplaced`` returns those, to be counted as false positives (``span_counts(extra_fp=...)``).
    Defined in Day 39.
    """
    return _place(tokens, mentions)[0]


def unplaced(tokens: Sequence[str], mentions: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The mentions that ``mentions_to_tags`` could not place in the sentence (not found, or overlapping)."""
    return _place(tokens, mentions)[1]


def _place(tokens: Sequence[str], mentions: Sequence[tuple[str, str]]) -> tuple[list[str], list]:
    tags, missing, cursor = ["O"] * len(tokens), [], 0
    for kind, mention in mentions:
        words = mention.split()
        width = len(words)
        starts = [*range(cursor, len(tokens) - width + 1), *range(0, min(cursor, len(tokens) - width + 1))]
        for start in starts:
            free = all(tag == "O" for tag in tags[start:start + width])
            if free and list(tokens[start:start + width]) == words:
                tags[start:start + width] = [f"B-{kind}"] + [f"I-{kind}"] * (width - 1)
                cursor = start + width
                break
        else:
            missing.append((kind, mention))
    return tags, missing


# ------------------------------------------------------------------ scores
@dataclass
class TypeCounts:
    """Span-level counts of one entity type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


def span_counts(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
                extra_fp: Sequence[Sequence[tuple[str, str]]] | None = None) -> dict[str, TypeCounts]:
    """Per-type TP/FP/FN over strict IOB2 spans: a prediction counts only with its type and both ends right.

    ``extra_fp`` (one list per sentence, e.g. ``unplaced`` mentions) adds false positives that have no
    position in the sentence, such as hallucinated mentions of a generator. Defined in Day 39.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    counts: dict[str, TypeCounts] = {}
    for number, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {number}: {len(g)} gold tags but {len(p)} predicted ones")
        gold_spans, pred_spans = entities(g), entities(p)
        for label, *_ in gold_spans | pred_spans:
            counts.setdefault(label, TypeCounts())
        for label, *_ in gold_spans & pred_spans:
            counts[label].tp += 1
        for label, *_ in pred_spans - gold_spans:
            counts[label].fp += 1
        for label, *_ in gold_spans - pred_spans:
            counts[label].fn += 1
        for label, _ in (extra_fp[number] if extra_fp is not None else ()):
            counts.setdefault(label, TypeCounts()).fp += 1
    return dict(sorted(counts.items()))


def micro_f1(counts: dict[str, TypeCounts]) -> float:
    """F1 of the pooled counts (every entity weighs the same; seqeval's ``f1_score`` default)."""
    return TypeCounts(sum(c.tp for c in counts.values()), sum(c.fp for c in counts.values()),
                      sum(c.fn for c in counts.values())).f1


def support_weighted_f1(f1: dict[str, float], support: dict[str, int]) -> float:
    """Mean of per-type F1 weighted by gold support: what one can compute from a per-type table alone.

    It is not micro-F1 in general (micro-F1 pools TP/FP/FN first), which is how the seed figures were
    derived. Defined in Day 39.
    """
    total = sum(support[kind] for kind in f1)
    if total == 0:
        raise ValueError("the supports sum to zero: nothing to weight by")
    return sum(f1[kind] * support[kind] for kind in f1) / total


def token_logits_by_hand(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """A ``*ForTokenClassification``'s logits recomputed by hand: its last hidden states times the head.

    Works for Llama-family (``score``) and BERT-family (``classifier``) models, in eval mode (dropout
    off). Defined in Day 39.
    """
    head = getattr(model, "score", None) or getattr(model, "classifier", None)
    if head is None:
        raise ValueError(f"{type(model).__name__} has neither a 'score' nor a 'classifier' head")
    base = getattr(model, model.base_model_prefix)
    hidden = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    return hidden @ head.weight.T + (head.bias if head.bias is not None else 0)


# ------------------------------------------------------------------ the real PII set (laptop / gpu)
AI4PRIVACY = "ai4privacy/open-pii-masking-500k-ai4privacy"


def char_spans_to_tags(text: str, spans: Sequence[dict[str, Any]]) -> Sentence:
    """Split ``text`` into words (runs of letters/digits and single other characters, keeping e-mails,
    phone numbers and dates as they are written between spaces) and tag them from character spans
    ``{"start", "end", "label"}``: a word belongs to a span when it overlaps it."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    pieces = []
    for start, end in words:  # split off leading/trailing punctuation, keep the inside intact
        word = text[start:end]
        lead = len(word) - len(word.lstrip(".,;:!?()[]\"'"))
        trail = len(word) - len(word.rstrip(".,;:!?()[]\"'"))
        inner_start, inner_end = start + lead, end - trail
        pieces += [(i, i + 1) for i in range(start, inner_start)]
        if inner_start < inner_end:
            pieces.append((inner_start, inner_end))
        pieces += [(i, i + 1) for i in range(inner_end, end)]
    tokens, tags, previous = [], [], None
    ordered = sorted(spans, key=lambda s: s["start"])
    for start, end in pieces:
        owner = next((s for s in ordered if s["start"] < end and start < s["end"]), None)
        tokens.append(text[start:end])
        if owner is None:
            tags.append("O")
        else:
            label = str(owner["label"]).upper()
            tags.append(("I-" if owner is previous else "B-") + label)
        previous = owner
    return tokens, tags


def load_ai4privacy(split: str, n: int, language: str = "en", seed: int = 0) -> list[Sentence]:
    """``n`` rows of the ai4privacy PII set (the 2025 source articles' data) as (tokens, IOB2 tags).

    Keeps the rows of ``language``, shuffled with ``seed``. Used by ``laptop`` and ``gpu``; a failed
    download raises ``MissingDataError`` naming the offline alternative.
    """
    try:
        from datasets import load_dataset

        data = load_dataset(AI4PRIVACY, split=split, streaming=True)
        rows = []
        for row in data.shuffle(seed=seed, buffer_size=10_000):
            if row.get("language", language) == language:
                rows.append(char_spans_to_tags(row["source_text"], row["privacy_mask"]))
            if len(rows) == n:
                break
    except Exception as err:  # no network, Hub down, dataset renamed: say what to do
        from helpers.data import MissingDataError

        raise MissingDataError(
            f"Could not load the PII set {AI4PRIVACY} (split {split!r}) from the Hugging Face Hub: "
            f"{type(err).__name__}: {err}. Check the network, or run offline with COURSE_PROFILE=ci, which "
            "uses synthetic PII sentences and WNUT-16 tweets.") from err
    return rows


# ------------------------------------------------------------------ inference
@torch.inference_mode()
def predict_tags(model: Any, collator: Any, features: Sequence[dict[str, list[int]]],
                 word_ids: Sequence[Sequence[int | None]], tags: Sequence[str], position: str = "first",
                 batch_size: int = 16, device: Any = "cpu") -> list[list[str]]:
    """Word-level IOB2 tags predicted by a token-classification model, read at ``position`` of each word.

    Batches go through ``collator`` (e.g. ``DataCollatorForTokenClassification``) on ``device``; the argmax
    of each token's logits is mapped back to words with ``word_predictions``. Defined in Day 39.
    """
    model.eval()
    predicted = []
    for begin in range(0, len(features), batch_size):
        batch = collator([dict(f) for f in features[begin:begin + batch_size]])
        batch = {key: value.to(device) for key, value in batch.items() if key != "labels"}
        ids = model(**batch).logits.argmax(-1).cpu()
        for row, words in zip(ids, word_ids[begin:begin + batch_size], strict=True):
            predicted.append([tags[i] for i in word_predictions(words, row[: len(words)].tolist(), position)])
    return predicted


@torch.inference_mode()
def generate_batched(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int,
                     batch_size: int = 8) -> list[str]:
    """Greedy continuations of ``prompts``, batched with LEFT padding, decoded without the prompt.

    With left padding every prompt ends at the same column, so the new tokens start at the padded width
    ``input_ids.shape[1]`` for every row. (The 2025 source sliced ``output[input_len:]`` with each prompt's
    own length, which cuts inside the prompt of every shorter one.) Defined in Day 39.
    """
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token: set tokenizer.pad_token (e.g. to its EOS) first")
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    model.eval()
    texts = []
    try:
        for begin in range(0, len(prompts), batch_size):
            inputs = tokenizer(list(prompts[begin:begin + batch_size]), return_tensors="pt", padding=True,
                               add_special_tokens=False).to(model.device)
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            new_tokens = output[:, inputs["input_ids"].shape[1]:]  # the padded width, the same for every row
            texts += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return texts
