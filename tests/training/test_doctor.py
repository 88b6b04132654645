"""The pre-flight doctor finds a planted problem of each kind, and none in a healthy network."""

from __future__ import annotations

import json

import pytest

from server.cli import main
from server.doctor import diagnose


def mlp(act="ReLU", lr=0.01, depth=1, dataset="moons", out=2, last=None, width=16):
    nodes = [{"id": "x", "type": "Input"}]
    prev = "x"
    for i in range(depth):
        nodes += [{"id": f"fc{i}", "type": "Linear", "params": {"out_features": width},
                   "inputs": [prev]},
                  {"id": f"a{i}", "type": act, "inputs": [f"fc{i}"]}]
        prev = f"a{i}"
    nodes.append({"id": "head", "type": "Linear", "params": {"out_features": out},
                  "inputs": [prev]})
    if last:
        nodes.append({"id": "last", "type": last, "inputs": ["head"]})
    params = {"n_samples": 512} if dataset == "moons" else {}
    return {"version": 1, "name": "t", "nodes": nodes,
            "optimizer": {"type": "Adam", "params": {"lr": lr}},
            "data": {"dataset": dataset, "params": params, "batch_size": 32},
            "training": {"seed": 0, "device": "cpu"}}


def kinds(report):
    return {(f.kind, f.node or f.component) for f in report.findings}


def test_a_healthy_network_has_no_findings_and_fits_one_batch():
    report = diagnose(mlp())
    assert report.findings == []
    assert report.overfit["fitted"]
    assert report.suggested_lr and len(report.lr_curve) >= 10
    lrs = [lr for lr, _ in report.lr_curve]
    assert lrs == sorted(lrs) and lrs[0] == pytest.approx(1e-6)


def test_an_lr_100x_too_large():
    report = diagnose(mlp(lr=10.0))
    finding = next(f for f in report.findings if f.kind == "lr_too_high")
    assert finding.component == "optimizer" and finding.value == report.suggested_lr
    assert report.current_lr / report.suggested_lr >= 30


def test_a_sigmoid_stack_vanishes():
    report = diagnose(mlp(act="Sigmoid", depth=8, dataset="wine", out=3, width=64))
    finding = next(f for f in report.findings if f.kind in ("vanishing", "saturation"))
    assert finding.node in {"fc0", "a0"} and "Sigmoid" in finding.message


def test_a_regression_ending_in_relu_cannot_fit_one_batch():
    report = diagnose(mlp(dataset="diabetes", out=1, last="ReLU"))
    assert ("output_range", "last") in kinds(report)
    assert ("cannot_fit", "last") in kinds(report)
    assert not report.overfit["fitted"]


def test_cli(capsys, tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(mlp(lr=10.0)))
    assert main(["doctor", str(path)]) == 1
    out = capsys.readouterr().out
    assert "suggested by the range test" in out and "optimizer: the learning rate 10" in out


def test_a_fresh_moons_mlp_with_default_settings_is_told_its_lr_is_low():
    # The student: a moons MLP with the defaults (Adam at 0.001) reached 66%;
    # the doctor says so before the run and offers the rate that trains it.
    graph = mlp()
    del graph["optimizer"]
    report = diagnose(graph)
    finding = next(f for f in report.findings if f.kind == "lr_too_low")
    assert report.current_lr == 0.001
    assert finding.value == report.suggested_lr >= 0.01
