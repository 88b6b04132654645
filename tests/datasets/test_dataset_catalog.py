"""The registry table: the catalogue, `describe_dataset` and param checking."""

from __future__ import annotations

import json
import sys

import pytest

import server.datasets
from server.catalog.params import params_schema
from server.datasets import DATASETS, DatasetError, dataset_catalog, describe_dataset
from server.datasets.base import KINDS, TASKS

STATIC = [name for name, spec in DATASETS.items() if spec.family not in ("csv", "imagefolder")]

# name: (task, input_shape, num_classes, output_width); one row per built-in dataset
EXPECTED = {
    "spiral": ("classification", (2,), 2, 2),
    "circles": ("classification", (2,), 2, 2),
    "moons": ("classification", (2,), 2, 2),
    "xor": ("classification", (2,), 2, 2),
    "gaussian": ("classification", (2,), 2, 2),
    "sine": ("regression", (1,), None, 1),
    "plane": ("regression", (2,), None, 1),
    "iris": ("classification", (4,), 3, 3),
    "wine": ("classification", (13,), 3, 3),
    "breast_cancer": ("binary", (30,), 2, 1),
    "digits": ("classification", (1, 8, 8), 10, 10),
    "diabetes": ("regression", (10,), None, 1),
    "digits_images": ("regression", (1, 8, 8), None, 64),  # the targets are the images
    "mnist": ("classification", (1, 28, 28), 10, 10),
    "fashion_mnist": ("classification", (1, 28, 28), 10, 10),
    "cifar10": ("classification", (3, 32, 32), 10, 10),
    "sine_forecast": ("regression", (32, 1), None, 1),
    "parity": ("classification", (4,), 2, 2),
    "brackets": ("classification", (12,), 2, 2),
    "reverse": ("classification", (8,), 8, 8),
    "charlm": ("classification", (32,), 45, 45),  # The Zen of Python's distinct characters
    "charnext": ("classification", (3,), 89, 89),  # the docstrings' distinct characters
    "anagrams": ("classification", (6,), 2, 2),  # two inputs of (6,) each
}


def test_every_dataset_of_the_issue_is_registered():
    assert set(DATASETS) == set(EXPECTED) | {"csv", "imagefolder"}


def test_catalog_entries_are_complete_and_json():
    catalog = dataset_catalog()
    assert [e["name"] for e in catalog] == list(DATASETS)
    json.dumps(catalog, allow_nan=False)
    for entry in catalog:
        spec = DATASETS[entry["name"]]
        assert entry["params"] == params_schema(spec.params)
        assert entry["kind"] in KINDS
        assert entry["task"] in (*TASKS, None)
        assert entry["description"].endswith(".") and "\n" not in entry["description"]
        for key in ("input_shape", "num_classes", "class_names", "feature_names", "output_width"):
            assert key in entry
    by_name = {e["name"]: e for e in catalog}
    assert by_name["csv"]["task"] is None and by_name["csv"]["input_shape"] is None
    assert by_name["imagefolder"]["params"]["required"] == ["path"]
    assert by_name["imagefolder"]["input_shape"] == [3, 32, 32]


@pytest.mark.parametrize("name", STATIC)
def test_describe_matches_the_table(name):
    info = describe_dataset(name, {})
    task, shape, classes, width = EXPECTED[name]
    assert (info.task, info.input_shape, info.num_classes, info.output_width) == \
        (task, shape, classes, width)
    assert len(info.class_names) == (classes or 0)
    assert info.name == name and info.description == DATASETS[name].description
    entry = next(e for e in dataset_catalog() if e["name"] == name)
    assert {k: entry[k] for k in ("task", "num_classes", "output_width")} == \
        {"task": task, "num_classes": classes, "output_width": width}
    assert json.loads(json.dumps(info.to_dict()))["input_shape"] == list(shape)


def test_spiral_may_have_three_arms():
    info = describe_dataset("spiral", {"classes": 3})
    assert info.class_names == ["0", "1", "2"] and info.output_width == 3


@pytest.mark.parametrize(("name", "params", "param", "fragment"), [
    ("nope", {}, None, "unknown dataset 'nope'"),
    ("moons", {"n_samples": 2}, "n_samples", "at least 10"),
    ("moons", {"noise": "lots"}, "noise", "must be a number"),
    ("moons", {"colour": 1}, "colour", "unknown parameter 'colour'"),
    ("spiral", {"classes": 4}, "classes", "must be one of"),
    ("csv", {}, "path", "path is required"),
    ("csv", {"path": "  "}, "path", "must not be empty"),
    ("imagefolder", {"path": "x", "resize": 0}, "resize", "at least 4"),
    ("mnist", {"anything": 1}, "anything", "unknown parameter"),
])
def test_bad_names_and_params_are_dataset_errors(name, params, param, fragment):
    with pytest.raises(DatasetError, match=fragment) as caught:
        describe_dataset(name, params)
    assert isinstance(caught.value, ValueError)
    assert caught.value.param == param


def test_the_catalogue_imports_neither_sklearn_nor_torchvision(monkeypatch):
    # Listing and describing must stay cheap: the API serves them on every page load.
    # A None entry in sys.modules makes any import of that module fail here.
    for module in ("sklearn", "sklearn.datasets", "torchvision", "torchvision.datasets",
                   "server.datasets.tabular", "server.datasets.vision"):
        monkeypatch.setitem(sys.modules, module, None)
    for attr in ("tabular", "vision"):  # `from . import vision` would find these first
        monkeypatch.delattr(server.datasets, attr, raising=False)
    dataset_catalog()
    for name in STATIC:
        describe_dataset(name, {})
