"""Start weights and frozen layers: a graph that begins from weights made elsewhere.

The weights are made here (real pretrained ones cannot be downloaded): a
network is compiled, its `state_dict` saved, and a second graph with a new
classifier head starts from it. The oracle is the saved tensors themselves.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys

import pytest
import torch

from server.cli import main
from server.compiler import compile_graph
from server.export import export_code
from server.weights import WeightsError, apply_start_weights

from .graphs import mlp


def _backbone_and_head(out_features: int = 2, frozen: bool = True) -> dict:
    graph = mlp(epochs=2)
    for node in graph["nodes"][1:-1]:  # everything between the Input and the head
        node["frozen"] = frozen and node["type"] == "Linear"
    graph["nodes"][-1]["params"]["out_features"] = out_features
    return graph


def _saved(graph: dict, path, seed: int = 7) -> dict:
    model = compile_graph(graph, seed=seed)
    torch.save(model.state_dict(), path)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_matching_tensors_load_and_a_replaced_head_stays_fresh(tmp_path):
    from server.graph import parse_graph

    pretrained = _saved(_backbone_and_head(out_features=5), tmp_path / "pre.pt")
    graph = _backbone_and_head(out_features=2) | {"init": {"weights": str(tmp_path / "pre.pt")}}
    model = compile_graph(graph, seed=0)
    fresh_head = {k: v.clone() for k, v in model.state_dict().items()}
    report = apply_start_weights(model, parse_graph(graph))
    head = graph["nodes"][-1]["id"]
    for key, value in model.state_dict().items():
        if key.startswith(model.node_attrs[head]):
            assert torch.equal(value, fresh_head[key]), key  # [2, H] cannot take [5, H]
            assert key in report.kept_fresh
        else:
            assert torch.equal(value, pretrained[key]), key
    assert report.frozen and all(not p.requires_grad
                                 for n in report.frozen
                                 for p in getattr(model, model.node_attrs[n]).parameters())


def test_files_that_cannot_be_used_are_refused(tmp_path):
    from server.graph import parse_graph

    class RunsCode:
        def __reduce__(self):
            return (exec, (f"open({str(tmp_path / 'PWNED')!r}, 'w')",))

    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"fc.weight": RunsCode()}))
    unrelated = tmp_path / "other.pt"
    torch.save({"something.else": torch.zeros(3)}, unrelated)
    table = tmp_path / "table.csv"  # junk the weights-only unpickler fails on with IndexError
    table.write_text("a,b,label\n1,2,0\n")
    for path, message in [(evil, "cannot be read as weights"),
                          (table, "table.csv cannot be read as weights"),
                          (unrelated, "no tensor in other.pt matches"),
                          (tmp_path / "missing.pt", "no weights file missing.pt")]:
        graph = parse_graph(_backbone_and_head() | {"init": {"weights": str(path)}})
        with pytest.raises(WeightsError, match=message):
            apply_start_weights(compile_graph(graph, seed=0), graph)
    assert not (tmp_path / "PWNED").exists()


def test_cli_training_keeps_frozen_layers_and_reads_weights_beside_the_graph(tmp_path):
    pretrained = _saved(_backbone_and_head(), tmp_path / "backbone.pt")
    graph = _backbone_and_head() | {"init": {"weights": "backbone.pt"}}  # relative
    (tmp_path / "g.json").write_text(json.dumps(graph))
    code = main(["train", str(tmp_path / "g.json"), "--epochs", "2", "--device", "cpu",
                 "--out", str(tmp_path / "out")])
    assert code == 0
    trained = torch.load(tmp_path / "out" / "last.pt", weights_only=True)["state_dict"]
    model = compile_graph(graph, seed=0)
    frozen = {model.node_attrs[n["id"]] for n in graph["nodes"] if n.get("frozen")}
    assert frozen
    for key, value in trained.items():
        if key.split(".")[0] in frozen:
            assert torch.equal(value, pretrained[key]), key
    head = model.node_attrs[graph["nodes"][-1]["id"]]
    assert not torch.equal(trained[f"{head}.weight"], pretrained[f"{head}.weight"])


def test_everything_frozen_is_a_clear_error(tmp_path):
    from server.training.errors import TrainingError
    from server.training.setup import build_run

    graph = copy.deepcopy(_backbone_and_head())
    for node in graph["nodes"]:
        node["frozen"] = node["type"] != "Input"
    from server.graph import parse_graph

    with pytest.raises(TrainingError, match="every layer with weights is frozen"):
        build_run(parse_graph(graph))


def test_the_exported_script_starts_from_the_weights_and_freezes(tmp_path):
    pretrained = _saved(_backbone_and_head(), tmp_path / "backbone.pt")
    graph = _backbone_and_head() | {"init": {"weights": "backbone.pt"}}
    source = export_code(graph, "script")
    assert 'parser.add_argument("--weights", default=\'backbone.pt\'' in source
    assert ".requires_grad_(False)  # frozen" in source
    assert "[p for p in model.parameters() if p.requires_grad]" in source
    (tmp_path / "train_it.py").write_text(source)
    done = subprocess.run([sys.executable, "train_it.py", "--epochs", "1", "--device", "cpu",
                           "--save-model", "after.pt"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    after = torch.load(tmp_path / "after.pt", weights_only=True)
    model = compile_graph(graph, seed=0)
    frozen = {model.node_attrs[n["id"]] for n in graph["nodes"] if n.get("frozen")}
    for key, value in after.items():
        if key.split(".")[0] in frozen:
            assert torch.equal(value, pretrained[key]), key


def test_old_graphs_export_the_same_script():
    graph = mlp(epochs=2)
    assert "--weights" not in export_code(graph, "script")
    assert "requires_grad" not in export_code(graph, "script")


def test_freezing_a_layer_without_weights_warns():
    from server.validation import validate_graph

    graph = mlp(epochs=1)
    graph["nodes"][2]["frozen"] = True  # the activation
    report = validate_graph(graph)
    assert report.valid
    assert [w.message for w in report.nodes["act"].warnings] == [
        "Tanh has no weights, so freezing it changes nothing"]
