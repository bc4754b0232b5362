"""helpers.text against torchtext's documented behaviour, written down as fixtures.

torchtext cannot be imported with a current torch. The expected values follow torchtext 0.18's source:
``torchtext/data/utils.py`` (``_basic_english_normalize``, ``get_tokenizer``) and
``torchtext/vocab/vocab_factory.py`` (``vocab``, ``build_vocab_from_iterator``), and their docstring examples.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict

import pytest
import torch
from torch import nn

from helpers.text import (
    BASIC_ENGLISH_RULES,
    UnknownTokenError,
    Vocab,
    basic_english,
    build_vocab,
    build_vocab_from_iterator,
    characters,
    final_state,
    get_tokenizer,
    last_hidden,
    make_pad_collate,
    pack,
    pad_collate,
    unpack,
    vocab,
    whitespace,
)

# ---------------------------------------------------------------- tokenisers
# (input, torchtext basic_english output), worked through torchtext's pattern list by hand.
BASIC_ENGLISH_CASES = [
    # the example of torchtext's get_tokenizer docstring
    ("You can now install TorchText using pip!",
     ["you", "can", "now", "install", "torchtext", "using", "pip", "!"]),
    # the apostrophe becomes a token of its own: "don't" -> don ' t
    ("Don't stop", ["don", "'", "t", "stop"]),
    # quotes deleted, <br /> and ; : turned into spaces, brackets and ? split off
    ('He said "hi." <br />Then: left; (really?)',
     ["he", "said", "hi", ".", "then", "left", "(", "really", "?", ")"]),
    # commas and full stops split; hyphens, slashes and digits stay glued
    ("Well-known, 3.5/5 stars.", ["well-known", ",", "3", ".", "5/5", "stars", "."]),
    # the <br /> rule runs after lowercasing, so <BR /> goes too; other whitespace collapses
    ("A<BR />b\t\tc\n", ["a", "b", "c"]),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), BASIC_ENGLISH_CASES)
def test_basic_english_matches_torchtext(text, expected):
    assert basic_english(text) == expected
    assert get_tokenizer("basic_english")(text) == expected


def test_basic_english_rules_are_torchtexts_list():
    patterns = [p for p, _ in BASIC_ENGLISH_RULES]
    assert patterns == [r"\'", r"\"", r"\.", r"<br \/>", r",", r"\(", r"\)", r"\!", r"\?", r"\;", r"\:",
                        r"\s+"]
    assert BASIC_ENGLISH_RULES[0][1] == " '  "


def test_whitespace_and_characters():
    assert whitespace("Hello,  World!") == ["Hello,", "World!"]
    assert get_tokenizer(None)("a  b") == ["a", "b"]          # torchtext: get_tokenizer(None) is str.split
    assert get_tokenizer("whitespace") is whitespace
    assert characters("ab c") == ["a", "b", " ", "c"]
    assert get_tokenizer("characters")("北京") == ["北", "京"]


def test_get_tokenizer_callable_and_errors():
    def upper(s):
        return s.upper().split()

    assert get_tokenizer(upper) is upper
    with pytest.raises(ValueError, match="choose one of"):
        get_tokenizer("moses")
    with pytest.raises(ValueError, match="spaCy"):
        get_tokenizer("spacy")
    with pytest.raises(TypeError, match="one string"):
        basic_english(["a list"])


# ---------------------------------------------------------------- Vocab
TEXTS = ["b a c", "c b", "c d"]     # counts: c 3, b 2, a 1, d 1; first appearance: b a c d


def tokens_of(texts):
    return (t.split() for t in texts)


def test_build_vocab_frequency_order_ties_alphabetical():
    # torchtext sorts by (-count, token): a and d tie at 1, a comes first
    v = build_vocab(tokens_of(TEXTS))
    assert v.get_itos() == ["c", "b", "a", "d"]
    assert build_vocab_from_iterator is build_vocab


def test_build_vocab_insertion_order():
    assert build_vocab(tokens_of(TEXTS), order="insertion").get_itos() == ["b", "a", "c", "d"]
    # torchtext.vocab.vocab(Counter) keeps first-appearance order too
    assert vocab(Counter("b a c c b c d".split())).get_itos() == ["b", "a", "c", "d"]


def test_specials_first_last_and_removed_from_counts():
    v = build_vocab(tokens_of(TEXTS + ["<unk> c"]), specials=["<pad>", "<unk>"])
    assert v.get_itos() == ["<pad>", "<unk>", "c", "b", "a", "d"]
    v = build_vocab(tokens_of(TEXTS), specials=["<pad>", "<unk>"], special_first=False)
    assert v.get_itos() == ["c", "b", "a", "d", "<pad>", "<unk>"]


def test_min_freq_and_max_tokens():
    assert build_vocab(tokens_of(TEXTS), specials=["<unk>"], min_freq=2).get_itos() == ["<unk>", "c", "b"]
    assert build_vocab(tokens_of(TEXTS), specials=["<pad>", "<unk>"], max_tokens=4).get_itos() == [
        "<pad>", "<unk>", "c", "b"]
    # torchtext cuts before removing specials: a special seen in the text costs a slot
    v = build_vocab(tokens_of(["<unk> <unk> <unk> <unk> c c b"]), specials=["<unk>"], max_tokens=3)
    assert v.get_itos() == ["<unk>", "c"]
    with pytest.raises(ValueError, match="no room"):
        build_vocab(tokens_of(TEXTS), specials=["<pad>", "<unk>"], max_tokens=2)
    with pytest.raises(ValueError, match="min_freq"):
        build_vocab(tokens_of(TEXTS), min_freq=0)


def test_torchtext_vocab_docstring_example():
    counter = Counter(["a", "a", "b", "b", "b"])
    ordered = OrderedDict(sorted(counter.items(), key=lambda x: x[1], reverse=True))
    v1 = vocab(ordered)
    assert v1["a"] == 1
    with pytest.raises(UnknownTokenError, match="no default index"):
        v1["out of vocab"]
    v2 = vocab(OrderedDict([(t, 1) for t in ["e", "d", "c", "b", "a"]]), specials=["<unk>"])
    v2.set_default_index(-1)
    assert v2["<unk>"] == 0
    assert v2["out of vocab"] == -1


def test_default_index_and_unknown_error():
    v = build_vocab(tokens_of(TEXTS), specials=["<pad>", "<unk>"])
    assert v.get_default_index() is None
    with pytest.raises(KeyError):            # a KeyError subclass, with a message saying what to do
        v["zebra"]
    try:
        v["zebra"]
    except UnknownTokenError as err:
        assert "set_default_index" in str(err) and "'zebra'" in str(err)
    v.set_default_index(v["<unk>"])
    assert v["zebra"] == 1 and v.lookup_indices(["c", "zebra"]) == [2, 1]
    v.set_default_index(None)
    with pytest.raises(UnknownTokenError):
        v.lookup_indices(["zebra"])
    assert build_vocab(tokens_of(TEXTS), specials=["<unk>"], unk_token="<unk>")["zebra"] == 0
    with pytest.raises(ValueError, match="add it to specials"):
        build_vocab(tokens_of(TEXTS), unk_token="<unk>")
    with pytest.raises(TypeError, match="int or None"):
        v.set_default_index("<unk>")


def test_lookups_round_trip():
    v = build_vocab(tokens_of(TEXTS), specials=["<pad>", "<unk>"], unk_token="<unk>")
    tokens = ["d", "c", "a"]
    ids = v(tokens)
    assert ids == v.lookup_indices(tokens) == [5, 2, 4]
    assert v.lookup_tokens(ids) == tokens
    assert v.lookup_tokens(torch.tensor(ids)) == tokens
    assert v.lookup_token(0) == "<pad>"
    stoi, itos = v.get_stoi(), v.get_itos()
    assert all(stoi[itos[i]] == i for i in range(len(v)))
    assert len(v) == 6 and "c" in v and "zebra" not in v and list(v) == itos
    itos.append("mutated")                   # copies, as torchtext returns
    assert len(v.get_itos()) == 6
    with pytest.raises(IndexError, match="outside"):
        v.lookup_token(6)
    with pytest.raises(TypeError, match="list of tokens"):
        v.lookup_indices("c b")
    assert "size=6" in repr(v)


def test_vocab_construction_errors():
    with pytest.raises(ValueError, match="already"):
        Vocab(["a", "a"])
    with pytest.raises(TypeError, match="strings"):
        Vocab(["a", 3])
    with pytest.raises(ValueError, match="duplicates"):
        build_vocab(tokens_of(TEXTS), specials=["<pad>", "<pad>"])
    with pytest.raises(TypeError, match="token lists"):
        build_vocab(["a text, not tokens"])
    with pytest.raises(TypeError, match="not a string"):
        build_vocab("abc")
    with pytest.raises(ValueError, match="order"):
        build_vocab(tokens_of(TEXTS), order="alphabetical")
    v = Vocab(["x"])
    v.append_token("y")
    assert v["y"] == 1


def test_save_load(tmp_path):
    v = build_vocab(tokens_of(TEXTS + ["café 北京"]), specials=["<pad>", "<unk>"], unk_token="<unk>")
    path = v.save(tmp_path / "sub" / "vocab.json")
    loaded = Vocab.load(path)
    assert loaded == v and loaded.get_itos() == v.get_itos() and loaded["zebra"] == 1
    assert "北京" in path.read_text(encoding="utf-8")         # readable UTF-8 JSON
    assert (v == "not a vocab") is False
    with pytest.raises(FileNotFoundError, match="save"):
        Vocab.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"tokens": []}))
    with pytest.raises(ValueError, match="Not a saved"):
        Vocab.load(tmp_path / "bad.json")


# ---------------------------------------------------------------- collate
def test_pad_collate_pairs():
    batch = [([5, 6, 7], 1), (torch.tensor([8]), 0), ([9, 10], 1)]
    out = pad_collate(batch, pad_id=0)
    assert out["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert out["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    assert out["lengths"].tolist() == [3, 1, 2]
    assert out["labels"].tolist() == [1, 0, 1]
    assert out["input_ids"].dtype == torch.long and out["lengths"].device.type == "cpu"


def test_pad_collate_dicts_token_labels_and_truncation():
    batch = [{"input_ids": [1, 2, 3, 4], "labels": [0, 1, 2, 0], "id": "a", "weight": 0.5},
             {"input_ids": [5, 6], "labels": [2, 2], "id": "b", "weight": 1.0}]
    out = make_pad_collate(pad_id=99, max_length=3)(batch)
    assert out["input_ids"].tolist() == [[1, 2, 3], [5, 6, 99]]
    assert out["labels"].tolist() == [[0, 1, 2], [2, 2, -100]]
    assert out["lengths"].tolist() == [3, 2]
    assert out["id"] == ["a", "b"]
    assert torch.allclose(out["weight"], torch.tensor([0.5, 1.0]))


def test_pad_collate_errors():
    with pytest.raises(ValueError, match="empty"):
        pad_collate([], pad_id=0)
    with pytest.raises(KeyError, match="input_key"):
        pad_collate([{"ids": [1]}], pad_id=0)
    with pytest.raises(TypeError, match="pairs"):
        pad_collate([3], pad_id=0)
    with pytest.raises(ValueError, match="1-D"):
        pad_collate([(torch.zeros(2, 2, dtype=torch.long), 0)], pad_id=0)
    with pytest.raises(ValueError, match="one label per"):
        pad_collate([{"input_ids": [1, 2], "labels": [0]}], pad_id=0)
    with pytest.raises(ValueError, match="max_length"):
        pad_collate([([1], 0)], pad_id=0, max_length=0)


def test_pad_collate_in_a_dataloader():
    data = [([1, 2, 3], 0), ([4], 1), ([5, 6], 0), ([7, 8, 9, 10], 1)]
    loader = torch.utils.data.DataLoader(data, batch_size=2, collate_fn=make_pad_collate(pad_id=0))
    shapes = [tuple(b["input_ids"].shape) for b in loader]
    assert shapes == [(2, 3), (2, 4)]


# ---------------------------------------------------------------- packing
def padded_batch(seed=0, lengths=(5, 2, 4), dim=3, pad_extra=0):
    g = torch.Generator().manual_seed(seed)
    seqs = [torch.randn(n, dim, generator=g) for n in lengths]
    total = max(lengths) + pad_extra
    x = torch.zeros(len(seqs), total, dim)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = s
        x[i, len(s):] = 7.0                # junk at pads: a packed run must never read it
    return seqs, x, torch.tensor(lengths)


@pytest.mark.parametrize("cell", [nn.RNN, nn.GRU, nn.LSTM])
def test_pack_equals_per_sequence_unpadded_run(cell):
    torch.manual_seed(0)
    rnn = cell(3, 4, num_layers=2, batch_first=True)
    seqs, x, lengths = padded_batch()
    out, state = rnn(pack(x, lengths))
    h_n = state[0] if isinstance(state, tuple) else state
    padded, out_lengths = unpack(out)
    assert out_lengths.tolist() == lengths.tolist()
    for i, s in enumerate(seqs):
        ref_out, ref_state = rnn(s[None])
        ref_h = ref_state[0] if isinstance(ref_state, tuple) else ref_state
        torch.testing.assert_close(h_n[:, i], ref_h[:, 0], atol=1e-6, rtol=0)
        torch.testing.assert_close(padded[i, : len(s)], ref_out[0], atol=1e-6, rtol=0)
        assert torch.all(padded[i, len(s):] == 0)
    # the last real output is the final state; out[:, -1] (the seed bug) is not, for the short rows
    torch.testing.assert_close(last_hidden(padded, lengths), final_state(h_n), atol=1e-6, rtol=0)
    assert not torch.allclose(padded[:, -1], final_state(h_n))


def test_bidirectional_last_hidden_and_pad_invariance():
    torch.manual_seed(0)
    rnn = nn.GRU(3, 4, batch_first=True, bidirectional=True)
    seqs, x, lengths = padded_batch()
    out, h_n = rnn(pack(x, lengths))
    padded, _ = unpack(out)
    both = final_state(h_n, bidirectional=True)
    assert both.shape == (3, 8)
    torch.testing.assert_close(last_hidden(padded, lengths, bidirectional=True), both, atol=1e-6, rtol=0)
    # appending more pads changes nothing
    _, x_more, _ = padded_batch(pad_extra=3)
    _, h_more = rnn(pack(x_more, lengths))
    torch.testing.assert_close(h_more, h_n, atol=0, rtol=0)


def test_time_first_layout():
    torch.manual_seed(0)
    rnn = nn.LSTM(3, 4)                   # batch_first=False
    _, x, lengths = padded_batch()
    out, (h_n, _) = rnn(pack(x.transpose(0, 1), lengths, batch_first=False))
    padded, _ = unpack(out, batch_first=False, total_length=x.shape[1])
    assert padded.shape == (5, 3, 4)
    torch.testing.assert_close(last_hidden(padded, lengths, batch_first=False), h_n[-1], atol=1e-6, rtol=0)


def test_packing_errors():
    _, x, lengths = padded_batch()
    with pytest.raises(ValueError, match="between 1 and"):
        pack(x, torch.tensor([5, 0, 4]))
    with pytest.raises(ValueError, match="one length per"):
        pack(x, [5, 2])
    with pytest.raises(ValueError, match="lengths for a batch"):
        last_hidden(x, [5, 2])
    with pytest.raises(ValueError, match="between 1 and"):
        last_hidden(x, [6, 2, 4])
    with pytest.raises(ValueError, match="even feature"):
        last_hidden(x, lengths, bidirectional=True)
    with pytest.raises(TypeError, match="h_n, c_n"):
        final_state((torch.zeros(1, 2, 3), torch.zeros(1, 2, 3)))
    with pytest.raises(ValueError, match="even first"):
        final_state(torch.zeros(3, 2, 4), bidirectional=True)
