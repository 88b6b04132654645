"""Fixtures for the dataset tests: tiny files in the formats the real loaders read.

torchvision's classes are exercised for real, on files written here in their
own raw formats (MNIST's idx files, CIFAR-10's pickled batches), so no test
needs the network; CSV files and image folders are written into `tmp_path`.
"""

from __future__ import annotations

import ast
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

MNIST_TRAIN = 30  # samples in the fake training files; the test files hold 3


def write_idx(path: Path, array: np.ndarray) -> None:
    """An uint8 array in the idx format (big-endian dims after a magic number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    """A data folder that TORCHCANVAS_DATA points to; torchvision may never download."""
    from urllib.error import URLError

    from torchvision.datasets import cifar, mnist

    def offline(url, *args, **kwargs):
        raise URLError("[Errno -2] Name or service not known")

    # The real download() methods run (and return early when the files are
    # there); only the network call underneath them fails, as it does offline.
    monkeypatch.setattr(mnist, "download_and_extract_archive", offline)
    monkeypatch.setattr(cifar, "download_and_extract_archive", offline)
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("TORCHCANVAS_DATA", str(root))
    return root


@pytest.fixture
def fake_mnist(data_root):
    """Write fake MNIST-format files for a torchvision class name; returns (images, labels)."""

    def write(class_name: str = "MNIST", seed: int = 0):
        rng = np.random.default_rng(seed)
        raw = data_root / class_name / "raw"
        images = rng.integers(0, 256, (MNIST_TRAIN, 28, 28), dtype=np.uint8)
        labels = (np.arange(MNIST_TRAIN) % 10).astype(np.uint8)
        write_idx(raw / "train-images-idx3-ubyte", images)
        write_idx(raw / "train-labels-idx1-ubyte", labels)
        write_idx(raw / "t10k-images-idx3-ubyte", images[:3])
        write_idx(raw / "t10k-labels-idx1-ubyte", labels[:3])
        return images, labels

    return write


@pytest.fixture
def fake_cifar(data_root, monkeypatch):
    """Write fake CIFAR-10 batches; returns (images (N, 32, 32, 3), labels, class names)."""
    from torchvision.datasets import CIFAR10

    # The real files are checked against their md5 sums; ours cannot match, so
    # the test drops the sums (None means "exists" to torchvision's check).
    monkeypatch.setattr(CIFAR10, "train_list", [[f, None] for f, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[f, None] for f, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": None})

    def write(per_batch: int = 4):
        rng = np.random.default_rng(1)
        folder = data_root / CIFAR10.base_folder
        folder.mkdir(parents=True)
        names = [f"class{i}" for i in range(10)]
        images, labels = [], []
        for f, _ in CIFAR10.train_list + CIFAR10.test_list:
            data = rng.integers(0, 256, (per_batch, 3 * 32 * 32), dtype=np.uint8)
            y = [int(v) for v in rng.integers(0, 10, per_batch)]
            with open(folder / f, "wb") as out:
                pickle.dump({"data": data, "labels": y}, out)
            if f != "test_batch":
                images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
                labels += y
        with open(folder / CIFAR10.meta["filename"], "wb") as out:
            pickle.dump({"label_names": names}, out)
        return np.concatenate(images), np.array(labels), names

    return write


@pytest.fixture
def image_folder(tmp_path):
    """A folder of class sub-folders holding small PNG images of solid colours."""
    from PIL import Image

    def write(classes=("cat", "dog"), per_class: int = 3, size=(10, 7)) -> Path:
        root = tmp_path / "images"
        for c, name in enumerate(classes):
            (root / name).mkdir(parents=True)
            for i in range(per_class):
                colour = (40 * c + 10 * i, 200 - 30 * c, 90 + i)
                Image.new("RGB", size, colour).save(root / name / f"{i}.png")
        return root

    return write


@pytest.fixture
def write_csv(tmp_path):
    """Write text to a fresh CSV file and return its path as a string."""
    counter = iter(range(10_000))

    def write(text: str, name: str | None = None) -> str:
        path = tmp_path / (name or f"table{next(counter)}.csv")
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def run_script():
    """Run a dataset script snippet in a fresh namespace, as an exported script would."""
    return _run_script


def _run_script(source: str) -> dict:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            assert not any(n.split(".")[0] in ("server", "torchcanvas") for n in names), names
    namespace: dict = {"__name__": "exported_script"}
    exec(compile(tree, "<exported script>", "exec"), namespace)
    return namespace
