"""What each step of a traced `forward` computes, found without computing anything.

Shapes read inside `forward` (`n, c, h, w = x.shape`, `x.size(0)`,
`channels // groups`) are plain Python values in the traced graph, and a
`x.view(batch, groups, c, h, w)` is only mappable once they are known. This
runs the graph twice under PyTorch's fake tensors (shapes only, no arithmetic,
real weights untouched), with batch sizes 2 and 3: a value that differs between
the two runs came from the batch size, so the importer can tell the batch
dimension of a `view` from a fixed size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.fx as fx

from .inputs import InputSpec

BATCHES = (2, 3)
_DTYPES = {"float": torch.float32, "long": torch.long}


@dataclass(frozen=True)
class TensorValue:
    """A tensor's shape without the batch (the graph's convention)."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class Values:
    """Each fx node's value: `TensorValue`, a Python value, or a tuple of those."""

    first: dict[str, Any]
    second: dict[str, Any]

    def of(self, n: fx.Node) -> Any:
        return self.first.get(n.name)

    def batch_dependent(self, n: fx.Node) -> bool:
        return self.first.get(n.name) != self.second.get(n.name)

    def is_tensor(self, n: fx.Node) -> bool:
        return isinstance(self.first.get(n.name), TensorValue)


def evaluate(gm: fx.GraphModule, inputs: list[list[int]] | list[InputSpec]) -> Values | None:
    """The values of every node, or None when fake tensors cannot run this model.

    `inputs`: one shape or spec per forward argument (token ids for a long one)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    specs = [s if isinstance(s, InputSpec) else InputSpec(tuple(s)) for s in inputs]
    runs = []
    for batch in BATCHES:
        seen: dict[str, Any] = {}
        recorder = _Recorder(gm, seen, batch)
        try:
            with FakeTensorMode(allow_non_fake_inputs=True):
                recorder.run(*(torch.zeros(batch, *s.shape, dtype=_DTYPES[s.dtype or "float"])
                               for s in specs))
        except Exception:  # data-dependent code; the importer then reports what it needs
            return None
        runs.append(seen)
    return Values(*runs)


class _Recorder(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule, seen: dict[str, Any], batch: int):
        super().__init__(gm)
        self.seen = seen
        self.batch = batch

    def run_node(self, n: fx.Node) -> Any:
        out = super().run_node(n)
        self.seen[n.name] = _plain(out, self.batch)
        return out


def _plain(value: Any, batch: int) -> Any:
    if isinstance(value, torch.Tensor):
        shape = tuple(value.shape)
        # A tensor without the batch in front (a parameter read with get_attr) keeps it all.
        return TensorValue(shape[1:] if shape[:1] == (batch,) else (None, *shape))
    if isinstance(value, torch.Size):
        return tuple(int(v) for v in value)
    if isinstance(value, tuple | list):
        return tuple(_plain(v, batch) for v in value)
    if isinstance(value, int | float | bool | str | type(None) | slice):
        return value
    return repr(type(value))
