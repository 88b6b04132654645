"""Tensor operations as nodes, each exported as the one line a person writes.

`Mul` is `a * b`, `Select` is `x[:, -1]`, `Mean` is `x.mean(dim=1)`. None has
weights. Dimension params (`dim`, `dims`, `dim0`...) count the batch, exactly as
in PyTorch and as Flatten, Concat and Softmax do here: dim 1 is the first
dimension after the batch, -1 the last; the batch itself (0) is refused.
Element-wise ops on two tensors need the same rank; each size must match or be 1
(PyTorch's broadcasting, never across the batch).
"""

from __future__ import annotations

import torch

from .layers import LayerSpec, _same
from .params import Param
from .shapes import Shape, ShapeError, fmt, full_dim

UNARY = ("exp", "log", "sqrt", "rsqrt", "abs", "neg", "square", "sin", "cos", "sigmoid",
         "tanh", "relu", "log1p", "expm1", "reciprocal")


def _broadcast(what: str):
    def rule(shapes: list[Shape], p: dict) -> Shape:
        first = shapes[0]
        out = list(first)
        for i, s in enumerate(shapes[1:], start=2):
            if len(s) != len(first):
                raise ShapeError(f"{what} needs inputs of the same rank: input 1 is {fmt(first)},"
                                 f" input {i} is {fmt(s)}")
            for d, (a, b) in enumerate(zip(out, s, strict=True)):
                if a != b and 1 not in (a, b):
                    raise ShapeError(f"{what}: sizes must match or be 1 in every dimension; "
                                     f"input 1 is {fmt(first)}, input {i} is {fmt(s)} "
                                     f"(dim {d + 1})")
                out[d] = max(a, b)
        return tuple(out)
    return rule


def _matmul(shapes: list[Shape], p: dict) -> Shape:
    a, b = shapes
    if len(a) < 2 or len(b) < 2 or len(a) != len(b):
        raise ShapeError(f"MatMul multiplies matrices per sample: both inputs need the same "
                         f"rank, at least (N, n, k) @ (N, k, m); got {fmt(a)} and {fmt(b)}")
    if a[-1] != b[-2]:
        raise ShapeError(f"MatMul needs the last size of input 1 ({a[-1]}) to equal the "
                         f"second-to-last of input 2 ({b[-2]}): {fmt(a)} @ {fmt(b)}")
    batch = _broadcast("MatMul")([a[:-2], b[:-2]], p) if len(a) > 2 else ()
    return (*batch, a[-2], b[-1])


def _dims(p: dict, rank: int, name: str = "dim") -> list[int]:
    given = p[name]
    dims = [full_dim(d, rank, name) for d in ((given,) if isinstance(given, int) else given)]
    if len(set(dims)) != len(dims):
        raise ShapeError(f"{name} names a dimension twice", name)
    return dims


def _reduce(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    dims = _dims(p, len(s))
    if p["keepdim"]:
        return tuple(1 if i + 1 in dims else n for i, n in enumerate(s))
    return tuple(n for i, n in enumerate(s) if i + 1 not in dims)


def _permute(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    dims = _dims(p, len(s), "dims")
    if sorted(dims) != list(range(1, len(s) + 1)):
        raise ShapeError(f"dims must order every dimension after the batch of {fmt(s)} once, "
                         f"e.g. {list(range(len(s), 0, -1))}; got {list(p['dims'])}", "dims")
    return tuple(s[d - 1] for d in dims)


def _transpose(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    a, b = full_dim(p["dim0"], len(s), "dim0") - 1, full_dim(p["dim1"], len(s), "dim1") - 1
    out = list(s)
    out[a], out[b] = s[b], s[a]
    return tuple(out)


def _squeeze(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    d = full_dim(p["dim"], len(s)) - 1
    if s[d] != 1:
        # PyTorch silently leaves the tensor alone: almost certainly not what was meant.
        raise ShapeError(f"dim {p['dim']} of {fmt(s)} has size {s[d]}, not 1; Squeeze "
                         f"removes only a dimension of size 1", "dim")
    return s[:d] + s[d + 1:]


def _unsqueeze(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    d = full_dim(p["dim"], len(s) + 1) - 1
    return (*s[:d], 1, *s[d:])


def _select(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    d = full_dim(p["dim"], len(s)) - 1
    if not -s[d] <= p["index"] < s[d]:
        raise ShapeError(f"index {p['index']} is out of range for dim {p['dim']} of {fmt(s)} "
                         f"(size {s[d]}; -1 is the last)", "index")
    return s[:d] + s[d + 1:]


def _select_source(v: list[str], p: dict) -> str:
    """`x[:, -1]` for dim 1, `x[..., 0]` for dim -1: the indexing people write."""
    d, i = p["dim"], p["index"]
    if d > 0:
        return f"{v[0]}[{':, ' * d}{i}]"
    return f"{v[0]}[..., {i}{', :' * (-d - 1)}]"


def _reduce_source(op: str):
    def source(v: list[str], p: dict) -> str:
        dim = p["dim"]
        keep = ", keepdim=True" if p["keepdim"] else ""
        return f"{v[0]}.{op}(dim={dim!r}{keep})"
    return source


def _product(xs: list[torch.Tensor]) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


DIM = Param("dim", "ints", 1, "Dimension(s) to reduce, counting the batch as 0: 1 is the first "
            "after the batch, -1 the last; a list for several")
KEEPDIM = Param("keepdim", "bool", False, "Keep reduced dimensions with size 1")

TENSOR_OPS: list[LayerSpec] = [
    LayerSpec(
        "Mul", "tensor",
        "Multiplies its inputs element-wise (a * b), e.g. a gate or noise times a scale; "
        "sizes must match or be 1.",
        _broadcast("Mul"), arity=(2, None), repeat_inputs=True, keeps_sequence=True,
        function=lambda xs, p: _product(xs), expression=lambda v, p: " * ".join(v),
    ),
    LayerSpec(
        "Sub", "tensor", "Subtracts input 2 from input 1 element-wise (a - b).",
        _broadcast("Sub"), arity=(2, 2), keeps_sequence=True,
        function=lambda xs, p: xs[0] - xs[1], expression=lambda v, p: f"{v[0]} - {v[1]}",
    ),
    LayerSpec(
        "Exp", "tensor", "e to the power of each value, e.g. a log-variance into a variance.",
        _same, keeps_sequence=True,
        function=lambda xs, p: torch.exp(xs[0]), expression=lambda v, p: f"torch.exp({v[0]})",
    ),
    LayerSpec(
        "Unary", "tensor", "Applies one element-wise function, chosen from a list (exp, log, "
        "sqrt, abs, neg, ...), to every value.",
        _same, keeps_sequence=True,
        params=(Param("op", "choice", "exp", "The function", choices=UNARY),),
        function=lambda xs, p: getattr(torch, p["op"])(xs[0]),
        expression=lambda v, p: f"-{v[0]}" if p["op"] == "neg" else f"torch.{p['op']}({v[0]})",
    ),
    LayerSpec(
        "Scale", "tensor", "Multiplies every value by a constant (x * 0.5).",
        _same, keeps_sequence=True,
        params=(Param("factor", "float", 1.0, "The constant"),),
        function=lambda xs, p: xs[0] * p["factor"],
        expression=lambda v, p: f"{v[0]} * {p['factor']!r}",
    ),
    LayerSpec(
        "MatMul", "tensor",
        "Matrix product per sample, (N, n, k) @ (N, k, m) -> (N, n, m); e.g. attention scores "
        "from queries and keys.",
        _matmul, arity=(2, 2),
        function=lambda xs, p: xs[0] @ xs[1], expression=lambda v, p: f"{v[0]} @ {v[1]}",
    ),
    LayerSpec(
        "Mean", "tensor", "Averages over one or more dimensions, e.g. over time (dim 1) of a "
        "(N, T, F) sequence.",
        _reduce, params=(DIM, KEEPDIM),
        function=lambda xs, p: xs[0].mean(dim=p["dim"], keepdim=p["keepdim"]),
        expression=_reduce_source("mean"),
    ),
    LayerSpec(
        "Sum", "tensor", "Adds up the values over one or more dimensions.",
        _reduce, params=(DIM, KEEPDIM),
        function=lambda xs, p: xs[0].sum(dim=p["dim"], keepdim=p["keepdim"]),
        expression=_reduce_source("sum"),
    ),
    LayerSpec(
        "Permute", "tensor",
        "Reorders the dimensions after the batch, e.g. dims [2, 1] turns (N, T, F) into "
        "(N, F, T) (x.permute(0, 2, 1)); dims count the batch as 0.",
        _permute, swaps_layout=True,
        params=(Param("dims", "ints", (2, 1), "The new order of dims 1, 2, ..."),),
        function=lambda xs, p: xs[0].permute(0, *p["dims"]),
        expression=lambda v, p: f"{v[0]}.permute(0, {', '.join(map(str, p['dims']))})",
    ),
    LayerSpec(
        "Transpose", "tensor", "Swaps two dimensions, e.g. 1 and 2 turns (N, C, L) into "
        "(N, L, C); dims count the batch as 0.",
        _transpose, swaps_layout=True,
        params=(Param("dim0", "dim", 1, "One dimension (1 = first after the batch)"),
                Param("dim1", "dim", 2, "The other")),
        function=lambda xs, p: xs[0].transpose(p["dim0"], p["dim1"]),
        expression=lambda v, p: f"{v[0]}.transpose({p['dim0']}, {p['dim1']})",
    ),
    LayerSpec(
        "Squeeze", "tensor", "Removes a dimension of size 1; dim counts the batch as 0.",
        _squeeze, params=(Param("dim", "dim", -1, "The dimension to remove"),),
        function=lambda xs, p: xs[0].squeeze(p["dim"]),
        expression=lambda v, p: f"{v[0]}.squeeze({p['dim']})",
    ),
    LayerSpec(
        "Unsqueeze", "tensor", "Inserts a dimension of size 1, e.g. (N, L) into (N, 1, L) for "
        "Conv1d; dim counts the batch as 0.",
        _unsqueeze, params=(Param("dim", "dim", 1, "Where the new dimension goes"),),
        function=lambda xs, p: xs[0].unsqueeze(p["dim"]),
        expression=lambda v, p: f"{v[0]}.unsqueeze({p['dim']})",
    ),
    LayerSpec(
        "Select", "tensor",
        "Picks one index along a dimension and drops it, e.g. the last time step x[:, -1] of a "
        "(N, T, F) sequence; dim counts the batch as 0, index -1 is the last.",
        _select, params=(Param("dim", "dim", 1, "The dimension to index"),
                         Param("index", "int", -1, "Which position (-1: the last)",
                               min=-1_000_000, max=1_000_000)),
        function=lambda xs, p: xs[0].select(p["dim"], p["index"]),
        expression=_select_source,
    ),
    LayerSpec(
        "RandnLike", "tensor",
        "Standard normal noise shaped like its input (torch.randn_like), e.g. the epsilon of a "
        "VAE's reparameterization; drawn from the run's seeded generator.",
        _same, keeps_sequence=True,
        function=lambda xs, p: torch.randn_like(xs[0]),
        expression=lambda v, p: f"torch.randn_like({v[0]})",
    ),
]
