"""torchvision sets read from tiny fake raw files through the real classes, and image folders."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import Subset

from server.datasets import DatasetError, describe_dataset, load_dataset
from server.datasets.prep import split_indices
from server.datasets.vision import default_data_root

MNIST_TRAIN = 30  # what the fake_mnist fixture writes


@pytest.mark.parametrize(("name", "class_name"), [("mnist", "MNIST"),
                                                  ("fashion_mnist", "FashionMNIST")])
def test_mnist_family_loads_through_torchvision(fake_mnist, name, class_name):
    images, labels = fake_mnist(class_name)
    assert len(images) == MNIST_TRAIN
    data = load_dataset(name, {}, val_fraction=0.2, seed=4)
    assert data.in_memory and len(data) == MNIST_TRAIN
    assert data.x_train.shape == (24, 1, 28, 28) and data.x_train.dtype == torch.float32
    train, val = split_indices(MNIST_TRAIN, 0.2, 4)
    expected = torch.as_tensor(images[val][:, None] / 255, dtype=torch.float32)
    assert torch.allclose(data.x_val, expected)
    assert data.y_val.tolist() == labels[val].tolist() and data.y_val.dtype == torch.int64


def test_fashion_class_names_are_torchvisions():
    from torchvision.datasets import FashionMNIST

    assert describe_dataset("fashion_mnist", {}).class_names == FashionMNIST.classes


def test_cifar10_loads_through_torchvision(fake_cifar):
    images, labels, _ = fake_cifar()
    data = load_dataset("cifar10", {}, val_fraction=0.25, seed=0)
    assert data.x_train.shape == (15, 3, 32, 32) and len(data) == 20
    train, _ = split_indices(20, 0.25, 0)
    expected = torch.as_tensor(images[train].transpose(0, 3, 1, 2) / 255, dtype=torch.float32)
    assert torch.allclose(data.x_train, expected)
    assert data.y_train.tolist() == labels[train].tolist()


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST/raw"),
                                              ("fashion_mnist", "FashionMNIST/raw"),
                                              ("cifar10", "cifar-10-batches-py")])
def test_missing_files_offline_name_the_folder(data_root, name, folder):
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, {}, val_fraction=0.2, seed=0)
    message = str(caught.value)
    assert str(data_root / folder) in message and "could not be downloaded" in message
    assert "TORCHCANVAS_DATA" in message


def test_root_argument_overrides_the_environment(fake_mnist, data_root, tmp_path, monkeypatch):
    fake_mnist("MNIST")
    monkeypatch.setenv("TORCHCANVAS_DATA", str(tmp_path / "elsewhere"))
    assert len(load_dataset("mnist", {}, val_fraction=0.1, seed=0, root=data_root)) == MNIST_TRAIN


def test_default_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHCANVAS_DATA", str(tmp_path))
    assert default_data_root() == str(tmp_path)
    monkeypatch.delenv("TORCHCANVAS_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_data_root() == str(tmp_path / "cache" / "torchcanvas" / "data")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_data_root() == os.path.join(os.path.expanduser("~"), ".cache", "torchcanvas",
                                               "data")


def test_image_folder_describe_and_load(image_folder):
    root = image_folder(("cat", "dog", "emu"), per_class=4)
    info = describe_dataset("imagefolder", {"path": str(root), "resize": 12})
    assert info.class_names == ["cat", "dog", "emu"] and info.input_shape == (3, 12, 12)
    assert info.task == "classification" and info.output_width == 3
    data = load_dataset("imagefolder", {"path": str(root), "resize": 12}, val_fraction=0.25,
                        seed=2)
    assert not data.in_memory and isinstance(data.train_set, Subset)
    assert (len(data.train_set), len(data.val_set)) == (9, 3)
    x, y = data.train_set[0]
    assert x.shape == (3, 12, 12) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert data.train_set.dataset.classes == info.class_names  # ImageFolder agrees with describe
    _, val = split_indices(12, 0.25, 2)
    assert data.val_set.indices == val.tolist()


def test_image_folder_sets_survive_pickling_for_spawned_workers(image_folder):
    data = load_dataset("imagefolder", {"path": str(image_folder())}, val_fraction=0.5, seed=0)
    clone = pickle.loads(pickle.dumps(data.train_set))
    assert torch.equal(clone[1][0], data.train_set[1][0])


def test_image_folder_grayscale_and_normalize(image_folder):
    params = {"path": str(image_folder()), "resize": 8, "grayscale": True, "normalize": True}
    assert describe_dataset("imagefolder", params).input_shape == (1, 8, 8)
    data = load_dataset("imagefolder", params, val_fraction=0.0, seed=0)
    x, _ = data.train_set[0]
    assert x.shape == (1, 8, 8) and float(x.min()) < 0  # -1..1 once normalized


def test_image_folder_errors(tmp_path, image_folder):
    with pytest.raises(DatasetError, match="no such folder") as caught:
        describe_dataset("imagefolder", {"path": str(tmp_path / "absent")})
    assert caught.value.param == "path"
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="no sub-folders"):
        describe_dataset("imagefolder", {"path": str(tmp_path / "flat")})
    with pytest.raises(DatasetError, match="is a file"):
        describe_dataset("imagefolder", {"path": str(tmp_path / "flat" / "a.png")})
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    with pytest.raises(DatasetError, match="(?i)no valid file"):
        load_dataset("imagefolder", {"path": str(tmp_path / "empty")}, val_fraction=0.2, seed=0)


def test_uint8_scaling_does_not_go_through_float64():
    # 60k MNIST images in float64 would need 376 MB; the split scales in float32.
    from server.datasets.prep import split_arrays

    x = np.full((4, 1, 2, 2), 255, dtype=np.uint8)
    x_train, *_ = split_arrays(x, np.arange(4), 0.25, 0, scale_x=1 / 255)
    assert x_train.dtype == torch.float32 and torch.all(x_train == 1)
