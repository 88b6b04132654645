"""Losses, optimizers and schedulers: the catalogue's params against PyTorch's.

Every entry's defaults validate and build the real PyTorch object; unknown
types and bad params are errors naming the component and the param; and the
training script exported for each entry runs one `--dry-run` batch in-process.
"""

from __future__ import annotations

import runpy
import sys
from typing import Any

import pytest
import torch
from torch import nn

from server.catalog import (
    LOSSES,
    OPTIMIZERS,
    REQUIRED,
    SCHEDULERS,
    check_params,
    resolve_scheduler_params,
)
from server.export import export_code
from server.validation import validate_graph

from .support import chain

TABLES = {"loss": LOSSES, "optimizer": OPTIMIZERS, "scheduler": SCHEDULERS}
ENTRIES = [(kind, name) for kind, table in TABLES.items() for name in table]


def _defaults(kind: str, name: str) -> dict[str, Any]:
    checked = check_params(TABLES[kind][name].params, {})
    assert not checked.errors, [str(e) for e in checked.errors]
    return {k: v for k, v in checked.values.items() if v is not None}


def _net(**extra: Any) -> dict[str, Any]:
    return chain([2], ("Linear", {"out_features": 2}), **extra)


@pytest.mark.parametrize(("kind", "name"), ENTRIES, ids=[f"{k}-{n}" for k, n in ENTRIES])
def test_defaults_validate_and_build_in_pytorch(kind: str, name: str):
    spec = TABLES[kind][name]
    params = _defaults(kind, name)
    # Written out explicitly, every default is a valid value too.
    explicit = {p.name: list(p.default) if isinstance(p.default, tuple) else p.default
                for p in spec.params if p.default not in (REQUIRED, None)}
    assert not check_params(spec.params, explicit).errors
    report = validate_graph(_net(**{kind: {"type": name, "params": explicit}}))
    assert report.valid, report.all_errors()

    model = nn.Linear(2, 2)
    if kind == "loss":
        loss = getattr(nn, name)(**params)
        out = model(torch.randn(4, 2))
        target = (torch.tensor([0, 1, 1, 0]) if spec.target == "class"
                  else torch.rand(4, 2) if spec.target == "binary" else torch.randn(4, 2))
        if name in ("NLLLoss",):
            out = out.log_softmax(1)
        if name == "BCELoss":
            out = out.sigmoid()
        assert torch.isfinite(loss(out, target))
        return
    optimizer = getattr(torch.optim, name)(model.parameters(), **params) if kind == "optimizer" \
        else torch.optim.SGD(model.parameters(), lr=0.1)
    if kind == "scheduler":
        resolved = resolve_scheduler_params(spec, params, epochs=3, steps_per_epoch=4)
        scheduler = getattr(torch.optim.lr_scheduler, name)(optimizer, **resolved)
        for _ in range(3):
            optimizer.step()
            scheduler.step(1.0) if spec.step == "plateau" else scheduler.step()
    else:
        model(torch.randn(3, 2)).sum().backward()
        optimizer.step()


def test_catalogue_params_are_pytorch_arguments():
    import inspect

    for kind, name in ENTRIES:
        cls = {"loss": nn, "optimizer": torch.optim,
               "scheduler": torch.optim.lr_scheduler}[kind].__dict__[name]
        accepted = inspect.signature(cls.__init__).parameters
        for p in TABLES[kind][name].params:
            assert p.name in accepted, (name, p.name)


@pytest.mark.parametrize(("kind", "given", "hint"), [
    ("loss", "CrossEntropy", "did you mean CrossEntropyLoss?"),
    ("loss", "MSE", "unknown loss 'MSE'"),
    ("optimizer", "adam", "did you mean Adam?"),
    ("optimizer", "Adamm", "did you mean Adam"),
    ("optimizer", "LBFGS", "unknown optimizer 'LBFGS'"),
    ("scheduler", "StepLr", "did you mean StepLR?"),
    ("scheduler", "CosineAnnealing", "did you mean CosineAnnealingLR?"),
])
def test_unknown_types_name_the_component(kind: str, given: str, hint: str):
    report = validate_graph(_net(**{kind: {"type": given}}))
    assert not report.valid
    (error,) = report.errors
    assert error.component == kind and error.node is None
    assert hint in error.message


