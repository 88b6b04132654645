"""Blocks: named sub-graphs reused as layers, and dotted names that nest layers.

The oracles are torchvision's own classes (pytorch/vision, the installed 0.29:
`torchvision/models/resnet.py`, `mobilenetv2.py`, `densenet.py`, `squeezenet.py`,
`vgg.py`, `googlenet.py`: Inception blocks of BasicConv2d blocks): each one's
`state_dict` loads with `strict=True` into both the compiled graph and the
exported classes, without any key mapping, and both give its outputs.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import torchvision
from torch import nn

from server.compiler import compile_graph
from server.export import export_code
from server.validation import Limits, validate_graph

from .block_graphs import (
    densenet_graph,
    googlenet_graph,
    mobilenet_v2_graph,
    n,
    resnet_graph,
    squeezenet1_1_graph,
    vgg11_graph,
)


def exported(g: dict[str, Any]) -> nn.Module:
    """The graph's exported main class (the last class the module defines), built."""
    namespace: dict[str, Any] = {"__name__": "torchcanvas_export"}
    exec(compile(export_code(g, "module"), "<export>", "exec"), namespace)
    return namespace[g.get("name", "Net")]()


def errors(g: dict[str, Any]) -> list[str]:
    report = validate_graph(g)
    assert not report.valid
    return [f"{e.node}: {e.message}" for e in report.all_errors()]


@pytest.fixture(scope="module")
def resnet18() -> nn.Module:
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def test_resnet18_loads_torchvision_weights_strictly(resnet18):
    g = resnet_graph()
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in resnet18.parameters())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = resnet18(x)
    for model in (compile_graph(g), exported(g)):
        assert list(model.state_dict()) == list(resnet18.state_dict())
        model.load_state_dict(resnet18.state_dict(), strict=True)
        with torch.no_grad():
            assert torch.allclose(model.eval()(x), expected, atol=1e-5)


@pytest.mark.parametrize("build, oracle", [
    (mobilenet_v2_graph, torchvision.models.mobilenet_v2),
    (densenet_graph, torchvision.models.densenet121),
    (squeezenet1_1_graph, torchvision.models.squeezenet1_1),
    (vgg11_graph, torchvision.models.vgg11),
    (googlenet_graph, lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True)),
], ids=["mobilenet_v2", "densenet121", "squeezenet1_1", "vgg11", "googlenet"])
def test_torchvision_networks_built_from_blocks(build, oracle):
    torch.manual_seed(0)
    original = oracle().eval()
    g = build()
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == sum(p.numel() for p in original.parameters())
    x = torch.randn(2, *g["nodes"][0]["params"]["shape"])
    with torch.no_grad():
        expected = original(x)
        for model in (compile_graph(g), exported(g)):
            assert list(model.state_dict()) == list(original.state_dict())
            model.load_state_dict(original.state_dict(), strict=True)
            assert torch.allclose(model.eval()(x), expected, atol=1e-5)


def test_compiled_and_exported_start_from_the_same_weights():
    g = resnet_graph(layers=(1, 1, 1, 1), size=32, num_classes=10)
    compiled = compile_graph(g, seed=3)
    torch.manual_seed(3)
    written = exported(g)
    for (k, a), (_, b) in zip(compiled.state_dict().items(), written.state_dict().items(),
                              strict=True):
        assert torch.equal(a, b), k


def test_export_reads_like_torchvision():
    code = export_code(resnet_graph(), "module")
    assert "class BasicBlock(nn.Module):" in code
    assert "def __init__(self, in_channels, planes):" in code  # what differs per instance
    assert "self.layer2 = nn.Sequential(\n            BasicBlockDown(64, 128)," in code
    assert "image = self.layer1(image)" in code  # a chain container is one call
    assert "self.downsample = nn.Sequential(" in code


def test_instance_shapes_and_params_in_the_report():
    report = validate_graph(resnet_graph(size=64))
    assert report.nodes["layer2_0"].output_shape == [128, 8, 8]
    basic = 2 * (3 * 3 * 64 * 64) + 4 * 64
    assert report.nodes["layer1_0"].params == basic


