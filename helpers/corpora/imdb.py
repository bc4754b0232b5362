"""The IMDB movie-review sentiment set (Maas et al., 2011) from the Hugging Face Hub, for ``laptop``/``gpu``.

Defined in Day 13. 25,000 training and 25,000 test reviews, balanced, label 1 = positive. The ``ci`` profile
uses the offline fine-food reviews (``helpers.corpora.fine_foods``) instead; both modules offer the same
``load(split) -> (texts, labels)`` and ``LABELS``, so a notebook switches between them by name.
"""

from __future__ import annotations

from helpers.data import load_hub_dataset

DATASET = "stanfordnlp/imdb"
LABELS = ("negative", "positive")
SPLITS = ("train", "test")


def load(split: str = "train") -> tuple[list[str], list[int]]:
    """``(texts, labels)`` of IMDB's ``train`` or ``test`` split (25,000 each). Defined in Day 13."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    data = load_hub_dataset("IMDB", DATASET, "uses the fine-food reviews shipped by the Debian package "
                            "r-cran-modeldata", split=split)
    return list(data["text"]), [int(label) for label in data["label"]]
