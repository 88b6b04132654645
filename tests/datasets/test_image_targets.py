"""digits_images: the 8x8 digits as targets, for autoencoders and generators.

Compared with scikit-learn's own arrays: the target is each image scaled to
0..1; the input is the same image, or its class one-hot as (10, 1, 1).
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets
import torch

from server.datasets import DatasetError, dataset_catalog, describe_dataset, load_dataset
from server.datasets.loader import preview_dataset
from server.datasets.prep import split_indices


def _raw():
    bunch = sklearn.datasets.load_digits()
    return bunch.data / 16.0, bunch.target


def test_targets_are_the_images_and_inputs_the_image_or_the_label():
    images, labels = _raw()
    train, val = split_indices(len(images), 0.2, 3)
    auto = load_dataset("digits_images", {}, val_fraction=0.2, seed=3)
    expected = torch.as_tensor(images[val], dtype=torch.float32)
    assert torch.allclose(auto.y_val, expected)
    assert torch.allclose(auto.x_val, expected.reshape(-1, 1, 8, 8))
    gen = load_dataset("digits_images", {"given": "label"}, val_fraction=0.2, seed=3)
    assert gen.x_train.shape == (len(train), 10, 1, 1)
    assert torch.equal(gen.x_train.flatten(1).argmax(1), torch.as_tensor(labels[train]))
    assert torch.equal(gen.x_train.sum((1, 2, 3)), torch.ones(len(train)))
    assert torch.allclose(gen.y_train, torch.as_tensor(images[train], dtype=torch.float32))


def test_description_says_what_the_output_must_be():
    info = describe_dataset("digits_images", {"given": "label"})
    assert (info.task, info.input_shape, info.target_shape, info.output_width) == \
        ("regression", (10, 1, 1), (1, 8, 8), 64)
    assert info.to_dict()["target_shape"] == [1, 8, 8]
    assert describe_dataset("digits", {}).to_dict()["target_shape"] == []  # one label
    entry = next(e for e in dataset_catalog() if e["name"] == "digits_images")
    assert entry["target_shape"] == [1, 8, 8] and entry["input_shape"] == [1, 8, 8]


def test_a_bad_choice_is_refused():
    with pytest.raises(DatasetError) as err:
        describe_dataset("digits_images", {"given": "noise"})
    assert err.value.param == "given"


def test_preview_shows_the_images_with_their_digit():
    preview = preview_dataset("digits_images", {"given": "label"}, n=4)
    images, labels = _raw()
    assert len(preview["images"]) == len(preview["labels"]) == 4
    first = np.array(preview["images"][0])
    assert first.shape == (1, 8, 8)
    assert np.allclose(first, images[0].reshape(1, 8, 8), atol=1e-3) and preview["labels"][0] == 0


def test_the_output_shape_is_checked_against_the_images():
    from server.validation import validate_graph

    g = {"version": 1, "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [1, 8, 8]}},
        {"id": "flat", "type": "Flatten", "inputs": ["x"]},
        {"id": "fc", "type": "Linear", "params": {"out_features": 64}, "inputs": ["flat"]}],
        "loss": {"type": "MSELoss"}, "data": {"dataset": "digits_images"}}
    (warning,) = validate_graph(g).all_warnings()
    assert "the output is (N, 64) but 'digits_images' compares it with images (N, 1, 8, 8)" \
        in warning.message
    g["nodes"].append({"id": "img", "type": "Unflatten",
                       "params": {"dim": 1, "unflattened_size": [1, 8, 8]}, "inputs": ["fc"]})
    assert validate_graph(g).all_warnings() == []
