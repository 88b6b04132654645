"""Helpers shared by the core tests: tiny graph builders and running exported code.

`exported_class` executes a `module` export in a fresh namespace (not as
`__main__`, so its smoke test does not run) and returns the class it defines.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from server.export import export_code


def node(id: str, type: str, inputs: list[str] | None = None, **params: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "params": params, "inputs": inputs or []}


def graph(nodes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"version": 1, "nodes": nodes, **extra}


def chain(shape: list[int], *layers: tuple[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Input -> layers[0] -> layers[1] ...; node ids are x, n1, n2, ..."""
    nodes = [node("x", "Input", shape=shape)]
    for i, (type_, params) in enumerate(layers, start=1):
        nodes.append(node(f"n{i}", type_, [nodes[-1]["id"]], **params))
    return graph(nodes, **extra)


def exported_class(source: str) -> type[nn.Module]:
    """The model class a `module` export defines: the last one (block classes come first)."""
    namespace: dict[str, Any] = {"__name__": "torchcanvas_export"}
    exec(compile(source, "<export>", "exec"), namespace)
    classes = [v for v in namespace.values() if isinstance(v, type)
               and issubclass(v, nn.Module) and v.__module__ == "torchcanvas_export"]
    assert classes, "the export defines no nn.Module"
    return classes[-1]


def export_class(g: dict[str, Any]) -> type[nn.Module]:
    return exported_class(export_code(g, "module"))


def shapes_of(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def randn(batch: int, shape: tuple[int, ...] | list[int], seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, *shape, generator=torch.Generator().manual_seed(seed))
