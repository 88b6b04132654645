"""The generated 2-D sets and the split every in-memory dataset goes through."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from server.datasets import DatasetError, load_dataset
from server.datasets import generated as gen
from server.datasets.prep import split_indices

CLASSIFIERS = ["spiral", "circles", "moons", "xor", "gaussian"]
SMALL = {"n_samples": 60}


@pytest.mark.parametrize("name", CLASSIFIERS + ["sine", "plane"])
def test_same_seed_same_points_other_seed_other_points(name):
    fn = getattr(gen, name)
    x1, y1 = fn(60, 0.1, 7)
    x2, y2 = fn(60, 0.1, 7)
    x3, _ = fn(60, 0.1, 8)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    assert np.abs(x1).max() < 2.5  # about [-1, 1], as a small MLP likes it


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_sets_are_balanced_int64(name):
    data = load_dataset(name, SMALL, val_fraction=0.25, seed=0)
    assert data.in_memory
    assert data.x_train.dtype == torch.float32 and data.x_train.shape == (45, 2)
    assert data.y_train.dtype == torch.int64 and data.x_val.shape == (15, 2)
    labels = torch.cat([data.y_train, data.y_val])
    assert torch.bincount(labels).tolist() == [30, 30]


def test_spiral_with_three_arms():
    data = load_dataset("spiral", {"n_samples": 90, "classes": 3}, val_fraction=0.2, seed=0)
    assert sorted(torch.cat([data.y_train, data.y_val]).unique().tolist()) == [0, 1, 2]


def test_noise_zero_keeps_classes_apart():
    x, y = gen.circles(200, 0.0, 0)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius[y == 0].max() < radius[y == 1].min()
    x, y = gen.xor(200, 0.0, 0)
    assert np.all((x[:, 0] * x[:, 1] < 0) == (y == 1))


@pytest.mark.parametrize(("name", "width"), [("sine", 1), ("plane", 2)])
def test_regression_sets_give_float_targets_n_by_1(name, width):
    data = load_dataset(name, SMALL, val_fraction=0.5, seed=1)
    assert data.x_train.shape == (30, width) and data.y_train.shape == (30, 1)
    assert data.y_train.dtype == torch.float32
    assert data.target_mean is None  # small targets are left as they are
    x, y = getattr(gen, name)(60, 0.1 if name == "sine" else 0.05, 0)
    assert torch.equal(torch.cat([data.x_train, data.x_val]).sort(0).values,
                       torch.as_tensor(x, dtype=torch.float32).sort(0).values)


def test_split_is_a_deterministic_partition():
    train, val = split_indices(10, 0.3, 5)
    assert len(val) == 3 and sorted([*train, *val]) == list(range(10))
    again = split_indices(10, 0.3, 5)
    assert np.array_equal(train, again[0]) and np.array_equal(val, again[1])
    assert not np.array_equal(split_indices(10, 0.3, 6)[1], val)


@pytest.mark.parametrize(("n", "fraction", "n_val"), [
    (10, 0.0, 0), (10, 0.01, 1), (10, 0.99, 9), (2, 0.5, 1), (1, 0.5, 0), (7, 0.5, 4),
])
def test_split_sizes_keep_both_parts(n, fraction, n_val):
    train, val = split_indices(n, fraction, 0)
    assert (len(train), len(val)) == (n - n_val, n_val)


def test_load_is_reproducible_with_a_seed_and_val_can_be_empty():
    a = load_dataset("moons", SMALL, val_fraction=0.2, seed=3)
    b = load_dataset("moons", SMALL, val_fraction=0.2, seed=3)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    none = load_dataset("moons", SMALL, val_fraction=0.0, seed=3)
    assert none.x_val.shape == (0, 2) and none.y_val.shape == (0,) and len(none) == 60


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 2, "0.2", True])
def test_bad_val_fraction(fraction):
    with pytest.raises(DatasetError, match="val_fraction"):
        load_dataset("moons", SMALL, val_fraction=fraction, seed=0)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed(seed):
    with pytest.raises(DatasetError, match="seed"):
        load_dataset("moons", SMALL, val_fraction=0.2, seed=seed)


def test_seed_none_shuffles_but_keeps_the_data():
    a = load_dataset("moons", SMALL, val_fraction=0.5, seed=None)
    assert sorted(torch.cat([a.y_train, a.y_val]).tolist()) == [0] * 30 + [1] * 30
