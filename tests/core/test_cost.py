"""Cost on the canvas against torch.utils.flop_counter on the compiled module: per-node
FLOPs equal FlopCounterMode's count for that submodule, and the nodes add up to the
module's total; per-node training memory adds up to server.memory's estimate."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from server.compiler import compile_graph
from server.cost import graph_cost
from server.memory import estimate_training_memory
from server.validation import InvalidGraph, require_valid

EXAMPLES = ["seed_cnn", "residual_block", "two_branch", "lenet5", "circles_mlp"]


def _example(name: str) -> dict:
    with open(f"examples/{name}.json", encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.parametrize("name", EXAMPLES)
def test_flops_equal_flop_counter_on_the_compiled_module(name):
    graph = _example(name)
    cost = graph_cost(graph)
    analysis = require_valid(graph)
    model = compile_graph(graph, seed=0).eval()
    xs = [torch.randn(1, *analysis.shapes[i]) for i in model.input_ids]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(*xs)
    by_module = counter.get_flop_counts()
    assert cost["total_flops"] == counter.get_total_flops()
    assert sum(n["flops"] for n in cost["nodes"].values()) == cost["total_flops"]
    for nid, attr in model.node_attrs.items():
        counted = sum(by_module.get(f"GraphModule.{attr}", {}).values())
        assert cost["nodes"][nid]["flops"] == counted, nid
        assert cost["nodes"][nid]["macs"] == counted // 2
    assert cost["total_macs"] == cost["total_flops"] // 2


def test_a_linear_layer_by_hand_and_functions_get_their_own_count():
    graph = _example("circles_mlp")
    cost = graph_cost(graph)
    for node in graph["nodes"]:
        if node["type"] == "Linear":
            shape = require_valid(graph).shapes
            n_in = shape[node["inputs"][0]][-1]
            n_out = node["params"]["out_features"]
            assert cost["nodes"][node["id"]]["flops"] == 2 * n_in * n_out
    # Residual add and a MatMul-like function run outside any submodule: still counted.
    res = graph_cost(_example("residual_block"))
    assert sum(n["flops"] for n in res["nodes"].values()) == res["total_flops"] > 0


@pytest.mark.parametrize("name", EXAMPLES)
def test_memory_per_node_adds_up_to_the_estimate(name):
    graph = _example(name)
    cost = graph_cost(graph)
    estimate = estimate_training_memory(require_valid(graph))
    assert sum(n["training_bytes"] for n in cost["nodes"].values()) == estimate.total
    assert sum(n["activation_bytes"] for n in cost["nodes"].values()) * 2 == estimate.activations
    assert cost["memory"]["total"] == estimate.total
    assert cost["batch_size"] == estimate.batch_size


def test_moving_a_node_reuses_the_answer_and_a_change_does_not():
    graph = _example("seed_cnn")
    first = graph_cost(graph)
    moved = copy.deepcopy(graph)
    for node in moved["nodes"]:
        node["ui"] = {"x": 999, "y": 1}
    assert graph_cost(moved) is first  # cached: positions do not change the cost
    wider = copy.deepcopy(graph)
    conv = next(n for n in wider["nodes"] if n["id"] == "conv1")
    conv["params"]["out_channels"] *= 2
    assert graph_cost(wider)["total_flops"] > first["total_flops"]


def test_an_invalid_graph_is_refused():
    graph = _example("circles_mlp")
    graph["nodes"][1]["inputs"] = ["nowhere"]
    with pytest.raises(InvalidGraph):
        graph_cost(graph)


@pytest.mark.parametrize("make", ["siamese", "vae_encoder", "vit_tokens"])
def test_shared_layers_ports_parameters_and_several_inputs_add_up(make):
    # Twin encoders (one module called twice), Split/Chunk ports, Parameter nodes:
    # each node counted as the compiled module calls it, the total FlopCounterMode's.
    from . import test_ports

    graph = getattr(test_ports, make)()
    cost = graph_cost(graph)
    analysis = require_valid(graph)
    model = compile_graph(graph, seed=0).eval()
    xs = [torch.zeros(1, *analysis.shapes[i]) for i in model.input_ids]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(*xs)
    assert cost["total_flops"] == counter.get_total_flops()
    assert sum(n["flops"] for n in cost["nodes"].values()) == cost["total_flops"]
    if make == "siamese":  # the twin is counted where it runs, as much as the original
        assert cost["nodes"]["enc_b"]["flops"] == cost["nodes"]["enc"]["flops"] == 2 * 8 * 4
