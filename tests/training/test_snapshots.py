"""Per-epoch weights for the X-ray: which epochs are kept, that a large model keeps none,
and that epoch N's file holds the weights the loop had after epoch N."""

from __future__ import annotations

import torch
from torch import nn

from server.compiler import compile_graph
from server.training.checkpoint import load_checkpoint
from server.training.snapshots import (
    KEEP_LATEST,
    MAX_SPREAD,
    EpochSnapshots,
    epoch_path,
    keep,
    list_epochs,
)

from .conftest import run_loop
from .graphs import mlp


def test_the_policy_keeps_the_start_the_latest_and_a_thinning_spread():
    assert keep(range(0, 4)) == {0, 1, 2, 3}
    kept: list[int] = []
    for epoch in range(0, 1001):  # epochs arrive one at a time, as the loop writes them
        kept = sorted(keep([*kept, epoch]))
        assert len(kept) <= 1 + KEEP_LATEST + MAX_SPREAD
    assert kept[0] == 0 and kept[-KEEP_LATEST:] == list(range(996, 1001))
    # The older ones spread over the whole run (log-thinned), with no gap of more than
    # about two strides: 0, 64, 128, ..., 960, 992, then the latest five.
    assert max(b - a for a, b in zip(kept, kept[1:], strict=False)) <= 2 * 1000 // MAX_SPREAD


def test_the_loop_keeps_each_epochs_weights(tmp_path):
    graph = mlp(epochs=3, hidden=8)
    status, _ = run_loop(graph, tmp_path)
    assert status == "completed"
    assert list_epochs(tmp_path) == [0, 1, 2, 3]
    start = load_checkpoint(epoch_path(tmp_path, 0))
    fresh = compile_graph(graph, seed=0).state_dict()
    assert start["epoch"] == 0 and all(torch.equal(start["state_dict"][k], fresh[k])
                                       for k in fresh)
    last = load_checkpoint(tmp_path / "last.pt")["state_dict"]
    third = load_checkpoint(epoch_path(tmp_path, 3))["state_dict"]
    assert all(torch.equal(last[k], third[k]) for k in last)
    assert not torch.equal(start["state_dict"]["fc1.weight"], third["fc1.weight"])


def test_a_large_model_keeps_best_and_last_only(tmp_path):
    snaps = EpochSnapshots(tmp_path, {"version": 1})
    snaps.save(nn.Linear(1100, 1000), 0)  # 4.4 MB of weights, over the 4 MiB bound
    assert list_epochs(tmp_path) == [] and not snaps.enabled
    small = EpochSnapshots(tmp_path / "s", {"version": 1})
    for epoch in range(12):
        small.save(nn.Linear(4, 2), epoch)
    assert list_epochs(tmp_path / "s") == sorted(keep(range(12)))


def test_snapshots_that_cannot_be_written_never_fail_the_run(tmp_path):
    (tmp_path / "epochs").write_text("not a folder")  # mkdir of epochs/ fails
    status, _ = run_loop(mlp(epochs=2), tmp_path)
    assert status == "completed" and (tmp_path / "last.pt").is_file()
    assert list_epochs(tmp_path) == []
