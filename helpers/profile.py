"""Profiles: one notebook, three ways to run it.

``ci``      offline, tiny models and data, CPU, seconds (what CI and the committed outputs use)
``laptop``  real data downloaded, CPU, minutes
``gpu``     the full recipe on one CUDA GPU (a local card or Colab)

The profile comes from the notebook's ``parameters`` cell or from the ``COURSE_PROFILE``
environment variable; when neither says, it is ``gpu`` if CUDA is available, else ``laptop``.
Each day's per-profile choices (data sizes, model ids, epochs...) live in ``helpers.days``.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers import repro

PROFILES = ("ci", "laptop", "gpu")
ENV_VAR = "COURSE_PROFILE"


class ProfileError(ValueError):
    """A profile that does not exist, or that this machine cannot run."""


def resolve_profile(requested: str | None = None) -> str:
    """Return the profile to use: ``requested``, else ``$COURSE_PROFILE``, else gpu/laptop by CUDA."""
    name = requested or os.environ.get(ENV_VAR) or ("gpu" if torch.cuda.is_available() else "laptop")
    name = name.strip().lower()
    if name not in PROFILES:
        raise ProfileError(
            f"Unknown profile {name!r}. Use one of {', '.join(PROFILES)} "
            f"(set {ENV_VAR}=ci|laptop|gpu or PROFILE in the notebook's parameters cell)."
        )
    return name


_ACTIVE_PROFILE: str | None = None  # the profile the last ``setup()`` resolved


def current_profile() -> str:
    """The profile of the running notebook: the one the last ``setup()`` resolved (its ``parameters``
    cell included), else ``resolve_profile()`` (``$COURSE_PROFILE``, then gpu/laptop by CUDA)."""
    return _ACTIVE_PROFILE or resolve_profile()


def pick_device(profile: str) -> torch.device:
    """CUDA for ``gpu`` (an error if there is none), CPU for ``ci`` and ``laptop``."""
    if profile == "gpu":
        if not torch.cuda.is_available():
            raise ProfileError(
                "The 'gpu' profile needs a CUDA GPU but torch.cuda.is_available() is False. "
                "Run with COURSE_PROFILE=laptop (CPU), or on Colab choose "
                "Runtime > Change runtime type > GPU."
            )
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA); optionally ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def day_settings(day: str, profile: str) -> dict[str, Any]:
    """The per-profile settings of ``day`` (e.g. ``"day06"``) from ``helpers.days.<day>``."""
    try:
        module = importlib.import_module(f"helpers.days.{day}")
    except ModuleNotFoundError as err:
        raise ProfileError(
            f"No settings for {day!r}: add helpers/days/{day}.py with a SETTINGS dict."
        ) from err
    table: dict[str, dict[str, Any]] = module.SETTINGS
    common = dict(table.get("common", {}))
    common.update(table.get(profile, {}))
    return common


@dataclass
class Settings:
    """What a notebook needs to know about how it runs; day settings read as attributes."""

    day: str
    profile: str
    device: torch.device
    seed: int
    params: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(
            f"{self.day} has no setting {name!r} for profile {self.profile!r}; "
            f"known: {', '.join(sorted(params)) or 'none'}"
        )

    @property
    def is_ci(self) -> bool:
        return self.profile == "ci"

    def summary(self) -> str:
        return f"{self.day}: profile={self.profile} device={self.device.type} seed={self.seed}"


def setup(day: str, profile: str | None = None, seed: int = 0) -> Settings:
    """Resolve the profile, pick the device, seed everything and load the day's settings.

    >>> cfg = setup("day06", "ci")  # doctest: +SKIP
    >>> cfg.epochs                   # doctest: +SKIP
    """
    global _ACTIVE_PROFILE
    name = resolve_profile(profile)
    device = pick_device(name)
    _ACTIVE_PROFILE = name  # read by code that has no ``cfg`` at hand (the Trainer's progress bars)
    # bitsandbytes (imported by PEFT) warns on CPUs with AVX512-BF16 only, when its optional Hub kernel is
    # missing: a line that differs between machines. Its CPU fallback is what every machine runs anyway.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    if name == "ci":
        # The same kernels and one thread on every CPU, so that the committed outputs reproduce anywhere
        # (helpers.repro). Environment variables first: torch and MKL read theirs at their first operation.
        repro.apply_env()
        repro.pin_runtime()
        for problem in repro.unpinned():  # only a kernel started without CI_ENV gets here (not CI)
            print(f"[note] not pinned: {problem}; the numbers may differ from the book's in the last digits. "
                  "Restart the kernel from a shell that ran: eval \"$(python -c 'import helpers.repro as r; "
                  "r.main([\"env\"])')\"")
    seed_everything(seed, deterministic=name == "ci")
    settings = Settings(day=day, profile=name, device=device, seed=seed,
                        params=day_settings(day, name))
    print(settings.summary())
    return settings


def repo_root() -> Path | None:
    """The course checkout this package lives in, or None when installed elsewhere."""
    candidate = Path(__file__).resolve().parent.parent
    return candidate if (candidate / "notebooks").is_dir() else None


def gpu_available(what: str) -> bool:
    """True when CUDA is available; otherwise say that the cell needing it is skipped.

    Use it to guard the few cells that only make sense on a GPU (8-bit or 4-bit loading, bf16 kernels)::

        if gpu_available("loading GPT-J-6B in 8 bits"):
            model = ...
    """
    if torch.cuda.is_available():
        return True
    print(f"[skipped] {what} needs a CUDA GPU; run this notebook with the 'gpu' profile "
          "(Colab: Runtime > Change runtime type > GPU).")
    return False
