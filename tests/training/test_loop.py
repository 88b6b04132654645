"""The training loop in-process: every catalogue entry trains, and the event stream
keeps its contract through success, divergence, cancellation and bad set-ups.

Parametrized over the catalogue tables, so a new loss, optimizer or scheduler is
tested as soon as it is added.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from server.catalog import LOSSES, OPTIMIZERS, SCHEDULERS
from server.training.checkpoint import load_checkpoint

from .conftest import of_type, run_loop
from .graphs import mlp

# What each kind of loss target trains on here: 2-D sets keep every test tiny.
TARGET_DATA = {"class": ("moons", 2), "binary": ("moons", 1), "float": ("plane", 1)}


def _loss_graph(name: str) -> dict:
    spec = LOSSES[name]
    dataset, width = TARGET_DATA[spec.target]
    # A loss that wants probabilities or log-probabilities gets the layer the
    # catalogue pairs it with (Sigmoid, LogSoftmax); the rest train on raw scores.
    return mlp(dataset, width, loss=name, last=spec.pairs_with)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_trains(name, tmp_path):
    status, events = run_loop(_loss_graph(name), tmp_path)
    assert status == "completed", events[-1]
    epochs = of_type(events, "epoch")
    assert len(epochs) == 2 and all(e["train_loss"] is not None for e in epochs)
    assert of_type(events, "step")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_trains(name, tmp_path):
    status, events = run_loop(mlp(optimizer=name), tmp_path)
    assert status == "completed", events[-1]
    first = of_type(events, "epoch")[0]
    assert first["lr"] == pytest.approx(OPTIMIZERS[name].params[0].default)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_trains_and_moves_the_rate(name, tmp_path):
    params = {"step_size": 1} if name == "StepLR" else {}
    if name == "ReduceLROnPlateau":
        params = {"patience": 0, "threshold": 10.0}  # nothing counts as an improvement
    graph = mlp(scheduler=name, scheduler_params=params, epochs=3, optimizer_params={"lr": 0.01})
    status, events = run_loop(graph, tmp_path)
    assert status == "completed", events[-1]
    rates = [e["lr"] for e in of_type(events, "epoch")]
    assert len(set(rates)) > 1, rates


def test_events_per_epoch_for_a_2d_classifier(tmp_path):
    status, events = run_loop(mlp(epochs=2), tmp_path)
    assert status == "completed"
    kinds = [e["type"] for e in events]
    assert kinds[0] == "status" and events[0]["status"] == "running"
    # each epoch: steps, then epoch, boundary, confusion
    for epoch in (1, 2):
        mine = [e["type"] for e in events if e.get("epoch") == epoch]
        assert mine[-3:] == ["epoch", "boundary", "confusion"]
        assert set(mine[:-3]) == {"step"}
    epoch = of_type(events, "epoch")[-1]
    assert set(epoch["grad_norms"]) == {"fc1", "fc2"} == set(epoch["weight_norms"])
    assert 0 <= epoch["val_accuracy"] <= 1 and epoch["val_mae"] is None
    assert epoch["samples_per_second"] > 0 and epoch["seconds"] > 0
    boundary = of_type(events, "boundary")[-1]
    assert len(boundary["x"]) == len(boundary["y"]) == 50
    assert len(boundary["values"]) == 50 and len(boundary["values"][0]) == 50
    cell = boundary["values"][10][10]
    assert len(cell) == 2 and sum(cell) == pytest.approx(1, abs=1e-3)
    confusion = of_type(events, "confusion")[-1]
    assert confusion["labels"] == ["0", "1"]
    assert sum(map(sum, confusion["matrix"])) == 16  # a quarter of 64 samples
    # the last step of each epoch always has an event: steps are 1-based and global
    steps = of_type(events, "step")
    assert [s["step"] for s in steps if s["epoch"] == 2][-1] == 2 * 3  # 48 samples / 16


def test_regression_reports_mae_and_r2_and_a_value_grid(tmp_path):
    status, events = run_loop(mlp("plane", 1, loss="MSELoss"), tmp_path)
    assert status == "completed"
    epoch = of_type(events, "epoch")[-1]
    assert epoch["val_mae"] > 0 and epoch["val_r2"] is not None
    assert epoch["val_accuracy"] is None and epoch["train_accuracy"] is None
    assert not of_type(events, "confusion")
    value = of_type(events, "boundary")[-1]["values"][0][0]
    assert isinstance(value, float)


def test_one_hot_float_targets_and_binary_outputs(tmp_path):
    status, events = run_loop(mlp("moons", 2, loss="MSELoss"), tmp_path / "a")
    assert status == "completed", events[-1]
    assert of_type(events, "epoch")[-1]["val_accuracy"] is not None
    status, events = run_loop(mlp("moons", 1, loss="BCEWithLogitsLoss"), tmp_path / "b")
    assert status == "completed", events[-1]
    assert len(of_type(events, "boundary")[-1]["values"][0][0]) == 2  # [P(0), P(1)]


def test_default_loss_and_optimizer_come_from_the_recipe(tmp_path):
    graph = mlp(loss=None)
    del graph["optimizer"]
    status, events = run_loop(graph, tmp_path)
    assert status == "completed", events[-1]


def test_divergence_ends_the_run_without_nan(tmp_path):
    graph = mlp("plane", 1, loss="MSELoss", optimizer="SGD", optimizer_params={"lr": 10.0},
                epochs=5, hidden=32)
    status, events = run_loop(graph, tmp_path)  # run_loop checks that no event holds NaN
    assert status == "diverged"
    error = events[-1]["error"]
    assert "epoch" in error and "step" in error and "non-finite" in error
    assert not (tmp_path / "last.pt").exists()  # no checkpoint of NaN weights


def test_should_stop_stops_within_a_batch_and_keeps_last(tmp_path):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 5

    status, events = run_loop(mlp(epochs=50), tmp_path, should_stop=stop)
    assert status == "stopped"
    assert len(of_type(events, "step")) >= 1
    assert of_type(events, "step")[-1]["step"] == 5
    assert load_checkpoint(tmp_path / "last.pt")["state_dict"]


def test_early_stopping(tmp_path):
    graph = mlp(epochs=50, optimizer_params={"lr": 1e-9}, early_stopping_patience=2)
    status, events = run_loop(graph, tmp_path)
    assert status == "completed"
    assert len(of_type(events, "epoch")) < 50


def test_seeded_cpu_runs_are_reproducible(tmp_path):
    graph = mlp(epochs=2, hidden=16)
    graph["nodes"].insert(3, {"id": "drop", "type": "Dropout", "params": {"p": 0.2},
                              "inputs": ["act"]})
    graph["nodes"][4]["inputs"] = ["drop"]

    def metrics_of(events):
        # Timings differ run to run, and so does `seq`: step events are coalesced by
        # the wall clock, so how many precede an epoch event depends on the machine.
        return [(e["type"], {k: v for k, v in e.items() if k not in ("seconds",
                "samples_per_second", "time", "loss", "seq")}) for e in events
                if e["type"] in ("epoch", "confusion")]

    _, a = run_loop(graph, tmp_path / "a")
    _, b = run_loop(graph, tmp_path / "b")
    assert metrics_of(a) == metrics_of(b)
    wa = load_checkpoint(tmp_path / "a" / "last.pt")["state_dict"]
    wb = load_checkpoint(tmp_path / "b" / "last.pt")["state_dict"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("change,needle", [
    ({"training": {"device": "cuda:7"}}, "not available"),
    ({"training": {"device": "tpu"}}, "device"),
    ({"data": None}, "data"),
    ({"optimizer": {"type": "Nope"}}, "Nope"),
    ({"output": "missing"}, "invalid graph"),
])
def test_a_bad_setup_fails_before_any_step(change, needle, tmp_path):
    graph = mlp()
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(graph.get(key), dict):
            graph[key] = {**graph[key], **value}
        else:
            graph[key] = value
    if not torch.cuda.is_available() or "cuda" not in str(change):
        status, events = run_loop(graph, tmp_path)
        assert status == "failed"
        assert needle in events[-1]["error"]
        assert not of_type(events, "step")


def test_labels_out_of_range_fail_with_a_message(tmp_path):
    # 1 output for a 2-class set under CrossEntropyLoss: labels reach past the scores.
    status, events = run_loop(mlp(out=1), tmp_path)
    assert status == "failed"
    assert "class" in events[-1]["error"]


def test_a_dataset_backed_set_trains_through_a_dataloader(tmp_path, monkeypatch):
    from torch.utils.data import TensorDataset

    from server.datasets import load_dataset

    def as_datasets(name, params, *, val_fraction, seed):
        data = load_dataset(name, params, val_fraction=val_fraction, seed=seed)
        return type(data)(data.info, train_set=TensorDataset(data.x_train, data.y_train),
                          val_set=TensorDataset(data.x_val, data.y_val))

    monkeypatch.setenv("TORCHCANVAS_LOADER_WORKERS", "1")
    status, events = run_loop(mlp(epochs=2), tmp_path, load=as_datasets)
    assert status == "completed", events[-1]
    assert of_type(events, "epoch")[-1]["val_accuracy"] is not None
    assert not of_type(events, "boundary")  # no grid without in-memory points


class _Hungry(nn.Module):
    node_attrs = {"fc": "fc"}

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        if self.training:
            torch.empty(1 << 50)  # a petabyte: the allocator refuses
        return self.fc(x)


def test_running_out_of_memory_fails_with_the_reason(tmp_path):
    status, events = run_loop(mlp(), tmp_path, compile_fn=lambda graph, seed: _Hungry())
    assert status == "failed"
    assert events[-1]["error"].startswith("out of memory")


def test_mixed_precision_is_ignored_on_cpu(tmp_path):
    status, events = run_loop(mlp(amp=True), tmp_path)
    assert status == "completed", events[-1]
