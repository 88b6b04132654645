"""Compiler: a valid graph becomes a real `torch.nn.Module`.

Submodules are registered in the graph's topological order (ties broken by the
order of `nodes`) under the same readable names the exporter writes, so the
compiled module and the exported class have identical `state_dict`s and, from
the same seed, identical initial weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from server.graph import Graph
from server.naming import node_names
from server.validation import Analysis, InvalidGraph, Limits, require_valid

__all__ = ["GraphModule", "InvalidGraph", "compile_graph", "compile_analysis"]


class GraphModule(nn.Module):
    """Runs the graph's nodes in topological order."""

    def __init__(self, analysis: Analysis):
        super().__init__()
        names = node_names(analysis.order)
        self.node_attrs: dict[str, str] = {}
        # (node id, attr or None, function or None, input ids, params)
        self._steps: list[tuple[str, str | None, Any, list[str], dict[str, Any]]] = []
        self.input_id = analysis.input_id
        self.output_id = analysis.output_id
        self.input_shape = analysis.shapes[analysis.input_id]
        self.output_shape = analysis.shapes[analysis.output_id]
        for node, spec, params in analysis.layers():
            nid = node.id
            module = spec.build(params)
            attr = None
            if module is not None:
                attr = names[nid]
                self.add_module(attr, module)
                self.node_attrs[nid] = attr
            self._steps.append((nid, attr, spec.function, list(node.inputs), params))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)[self.output_id]

    def forward_all(self, x: torch.Tensor, keep_grad: bool = False) -> dict[str, torch.Tensor]:
        """Every node's output by node id (the X-ray reads them); with `keep_grad`, each
        keeps its `.grad` after a backward pass."""
        values = {self.input_id: x}
        for nid, attr, function, inputs, params in self._steps:
            args = [values[i] for i in inputs]
            if attr is not None:
                values[nid] = getattr(self, attr)(*args)
            else:
                values[nid] = function(args, params)
            if keep_grad and values[nid].requires_grad:
                values[nid].retain_grad()
        return values


def compile_graph(graph: Graph | dict, seed: int | None = None,
                  limits: Limits | None = None) -> GraphModule:
    """Build the module for a graph; raises `InvalidGraph` when it is not valid."""
    return compile_analysis(require_valid(graph, limits), seed)


def compile_analysis(analysis: Analysis, seed: int | None = None) -> GraphModule:
    if seed is not None:
        torch.manual_seed(seed)
    return GraphModule(analysis)
