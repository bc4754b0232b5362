"""Without a network, `laptop`/`gpu` stop with one clear error naming the dataset, its source and `ci`.

The downloads are the real ones (torchvision's, transformers'), pointed at a closed local port or run with
the Hub switched offline, so that they fail at once instead of waiting for a timeout.
"""

from __future__ import annotations

import pytest

from helpers.data import MissingDataError, load_cifar10, load_mnist, load_spam_assassin

CLOSED = "http://127.0.0.1:9/"  # the discard port: nothing listens, the connection is refused at once


def test_mnist_download_failure_is_one_clear_error(monkeypatch, tmp_path):
    from torchvision import datasets

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datasets.MNIST, "mirrors", [CLOSED])
    with pytest.raises(MissingDataError) as info:
        load_mnist(train=True, profile="laptop")
    message = str(info.value)
    assert "Could not download MNIST" in message and CLOSED in message and "COURSE_PROFILE=ci" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no chained 100-line traceback


def test_cifar10_download_failure_is_one_clear_error(monkeypatch, tmp_path):
    from torchvision import datasets

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(datasets.CIFAR10, "url", CLOSED + "cifar-10-python.tar.gz")
    with pytest.raises(MissingDataError, match=r"Could not download CIFAR-10 .*COURSE_PROFILE=ci"):
        load_cifar10(train=False, profile="gpu")


def test_hub_download_failure_is_one_clear_error(monkeypatch, tmp_path):
    from helpers.hub import load_pretrained

    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # what a machine without network amounts to, without the wait
    with pytest.raises(MissingDataError) as info:
        load_pretrained("openai-community/gpt2", profile="laptop")
    message = str(info.value)
    assert "openai-community/gpt2" in message and "https://huggingface.co/openai-community/gpt2" in message
    assert "COURSE_PROFILE=ci" in message


def test_spam_assassin_error_does_not_suggest_a_profile_that_cannot_help(tmp_path):
    with pytest.raises(MissingDataError) as info:
        load_spam_assassin(tmp_path)
    message = str(info.value)
    assert "fetch-offline" in message and "COURSE_PROFILE=laptop" not in message
