"""Every catalogue layer against the PyTorch a person would write by hand.

For each row of `catalog_cases.CASES` a tiny graph (Input -> layer, or
Input -> branches -> merge) goes through the validator, the compiler and the
`module` exporter, and is compared with the row's hand-written oracle:
(a) inferred shape == real output shape, (b) parameter count, (c) compiled and
exported `state_dict` keys and shapes, (d) the exported class with the compiled
weights gives the same outputs, (e) the compiled module with the oracle's
weights gives the oracle's outputs. Run: `.venv/bin/pytest tests/core -k catalog`.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from server.catalog import LAYERS
from server.compiler import compile_graph
from server.validation import validate_graph

from .catalog_cases import CASES, Case
from .support import export_class, graph, node, randn, shapes_of


def case_graph(case: Case) -> tuple[dict[str, Any], str]:
    """The graph for a row and the id of the node under test."""
    if case.type == "Input":
        return graph([node("x", "Input", **case.params)]), "x"
    nodes = [node("x", "Input", shape=list(case.shape))]
    if case.branches:
        ids = [f"b{i}" for i in range(len(case.branches))]
        nodes += [node(b, t, ["x"], **p) for b, (t, p, _) in zip(ids, case.branches, strict=True)]
        nodes.append(node("m", case.type, ids, **case.params))
        return graph(nodes, output="m"), "m"
    nodes.append(node("l", case.type, ["x"], **case.params))
    if LAYERS[case.type].outputs is not None:
        # Several output ports: the graph returns all of them, as a tuple.
        ports = len(validate_graph(graph(nodes)).nodes["l"].output_shapes)
        return graph(nodes, output=[{"node": "l", "port": i} for i in range(ports)]), "l"
    return graph(nodes), "l"


class Oracle(nn.Module):
    """The hand-written model: branches (if any) then the row's module or function."""

    def __init__(self, case: Case):
        super().__init__()
        made = case.oracle()
        self.branches = nn.ModuleList(o() for _, _, o in case.branches)
        self.layer = made if isinstance(made, nn.Module) else None
        self.function = None if isinstance(made, nn.Module) else made

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.branches:
            return self.function(*(b(x) for b in self.branches))
        return self.layer(x) if self.layer is not None else self.function(x)

    def load_from(self, compiled: nn.Module, layer_attr: str) -> None:
        """Copy the compiled weights in, by the attribute names the compiler chose."""
        state = compiled.state_dict()
        for i, b in enumerate(self.branches):
            b.load_state_dict(_sub(state, f"b{i}."), strict=True)
        if self.layer is not None:
            self.layer.load_state_dict(_sub(state, f"{layer_attr}."), strict=True)


def _sub(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_rows_cover_the_catalogue():
    # Parameter has no input to feed a row: test_ports.py checks it against ViT's code.
    assert {c.type for c in CASES} == set(LAYERS) - {"Parameter"}
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert bool(case.branches) == (LAYERS[case.type].category == "merge"), case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_hand_written_pytorch(case: Case):
    g, under_test = case_graph(case)
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.output == under_test

    compiled = compile_graph(g, seed=0).eval()
    oracle = Oracle(case).eval()
    oracle.load_from(compiled, compiled.node_attrs.get(under_test, "l"))
    x = randn(3, case.shape, seed=1)
    with torch.no_grad():
        expected = oracle(x)
        got = compiled(x)

    # (a) the inferred shape is the real one
    if isinstance(expected, tuple):  # several outputs: one shape per port
        assert [tuple(s) for s in report.nodes[under_test].output_shapes] == \
            [tuple(e.shape[1:]) for e in expected]
        assert isinstance(got, tuple) and len(got) == len(expected)
        expected, got = torch.cat([e.flatten(1) for e in expected], 1), \
            torch.cat([g.flatten(1) for g in got], 1)
    assert tuple(report.nodes[under_test].output_shape) == tuple(expected.shape[1:]) or \
        report.nodes[under_test].output_shapes is not None
    # (b) parameter count, per node and in total
    layer_params = _count(oracle.layer) if oracle.layer is not None else 0
    assert report.nodes[under_test].params == layer_params
    assert report.total_params == _count(oracle) == _count(compiled)
    # (e) compiled module == oracle with the same weights
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-6), (got - expected).abs().max()

    # (c) the exported class has the compiled module's state_dict layout
    exported = export_class(g)().eval()
    assert shapes_of(exported) == shapes_of(compiled)
    # (d) ... and with the compiled weights, the same outputs
    exported.load_state_dict(compiled.state_dict(), strict=True)
    with torch.no_grad():
        out = exported(x)
        if isinstance(out, tuple):
            out = torch.cat([o.flatten(1) for o in out], 1)
        assert torch.allclose(out, got, atol=1e-6)


@pytest.mark.parametrize("case", [c for c in CASES if c.type in ("BatchNorm1d", "BatchNorm2d",
                                                                  "Dropout", "Dropout2d")],
                         ids=lambda c: c.id)
def test_train_mode_matches_too(case: Case):
    """Batch statistics and dropout masks: same seed, same result in train mode."""
    g, under_test = case_graph(case)
    compiled = compile_graph(g, seed=0).train()
    oracle = Oracle(case).train()
    oracle.load_from(compiled, compiled.node_attrs[under_test])
    x = randn(4, case.shape, seed=2)
    torch.manual_seed(5)
    expected = oracle(x)
    torch.manual_seed(5)
    got = compiled(x)
    assert torch.allclose(got, expected, atol=1e-6)
    # running statistics moved the same way
    for k, v in oracle.layer.state_dict().items():
        assert torch.allclose(compiled.state_dict()[f"{compiled.node_attrs[under_test]}.{k}"],
                              v.float() if v.is_floating_point() else v)
