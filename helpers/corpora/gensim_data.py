"""The small real corpora and benchmarks that gensim ships in ``gensim/test/test_data`` (161 files).

Defined in Day 11 (``lee_background.cor`` is the real text on which the hand tokenisers are checked against
tiktoken and ``BertTokenizerFast``). The Lee corpus: 300 Australian news paragraphs (Lee, Pincombe and Welsh,
2005), one per line, about 60,000 words; gensim is LGPL-2.1. The files are read from the installed wheel
without importing gensim (which takes seconds), so every profile reads the same files: there is no larger
version to download.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from helpers.data import MissingDataError


def test_data_dir() -> Path:
    """``gensim/test/test_data`` of the installed gensim wheel."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or spec.origin is None:
        raise MissingDataError("gensim is not installed, and its test data (the Lee corpus, wordsim353, "
                               "questions-words) comes with it: `pip install 'gensim>=4.3,<5'`.")
    return Path(spec.origin).parent / "test" / "test_data"


def test_data_file(name: str) -> Path:
    """One file of gensim's test data, e.g. ``"lee_background.cor"`` or ``"wordsim353.tsv"``."""
    path = test_data_dir() / name
    if not path.exists():
        raise MissingDataError(f"gensim's test data has no file {name!r} (looked in {test_data_dir()}).")
    return path


def load_lee_background(max_lines: int | None = None) -> list[str]:
    """The Lee background corpus: one news paragraph per line (300 lines), newlines stripped."""
    lines = test_data_file("lee_background.cor").read_text(encoding="utf-8").splitlines()
    return lines if max_lines is None else lines[:max_lines]
