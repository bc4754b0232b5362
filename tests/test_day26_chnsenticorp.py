"""Day 26: the ChnSentiCorp loader (gpu only) fails with the course's clear error without the Hub."""

from __future__ import annotations

import pytest

from helpers.corpora import chnsenticorp
from helpers.data import MissingDataError


def test_bad_split():
    with pytest.raises(ValueError, match="split must be one of"):
        chnsenticorp.load("dev")


def test_offline_error_names_dataset_and_ci(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")

    def fail(*args, **kwargs):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", fail)
    with pytest.raises(MissingDataError, match="COURSE_PROFILE=ci") as err:
        chnsenticorp.load("train")
    assert chnsenticorp.DATASET in str(err.value)
