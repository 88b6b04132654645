"""Shape rules: what each layer does to the shape of the tensor it receives.

Shapes are tuples without the batch dimension, as in the graph format; `dim`
params keep PyTorch's meaning (they count the batch dimension), so the helpers
here translate between the two. Every rule raises `ShapeError` with a sentence
that says what is wrong and, where one param is to blame, which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Shape = tuple[int, ...]


class ShapeError(ValueError):
    def __init__(self, message: str, param: str | None = None):
        self.param = param
        super().__init__(message)


def fmt(shape: Sequence[int]) -> str:
    """A shape as the learner sees it in PyTorch, with the batch as N."""
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def need_rank(shape: Shape, ranks: Sequence[int], what: str) -> None:
    if len(shape) not in ranks:
        wanted = " or ".join(fmt(["?"] * r) for r in ranks)  # type: ignore[list-item]
        raise ShapeError(f"{what} expects input {wanted}, got {fmt(shape)}")


def full_dim(dim: int, rank: int, param: str = "dim") -> int:
    """Normalize a PyTorch dim over the batched rank; refuse the batch dim itself."""
    full = rank + 1
    if not -full <= dim < full:
        raise ShapeError(f"{param}={dim} is out of range for a {fmt(['?'] * rank)} tensor", param)
    d = dim % full
    if d == 0:
        raise ShapeError(f"{param}={dim} is the batch dimension; use 1 or more", param)
    return d


def sliding(length: int, kernel: int, stride: int, padding: int, dilation: int = 1,
            ceil_mode: bool = False) -> int:
    """Output length of a convolution or pooling window sliding over `length`."""
    span = dilation * (kernel - 1) + 1
    room = length + 2 * padding - span
    if not ceil_mode:
        return max(room // stride + 1, 0)
    # Rounding up, PyTorch keeps a window that hangs off the end, even when the
    # input is shorter than the window (room < 0), as long as it starts inside.
    out = -(-room // stride) + 1
    # PyTorch drops a last window that would start inside the right padding.
    if (out - 1) * stride >= length + padding:
        out -= 1
    return max(out, 0)


def window_shape(shape: Shape, spatial: int, params: dict, *, what: str, dilation: bool = True,
                 ceil: bool = True, channels_out: int | None = None) -> Shape:
    """Shape after a sliding window (conv or pool) over the last `spatial` dims."""
    need_rank(shape, [spatial + 1], what)
    k = _spatial(params["kernel_size"], spatial, "kernel_size")
    s_raw = params.get("stride")
    s = k if s_raw is None else _spatial(s_raw, spatial, "stride")
    p = _spatial(params.get("padding", 0), spatial, "padding")
    d = _spatial(params.get("dilation", 1), spatial, "dilation") if dilation else (1,) * spatial
    cm = bool(params.get("ceil_mode", False)) if ceil else False
    out = []
    for i in range(spatial):
        n = shape[1 + i]
        o = sliding(n, k[i], s[i], p[i], d[i], cm)
        if o < 1:
            raise ShapeError(
                f"the window (kernel {k[i]}, dilation {d[i]}) is larger than the padded input "
                f"({n} + 2*{p[i]}); the output would be empty",
                "kernel_size",
            )
        out.append(o)
    return (shape[0] if channels_out is None else channels_out, *out)


def _spatial(v: int | Sequence[int], n: int, param: str) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * n
    if len(v) != n:
        # PyTorch would build a 1-d layer with a pair and fail only in forward.
        raise ShapeError(f"{param} must be a single number for a 1-d layer, got {list(v)}", param)
    return tuple(int(x) for x in v)


def flatten_shape(shape: Shape, start_dim: int, end_dim: int) -> Shape:
    full = (0, *shape)
    s = full_dim(start_dim, len(shape), "start_dim")
    e = full_dim(end_dim, len(shape), "end_dim")
    if s > e:
        raise ShapeError(f"start_dim ({start_dim}) comes after end_dim ({end_dim})", "start_dim")
    merged = math.prod(full[s:e + 1])
    return (*full[1:s], merged, *full[e + 1:])


def reshape_shape(shape: Shape, target: Sequence[int]) -> Shape:
    numel = math.prod(shape)
    known = math.prod(t for t in target if t != -1)
    if -1 in target:
        if known == 0 or numel % known:
            raise ShapeError(f"cannot reshape {fmt(shape)} ({numel} values) into {fmt(target)}",
                             "shape")
        return tuple(numel // known if t == -1 else t for t in target)
    if known != numel:
        raise ShapeError(
            f"cannot reshape {fmt(shape)} ({numel} values) into {fmt(target)} ({known} values)",
            "shape",
        )
    return tuple(target)
