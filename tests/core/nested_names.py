"""Nested `state_dict` keys (`main.0.weight`) for reference graphs, with or without node names.

The originals keep layers in containers (`self.main = nn.Sequential(...)`), so
their keys are dotted. A graph node named `"main.0"` reproduces that nesting
where graph format v1 has the optional node `name` field; until then the node
id `"main.0"` becomes the flat attribute `main_0` and `graph_state` maps the
original's keys onto those flat names. The mapping lives in the tests only and
goes away by itself once nodes can be named.
"""

from __future__ import annotations

from typing import Any

import torch

from server.graph import Node

NAMES = "name" in Node.model_fields


def named(n: dict[str, Any]) -> dict[str, Any]:
    """The node, named after its id when the format has names and the id is dotted."""
    if NAMES and "." in n["id"]:
        return {**n, "name": n["id"]}
    return n


def graph_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The original's `state_dict` as the exported graph's keys: unchanged with node names,
    `main.0.weight` -> `main_0.weight` without."""
    if NAMES:
        return dict(state)
    flat = {}
    for key, value in state.items():
        path, leaf = key.rsplit(".", 1)
        flat[f"{path.replace('.', '_')}.{leaf}"] = value
    return flat
