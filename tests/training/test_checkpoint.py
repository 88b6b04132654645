"""Checkpoints: atomic files, weights_only loading, refusal of hostile pickles, and a
round trip of trained weights into a freshly compiled module and the exported class.
"""

from __future__ import annotations

import pickle

import pytest
import torch
from torch import nn

from server.compiler import compile_graph
from server.datasets import load_dataset
from server.graph import parse_graph
from server.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from .conftest import of_type, run_loop
from .graphs import seed_cnn


def test_save_and_load_round_trip_leaves_no_temporary_files(tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.zeros(2)}
    graph = {"version": 1, "name": "N", "nodes": [], "ui": {"x": [1, 2.5, None, "s"]}}
    path = save_checkpoint(tmp_path / "deep" / "last.pt", state, graph, epoch=3)
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]
    data = torch.load(path, weights_only=True)  # the contract: plain torch.load works
    assert data["graph"] == graph and data["epoch"] == 3
    assert torch.equal(load_checkpoint(path)["state_dict"]["w"], state["w"])
    save_checkpoint(path, {"w": torch.ones(1)}, graph)  # replaced in place
    assert torch.equal(load_checkpoint(path)["state_dict"]["w"], torch.ones(1))


class _Payload:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path(TARGET).write_text('pwned')",
                       {"TARGET": str(_Payload.target)}))


def test_a_hostile_pickle_is_refused_and_never_runs(tmp_path):
    _Payload.target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with path.open("wb") as f:
        pickle.dump({"state_dict": {}, "graph": {}, "x": _Payload()}, f, protocol=2)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not _Payload.target.exists()


def test_a_plain_dict_is_not_a_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(CheckpointError, match="state_dict"):
        load_checkpoint(tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def _exported_class(graph: dict) -> type[nn.Module] | None:
    try:
        from server.export import export_code
    except ImportError:  # the exporter is optional for this test
        return None
    namespace: dict = {"__name__": "exported"}
    exec(compile(export_code(graph, "module"), "<exported>", "exec"), namespace)
    classes = [v for v in namespace.values()
               if isinstance(v, type) and issubclass(v, nn.Module) and v is not nn.Module]
    assert len(classes) == 1
    return classes[0]


def test_trained_weights_round_trip_into_compiled_and_exported_modules(tmp_path):
    status, events = run_loop(seed_cnn(epochs=1), tmp_path)
    assert status == "completed"
    ckpt = load_checkpoint(tmp_path / "last.pt")
    graph = ckpt["graph"]
    assert parse_graph(graph).name == "SeedCNN"

    data = load_dataset("digits", {}, val_fraction=0.2, seed=0)
    compiled = compile_graph(graph)
    compiled.load_state_dict(ckpt["state_dict"], strict=True)
    compiled.eval()
    with torch.no_grad():
        out = compiled(data.x_val)
    # The weights are the trained ones: they score exactly what the run reported.
    accuracy = (out.argmax(1) == data.y_val).float().mean().item()
    assert accuracy == pytest.approx(of_type(events, "epoch")[-1]["val_accuracy"])

    exported_cls = _exported_class(graph)
    if exported_cls is not None:
        exported = exported_cls()
        exported.load_state_dict(ckpt["state_dict"], strict=True)
        exported.eval()
        with torch.no_grad():
            assert torch.equal(exported(data.x_val), out)
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == 1 and set(best["state_dict"]) == set(ckpt["state_dict"])
