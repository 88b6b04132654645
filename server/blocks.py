"""Blocks: named sub-graphs used as layers (a ResNet BasicBlock, a transformer Block).

A graph's `blocks` section defines them; a node of type `block:<name>` is one
instance, with its own weights. To the validator an instance is a layer whose
shape rule is "analyse the block's nodes with these input shapes"; this module
turns a definition plus one instance (its input shapes, dtypes and exposed
param values) into the plain `Graph` that analysis runs on, and gives each
definition the `BlockSpec` that stands for it in the layer table.

Exposed params: an inner node's param written as the string `"$planes"` takes
the instance's value of `planes` (or the block's default), so one BasicBlock
definition serves every stage of a ResNet.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.catalog import LAYERS, LayerSpec
from server.graph import BLOCK_PREFIX, Block, Graph

MAX_DEPTH = 16  # blocks inside blocks; deeper is a loop gone wrong, not a network
MAX_EXPANDED = 50_000  # nodes analysed once blocks are expanded (a ResNet-152 is ~1,500)


class BlockError(ValueError):
    """An instance that cannot be expanded (an unknown `$param`, a wrong Input shape)."""


def _no_rule(shapes: Any, params: Any) -> Any:  # the analyzer expands blocks itself
    raise AssertionError("a block's shapes come from its own analysis")


@dataclass(frozen=True)
class BlockSpec(LayerSpec):
    """A block definition in the layer table: `block:<name>`."""

    block: Block | None = None
    name: str = ""

    def input_ids(self) -> list[str]:
        if self.block.inputs is not None:
            return list(self.block.inputs)
        return [n.id for n in self.block.nodes if n.type == "Input"]


def block_spec(name: str, block: Block) -> BlockSpec:
    inputs = (len(block.inputs) if block.inputs is not None
              else sum(n.type == "Input" for n in block.nodes))
    ports = len(block.output) if isinstance(block.output, list) else 0
    return BlockSpec(
        type=f"{BLOCK_PREFIX}{name}", category="block",
        description=block.description or f"The block {name}, defined in this graph",
        rule=_no_rule, arity=(inputs, inputs), module=name,
        outputs=tuple(f"out{i}" for i in range(ports)) if isinstance(block.output, list)
        else None,
        block=block, name=name)


def layer_table(graph: Graph) -> Mapping[str, LayerSpec]:
    """The catalogue plus this graph's blocks as `block:<name>` types."""
    if not graph.blocks:
        return LAYERS
    return ChainMap({f"{BLOCK_PREFIX}{name}": block_spec(name, b)
                     for name, b in graph.blocks.items()}, LAYERS)


def exposed_values(spec: BlockSpec, given: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The instance's value of each exposed param (given, else the default), and problems."""
    problems = []
    declared = spec.block.params
    for name in given:
        if name not in declared:
            known = ", ".join(declared) or "none"
            problems.append(f"block {spec.name} has no param {name!r} (it exposes: {known})")
    values = {}
    for name, param in declared.items():
        value = given.get(name, param.default)
        if value is None:
            problems.append(f"set {name}: block {spec.name} has no default for it")
        values[name] = value
    return values, problems


def instance_graph(spec: BlockSpec, graph: Graph, shapes: list[tuple[int, ...]],
                   dtypes: list[str], vocabs: list[int | None],
                   values: dict[str, Any]) -> Graph:
    """The block's nodes as a graph of their own for one instance: `$params` filled in,
    each Input given the shape (and dtype) of the edge that feeds it."""
    inputs = spec.input_ids()
    feeds = {nid: i for i, nid in enumerate(inputs)}
    nodes = []
    for node in spec.block.nodes:
        params = {k: _fill(v, values, spec.name, node.id, k) for k, v in node.params.items()}
        if node.type == "Input" and node.id in feeds:
            i = feeds[node.id]
            given = params.get("shape")
            if given is not None and tuple(given) != tuple(shapes[i]):
                raise BlockError(f"its Input {node.id!r} is declared {list(given)} but the "
                                 f"instance feeds it {list(shapes[i])}")
            params["shape"] = list(shapes[i])
            if dtypes[i] == "long":
                params["dtype"] = "long"
                if vocabs[i] is not None and "vocab" not in params:
                    params["vocab"] = vocabs[i]
        nodes.append(node.model_copy(update={"params": params}))
    return Graph.model_construct(
        version=1, name=spec.name, nodes=nodes, inputs=inputs, output=spec.block.output,
        loss=None, optimizer=None, scheduler=None, data=None, training=None, init=None,
        blocks=graph.blocks, ui=None)


def _fill(value: Any, values: dict[str, Any], block: str, node: str, param: str) -> Any:
    if isinstance(value, str) and value.startswith("$") and len(value) > 1:
        name = value[1:]
        if name not in values:
            raise BlockError(f"{node}.{param} reads ${name}, which block {block} does not "
                             f"declare in its params")
        return values[name]
    return value


def count_nodes(graph: Any) -> int:
    """Nodes for the node limit: each block's nodes once per definition."""
    def size(items: Any) -> int:
        return len(items) if isinstance(items, list) else 0

    if isinstance(graph, dict):
        blocks = graph.get("blocks")
        inner = (sum(size(b.get("nodes")) for b in blocks.values() if isinstance(b, dict))
                 if isinstance(blocks, dict) else 0)
        return size(graph.get("nodes")) + inner
    inner = sum(len(b.nodes) for b in (graph.blocks or {}).values())
    return len(graph.nodes) + inner
