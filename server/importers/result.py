"""What an import gives back: a graph v1 dict, its weights, and what could not be mapped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unmapped:
    """One operation of the source model with no catalogue node: what, and where."""

    op: str  # e.g. "call_function torch.roll" or "ONNX Einsum"
    node: str  # the source graph's name for it
    where: str = ""  # "model.py:42" when the source line is known
    reason: str = ""

    def __str__(self) -> str:
        at = f" at {self.where}" if self.where else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.op} ({self.node}){at}{why}"


@dataclass
class ImportResult:
    """`graph` is a graph v1 dict; `state_dict` its weights under the graph's own keys."""

    graph: dict[str, Any]
    state_dict: dict[str, Any] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    # graph state_dict key -> the source model's key ("layer1_0_conv1.weight" ->
    # "layer1.0.conv1.weight"), so any checkpoint of the original can be renamed.
    original_keys: dict[str, str] = field(default_factory=dict)
    # The validator's report on `graph` (made while checking it), so a caller that
    # shows the graph need not validate it again.
    validation: Any = None


class ImportFailed(ValueError):
    """The source cannot be imported as asked; `unmapped` lists each operation at fault."""

    def __init__(self, message: str, unmapped: list[Unmapped] | None = None):
        self.unmapped = unmapped or []
        lines = [message] + [f"  - {u}" for u in self.unmapped]
        super().__init__("\n".join(lines))


def assemble(name: str, nodes: list[dict[str, Any]], output: str | None,
             unmapped: list[Unmapped], partial: bool, what: str,
             hint: str = "", blocks: dict[str, Any] | None = None
             ) -> tuple[dict[str, Any], dict[str, str] | None, Any]:
    """The graph of mapped nodes, each node's attribute name (None for a partial graph)
    and the validator's analysis of it (None for a partial graph; its `validation` is
    the report a page shows).

    Raises ImportFailed when something did not map (unless `partial`) or when the
    mapped graph is not valid; `what` names the operations ("ONNX operation(s)").
    """
    from server.nesting import attr_names
    from server.validation import analyze_graph

    if unmapped and not partial:
        raise ImportFailed(f"{len(unmapped)} {what} have no torchcanvas node "
                           f"(use --partial to keep what maps)", unmapped)
    graph: dict[str, Any] = {"version": 1, "name": name, "nodes": nodes}
    if blocks:
        graph["blocks"] = blocks
    if output is not None:
        graph["output"] = output
    if unmapped:
        # Kept for the user to finish on the canvas: `ui` is the format's free-form place.
        graph["ui"] = {"import": {"unmapped": [str(u) for u in unmapped]}}
        return graph, None, None
    analysis = analyze_graph(graph)
    if not analysis.valid:
        errors = analysis.validation.all_errors()
        raise ImportFailed(f"the imported graph is not valid{hint}:\n"
                           + "\n".join(f"  {e.node or 'graph'}: {e.message}" for e in errors))
    # each node's attribute path, as the compiler names it (a node `name` may nest it)
    return graph, attr_names(analysis.graph, analysis.order), analysis
