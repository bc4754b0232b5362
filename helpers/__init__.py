"""Shared helpers for the course "From Wx+b to LLMs".

Import what a notebook needs from here::

    from helpers import setup, Trainer, WithLoss, compare, viz
"""

import warnings

# tqdm's notice about missing ipywidgets names a file path and would make notebook outputs machine-dependent.
warnings.filterwarnings("ignore", message="IProgress not found")

from helpers import checks, viz
from helpers.book import glue
from helpers.checks import compare, grad_check
from helpers.data import DictDataset, MissingDataError, load_mnist, subset, tensor_dataset
from helpers.hub import load_pretrained
from helpers.profile import (
    PROFILES,
    ProfileError,
    Settings,
    gpu_available,
    resolve_profile,
    seed_everything,
    setup,
)
from helpers.trainer import History, Trainer, TrainerError, WithLoss, accuracy, count_parameters

__all__ = [
    "PROFILES", "DictDataset", "History", "MissingDataError", "ProfileError", "Settings",
    "Trainer", "TrainerError", "WithLoss", "accuracy", "checks", "compare", "count_parameters",
    "glue", "gpu_available", "grad_check", "load_mnist", "load_pretrained", "resolve_profile",
    "seed_everything", "setup", "subset", "tensor_dataset", "viz",
]
