"""Exported scripts' `load_data` rebuilds exactly the tensors `load_dataset` gives.

Each snippet is parsed, checked to import nothing from torchcanvas, executed in
a fresh namespace and its datasets compared with the registry's, tensor for
tensor: the script must reproduce the run's data, split and scaling included.
"""

from __future__ import annotations

import ast

import pytest
import torch

from server.datasets import DATASETS, DatasetError, load_dataset, script_source

FRACTION, SEED = 0.25, 5
IN_MEMORY = [
    ("spiral", {"n_samples": 40, "classes": 3}),
    ("circles", {"n_samples": 40, "noise": 0.2}),
    ("moons", {"n_samples": 40}),
    ("xor", {"n_samples": 40, "seed": 9}),
    ("gaussian", {"n_samples": 40}),
    ("sine", {"n_samples": 40}),
    ("plane", {"n_samples": 40}),
    ("iris", {}),
    ("wine", {}),
    ("breast_cancer", {}),
    ("digits", {}),
    ("diabetes", {}),
    ("digits_images", {}),
    ("digits_images", {"given": "label"}),
    ("sine_forecast", {"n_samples": 40, "horizon": 3}),
    ("parity", {"n_samples": 40}),
    ("brackets", {"n_samples": 40, "length": 10}),
    ("reverse", {"n_samples": 40, "mode": "copy"}),
    ("charlm", {"n_samples": 40, "corpus": "stdlib_docs"}),
    ("charnext", {"n_samples": 40}),
    ("anagrams", {"n_samples": 40, "vocab": 3}),
]


def assert_same(data, train_set, val_set):
    for ours, theirs in ((data.x_train, train_set.tensors[0]), (data.y_train, train_set.tensors[1]),
                         (data.x_val, val_set.tensors[0]), (data.y_val, val_set.tensors[1])):
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)


def test_every_dataset_is_covered():
    covered = {name for name, _ in IN_MEMORY} | {"csv", "imagefolder", "mnist", "fashion_mnist",
                                                  "cifar10"}
    assert covered == set(DATASETS)


@pytest.mark.parametrize(("name", "params"), IN_MEMORY, ids=[n for n, _ in IN_MEMORY])
def test_script_reproduces_in_memory_sets(run_script, name, params):
    source = script_source(name, params)
    load_data = run_script(source)["load_data"]
    assert_same(load_dataset(name, params, val_fraction=FRACTION, seed=SEED),
                *load_data(FRACTION, SEED))


def test_script_lists_its_imports_first():
    source = script_source("digits", {})
    tree = ast.parse(source)
    first_code = next(i for i, node in enumerate(tree.body)
                      if not isinstance(node, ast.Import | ast.ImportFrom))
    imports = [ast.unparse(n) for n in tree.body[:first_code]]
    assert "from sklearn import datasets as sk_datasets" in imports
    assert "from torch.utils.data import TensorDataset" in imports
    assert not any(isinstance(n, ast.Import | ast.ImportFrom) for n in tree.body[first_code:])
    assert "def load_data(val_fraction, seed):" in source


@pytest.mark.parametrize(("name", "class_name"), [("mnist", "MNIST"),
                                                  ("fashion_mnist", "FashionMNIST")])
def test_script_reproduces_mnist_family(run_script, fake_mnist, name, class_name):
    fake_mnist(class_name)
    load_data = run_script(script_source(name, {}))["load_data"]
    assert_same(load_dataset(name, {}, val_fraction=FRACTION, seed=SEED),
                *load_data(FRACTION, SEED))


def test_script_reproduces_cifar10(run_script, fake_cifar):
    fake_cifar()
    load_data = run_script(script_source("cifar10", {}))["load_data"]
    assert_same(load_dataset("cifar10", {}, val_fraction=FRACTION, seed=SEED),
                *load_data(FRACTION, SEED))


@pytest.mark.parametrize("label", ["", "t"])
def test_script_reproduces_csv(run_script, write_csv, label):
    rows = "".join(f"{i},{i % 3 - 0.5},{i * 1.5 + (i % 4)}\n" for i in range(24))
    params = {"path": write_csv("a,b,t\n" + rows), "label": label}
    load_data = run_script(script_source("csv", params))["load_data"]
    data = load_dataset("csv", params, val_fraction=FRACTION, seed=SEED)
    assert data.info.task == "regression"
    assert_same(data, *load_data(FRACTION, SEED))


def test_user_text_is_only_ever_a_literal(run_script, tmp_path):
    folder = tmp_path / "it's \"odd\"\n'); import os  #"
    folder.mkdir()
    path = folder / "t.csv"
    label = "x'); raise SystemExit('escaped') #"
    path.write_text(f'a,"{label}"\n1,p\n2,q\n3,p\n4,q\n', encoding="utf-8")
    params = {"path": str(path), "label": label}
    source = script_source("csv", params)
    call = next(node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "read_csv_table"
                and all(isinstance(a, ast.Constant) for a in node.args))
    assert [a.value for a in call.args] == [str(path), label, "auto"]
    load_data = run_script(source)["load_data"]
    assert_same(load_dataset("csv", params, val_fraction=FRACTION, seed=SEED),
                *load_data(FRACTION, SEED))


def test_script_reproduces_image_folders(run_script, image_folder):
    params = {"path": str(image_folder(per_class=4)), "resize": 6, "grayscale": True,
              "normalize": True}
    train_set, val_set = run_script(script_source("imagefolder", params))["load_data"](
        FRACTION, SEED)
    data = load_dataset("imagefolder", params, val_fraction=FRACTION, seed=SEED)
    assert train_set.indices == data.train_set.indices and val_set.indices == data.val_set.indices
    for ours, theirs in ((data.train_set, train_set), (data.val_set, val_set)):
        for i in range(len(ours)):
            assert torch.equal(ours[i][0], theirs[i][0]) and ours[i][1] == theirs[i][1]


def test_relative_paths_become_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert repr(str(tmp_path / "t.csv")) in script_source("csv", {"path": "t.csv"})


def test_script_source_checks_params():
    with pytest.raises(DatasetError, match="unknown dataset"):
        script_source("nope", {})
    with pytest.raises(DatasetError, match="n_samples"):
        script_source("moons", {"n_samples": "many"})
