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

from .catalog_cases import CASES, SHAPE_FREE, WRONG, Case, Wrong
from .support import export_class, graph, node, randn, shapes_of


def case_graph(case: Case | Wrong) -> tuple[dict[str, Any], str]:
    """The graph for a row and the id of the node under test."""
    if case.type == "Input":
        return graph([node("x", "Input", **case.params)]), "x"
    # Token ids: the Input declares dtype long where the graph format has that field.
    ids = LAYERS[case.type].index_input and any(p.name == "dtype" for p in LAYERS["Input"].params)
    nodes = [node("x", "Input", shape=list(case.shape), **({"dtype": "long"} if ids else {}))]
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
        self.call = case.call

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ins = [b(x) for b in self.branches] if self.branches else [x]
        if self.call is not None:
            return self.call(self.layer, *ins)
        return self.layer(*ins) if self.layer is not None else self.function(*ins)

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
        assert bool(case.branches) == (LAYERS[case.type].arity[0] >= 2), case.id


def sample(case: Case, batch: int, seed: int) -> torch.Tensor:
    """Random input for a row: token ids below the vocabulary for layers that read ids."""
    if LAYERS[case.type].index_input:
        g = torch.Generator().manual_seed(seed)
        return torch.randint(0, case.params["num_embeddings"], (batch, *case.shape), generator=g)
    return randn(batch, case.shape, seed=seed)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_hand_written_pytorch(case: Case):
    g, under_test = case_graph(case)
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert report.output == under_test

    compiled = compile_graph(g, seed=0).eval()
    oracle = Oracle(case).eval()
    oracle.load_from(compiled, compiled.node_attrs.get(under_test, "l"))
    x = sample(case, 3, seed=1)
    with torch.no_grad():
        torch.manual_seed(7)  # the same draw for layers that sample (RandnLike)
        expected = oracle(x)
        torch.manual_seed(7)
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
        torch.manual_seed(7)
        out = exported(x)
        if isinstance(out, tuple):
            out = torch.cat([o.flatten(1) for o in out], 1)
        assert torch.allclose(out, got, atol=1e-6)


@pytest.mark.parametrize("case", WRONG, ids=[c.id for c in WRONG])
def test_wrong_input_shape_is_refused_clearly(case: Wrong):
    g, under_test = case_graph(case)
    report = validate_graph(g)
    assert not report.valid
    messages = [e.message for e in report.nodes[under_test].errors]
    assert any(case.error in m for m in messages), messages


def test_every_shape_rule_has_a_wrong_shape_row():
    """Each layer added with the sequence/generative/tensor families is refused somewhere."""
    from server.catalog.extra_layers import EXTRA_LAYERS

    covered = {w.type for w in WRONG}
    assert set(EXTRA_LAYERS) - SHAPE_FREE - covered == set()
    assert not covered & SHAPE_FREE


TRAIN_MODE = ("BatchNorm1d", "BatchNorm2d", "Dropout", "Dropout2d", "Dropout1d",
              "StochasticDepth", "InstanceNorm2d", "LSTM", "TransformerEncoderLayer",
              "TransformerDecoderLayer")


@pytest.mark.parametrize("case", [c for c in CASES if c.type in TRAIN_MODE], ids=lambda c: c.id)
def test_train_mode_matches_too(case: Case):
    """Batch statistics and dropout masks: same seed, same result in train mode."""
    g, under_test = case_graph(case)
    compiled = compile_graph(g, seed=0).train()
    oracle = Oracle(case).train()
    oracle.load_from(compiled, compiled.node_attrs[under_test])
    x = sample(case, 4, seed=2)
    torch.manual_seed(5)
    expected = oracle(x)
    torch.manual_seed(5)
    got = compiled(x)
    assert torch.allclose(got, expected, atol=1e-6)
    # running statistics moved the same way
    for k, v in oracle.layer.state_dict().items():
        assert torch.allclose(compiled.state_dict()[f"{compiled.node_attrs[under_test]}.{k}"],
                              v.float() if v.is_floating_point() else v)


def test_attention_key_padding_mask_as_second_input():
    """MultiheadAttention's optional input 2: an additive (N, T) mask, here made from x."""
    g = graph([node("x", "Input", shape=[5, 8]),
               node("m", "Mean", ["x"], dim=-1),
               node("pad", "Unary", ["m"], op="relu"),
               node("neg", "Scale", ["pad"], factor=-10.0),
               node("attn", "MultiheadAttention", ["x", "neg"], num_heads=2, causal=True)])
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    compiled = compile_graph(g, seed=0).eval()
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    mha.load_state_dict(_sub(compiled.state_dict(), "attn."))
    x = randn(3, (5, 8), seed=4)
    mask = x.mean(dim=-1).relu() * -10.0
    causal = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
    with torch.no_grad():
        expected = mha(x, x, x, key_padding_mask=mask, attn_mask=causal)[0]
        got = compiled(x)
        exported = export_class(g)().eval()
        exported.load_state_dict(compiled.state_dict())
        assert torch.allclose(exported(x), got, atol=1e-6)
    assert torch.allclose(got, expected, atol=1e-6)
    bad = graph([node("x", "Input", shape=[5, 8]), node("m", "Mean", ["x"], dim=1),
                 node("attn", "MultiheadAttention", ["x", "m"], num_heads=2)])
    (error,) = validate_graph(bad).nodes["attn"].errors
    assert "must be (N, 5), one flag per position" in error.message


def test_catalog_json_lists_every_layer_in_a_known_category():
    from server.catalog import CATEGORIES, catalog_json

    layers = catalog_json()["layers"]
    assert [e["type"] for e in layers] == list(LAYERS)
    assert {e["category"] for e in layers} <= set(CATEGORIES)
    for e in layers:
        assert e["description"].strip() and e["params"]["type"] == "object", e["type"]


def test_a_graph_name_never_shadows_an_imported_layer_class():
    from server.naming import class_name

    imported = [s.module for s in LAYERS.values() if s.import_from]
    assert imported  # torchvision's StochasticDepth
    for name in imported:
        assert class_name(name) != name
