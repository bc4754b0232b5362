"""Tatoeba sentence pairs (English -> French, Chinese -> English...) from the Hugging Face Hub.

Defined in Day 20 (translation), for the ``laptop`` and ``gpu`` profiles; ``ci`` uses
``helpers.corpora.freedict`` instead (Tatoeba is on no package registry).

The dataset is ``sentence-transformers/parallel-sentences-tatoeba`` (Parquet, one configuration per pair:
``en-fr`` has 273,270 training and 1,297 dev pairs), with the columns ``english`` and
``non_english``, pinned to a revision so that a rerun reads the same data. Tatoeba's sentences are
CC BY 2.0 FR.
Nothing is fetched at set-up: the first call downloads the Parquet files into the ``datasets`` cache.
"""

from __future__ import annotations

from helpers.data import MissingDataError

DATASET = "sentence-transformers/parallel-sentences-tatoeba"
REVISION = "cec1343ab5a7a8befe99af4a2d0ca847b6c84743"  # README update after the last upload of the pairs
SPLITS = ("train", "dev")


def load_pairs(pair: str = "en-fr", split: str = "train", reverse: bool = False) -> list[tuple[str, str]]:
    """(source, target) pairs of one Tatoeba configuration, in the dataset's order. Defined in Day 20.

    ``pair`` is a configuration name such as ``"en-fr"`` or ``"en-zh"``: sources are English and targets
    the other language; ``reverse=True`` swaps them (``"en-zh"`` reversed is Chinese -> English).
    A download failure raises :class:`helpers.data.MissingDataError` naming the dataset and the offline
    alternative.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    try:
        from datasets import load_dataset

        rows = load_dataset(DATASET, pair, split=split, revision=REVISION)
    except Exception as err:  # no network, Hub down, unknown pair: say what to do
        raise MissingDataError(
            f"Could not load the Tatoeba pairs {DATASET!r} (configuration {pair!r}, split {split!r}, "
            f"revision {REVISION[:7]}) from the Hugging Face Hub: {type(err).__name__}: {err}. Check the "
            "network (and the configuration name), or run offline with COURSE_PROFILE=ci, which uses "
            "the FreeDict English-German sentences."
        ) from err
    pairs = [(row["english"].strip(), row["non_english"].strip()) for row in rows]
    pairs = [(en, other) for en, other in pairs if en and other]
    return [(other, en) for en, other in pairs] if reverse else pairs
