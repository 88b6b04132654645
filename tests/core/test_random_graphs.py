"""Randomized graphs: the compiler and the exporter agree on anything the generator builds.

A seeded generator grows valid chains with branches (Conv, pooling, norms,
activations, Dropout, residual `Add` and `Concat` blocks, Flatten, Linear) over
image or vector inputs. For each graph: inferred shapes are the real ones, the
compiled and exported `state_dict`s match and give the same outputs, compiling
twice with one seed gives the same weights, and the exported class built after
`torch.manual_seed(seed)` starts from the compiled module's weights.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import torch

from server.compiler import compile_graph
from server.validation import validate_graph

from .support import export_class, graph, node, randn, shapes_of

ACTIVATIONS = [("ReLU", {}), ("GELU", {}), ("Tanh", {}), ("SiLU", {}), ("ELU", {"alpha": 0.7}),
               ("LeakyReLU", {"negative_slope": 0.1}), ("Sigmoid", {}), ("Identity", {})]


class Builder:
    """Grows a graph while tracking shapes by hand, independently of the validator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.nodes: list[dict[str, Any]] = []

    def add(self, type_: str, inputs: list[str], **params: Any) -> str:
        nid = f"{type_.lower()}{len(self.nodes)}"
        self.nodes.append(node(nid, type_, inputs, **params))
        return nid

    def image_step(self, cur: str, shape: tuple[int, int, int]) -> tuple[str, tuple]:
        r, (c, h, w) = self.rng, shape
        choice = r.choice(["conv", "conv", "pool", "bn", "act", "drop", "res", "cat"])
        if choice == "conv":
            k, s, p = r.choice([1, 3]), r.choice([1, 1, 2]), r.choice([0, 1])
            if min(h, w) + 2 * p < k:
                k = 1
            out = r.randint(2, 6)
            groups = r.choice([g for g in (1, 2) if c % g == 0 and out % g == 0])
            nid = self.add("Conv2d", [cur], out_channels=out, kernel_size=k, stride=s,
                           padding=p, groups=groups, bias=r.random() < 0.8)
            return nid, (out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        if choice == "pool" and min(h, w) >= 2:
            kind = r.choice(["MaxPool2d", "AvgPool2d"])
            return self.add(kind, [cur], kernel_size=2), (c, h // 2, w // 2)
        if choice == "bn":
            return self.add("BatchNorm2d", [cur]), shape
        if choice == "drop":
            return self.add("Dropout2d", [cur], p=0.2), shape
        if choice == "res":
            a = self.add("Conv2d", [cur], out_channels=c, kernel_size=3, padding=1)
            if r.random() < 0.5:
                type_, params = r.choice(ACTIVATIONS[:4])
                a = self.add(type_, [a], **params)
            return self.add("Add", [a, cur]), shape
        if choice == "cat":
            outs = [r.randint(1, 4) for _ in range(r.choice([2, 3]))]
            branches = [self.add("Conv2d", [cur], out_channels=o, kernel_size=1) for o in outs]
            return self.add("Concat", branches), (sum(outs), h, w)
        type_, params = r.choice(ACTIVATIONS)
        return self.add(type_, [cur], **params), shape

    def vector_step(self, cur: str, width: int) -> tuple[str, int]:
        r = self.rng
        choice = r.choice(["linear", "linear", "bn", "ln", "act", "drop", "res", "cat"])
        if choice == "linear":
            out = r.randint(2, 12)
            return self.add("Linear", [cur], out_features=out, bias=r.random() < 0.8), out
        if choice == "bn":
            return self.add("BatchNorm1d", [cur]), width
        if choice == "ln":
            return self.add("LayerNorm", [cur]), width
        if choice == "drop":
            return self.add("Dropout", [cur], p=0.3), width
        if choice == "res":
            a = self.add("Linear", [cur], out_features=width)
            return self.add("Add", [cur, a]), width
        if choice == "cat":
            outs = [r.randint(1, 5) for _ in range(2)]
            branches = [self.add("Linear", [cur], out_features=o) for o in outs]
            return self.add("Concat", branches, dim=r.choice([1, -1])), sum(outs)
        type_, params = r.choice(ACTIVATIONS)
        return self.add(type_, [cur], **params), width


def random_graph(seed: int) -> tuple[dict[str, Any], tuple[int, ...], tuple[int, ...]]:
    """A valid graph, its input shape and its expected output shape."""
    rng = random.Random(seed)
    b = Builder(rng)
    if rng.random() < 0.6:
        shape: tuple = (rng.randint(1, 3), rng.randint(5, 12), rng.randint(5, 12))
        cur = b.add("Input", [], shape=list(shape))
        image = shape
        for _ in range(rng.randint(1, 6)):
            cur, image = b.image_step(cur, image)
        cur = b.add("Flatten", [cur])
        width = image[0] * image[1] * image[2]
    else:
        shape = (rng.randint(2, 10),)
        cur = b.add("Input", [], shape=list(shape))
        width = shape[0]
    for _ in range(rng.randint(1, 5)):
        cur, width = b.vector_step(cur, width)
    out = rng.randint(1, 5)
    cur = b.add("Linear", [cur], out_features=out)
    rng.shuffle(b.nodes)  # the order of `nodes` must not matter
    return graph(b.nodes, name=f"random {seed}", output=cur), shape, (out,)


SEEDS = list(range(30))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_compiles_and_exports_alike(seed: int):
    g, in_shape, out_shape = random_graph(seed)
    report = validate_graph(g)
    assert report.valid, report.all_errors()
    assert tuple(report.nodes[g["output"]].output_shape) == out_shape

    compiled = compile_graph(g, seed=seed)
    exported = export_class(g)()
    # (c) same state_dict layout, in the same order
    assert list(shapes_of(exported).items()) == list(shapes_of(compiled).items())
    assert sum(p.numel() for p in compiled.parameters()) == report.total_params

    # (d) with the compiled weights, the same outputs
    exported.load_state_dict(compiled.state_dict(), strict=True)
    compiled.eval()
    exported.eval()
    x = randn(3, in_shape, seed=seed)
    with torch.no_grad():
        got = compiled(x)
        assert tuple(got.shape) == (3, *out_shape)
        assert torch.allclose(exported(x), got, atol=1e-5)
        # every intermediate shape the validator inferred is real
        assert _traced_shapes(compiled, x) == {
            nid: tuple(r.output_shape) for nid, r in report.nodes.items()
            if nid in compiled.node_attrs}

    # Train mode too: same seed, same dropout masks and batch statistics.
    compiled.train()
    exported.train()
    torch.manual_seed(seed)
    a = compiled(x)
    torch.manual_seed(seed)
    assert torch.allclose(exported(x), a, atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_same_seed_same_weights(seed: int):
    g, _, _ = random_graph(seed)
    first = compile_graph(g, seed=seed).state_dict()
    torch.manual_seed(seed + 1000)  # global RNG state must not leak in
    second = compile_graph(g, seed=seed).state_dict()
    torch.manual_seed(seed)
    exported = export_class(g)().state_dict()
    assert list(first) == list(second) == list(exported)
    for k in first:
        assert torch.equal(first[k], second[k]), k
        assert torch.equal(first[k], exported[k]), k
    if any(v.is_floating_point() and v.numel() > 1 for v in first.values()):
        other = compile_graph(g, seed=seed + 1).state_dict()
        assert any(not torch.equal(first[k], other[k]) for k in first)


def test_generator_is_deterministic_and_varied():
    assert random_graph(3) == random_graph(3)
    types = {n["type"] for s in SEEDS for n in random_graph(s)[0]["nodes"]}
    assert {"Conv2d", "Add", "Concat", "Flatten", "Linear", "BatchNorm2d", "MaxPool2d",
            "LayerNorm", "BatchNorm1d"} <= types


def _traced_shapes(module: torch.nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    attr_to_id = {a: nid for nid, a in module.node_attrs.items()}
    hooks = [getattr(module, a).register_forward_hook(
        lambda m, i, o, a=a: shapes.__setitem__(attr_to_id[a], tuple(o.shape[1:])))
        for a in attr_to_id]
    try:
        module(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes
