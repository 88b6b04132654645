"""Tensor calls of a traced `forward` that need more than an argument table.

`x.view(n, groups, c // groups, h, w)`, `x.permute(0, 2, 1)`, `x.chunk(2, dim=1)`,
`x[:, 0]`, `scale * x`, `self.class_token.expand(n, -1, -1)`: each becomes one
catalogue node (Reshape, Permute, Chunk, Select, Mul or Scale, the Parameter
node itself) once the values of its shape arguments are known (see
`values.py`). Every dimension argument must leave the batch alone (dim 0 stays
first and is never cut or moved); a call that does not is reported, never
imported as something else.

Each handler takes the builder and the fx node and returns nothing: it adds a
node, aliases the node to an existing one, or reports it as unmapped.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.fx as fx

from .functions import describe


class NotConstant(Exception):
    """An argument that should be a number is a tensor, or cannot be evaluated."""


def _dims(args: tuple) -> list[Any]:
    """`x.view(a, b)` and `x.view((a, b))` alike."""
    if len(args) == 1 and isinstance(args[0], list | tuple):
        return list(args[0])
    return list(args)


def reshape(b: Any, n: fx.Node) -> None:
    x, raw = n.args[0], _dims(n.args[1:] or n.kwargs.get("shape", ()))
    if not raw or not b.batch_first(raw[0]):
        b.miss(n, "the first size is not the batch (x.size(0)): the batch must stay")
        return
    rest = [b.constant(a) for a in raw[1:]]
    if any(b.batchy(a) for a in raw[1:]) or not all(isinstance(v, int) for v in rest):
        b.miss(n, f"sizes {rest} after the batch are not fixed numbers")
        return
    if rest == [-1]:
        b.add(n, "Flatten", {}, [x])
    else:
        b.add(n, "Reshape", {"shape": rest}, [x])


def permute(b: Any, n: fx.Node) -> None:
    dims = [b.constant(a) for a in _dims(n.args[1:] or n.kwargs.get("dims", ()))]
    rank = len(dims)
    dims = [d % rank if isinstance(d, int) else d for d in dims]
    if not dims or dims[0] != 0:
        b.miss(n, f"permute{tuple(dims)} moves the batch dimension")
        return
    b.add(n, "Permute", {"dims": dims[1:]}, [n.args[0]])


def transpose(b: Any, n: fx.Node) -> None:
    a, c = (b.constant(v) for v in n.args[1:3])
    if 0 in (a, c):
        b.miss(n, f"transpose({a}, {c}) moves the batch dimension")
        return
    params = {"dim0": a, "dim1": c}
    b.add(n, "Transpose", params, [n.args[0]])


def chunk(b: Any, n: fx.Node) -> None:
    args = dict(zip(("input", "chunks", "dim"), n.args, strict=False)) | dict(n.kwargs)
    chunks, dim = b.constant(args["chunks"]), b.constant(args.get("dim", 0))
    if dim == 0:
        b.miss(n, "chunk along dim 0 cuts the batch")
        return
    b.add(n, "Chunk", {"chunks": chunks, "dim": dim}, [args["input"]], ports=True)


def mean(b: Any, n: fx.Node) -> None:
    args = dict(zip(("input", "dim", "keepdim"), n.args, strict=False)) | dict(n.kwargs)
    if set(args) - {"input", "dim", "keepdim"} or "dim" not in args:
        b.miss(n, "only mean over given dims (x.mean(dim=...)) is a catalogue node")
        return
    dim = b.constant(args["dim"])
    dims = list(dim) if isinstance(dim, list | tuple) else [dim]
    if 0 in dims:
        b.miss(n, "a mean over the batch")
        return
    params = {"dim": dims if len(dims) > 1 else dims[0]}
    if b.constant(args.get("keepdim", False)):
        params["keepdim"] = True
    b.add(n, "Mean", params, [args["input"]])


def multiply(b: Any, n: fx.Node) -> None:
    left, right = n.args[:2]
    if b.is_tensor(left) and b.is_tensor(right):
        b.add(n, "Mul", {}, [left, right])
        return
    tensor, factor = (left, right) if b.is_tensor(left) else (right, left)
    value = b.constant(factor)
    if not isinstance(value, int | float) or isinstance(value, bool):
        b.miss(n, f"a product with {value!r}")
        return
    b.add(n, "Scale", {"factor": float(value)}, [tensor])


def getitem(b: Any, n: fx.Node) -> None:
    source, index = n.args
    if source in b.ports:  # a, b = x.chunk(2, dim=1)
        b.alias(n, {"node": b.ports[source], "port": b.constant(index)})
        return
    if source in b.first_only:  # attention's (output, weights): only the output exists
        if index == 0:
            b.alias(n, b.ids[source])
        elif n.users:  # `x, _ = attn(...)` reads the weights it then drops: fine
            b.miss(n, f"output {index} of {b.first_only[source]} (only output 0 is a node)")
        return
    index = index if isinstance(index, tuple) else (index,)
    picks = [(d, i) for d, i in enumerate(index) if not _whole(i)]
    if len(picks) == 1 and picks[0][0] > 0 and isinstance(picks[0][1], int) \
            and all(i is Ellipsis or _whole(i) for i in index[:picks[0][0]]) \
            and Ellipsis not in index:
        d, i = picks[0]
        b.add(n, "Select", {"dim": d, "index": i}, [source])
        return
    b.miss(n, f"indexing with {index!r} (only x[:, i] and friends are catalogue nodes)")


def _whole(i: Any) -> bool:
    return isinstance(i, slice) and i == slice(None, None, None)


def expand(b: Any, n: fx.Node) -> None:
    source, sizes = n.args[0], _dims(n.args[1:])
    if b.node_type(source) == "Parameter" and sizes and b.batch_first(sizes[0]) \
            and all(b.constant(s) == -1 for s in sizes[1:]):
        b.alias(n, b.ids[source])  # a Parameter node is already expanded over the batch
        return
    b.miss(n, "expand of anything but a Parameter over the batch")


def same(b: Any, n: fx.Node) -> None:
    """`x.contiguous()` changes memory layout only."""
    b.alias(n, b.ids[n.args[0]])


HANDLERS: dict[Any, Callable[[Any, fx.Node], None]] = {
    "view": reshape, "reshape": reshape, torch.reshape: reshape,
    "permute": permute, torch.permute: permute,
    "transpose": transpose, torch.transpose: transpose,
    "chunk": chunk, torch.chunk: chunk,
    "mean": mean, torch.mean: mean,
    operator.mul: multiply, operator.imul: multiply, torch.mul: multiply, "mul": multiply,
    operator.getitem: getitem,
    "expand": expand,
    "contiguous": same,
}

# Calls whose result is a plain number when their arguments are (shapes read in forward).
NUMERIC = {operator.getitem, operator.floordiv, operator.mul, operator.add, operator.sub,
           operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
           operator.truediv, operator.mod, operator.neg, operator.and_, operator.or_,
           operator.not_, torch._assert, len, int}


def reads_shape(n: fx.Node) -> bool:
    """`x.size()`, `x.size(0)`, `x.dim()`, `x.shape`, `x.ndim`: a number, never a node."""
    if n.op == "call_method" and n.target in ("size", "dim"):
        return True
    return (n.op == "call_function" and n.target is getattr
            and len(n.args) == 2 and n.args[1] in ("shape", "ndim"))


def label(n: fx.Node) -> str:
    return f"{n.op} {describe(n.target)}"
