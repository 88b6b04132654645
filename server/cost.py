"""Cost of a graph, per node and in total: FLOPs and MACs for one sample, activation
memory for the batch, and the training-memory estimate, cheap enough for every edit.

FLOPs are `torch.utils.flop_counter.FlopCounterMode`'s count (not a hand count).
`node_flops` counts a real forward pass node by node (one counter, read before and
after each node through `GraphModule.forward_ports(around=...)`); the X-ray uses it.
`graph_cost`, asked after every edit, counts each node alone, called as the
compiled module calls it (its module, its original's when it shares one, or its
function) on meta tensors of its inputs' inferred shapes: FLOPs depend on shapes
only, so the numbers are the whole module's (the tests check it), no weights are
allocated, and each layer configuration is counted once and remembered, so a deep
network of repeated blocks, or an edit of one layer, costs a few counts. Whole
answers are cached by the graph's content without its positions. MACs are half
the FLOPs: the counter counts matrix products and convolutions, two FLOPs per
multiply-add.

Memory per node follows `server.memory`'s estimate term by term (its weights, their
gradients and optimizer state; its output for the batch kept for backward, and that
output's gradient), so the nodes' training memory adds up to the graph's total.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from server.memory import (
    BYTES_PER_VALUE,
    activation_values,
    estimate_training_memory,
    human_bytes,
    optimizer_state_tensors,
)
from server.ports import ref
from server.validation import require_valid

DTYPES = {"float": torch.float32, "long": torch.long}


def node_flops(model: Any, xs: tuple[torch.Tensor, ...]) -> tuple[dict[str, int], int]:
    """FLOPs of each node for inputs `xs`, and FlopCounterMode's total for the pass."""
    counter = FlopCounterMode(display=False)
    flops: dict[str, int] = {}

    @contextlib.contextmanager
    def around(nid: str) -> Iterator[None]:
        before = counter.get_total_flops()
        yield
        flops[nid] = flops.get(nid, 0) + int(counter.get_total_flops() - before)

    with torch.no_grad(), counter:
        model.forward_ports(*xs, around=around)
    return flops, int(counter.get_total_flops())


def sample_inputs(model: Any, analysis: Any, device: str = "meta") -> tuple[torch.Tensor, ...]:
    """One sample per graph input (batch of 1), of the input's shape and dtype."""
    return tuple(torch.zeros(1, *analysis.shapes[iid],
                             dtype=DTYPES.get(analysis.dtypes.get(iid, "float"), torch.float32),
                             device=device)
                 for iid in model.input_ids)


def graph_cost(graph: Any) -> dict[str, Any]:
    """The cost report of a valid graph (`InvalidGraph` otherwise)."""
    key = json.dumps(_without_positions(graph), sort_keys=True)
    return _cached(key)


@lru_cache(maxsize=32)
def _cached(key: str) -> dict[str, Any]:
    analysis = require_valid(json.loads(key))
    flops = {nid: 0 for nid in analysis.order}
    for node, spec, params in analysis.layers():
        flops[node.id] = layer_flops(node, spec, params, analysis)
    total = sum(flops.values())
    memory = estimate_training_memory(analysis)
    batch = memory.batch_size
    per_weight = (2 + optimizer_state_tensors(analysis.graph.optimizer)) * BYTES_PER_VALUE
    values = activation_values(analysis.shapes)
    nodes = {}
    for nid in analysis.order:
        params = analysis.validation.nodes[nid].params
        activation = values[nid] * batch * BYTES_PER_VALUE
        f = flops[nid]
        nodes[nid] = {"flops": f, "macs": f // 2, "params": params,
                      "activation_bytes": activation,
                      "training_bytes": params * per_weight + 2 * activation}
    return {
        "nodes": nodes,
        "total_flops": total,
        "total_macs": total // 2,
        "batch_size": batch,
        "memory": memory.as_dict() | {"total_human": human_bytes(memory.total)},
    }


# One layer configuration (type, params, input shapes and dtypes) -> its FLOPs for one
# sample. A deep network repeats a few blocks: editing one layer re-counts one layer.
_LAYER_FLOPS: dict[str, int] = {}
MAX_LAYER_CACHE = 4096


def layer_flops(node: Any, spec: Any, params: dict[str, Any], analysis: Any) -> int:
    """FlopCounterMode's count for one node called as the compiled module calls it: its
    own module (or its original's, when it shares one) or its function, on the meta device."""
    if node.type == "Parameter":  # a learned tensor, expanded: no arithmetic
        return 0
    sub = analysis.sub.get(node.shares or node.id)
    if sub is not None:  # a block instance: what its layers count, with its input shapes
        return sum(layer_flops(n, s, p, sub) for n, s, p in sub.layers())
    if node.shares is not None:
        original = next(n for n in analysis.graph.nodes if n.id == node.shares)
        spec, params = analysis.specs[original.type], analysis.resolved[node.shares]
    keys = [ref(i) for i in node.inputs]
    shapes = [list(analysis.shape_of(k)) for k in keys]
    dtypes = [analysis.dtypes.get(k[0], "float") for k in keys]
    key = json.dumps([spec.type, params, shapes, dtypes], sort_keys=True, default=repr)
    if key not in _LAYER_FLOPS:
        if len(_LAYER_FLOPS) >= MAX_LAYER_CACHE:
            _LAYER_FLOPS.clear()
        try:
            _LAYER_FLOPS[key] = _count(spec, params, shapes, dtypes, "meta")
        except (NotImplementedError, RuntimeError):  # a layer the meta device cannot run
            _LAYER_FLOPS[key] = _count(spec, params, shapes, dtypes, "cpu")
    return _LAYER_FLOPS[key]


def _count(spec: Any, params: dict[str, Any], shapes: list[list[int]], dtypes: list[str],
           device: str) -> int:
    with torch.device(device):
        module = spec.build(params)
    args = [torch.zeros(1, *shape, dtype=DTYPES.get(d, torch.float32), device=device)
            for shape, d in zip(shapes, dtypes, strict=True)]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        if module is not None:
            module.eval()(*args)
        else:
            spec.function(args, params)
    return int(counter.get_total_flops())


def _without_positions(graph: Any) -> dict[str, Any]:
    """The graph as JSON minus `ui` (moving a node does not change its cost)."""
    data = graph.model_dump(mode="json", exclude_none=True) if hasattr(graph, "model_dump") \
        else json.loads(json.dumps(graph))
    data.pop("ui", None)
    for kind in ("loss", "optimizer", "scheduler"):
        if isinstance(data.get(kind), dict):
            data[kind].pop("ui", None)
    for node in data.get("nodes") or []:
        if isinstance(node, dict):
            node.pop("ui", None)
    return data
