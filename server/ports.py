"""Port references: which output of which node an edge or the graph's output reads.

Graph format v1 lets an edge be a node id (port 0) or `{"node": id, "port": n}`;
ids may contain any character, so references are never parsed out of strings.
Everything past parsing works with `(node id, port)` pairs from `ref`.
"""

from __future__ import annotations

from typing import Any

Key = tuple[str, int]


def ref(item: Any) -> Key:
    """`(node id, port)` for a node id string or a PortRef."""
    if isinstance(item, str):
        return item, 0
    return item.node, item.port


def source(item: Any) -> str:
    """The node id a reference reads from."""
    return ref(item)[0]


def output_refs(output: Any) -> list[Key] | None:
    """The graph's outputs as keys; None when `output` is unset."""
    if output is None:
        return None
    if isinstance(output, list):
        return [ref(o) for o in output]
    return [ref(output)]


def show(key: Key) -> str:
    """How a reference reads in messages: 'split' or 'split' port 1."""
    nid, port = key
    return repr(nid) if port == 0 else f"{nid!r} port {port}"
