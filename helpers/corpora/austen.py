"""Jane Austen's six novels, from the Debian package ``r-cran-janeaustenr`` (read without R).

Defined in Day 14 (word embeddings); day 31 reuses it as a language-modelling corpus.

The R package stores each novel as a character vector of lines (``emma``, ``mansfieldpark``,
``northangerabbey``, ``persuasion``, ``prideprejudice``, ``sensesensibility``) in an R *lazy-load database*
(``data/Rdata.rdb`` plus the index ``Rdata.rdx``). ``read_rdb`` reads such a database with the PyPI package
``rdata``: the index maps each variable to a byte range of the ``.rdb`` file, and each range is a serialised
R object compressed with zlib, bzip2 or xz. The texts are public domain (they are also on Project
Gutenberg), so every profile uses this package (there is nothing larger to download).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import struct
import zlib
from pathlib import Path
from typing import Any

from helpers.data import MissingDataError, deb_file, fetch_deb_package

PACKAGE = "r-cran-janeaustenr"
RDB = "usr/lib/R/site-library/janeaustenr/data/Rdata"
BOOKS = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey", "persuasion")


def fetch() -> list[Path]:
    """Download and unpack the Debian package (called by ``python -m helpers.data fetch-offline``)."""
    return [fetch_deb_package(PACKAGE)]


def _decompress(blob: bytes) -> bytes:
    """One record of an R lazy-load database: 4-byte length, then a type byte and the compressed bytes."""
    kind = blob[4:5]
    if kind == b"Z":
        return lzma.decompress(blob[5:], format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])
    if kind == b"2":
        return bz2.decompress(blob[5:])
    if kind == b"1":
        return zlib.decompress(blob[5:])
    if kind == b"0":
        return blob[5:]
    struct.unpack(">I", blob[:4])  # plain zlib record: the length is followed directly by the stream
    return zlib.decompress(blob[4:])


def read_rdb(base: str | Path, only: set[str] | None = None) -> dict[str, Any]:
    """Read the variables of an R lazy-load database ``base.rdb``/``base.rdx`` into Python objects.

    Defined in Day 14.
    """
    import warnings

    import rdata

    warnings.filterwarnings("ignore", message="Unknown file type", module="rdata")  # records have no header

    base = Path(base)
    index_bytes = gzip.decompress(base.with_suffix(".rdx").read_bytes())
    index = rdata.conversion.convert(rdata.parser.parse_data(index_bytes))
    raw = base.with_suffix(".rdb").read_bytes()
    out = {}
    for name, (offset, length) in index["variables"].items():
        if only is not None and name not in only:
            continue
        record = raw[int(offset):int(offset) + int(length)]
        out[name] = rdata.conversion.convert(rdata.parser.parse_data(_decompress(record)))
    return out


def load_books(books: tuple[str, ...] = BOOKS) -> dict[str, list[str]]:
    """Each requested novel as its list of lines (empty lines kept, as in the R package)."""
    unknown = set(books) - set(BOOKS)
    if unknown:
        raise ValueError(f"unknown book(s) {sorted(unknown)}; choose from {BOOKS}")
    try:
        base = deb_file(PACKAGE, RDB + ".rdb").with_suffix("")
    except MissingDataError as err:
        raise MissingDataError(f"Jane Austen's novels (Debian {PACKAGE}) are not on disk. Run "
                               "`python -c \"from helpers.corpora import austen; austen.fetch()\"` once "
                               "(needs apt-get and dpkg-deb).") from err
    data = read_rdb(base, set(books))
    return {name: [str(line) for line in data[name]] for name in books}


def tokenize(text: str) -> list[str]:
    """Lower-cased words (letters and inner apostrophes); punctuation and digits dropped."""
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


def load_sentences(books: tuple[str, ...] = BOOKS, max_sentences: int | None = None) -> list[list[str]]:
    """The novels as tokenised sentences (split at ``.``, ``!``, ``?`` and ``;`` after joining paragraphs).

    Defined in Day 14. Sentences of fewer than two words are dropped.
    """
    sentences: list[list[str]] = []
    for lines in load_books(books).values():
        text = " ".join(line.strip() for line in lines)
        for piece in re.split(r"[.!?;]+\s", text):
            words = tokenize(piece)
            if len(words) >= 2:
                sentences.append(words)
                if max_sentences is not None and len(sentences) >= max_sentences:
                    return sentences
    return sentences
