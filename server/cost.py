"""Cost of a graph, per node and in total: FLOPs and MACs for one sample, activation
memory for the batch, and the training-memory estimate, cheap enough for every edit.

FLOPs are `torch.utils.flop_counter.FlopCounterMode`'s count (not a hand count),
taken node by node as the compiled module runs: one counter for the whole pass,
read before and after each node (`GraphModule.forward_ports(around=...)`), so
layers, functions (Add, MatMul, attention) and shared layers each get their own
number and the nodes add up to the module's total. MACs are half the FLOPs: the
counter counts matrix products and convolutions, two FLOPs per multiply-add.

The module is built and run on the meta device (shapes only, no weights, no
arithmetic), so a 2000-node graph costs milliseconds of Python, not gigabytes;
answers are cached by the graph's content without its positions.

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
    from server.compiler import compile_analysis

    analysis = require_valid(json.loads(key))
    with torch.device("meta"):
        model = compile_analysis(analysis)
    model.eval()
    flops, total = node_flops(model, sample_inputs(model, analysis))
    memory = estimate_training_memory(analysis)
    batch = memory.batch_size
    per_weight = (2 + optimizer_state_tensors(analysis.graph.optimizer)) * BYTES_PER_VALUE
    values = activation_values(analysis.shapes)
    nodes = {}
    for nid in analysis.order:
        params = analysis.validation.nodes[nid].params
        activation = values[nid] * batch * BYTES_PER_VALUE
        f = flops.get(nid, 0)
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