def test_named_layers_nest_without_blocks():
    g = {"version": 1, "name": "Net", "nodes": [
        n("x", "Input", shape=[8]),
        n("a", "Linear", ["x"], "classifier.0", out_features=16),
        n("r", "ReLU", ["a"], "classifier.1"),
        n("b", "Linear", ["r"], "classifier.2", out_features=3)]}
    oracle = nn.Sequential()
    oracle.add_module("classifier", nn.Sequential(nn.Linear(8, 16), nn.ReLU(),
                                                  nn.Linear(16, 3)))
    model = exported(g)
    model.load_state_dict(oracle.state_dict(), strict=True)
    x = torch.randn(4, 8)
    assert torch.allclose(model(x), oracle(x))
    assert "x = self.classifier(x)" in export_code(g, "module")


def test_named_members_become_an_ordered_dict_and_indexing_follows_position():
    g = {"version": 1, "name": "Net", "nodes": [
        n("x", "Input", shape=[8]),
        n("a", "Linear", ["x"], "features.fc0", out_features=8),
        n("b", "Linear", ["x"], "features.fc1", out_features=8),
        n("add", "Add", ["a", "b"])]}
    code = export_code(g, "module")
    assert "from collections import OrderedDict" in code
    assert 'nn.Sequential(OrderedDict([\n            ("fc0", nn.Linear(8, 8)),' in code
    assert "self.features.fc0(x)" in code  # not a chain: members called one by one
    compiled = compile_graph(g)
    model = exported(g)
    model.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(3, 8)
    assert torch.allclose(model(x), compiled(x))


def _two_port_block() -> dict[str, Any]:
    return {"nodes": [n("x", "Input"), n("mu", "Linear", ["x"], out_features="$k"),
                      n("logvar", "Linear", ["x"], out_features="$k")],
            "output": ["mu", "logvar"], "params": {"k": {"default": 2}}}


def test_a_block_with_two_outputs_has_two_ports():
    g = {"version": 1, "name": "Net", "blocks": {"Heads": _two_port_block()}, "nodes": [
        n("x", "Input", shape=[6]),
        n("heads", "block:Heads", ["x"], k=3),
        n("sum", "Add", [{"node": "heads", "port": 0}, {"node": "heads", "port": 1}])]}
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.nodes["heads"].output_shapes == [[3], [3]]
    compiled = compile_graph(g)
    model = exported(g)
    model.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(2, 6)
    assert torch.allclose(model(x), compiled(x))
    assert "heads_0, heads_1 = self.heads(x)" in export_code(g, "module")


def test_a_shared_block_is_one_module_called_twice():
    g = {"version": 1, "name": "Siamese", "blocks": {"Tower": {"nodes": [
        n("x", "Input"), n("fc", "Linear", ["x"], out_features=4), n("act", "Tanh", ["fc"])]}},
        "nodes": [n("a", "Input", shape=[5]), n("b", "Input", shape=[5]),
                  n("left", "block:Tower", ["a"]),
                  {**n("right", "block:Tower", ["b"]), "shares": "left"},
                  n("diff", "Sub", ["left", "right"])], "inputs": ["a", "b"]}
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.total_params == 5 * 4 + 4
    compiled = compile_graph(g)
    assert list(compiled.state_dict()) == ["left.fc.weight", "left.fc.bias"]
    model = exported(g)
    model.load_state_dict(compiled.state_dict(), strict=True)
    a, b = torch.randn(2, 5), torch.randn(2, 5)
    assert torch.allclose(model(a, b), compiled(a, b))


def test_blocks_inside_blocks():
    inner = {"nodes": [n("x", "Input"), n("fc", "Linear", ["x"], out_features="$width"),
                       n("act", "ReLU", ["fc"])], "params": {"width": {"default": 8}}}
    outer = {"nodes": [n("x", "Input"), n("one", "block:Dense", ["x"], width=16),
                       n("two", "block:Dense", ["one"], width="$out")],
             "params": {"out": {}}}
    g = {"version": 1, "name": "Net", "blocks": {"Dense": inner, "Pair": outer}, "nodes": [
        n("x", "Input", shape=[4]), n("p", "block:Pair", ["x"], out=6),
        n("q", "block:Pair", ["p"], out=2)]}
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.nodes["q"].output_shape == [2]
    compiled = compile_graph(g)
    assert "q.two.fc.weight" in compiled.state_dict()
    model = exported(g)
    model.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(3, 4)
    assert torch.allclose(model(x), compiled(x))


# -- what is refused, and how it is said ---------------------------------------------


def _with_block(block: dict[str, Any], **instance: Any) -> dict[str, Any]:
    return {"version": 1, "blocks": {"B": block}, "nodes": [
        n("x", "Input", shape=[4]), n("b", "block:B", ["x"], **instance)]}


