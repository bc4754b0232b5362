"""20 Newsgroups posts with their labels: gensim's 200-post sample offline, scikit-learn's download else.

Defined in Day 30 (sentence embeddings: clustering scored by the adjusted Rand index). gensim ships, in
``gensim/test/test_data/mini_newsgroup``, a zlib-compressed pickle of an old scikit-learn ``Bunch`` holding
200 real posts of the 20 Newsgroups collection (Lang, 1995), 100 from ``alt.atheism`` and 100 from
``sci.space``; gensim is LGPL-2.1 and the collection is distributed freely for research. The ``laptop`` and
``gpu`` profiles download the full collection with ``sklearn.datasets.fetch_20newsgroups``. Both paths strip
the headers (which contain the answer: ``Newsgroups: sci.space``), the signatures and the quoted replies with
scikit-learn's own functions, so the texts are comparable.
"""

from __future__ import annotations

import io
import pickle
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers.corpora.gensim_data import test_data_file
from helpers.data import MissingDataError, data_dir, download_dataset

MINI_FILE = "mini_newsgroup"
MINI_CATEGORIES = ("alt.atheism", "sci.space")


@dataclass(frozen=True)
class Posts:
    """Texts, integer labels and the label names. Defined in Day 30."""

    texts: list[str]
    labels: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.texts)


class _BunchAsDict(pickle.Unpickler):
    """Reads the 2013 pickle without the modules it names: ``Bunch`` becomes a dict, old numpy paths move."""

    def find_class(self, module: str, name: str) -> Any:
        if name == "Bunch":
            return dict
        if module.startswith("numpy.core") and int(np.__version__.split(".")[0]) >= 2:
            module = module.replace("numpy.core", "numpy._core", 1)
        return super().find_class(module, name)


def clean_post(text: str) -> str:
    """Drop the header block, the signature and the quoted lines (scikit-learn's ``remove=`` cleaning)."""
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )

    return " ".join(strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(text))).split())


def load_mini_newsgroup(clean: bool = True, min_chars: int = 1) -> Posts:
    """gensim's 200 posts (alt.atheism / sci.space), in file order. Defined in Day 30.

    ``clean`` strips headers, signatures and quotes; posts left with fewer than ``min_chars`` characters
    are dropped (some replies are nothing but a quote).
    """
    raw = zlib.decompress(test_data_file(MINI_FILE).read_bytes())
    bunch = _BunchAsDict(io.BytesIO(raw), encoding="latin1").load()
    texts = [clean_post(t) if clean else t for t in bunch["data"]]
    labels = np.asarray(bunch["target"], dtype=np.int64)
    keep = [i for i, t in enumerate(texts) if len(t) >= min_chars]
    return Posts([texts[i] for i in keep], labels[keep], list(bunch["target_names"]))


def load_20newsgroups(categories: tuple[str, ...], subset: str = "train", max_posts: int | None = None,
                      min_chars: int = 1, seed: int = 0) -> Posts:
    """``sklearn.datasets.fetch_20newsgroups`` with the same cleaning, or the course's clear error.

    Defined in Day 30. ``max_posts`` keeps a random sample (seeded) when the categories hold more.
    """
    from sklearn.datasets import fetch_20newsgroups

    where = data_dir() / "scikit_learn_data"
    bunch = download_dataset(
        f"20 Newsgroups ({', '.join(categories)})", "scikit-learn's mirror (ndownloader.figshare.com)", where,
        lambda: fetch_20newsgroups(data_home=str(where), subset=subset, categories=list(categories),
                                   remove=("headers", "footers", "quotes"), shuffle=True, random_state=seed))
    texts = [" ".join(t.split()) for t in bunch.data]
    labels = np.asarray(bunch.target, dtype=np.int64)
    keep = [i for i, t in enumerate(texts) if len(t) >= min_chars]
    if max_posts is not None:
        keep = keep[:max_posts]  # fetch_20newsgroups already shuffled with ``seed``
    if not keep:
        raise MissingDataError(f"20 Newsgroups returned no post of at least {min_chars} characters "
                               f"for {categories}")
    return Posts([texts[i] for i in keep], labels[keep], list(bunch.target_names))


def load_posts(profile: str, categories: tuple[str, ...], max_posts: int | None = None,
               min_chars: int = 1, seed: int = 0) -> Posts:
    """The notebook's loader: gensim's sample under ``ci``, the real download otherwise. Defined in Day 30."""
    if profile == "ci":
        if tuple(categories) != MINI_CATEGORIES:
            raise ValueError(f"the offline sample holds only {MINI_CATEGORIES}, not {tuple(categories)}; "
                             "run with COURSE_PROFILE=laptop to download other groups")
        return load_mini_newsgroup(min_chars=min_chars)
    return load_20newsgroups(categories, max_posts=max_posts, min_chars=min_chars, seed=seed)
