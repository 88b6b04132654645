"""The issue's accuracy targets, trained for real on CPU (a few seconds each).

Marked `accuracy` so a quick run can skip them with `-m "not accuracy"`; they
run in the default suite because a trainer that compiles and emits events but
does not learn is the bug that matters most.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import of_type, run_loop
from .graphs import mlp

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.accuracy


def _best(events: list[dict], key: str) -> float:
    return max(e[key] for e in of_type(events, "epoch"))


def test_seed_cnn_on_digits_reaches_95_percent_in_10_epochs(tmp_path):
    graph = json.loads((EXAMPLES / "seed_cnn.json").read_text())  # the example, as shipped
    assert graph["training"]["epochs"] == 10 and graph["data"]["dataset"] == "digits"
    graph["training"]["device"] = "cpu"
    status, events = run_loop(graph, tmp_path)
    assert status == "completed"
    assert len(of_type(events, "epoch")) == 10
    assert _best(events, "val_accuracy") >= 0.95
    assert of_type(events, "confusion")[-1]["labels"] == [str(d) for d in range(10)]


@pytest.mark.parametrize("dataset", ["circles", "moons"])
def test_small_mlp_on_2d_sets_reaches_95_percent(dataset, tmp_path):
    graph = mlp(dataset, 2, n_samples=500, hidden=16, activation="ReLU", epochs=15,
                optimizer_params={"lr": 0.05}, batch_size=32)
    status, events = run_loop(graph, tmp_path)
    assert status == "completed"
    assert _best(events, "val_accuracy") >= 0.95
    assert of_type(events, "epoch")[-1]["val_accuracy"] >= 0.9


def test_diabetes_regression_reaches_r2_above_0_3(tmp_path):
    graph = mlp("diabetes", 1, loss="MSELoss", n_samples=None, hidden=16, activation="ReLU",
                epochs=10, optimizer_params={"lr": 0.01}, batch_size=32)
    status, events = run_loop(graph, tmp_path)
    assert status == "completed"
    last = of_type(events, "epoch")[-1]
    assert last["val_r2"] > 0.3 and last["val_mae"] > 0
