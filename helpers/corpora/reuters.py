"""Reuters-21578 news articles with their headlines, from the Debian package ``r-cran-tm``.

Defined in Day 22 (Transformer summarisation); Day 24 reuses it. R's ``tm`` package ships two samples of the
Reuters-21578 collection as plain XML, one file per article: 50 articles of the topic ``acq``
(acquisitions) and 20 of ``crude`` (crude oil), under ``usr/lib/R/site-library/tm/texts/{acq,crude}/``.
Each has a ``<TITLE>`` (the headline, in capitals) and a ``<BODY>`` (the article): 70 real
article -> headline pairs, too few to learn summarisation, enough to measure it. The articles' copyright is
Reuters Ltd.'s; Reuters and Carnegie Group allow Reuters-21578's free distribution for research purposes
(its README); the ``tm`` package is GPL.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from helpers.data import deb_file, fetch_deb_package

PACKAGE = "r-cran-tm"
TEXTS = "usr/lib/R/site-library/tm/texts"
TOPICS = ("acq", "crude")


@dataclass(frozen=True)
class Article:
    """One Reuters article. Defined in Day 22."""

    topic: str        # "acq" or "crude"
    new_id: int       # Reuters-21578's NEWID
    headline: str     # the <TITLE>, as published (capitals)
    body: str         # the <BODY>, whitespace normalised, the trailing " Reuter" signature removed


def fetch() -> list[Path]:
    """Download and unpack ``r-cran-tm`` once (``apt-get download``, no root). Defined in Day 22."""
    return [fetch_deb_package(PACKAGE)]


def _field(xml: str, tag: str, path: Path) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", xml, flags=re.S)
    if match is None:
        raise ValueError(f"{path.name} has no <{tag}>: not a Reuters-21578 article file")
    return " ".join(html.unescape(match.group(1)).split())


def load_articles(topics: tuple[str, ...] = TOPICS) -> list[Article]:
    """The articles of ``topics``, sorted by topic then file name. Defined in Day 22.

    Raises ``helpers.data.MissingDataError`` (with the command that fetches it) when the package is
    not unpacked.
    """
    unknown = set(topics) - set(TOPICS)
    if unknown:
        raise ValueError(f"unknown topics {sorted(unknown)}: r-cran-tm ships {TOPICS}")
    articles = []
    for topic in topics:
        for path in sorted(deb_file(PACKAGE, f"{TEXTS}/{topic}").glob("reut-*.xml")):
            xml = path.read_text(encoding="utf-8", errors="replace")
            new_id = int(re.search(r'NEWID="(\d+)"', xml).group(1))
            body = re.sub(r"\s*Reuter\s*$", "", _field(xml, "BODY", path))
            articles.append(Article(topic, new_id, _field(xml, "TITLE", path), body))
    return articles


def load_pairs(lowercase: bool = True) -> list[tuple[str, str]]:
    """The 70 (article body, headline) pairs; ``lowercase`` lowers both (the headlines are in capitals).

    Defined in Day 22.
    """
    pairs = [(a.body, a.headline) for a in load_articles()]
    return [(b.lower(), h.lower()) for b, h in pairs] if lowercase else pairs
