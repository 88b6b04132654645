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


class ImportFailed(ValueError):
    """The source cannot be imported as asked; `unmapped` lists each operation at fault."""

    def __init__(self, message: str, unmapped: list[Unmapped] | None = None):
        self.unmapped = unmapped or []
        lines = [message] + [f"  - {u}" for u in self.unmapped]
        super().__init__("\n".join(lines))