@pytest.mark.parametrize(("kind", "type_", "params", "param", "contains"), [
    ("loss", "CrossEntropyLoss", {"label_smoothing": 1.5}, "label_smoothing", "at most 1"),
    ("loss", "CrossEntropyLoss", {"weight": [1, 2]}, "weight", "unknown parameter 'weight'"),
    ("loss", "HuberLoss", {"delta": 0}, "delta", "greater than 0"),
    ("loss", "SmoothL1Loss", {"beta": "big"}, "beta", "must be a number"),
    ("optimizer", "Adam", {"lr": 0}, "lr", "greater than 0"),
    ("optimizer", "Adam", {"lr": "fast"}, "lr", "must be a number"),
    ("optimizer", "Adam", {"betas": [0.9]}, "betas", "pair of numbers"),
    ("optimizer", "Adam", {"betas": [0.9, 1.5]}, "betas", "at most"),
    ("optimizer", "Adam", {"learning_rate": 0.1}, "learning_rate", "unknown parameter"),
    ("optimizer", "SGD", {"momentum": 1.5}, "momentum", "at most 1"),
    ("optimizer", "SGD", {"nesterov": True}, "nesterov", "needs momentum"),
    ("optimizer", "SGD", {"nesterov": "yes"}, "nesterov", "true or false"),
    ("optimizer", "AdamW", {"weight_decay": -1}, "weight_decay", "at least 0"),
    ("optimizer", "RMSprop", {"lr": float("nan")}, "lr", "finite"),
    ("scheduler", "StepLR", {"step_size": 0}, "step_size", "at least 1"),
    ("scheduler", "StepLR", {"gamma": 0}, "gamma", "greater than 0"),
    ("scheduler", "ExponentialLR", {"gamma": 2}, "gamma", "at most 1"),
    ("scheduler", "OneCycleLR", {"anneal_strategy": "cubic"}, "anneal_strategy", "one of"),
    ("scheduler", "ReduceLROnPlateau", {"patience": 2.5}, "patience", "whole number"),
])
def test_bad_params_name_the_component_and_param(kind, type_, params, param, contains):
    report = validate_graph(_net(**{kind: {"type": type_, "params": params}}))
    assert not report.valid
    matching = [e for e in report.errors
                if e.component == kind and e.param == param and contains in e.message]
    assert matching, report.errors


# -- the exported script runs with each entry ---------------------------------------

def _head(loss: str) -> tuple[str, list[tuple[str, dict]]]:
    """A dataset and a last layer that suit the loss."""
    target = LOSSES[loss].target
    if target == "class":
        tail = [("LogSoftmax", {})] if loss == "NLLLoss" else []
        return "circles", [("Linear", {"out_features": 2}), *tail]
    if target == "binary":
        tail = [("Sigmoid", {})] if loss == "BCELoss" else []
        return "breast_cancer", [("Linear", {"out_features": 1}), *tail]
    return "sine", [("Linear", {"out_features": 1})]


def _run_script(source: str, tmp_path, monkeypatch, *args: str) -> str:
    path = tmp_path / "train.py"
    path.write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path), "--dry-run", "--device", "cpu", *args])
    runpy.run_path(str(path), run_name="__main__")
    return path.read_text()


SCRIPT_ENTRIES = [(kind, name) for kind, name in ENTRIES]


@pytest.mark.parametrize(("kind", "name"), SCRIPT_ENTRIES,
                         ids=[f"{k}-{n}" for k, n in SCRIPT_ENTRIES])
def test_exported_script_runs_with_each_entry(kind, name, tmp_path, monkeypatch, capsys):
    loss = name if kind == "loss" else "CrossEntropyLoss"
    dataset, layers = _head(loss)
    width = {"circles": 2, "breast_cancer": 30, "sine": 1}[dataset]
    g = chain([width], ("Linear", {"out_features": 8}), ("ReLU", {}), *layers,
              data={"dataset": dataset, "batch_size": 16}, training={"epochs": 2},
              loss={"type": loss})
    if kind != "loss":
        g[kind] = {"type": name}
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert not [w for w in report.all_warnings() if w.component == "loss" or "loss" in
                w.message.lower()], report.all_warnings()
    source = export_code(g, "script")
    _run_script(source, tmp_path, monkeypatch, "--save-model", "m.pt")
    out = capsys.readouterr().out
    assert "Train epoch 1" in out and "Validation: loss" in out
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    assert set(state) == {"n1.weight", "n1.bias", "n3.weight", "n3.bias"}


def test_script_without_a_validation_split_runs(tmp_path, monkeypatch, capsys):
    g = chain([2], ("Linear", {"out_features": 2}), data={"dataset": "circles",
                                                          "val_fraction": 0.0},
              scheduler={"type": "ReduceLROnPlateau"})
    _run_script(export_code(g, "script"), tmp_path, monkeypatch, "--save-model", "")
    assert "Validation: loss" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.pt"))  # an empty --save-model saves nothing


def test_script_export_needs_data_and_a_known_format():
    g = chain([2], ("Linear", {"out_features": 2}))
    assert "class Net(nn.Module)" in export_code(g, "module")
    with pytest.raises(ValueError, match="needs `data`"):
        export_code(g, "script")
    with pytest.raises(ValueError, match="unknown export format 'notebook'"):
        export_code(g, "notebook")