def test_unknown_block_names_the_ones_there_are():
    g = _with_block({"nodes": [n("x", "Input")]})
    g["nodes"][1]["type"] = "block:Nope"
    assert errors(g) == ["b: unknown block 'Nope': this graph's blocks are B"]


def test_a_block_that_contains_itself():
    g = _with_block({"nodes": [n("x", "Input"), n("again", "block:B", ["x"])]})
    assert "uses itself" in errors(g)[0]


def test_unknown_and_missing_block_params():
    block = {"nodes": [n("x", "Input"), n("fc", "Linear", ["x"], out_features="$width")],
             "params": {"width": {}}}
    assert "set width" in errors(_with_block(block))[0]
    assert "has no param 'size'" in errors(_with_block(block, width=3, size=2))[0]
    undeclared = {"nodes": [n("x", "Input"), n("fc", "Linear", ["x"], out_features="$w")]}
    assert "fc.out_features reads $w" in errors(_with_block(undeclared))[0]


def test_errors_inside_an_instance_are_reported_on_it():
    block = {"nodes": [n("x", "Input"), n("conv", "Conv2d", ["x"], out_channels=2)]}
    (message,) = errors(_with_block(block))
    assert message.startswith("b: in block B, conv: ")


def test_wrong_number_of_inputs_for_a_block():
    g = _with_block({"nodes": [n("x", "Input"), n("y", "Input"), n("s", "Add", ["x", "y"])]})
    assert "takes exactly 2 inputs, got 1" in errors(g)[0]


@pytest.mark.parametrize("names, message", [
    (["train", None], "is a Python or nn.Module name"),
    (["fc", "fc"], "is already used by"),
    (["fc", "fc.0"], "which is a layer"),
    (["seq.append", None], "cannot name a member"),
])
def test_bad_names(names, message):
    g = {"version": 1, "nodes": [n("x", "Input", shape=[4]),
                                 n("a", "Linear", ["x"], names[0], out_features=4),
                                 n("b", "Linear", ["a"], names[1], out_features=4)]}
    assert any(message in e for e in errors(g))


def test_node_limit_counts_a_block_once_per_definition():
    g = resnet_graph()
    inner = sum(len(b["nodes"]) for b in g["blocks"].values())
    exact = Limits(max_nodes=len(g["nodes"]) + inner)
    assert validate_graph(g, exact).valid
    report = validate_graph(g, Limits(max_nodes=len(g["nodes"]) + inner - 1))
    assert "more than the limit" in report.errors[0].message


def test_block_name_must_be_an_identifier():
    g = _with_block({"nodes": [n("x", "Input")]})
    g["blocks"] = {"not ok": g["blocks"]["B"]}
    g["nodes"][1]["type"] = "block:not ok"
    assert any("must be an identifier" in e for e in errors(g))


def test_old_graphs_are_untouched_by_the_new_fields():
    g = {"version": 1, "nodes": [n("x", "Input", shape=[4]), n("fc", "Linear", ["x"],
                                                                out_features=2)]}
    before = export_code(copy.deepcopy(g), "module")
    g["blocks"] = {}
    assert export_code(g, "module") == before


def test_memory_estimate_counts_the_activations_inside_blocks():
    from server.memory import total_activation_values
    from server.validation import analyze_graph

    inner = {"nodes": [n("x", "Input"), n("fc", "Linear", ["x"], out_features=100),
                       n("out", "Linear", ["fc"], out_features=4)]}
    g = {"version": 1, "blocks": {"B": inner}, "nodes": [
        n("x", "Input", shape=[4]), n("b", "block:B", ["x"])]}
    flat = {"version": 1, "nodes": [n("x", "Input", shape=[4]),
                                    n("fc", "Linear", ["x"], out_features=100),
                                    n("out", "Linear", ["fc"], out_features=4)]}
    assert total_activation_values(analyze_graph(g)) == \
        total_activation_values(analyze_graph(flat)) == 4 + 100 + 4


def test_cost_of_a_block_instance_is_what_its_layers_count():
    from torch.utils.flop_counter import FlopCounterMode

    from server.cost import graph_cost

    g = resnet_graph(layers=(1, 1, 1, 1), size=32, num_classes=10)
    cost = graph_cost(g)
    model = compile_graph(g).eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, 32, 32))
    assert cost["total_flops"] == counter.get_total_flops()
    block = counter.get_flop_counts()["GraphModule.layer2.0"]
    assert cost["nodes"]["layer2_0"]["flops"] == sum(block.values())
