"""The fine-food reviews loader (Day 13): the offline Debian package read without R, cached, and checked."""

from __future__ import annotations

import json

import pytest

from helpers.corpora import fine_foods, imdb
from helpers.data import MissingDataError, offline_dir


def _have_package() -> bool:
    return (offline_dir() / "deb" / fine_foods.PACKAGE / ".unpacked").exists()


needs_package = pytest.mark.skipif(not _have_package(),
                                   reason="run `python -m helpers.data fetch-offline` first")


@needs_package
def test_splits_have_the_documented_sizes_and_labels() -> None:
    for split, size, great in (("train", 4000, 2600), ("test", 1000, 658)):
        texts, labels = fine_foods.load(split)
        assert len(texts) == len(labels) == size
        assert sum(labels) == great                       # label 1 = "great" (5 stars)
        assert set(labels) == {0, 1}
        assert all(isinstance(t, str) and t.strip() for t in texts)
    texts, labels = fine_foods.load("train")
    assert texts[0].startswith("this stuff is  not stuffing")
    assert fine_foods.LABELS[labels[0]] == "other"


@needs_package
def test_cache_equals_the_r_database(tmp_path, monkeypatch) -> None:
    """load() from the JSON cache gives exactly what the R database holds."""
    records = fine_foods.read_package("test")
    assert records == fine_foods.load_records("test")
    products = [r["product"] for r in records]
    assert len(set(products)) == len(products)            # each product appears once
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(offline_dir()))  # the package stays where it is
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))           # no cache there: read the database
    assert not fine_foods.cache_file("test").exists()
    assert fine_foods.load("test") == ([r["text"] for r in records], [r["label"] for r in records])


def test_truncated_cache_is_rejected(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    path = fine_foods.cache_file("test")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"product": "x", "text": "good", "label": 1}) + "\n")
    with pytest.raises(MissingDataError, match="expected 1000"):
        fine_foods.load("test")


def test_missing_package_and_bad_split_are_explained(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(tmp_path / "offline"))
    with pytest.raises(MissingDataError, match="fine_foods.fetch"):
        fine_foods.load("train")
    with pytest.raises(ValueError, match="split must be one of"):
        fine_foods.load("valid")


def test_imdb_download_failure_names_the_offline_profile(monkeypatch) -> None:
    import datasets

    def fail(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", fail)
    with pytest.raises(MissingDataError, match="COURSE_PROFILE=ci"):
        imdb.load("train")
    with pytest.raises(ValueError, match="split must be one of"):
        imdb.load("unsupervised")
