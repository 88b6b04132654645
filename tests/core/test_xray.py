"""The X-ray against PyTorch written by hand: forward hooks, a manual backward pass and
torch.utils.flop_counter on the same compiled module."""

from __future__ import annotations

import json

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from server.cli import main
from server.compiler import compile_graph
from server.datasets import load_dataset
from server.graph import load_graph_file
from server.xray import xray

GRAPH = "examples/seed_cnn.json"


def _val_batch(graph):
    d = graph.data
    data = load_dataset(d.dataset, d.params, val_fraction=d.val_fraction, seed=graph.training.seed)
    return data.x_val[:d.batch_size].float(), data.y_val[:d.batch_size]


def test_activations_gradients_and_flops_match_hand_written_pytorch():
    graph = load_graph_file(GRAPH)
    report = xray(graph, sample=5)
    x, y = _val_batch(graph)

    model = compile_graph(graph, seed=graph.training.seed).eval()
    seen = {}
    for nid, attr in model.node_attrs.items():
        getattr(model, attr).register_forward_hook(
            lambda m, i, o, nid=nid: seen.__setitem__(nid, o.detach()))
    with torch.no_grad():
        model(x[5:6])
    for nid, out in seen.items():
        node = report["nodes"][nid]
        assert node["shape"] == list(out.shape[1:])
        assert abs(node["mean"] - float(out.mean())) < 1e-6, nid
        assert abs(node["std"] - float(out.std())) < 1e-6, nid
        assert abs(node["zeros"] - float((out == 0).float().mean())) < 1e-9, nid

    model.train()
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    assert abs(report["loss"] - float(loss)) < 1e-5
    for nid, attr in model.node_attrs.items():
        params = list(getattr(model, attr).parameters())
        if params:
            g = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
            assert abs(report["nodes"][nid]["weight_grad_norm"] - float(g)) < 1e-5, nid

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.eval()(x[5:6])
    assert report["total_flops"] == counter.get_total_flops() > 0


def test_pictures_strips_and_saturation():
    graph = {
        "version": 1, "name": "sat",
        "nodes": [
            {"id": "x", "type": "Input"},
            {"id": "big", "type": "Linear", "params": {"out_features": 300}, "inputs": ["x"]},
            {"id": "squash", "type": "Sigmoid", "inputs": ["big"]},
            {"id": "out", "type": "Linear", "params": {"out_features": 2}, "inputs": ["squash"]},
        ],
        "data": {"dataset": "moons", "params": {"n_samples": 200}, "batch_size": 16},
        "training": {"seed": 0},
    }
    for node in graph["nodes"][1:2]:
        node["params"]["bias"] = True
    report = xray(graph)
    squash = report["nodes"]["squash"]
    assert "saturated" in squash and 0 <= squash["saturated"] <= 1
    assert len(squash["strip"]) == 256 and all(0 <= v <= 255 for v in squash["strip"])
    cnn = xray(load_graph_file(GRAPH))
    maps = cnn["nodes"]["conv1"]["maps"]
    assert len(maps) == 16 and len(maps[0]) == 8 and len(maps[0][0]) == 8


def test_a_checkpoints_weights_change_the_picture(tmp_path):
    graph = load_graph_file(GRAPH)
    model = compile_graph(graph, seed=123)
    fresh = xray(graph)
    loaded = xray(graph, state_dict=model.state_dict())
    assert loaded["weights"] == "checkpoint"
    assert loaded["nodes"]["conv1"]["mean"] != fresh["nodes"]["conv1"]["mean"]


def test_cli_table_and_json(capsys, tmp_path):
    assert main(["inspect", GRAPH, "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "FLOPs per sample" in out
    assert main(["inspect", GRAPH, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["nodes"]) == {"x", "conv1", "relu1", "pool1", "flat", "fc"}
    assert main(["inspect", GRAPH, "--sample", "100000"]) == 1
    assert "out of range" in capsys.readouterr().err


def test_cli_inspects_your_own_input_and_a_checkpoint(capsys, tmp_path):
    graph = load_graph_file(GRAPH)
    drawn = torch.rand(1, 8, 8)
    (tmp_path / "digit.json").write_text(json.dumps(drawn.tolist()))
    model = compile_graph(graph, seed=7)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "w.pt")
    assert main(["inspect", GRAPH, "--input", str(tmp_path / "digit.json"),
                 "--checkpoint", str(tmp_path / "w.pt"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    seen = {}
    model.eval().conv1.register_forward_hook(lambda m, i, o: seen.__setitem__("c", o))
    with torch.no_grad():
        model(drawn[None])
    assert report["input"] == "yours" and report["weights"] == "checkpoint"
    assert abs(report["nodes"]["conv1"]["mean"] - float(seen["c"].mean())) < 1e-6
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["inspect", GRAPH, "--input", str(tmp_path / "bad.json")]) == 1
    assert "the network's Input takes [1, 8, 8]" in capsys.readouterr().err


def test_each_port_of_a_split_is_what_flows_along_its_edges():
    # The value on an edge from port 1 is the second piece of torch.split, by hand.
    graph = {
        "version": 1, "name": "halves",
        "nodes": [
            {"id": "x", "type": "Input"},
            {"id": "fc", "type": "Linear", "params": {"out_features": 6}, "inputs": ["x"]},
            {"id": "split", "type": "Split", "params": {"sections": [2, 4], "dim": 1},
             "inputs": ["fc"]},
            {"id": "out", "type": "Linear", "params": {"out_features": 2},
             "inputs": [{"node": "split", "port": 1}]},
        ],
        "output": "out",
        "data": {"dataset": "moons", "params": {"n_samples": 100}, "batch_size": 16},
        "training": {"seed": 0},
    }
    point = [0.5, -0.25]
    report = xray(graph, value=point)
    model = compile_graph(graph, seed=0)
    w = model.state_dict()
    h = torch.tensor(point) @ w["fc.weight"].T + w["fc.bias"]
    first, second = torch.split(h, [2, 4])
    assert report["nodes"]["split"]["shape"] == [2]
    assert abs(report["nodes"]["split"]["mean"] - float(first.mean())) < 1e-6
    port = report["nodes"]["split"]["ports"]["1"]
    assert port["shape"] == [4] and abs(port["mean"] - float(second.mean())) < 1e-6
