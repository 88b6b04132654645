"""The scikit-learn sets: the table's static metadata, scaling, and diabetes being learnable."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets
import torch
from torch import nn

from server.datasets import describe_dataset, load_dataset
from server.datasets.prep import split_indices

SETS = ["iris", "wine", "breast_cancer", "digits", "diabetes"]


@pytest.mark.parametrize("name", SETS)
def test_static_metadata_matches_sklearn(name):
    bunch = getattr(sklearn.datasets, "load_" + name)()
    info = describe_dataset(name, {})
    n_features = int(np.prod(info.input_shape))
    assert bunch.data.shape[1] == n_features
    if name != "digits":  # image pixels are not named features
        assert info.feature_names == [str(f) for f in bunch.feature_names]
    if info.task != "regression":
        assert info.class_names == [str(c) for c in bunch.target_names]


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "diabetes"])
def test_tabular_features_are_standardized_with_training_statistics(name):
    data = load_dataset(name, {}, val_fraction=0.3, seed=0)
    assert torch.allclose(data.x_train.mean(0), torch.zeros(1), atol=1e-5)
    assert torch.allclose(data.x_train.std(0, unbiased=False), torch.ones(1), atol=1e-4)
    raw = getattr(sklearn.datasets, "load_" + name)().data
    train, val = split_indices(len(raw), 0.3, 0)
    mean, std = raw[train].mean(0), raw[train].std(0)
    expected_val = torch.as_tensor((raw[val] - mean) / std, dtype=torch.float32)
    assert torch.allclose(data.x_val, expected_val, atol=1e-5)  # val scaled with train stats


def test_breast_cancer_is_binary_with_0_1_labels():
    data = load_dataset("breast_cancer", {}, val_fraction=0.2, seed=0)
    assert data.y_train.dtype == torch.int64
    assert set(data.y_train.unique().tolist()) == {0, 1}
    assert data.info.output_width == 1


def test_digits_are_one_channel_images_in_0_1():
    data = load_dataset("digits", {}, val_fraction=0.2, seed=0)
    assert data.x_train.shape[1:] == (1, 8, 8) and len(data) == 1797
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    assert data.y_train.dtype == torch.int64 and data.y_train.max() == 9


def test_diabetes_targets_are_standardized_and_a_small_mlp_learns_them():
    data = load_dataset("diabetes", {}, val_fraction=0.2, seed=0)
    assert data.y_train.shape == (len(data.x_train), 1) and data.y_train.dtype == torch.float32
    assert abs(float(data.y_train.mean())) < 1e-5
    assert data.target_mean[0] == pytest.approx(152, abs=10)  # the raw scale, kept for reports
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
    # Plain full-batch gradient descent, written out: torch.optim's first step
    # imports torch._dynamo, seconds this suite need not spend.
    for _ in range(100):
        model.zero_grad()
        nn.functional.mse_loss(model(data.x_train), data.y_train).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    with torch.no_grad():
        pred = model(data.x_val)
    r2 = 1 - ((pred - data.y_val) ** 2).sum() / ((data.y_val - data.y_val.mean()) ** 2).sum()
    assert r2 > 0.3
