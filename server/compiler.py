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

from server.blocks import BlockSpec
from server.graph import Graph
from server.nesting import attr_names, construction_order, layer_at, module_tree
from server.ports import ref
from server.validation import Analysis, InvalidGraph, Limits, require_valid

__all__ = ["GraphModule", "InvalidGraph", "compile_graph", "compile_analysis"]


class GraphModule(nn.Module):
    """Runs the graph's nodes in topological order."""

    def __init__(self, analysis: Analysis):
        super().__init__()
        names = attr_names(analysis.graph, analysis.order)
        self.node_attrs: dict[str, str] = {}
        # (node id, attr or None, function or None, input (id, port) keys, params, ports)
        self._steps: list[tuple[str, str | None, Any, list, dict[str, Any], int]] = []
        self.input_id = analysis.input_id
        self.output_id = analysis.output_id
        self.input_ids = list(analysis.input_ids)
        self.outputs = list(analysis.outputs)
        self.output_tuple = analysis.output_tuple
        self.input_shape = analysis.shapes[analysis.input_id]
        self.output_shape = analysis.shapes[analysis.output_id]
        layers = {node.id: (node, spec, params) for node, spec, params in analysis.layers()}
        owners = {nid for nid, (node, spec, _) in layers.items() if node.shares is None
                  and (node.type == "Parameter" or spec.module is not None
                       or spec.builder is not None)}
        # Built containers-first, as the exported __init__ builds them: same seed, same weights.
        built = set()
        for nid in construction_order(module_tree(analysis.order, names, owners)):
            node, spec, params = layers[nid]
            if node.type == "Parameter":
                self.register_parameter(names[nid], nn.Parameter(_initial(params)))
                built.add(nid)
                continue
            module = (GraphModule(analysis.sub[nid]) if isinstance(spec, BlockSpec)
                      else spec.build(params))
            if module is not None:
                self._place(names[nid], module)
                built.add(nid)
        for node, spec, params in analysis.layers():
            nid = node.id
            ports = len(analysis.out_shapes[nid]) if nid in analysis.multi else 0
            inputs = [ref(i) for i in node.inputs]
            if node.shares is not None:  # the same module, called again: no new weights
                attr = names[node.shares]
                self.node_attrs[nid] = attr
                self._steps.append((nid, attr, None, inputs, params, ports))
                continue
            attr = names[nid] if nid in built else None
            if attr is not None:
                self.node_attrs[nid] = attr
            function = _PARAMETER if node.type == "Parameter" else spec.function
            self._steps.append((nid, attr, function, inputs if function is not _PARAMETER
                                else [], params, ports))

    def _place(self, path: str, module: nn.Module) -> None:
        """Register `module` at a dotted path, making nn.Sequential containers on the way."""
        *containers, last = path.split(".")
        parent: nn.Module = self
        for name in containers:
            if name not in parent._modules:
                parent.add_module(name, nn.Sequential())
            parent = parent._modules[name]
        parent.add_module(last, module)

    def forward(self, *xs: torch.Tensor) -> Any:
        values = self._run(xs)
        if self.output_tuple:
            return tuple(values[o] for o in self.outputs)
        return values[self.outputs[0]]

    def forward_all(self, *xs: torch.Tensor, keep_grad: bool = False) -> dict[str, torch.Tensor]:
        """Every node's (first) output by node id, as the X-ray reads them; with
        `keep_grad`, each keeps its `.grad` after a backward pass."""
        values = self._run(xs, keep_grad)
        return {nid: value for (nid, port), value in values.items() if port == 0}

    def _run(self, xs: tuple, keep_grad: bool = False) -> dict[tuple[str, int], torch.Tensor]:
        if len(xs) != len(self.input_ids):
            raise TypeError(f"the model takes {len(self.input_ids)} input(s), got {len(xs)}")
        values = {(nid, 0): x for nid, x in zip(self.input_ids, xs, strict=True)}
        for nid, attr, function, inputs, params, ports in self._steps:
            args = [values[i] for i in inputs]
            if function is _PARAMETER:  # the learned tensor, expanded over the batch
                tensor = layer_at(self, attr)
                out = tensor.expand(xs[0].size(0), *[-1] * (tensor.dim() - 1))
            elif attr is not None:
                out = layer_at(self, attr)(*args)
            else:
                out = function(args, params)
            if ports:  # several outputs: one value per port
                for port, value in enumerate(out):
                    values[(nid, port)] = value
            else:
                values[(nid, 0)] = out
            if keep_grad:
                for key in [(nid, p) for p in range(max(ports, 1))]:
                    if values[key].requires_grad:
                        values[key].retain_grad()
        return values


_PARAMETER = object()  # marks a Parameter node's step


def _initial(params: dict[str, Any]) -> torch.Tensor:
    """A Parameter node's tensor: a leading 1 for the batch, then its shape."""
    return getattr(torch, params["init"])(1, *params["shape"])


def compile_graph(graph: Graph | dict, seed: int | None = None,
                  limits: Limits | None = None) -> GraphModule:
    """Build the module for a graph; raises `InvalidGraph` when it is not valid."""
    return compile_analysis(require_valid(graph, limits), seed)


def compile_analysis(analysis: Analysis, seed: int | None = None) -> GraphModule:
    if seed is not None:
        torch.manual_seed(seed)
    return GraphModule(analysis)
