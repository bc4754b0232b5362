"""English -> German sentence pairs from the FreeDict dictionary (Debian ``dict-freedict-eng-deu``).

Defined in Day 20 (translation); days 24 and 32 reuse it.

The dictionary (the Ding dictionary of TU Chemnitz, converted by FreeDict) is a dictd database: a gzip text
file whose entries are separated by blank lines. An entry starts with the English headword and its IPA
transcription, ``english /ipa/``, and the next line holds the German translation(s). Some 6,700 headwords
are whole sentences ("I'll think it over." -> "Ich werde es mir überlegen."): real, human-translated,
conversational pairs. ``sentence_pairs`` keeps those entries.

``fetch()`` downloads the Debian package once (``apt-get download``, no root, nothing installed) and writes
the parsed pairs as a tab-separated file next to it, so that a notebook reads 6.7k lines instead of parsing
a 76 MB dictionary. Data licence: GPL-2+ (Ding), GPL-3+/AGPL-3+ (the FreeDict conversion).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from helpers.data import MissingDataError, deb_file, fetch_deb_package, offline_dir

PACKAGE = "dict-freedict-eng-deu"
DICT_FILE = "usr/share/dictd/freedict-eng-deu.dict.dz"
PAIRS_FILE = "freedict-eng-deu-sentences.tsv"

_HEADWORD = re.compile(r"^(.*?)\s*/[^/]*/\s*$")  # "english words /ipa/"
_ANNOTATION = re.compile(r"\s*(<[^>]*>|\[[^\]]*\])\s*")  # "<masc>", "[coll.]"
_ALTERNATIVES = re.compile(r"(?<=[.?!]),\s+(?=\S)|;\s+")  # "Satz eins., Satz zwei." or "a; b"
_NOTATION = re.compile(r"[/(){}|]")  # dictionary shorthand: "go/trot", "(from)"


def fetch() -> list[Path]:
    """Download the Debian package (once) and write the sentence pairs as TSV; return the TSV's path."""
    fetch_deb_package(PACKAGE)
    return [write_pairs()]


def pairs_path() -> Path:
    """Where ``fetch()`` writes the TSV of sentence pairs (English, tab, German; one pair a line)."""
    return offline_dir() / "deb" / PACKAGE / PAIRS_FILE


def _first_alternative(german: str) -> str:
    """The first of several German translations ("A., B." or "a; b" in the dictionary)."""
    return _ALTERNATIVES.split(german, maxsplit=1)[0].strip()


def sentence_pairs(
    path: Path | None = None, min_words: int = 3, keep_notation: bool = False
) -> list[tuple[str, str]]:
    """Parse a FreeDict eng-deu dictd file into (English sentence, German sentence) pairs, in file order.

    An entry counts as a sentence when its English headword has at least ``min_words`` words, starts with
    a capital letter and ends with ``.``, ``?`` or ``!``, and its (first) German translation does too.
    Grammatical tags (``<masc>``) and usage notes (``[coll.]``) are removed; of several German translations
    the first is kept. Entries that use dictionary shorthand (``go/trot``, ``(from)``, ``{...}``) are
    dropped unless ``keep_notation``: they are notation, not sentences that a model should learn to write.
    """
    path = path or deb_file(PACKAGE, DICT_FILE)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    pairs = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        if len(lines) < 2:
            continue
        match = _HEADWORD.match(lines[0])
        if not match:
            continue
        english = " ".join(match.group(1).split())
        if len(english.split()) < min_words or not english[0].isupper() or english[-1] not in ".?!":
            continue
        german = _first_alternative(" ".join(_ANNOTATION.sub(" ", lines[1]).split()))
        if not german or not german[0].isupper() or german[-1] not in ".?!":
            continue
        if not keep_notation and (_NOTATION.search(english) or _NOTATION.search(german)):
            continue
        pairs.append((english, german))
    return pairs


def write_pairs(path: Path | None = None) -> Path:
    """Parse the dictionary and write its sentence pairs to ``pairs_path()`` (English<TAB>German)."""
    target = path or pairs_path()
    if target.exists():
        return target
    pairs = sentence_pairs()
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(f"{en}\t{de}\n" for en, de in pairs), encoding="utf-8")
    tmp.rename(target)  # complete or absent
    return target


def load_pairs(path: Path | None = None) -> list[tuple[str, str]]:
    """The English -> German sentence pairs, read from the TSV that ``fetch()`` wrote (in file order).

    Shuffle them before splitting: the dictionary lists its example sentences entry by entry, so
    neighbouring pairs share words (and sometimes the same German sentence translates several English ones).
    """
    target = path or pairs_path()
    if not target.exists():
        if path is None and (offline_dir() / "deb" / PACKAGE / ".unpacked").exists():
            write_pairs()
        else:
            raise MissingDataError(
                f"The FreeDict English-German sentence pairs ({PAIRS_FILE}) are not on disk. Fetch them once "
                'with `python -c "from helpers.corpora import freedict; freedict.fetch()"` (or '
                "`python -m helpers.data fetch-offline`; needs apt-get on a Debian/Ubuntu machine)."
            )
    pairs = []
    for number, line in enumerate(target.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(f"{target.name} line {number}: expected 'English<TAB>German', got {line!r}")
        pairs.append((fields[0], fields[1]))
    return pairs
