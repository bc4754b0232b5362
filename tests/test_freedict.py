"""helpers.corpora.freedict (Day 20): the FreeDict English-German sentence pairs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from helpers.corpora import freedict
from helpers.data import MissingDataError

DICTD = """00-database-info
This is the header block.

I'll think it over. /aɪl θˈɪŋk ɪt ˈəʊvə/
Ich werde es mir überlegen.
 see: {think over sth.}

think over sth. /θˈɪŋk ˌəʊvəɹ/
über etw. nachdenken <v>

Who does this watch belong to? /huː dʌz/
Wem gehört diese Uhr?, Wessen Uhr ist das?

Get lost! /ɡɛt lɒst/
Hau ab! [ugs.]; Verschwinde!

Go away now! /ɡəʊ/
Geh jetzt <adv> weg!

I've been on the go/trot all day. /aɪv/
Ich war den ganzen Tag auf Achse.

Yes. /jɛs/
Ja.

He is very perceptive. /hiː/
er hat eine schnelle Auffassungsgabe
"""


@pytest.fixture()
def dictd(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.dict.dz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(DICTD)
    return path


def test_sentence_pairs_parses_entries(dictd: Path) -> None:
    assert freedict.sentence_pairs(dictd) == [
        ("I'll think it over.", "Ich werde es mir überlegen."),
        ("Who does this watch belong to?", "Wem gehört diese Uhr?"),  # first alternative
        ("Go away now!", "Geh jetzt weg!"),  # grammatical tag removed
    ]


def test_sentence_pairs_options(dictd: Path) -> None:
    pairs = freedict.sentence_pairs(dictd, min_words=1, keep_notation=True)
    assert ("I've been on the go/trot all day.", "Ich war den ganzen Tag auf Achse.") in pairs
    assert ("Yes.", "Ja.") in pairs
    assert ("Get lost!", "Hau ab!") in pairs  # note removed, "; " alternative cut
    assert all(not en.startswith("think") for en, _ in pairs)  # headwords that are not sentences


def test_write_and_load_round_trip(dictd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(freedict, "deb_file", lambda package, relative: dictd)
    target = freedict.write_pairs(tmp_path / "pairs.tsv")
    assert freedict.load_pairs(target) == freedict.sentence_pairs(dictd)
    (tmp_path / "bad.tsv").write_text("only one field\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        freedict.load_pairs(tmp_path / "bad.tsv")


def test_missing_data_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match=r"freedict\.fetch\(\)"):
        freedict.load_pairs(tmp_path / "absent.tsv")


def test_real_pairs_when_fetched() -> None:
    if not freedict.pairs_path().exists():
        pytest.skip("the FreeDict package is not fetched (python -m helpers.data fetch-offline)")
    pairs = freedict.load_pairs()
    assert 5000 < len(pairs) < 7000
    assert ("I'll think it over.", "Ich werde es mir überlegen.") in pairs
    assert all(en[-1] in ".?!" and de[-1] in ".?!" for en, de in pairs)
