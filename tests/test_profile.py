import pytest
import torch

from helpers import profile
from helpers.profile import ProfileError, Settings, pick_device, resolve_profile, seed_everything, setup


def test_explicit_profile_wins_over_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "laptop")
    assert resolve_profile("ci") == "ci"
    assert resolve_profile() == "laptop"


def test_default_depends_on_cuda(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_profile() == "gpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_profile() == "laptop"


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ProfileError, match="Unknown profile 'tpu'.*ci, laptop, gpu"):
        resolve_profile("tpu")


def test_gpu_profile_without_cuda_says_what_to_do(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ProfileError, match="COURSE_PROFILE=laptop"):
        pick_device("gpu")
    assert pick_device("laptop").type == "cpu"


def test_seed_everything_repeats_random_streams():
    import random

    import numpy as np

    seed_everything(3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(3)
    assert first == (random.random(), np.random.rand(), torch.rand(1).item())


def test_setup_reads_day_settings_and_prints_summary(capsys):
    cfg = setup("day01", "ci")
    assert isinstance(cfg, Settings) and cfg.is_ci and cfg.device.type == "cpu"
    assert capsys.readouterr().out.strip() == "day01: profile=ci device=cpu seed=0"


def test_settings_merge_common_and_profile(monkeypatch):
    fake = type("M", (), {"SETTINGS": {"common": {"lr": 0.1, "epochs": 1}, "gpu": {"epochs": 9}}})
    monkeypatch.setattr(profile.importlib, "import_module", lambda name: fake)
    assert profile.day_settings("dayXX", "gpu") == {"lr": 0.1, "epochs": 9}
    assert profile.day_settings("dayXX", "ci") == {"lr": 0.1, "epochs": 1}


def test_missing_setting_and_missing_day_are_clear_errors():
    cfg = Settings("dayXX", "ci", torch.device("cpu"), 0, {"lr": 0.1})
    assert cfg.lr == 0.1
    with pytest.raises(AttributeError, match="no setting 'epochs'.*known: lr"):
        _ = cfg.epochs
    with pytest.raises(ProfileError, match="helpers/days/day99.py"):
        profile.day_settings("day99", "ci")


def test_gpu_available_explains_the_skip(monkeypatch, capsys):
    from helpers.profile import gpu_available

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_available("8-bit loading") is False
    assert capsys.readouterr().out.startswith("[skipped] 8-bit loading needs a CUDA GPU")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert gpu_available("8-bit loading") is True


def test_setup_silences_the_cpu_dependent_bitsandbytes_warning():
    """bitsandbytes warns at import only on CPUs with AVX512-BF16: that line must not reach any output."""
    import logging

    from helpers import setup

    logging.getLogger("bitsandbytes").setLevel(logging.NOTSET)
    setup("day01", "ci")
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() >= logging.ERROR
