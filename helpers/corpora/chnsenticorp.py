"""ChnSentiCorp: Chinese hotel reviews labelled positive/negative (Tan & Zhang, 2008), for ``gpu``.

Defined in Day 26, for the seed article's recipe (hfl/rbt3 fine-tuned on Chinese hotel reviews). The seed read
``ChnSentiCorp_htl_all.csv`` (7,766 hotel reviews) from the SophonPlus/ChineseNlpCorpus GitHub repository;
here the same corpus comes from the Hugging Face Hub copy ``lansinuote/ChnSentiCorp`` (9,600 train, 1,200
validation, 1,200 test; columns ``text`` and ``label``, 1 = positive), so ``datasets.load_dataset`` caches it.
There is no offline copy: ``ci`` uses the English fine-food reviews (``helpers.corpora.fine_foods``).
"""

from __future__ import annotations

from helpers.data import load_hub_dataset

DATASET = "lansinuote/ChnSentiCorp"
#: The class names, by label id (the seed's id2label: 差评 = bad review, 好评 = good review).
LABELS = ("差评!", "好评!")
SPLITS = ("train", "validation", "test")


def load(split: str = "train") -> tuple[list[str], list[int]]:
    """``(texts, labels)`` of one split of ChnSentiCorp from the Hugging Face Hub. Defined in Day 26."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    offline = "skips the Chinese fine-tune and uses the English fine-food reviews (Debian r-cran-modeldata)"
    data = load_hub_dataset("ChnSentiCorp", DATASET, offline, split=split)
    texts = [str(t) if t is not None else "" for t in data["text"]]
    return texts, [int(label) for label in data["label"]]
