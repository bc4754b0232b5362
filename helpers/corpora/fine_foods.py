"""5,000 English Amazon fine-food reviews labelled ``great`` or ``other``, from Debian ``r-cran-modeldata``.

Defined in Day 13 (sentiment with RNNs); days 24, 28, 37 and 38 reuse it.

The R package ``modeldata`` (Debian bookworm ``r-cran-modeldata`` 1.1.0, package licence MIT) ships
``training_data`` (4,000 reviews) and ``testing_data`` (1,000) in its lazy-load database
``data/Rdata.rdb``: a sample of the SNAP "Amazon Fine Food Reviews" (McAuley & Leskovec, 2013), where a
5-star review is ``great`` and every other score is ``other``. The classes are imbalanced (65 % ``great``
in both splits), each product appears once, and the texts keep their HTML line breaks (``<br />``).

``fetch()`` downloads the ``.deb`` (4 MB, no R needed) and converts the two splits once to JSON Lines in the
dataset cache; ``load(split)`` reads them (or the database directly when the cache is missing) and returns
``(texts, labels)`` with ``labels[i] = 1`` for ``great``::

    from helpers.corpora import fine_foods
    texts, labels = fine_foods.load("train")      # 4,000 reviews; fine_foods.LABELS[1] == "great"
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from helpers.data import MissingDataError, data_dir, deb_file, fetch_deb_package

PACKAGE = "r-cran-modeldata"
RDB = "usr/lib/R/site-library/modeldata/data/Rdata.rdb"
#: The class names, by label id: 0 = any score below 5, 1 = a 5-star review.
LABELS = ("other", "great")
SPLITS = {"train": "training_data", "test": "testing_data"}
SIZES = {"train": 4000, "test": 1000}


def cache_file(split: str) -> Path:
    """Where ``fetch()`` writes a split as JSON Lines (``{"product", "text", "label"}`` per line)."""
    return data_dir() / "fine_foods" / f"{split}.jsonl"


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    return split


def read_package(split: str) -> list[dict]:
    """The records of one split, read from the unpacked Debian package's R database."""
    from helpers.corpora.austen import read_rdb  # the R lazy-load reader, defined in Day 14

    name = SPLITS[_check_split(split)]
    try:
        base = deb_file(PACKAGE, RDB).with_suffix("")
    except MissingDataError as err:
        raise MissingDataError(
            f"The fine-food reviews (Debian {PACKAGE}) are not on disk. Run "
            "`python -c \"from helpers.corpora import fine_foods; fine_foods.fetch()\"` once "
            "(needs apt-get and dpkg-deb), or use COURSE_PROFILE=laptop for IMDB.") from err
    with warnings.catch_warnings():  # rdata warns about R classes (tibbles) it reads as plain data frames
        warnings.simplefilter("ignore")
        frame = read_rdb(base, {name})[name]
    return [{"product": str(product), "text": str(text), "label": LABELS.index(str(score))}
            for product, text, score in zip(frame["product"], frame["review"], frame["score"], strict=True)]


def fetch() -> list[Path]:
    """Download the Debian package and cache both splits (run by ``helpers.data fetch-offline``)."""
    paths = [fetch_deb_package(PACKAGE)]
    for split in SPLITS:
        path = cache_file(split)
        if not path.exists():
            records = read_package(split)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
            tmp.write_text(lines, encoding="utf-8")
            tmp.replace(path)
        paths.append(path)
    return paths


def load_records(split: str = "train") -> list[dict]:
    """One split as dicts ``{"product", "text", "label"}``, in the package's order."""
    path = cache_file(_check_split(split))
    if path.exists():
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        records = read_package(split)
    if len(records) != SIZES[split]:
        raise MissingDataError(f"{path} holds {len(records)} reviews, expected {SIZES[split]}; delete it and "
                               "run fine_foods.fetch() again.")
    return records


def load(split: str = "train") -> tuple[list[str], list[int]]:
    """``(texts, labels)`` of one split (``"train"``: 4,000, ``"test"``: 1,000); label 1 means ``great``.

    Defined in Day 13. The texts are the reviews as written, HTML line breaks included.
    """
    records = load_records(split)
    return [r["text"] for r in records], [r["label"] for r in records]
