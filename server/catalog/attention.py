"""Attention written by hand: `F.scaled_dot_product_attention` over q, k and v.

nanoGPT and many tutorials do not use `nn.MultiheadAttention`: they project the
input with one Linear (`c_attn`), split it into q, k and v, cut each into heads,
call `torch.nn.functional.scaled_dot_product_attention` and merge the heads back.
`ScaledDotProductAttention` is that core as a node without weights, so the
projections stay ordinary Linear nodes with the original's `state_dict` keys.
The export writes the lines a person writes (heads by `unflatten`, the same view
nanoGPT takes with `.view(B, T, nh, C // nh)`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from .layers import LayerSpec
from .params import Param
from .sequence import CAUSAL
from .shapes import Shape, ShapeError, fmt, need_rank

SDPA = "torch.nn.functional.scaled_dot_product_attention"


def _sdpa_shape(shapes: list[Shape], p: dict[str, Any]) -> Shape:
    q, k, v = shapes
    for name, s in zip("qkv", shapes, strict=True):
        need_rank(s, (2,), f"ScaledDotProductAttention's {name}")
    h = p["num_heads"]
    for name, s in zip("qkv", shapes, strict=True):
        if s[1] % h:
            raise ShapeError(f"num_heads ({h}) must divide the features of {name} {fmt(s)} "
                             f"({s[1]})", "num_heads")
    if k[1] != q[1]:
        raise ShapeError(f"k {fmt(k)} must have as many features as q {fmt(q)}: each query "
                         f"is compared with each key")
    if v[0] != k[0]:
        raise ShapeError(f"v {fmt(v)} must have as many positions as k {fmt(k)}: one value "
                         f"per key")
    return (q[0], v[1])


def _heads(x: torch.Tensor, h: int) -> torch.Tensor:
    return x.unflatten(-1, (h, x.size(-1) // h)).transpose(1, 2)  # (N, h, T, C/h)


def _sdpa(xs: list[torch.Tensor], p: dict[str, Any]) -> torch.Tensor:
    q, k, v = xs
    h = p["num_heads"]
    if h == 1:  # one head: the function takes (N, T, C) as it is
        return F.scaled_dot_product_attention(q, k, v, is_causal=p["causal"])
    y = F.scaled_dot_product_attention(_heads(q, h), _heads(k, h), _heads(v, h),
                                       is_causal=p["causal"])
    return y.transpose(1, 2).flatten(2)  # heads side by side again: (N, T, C)


def _sdpa_lines(attr: str | None, args: list[str], out: str, p: dict[str, Any]) -> list[str]:
    causal = ", is_causal=True" if p["causal"] else ""
    h = p["num_heads"]
    if h == 1:
        return [f"{out} = {SDPA}({', '.join(args)}{causal})"]
    q, k, v = (f"{a}.unflatten(-1, ({h}, -1)).transpose(1, 2)" for a in args)
    return [f"{out} = {SDPA}(",
            f"    {q},  # (N, {h}, T, C/{h})",
            f"    {k},",
            f"    {v}{causal})",
            f"{out} = {out}.transpose(1, 2).flatten(2)"]


ATTENTION_OPS = [
    LayerSpec(
        "ScaledDotProductAttention", "attention",
        "Attention as nanoGPT writes it: each query (input 1) is compared with every key "
        "(input 2), and the softmax of the scores weighs the values (input 3), per head. "
        "No weights: q, k and v come from your own Linear layers (e.g. one Linear to 3C, "
        "then Split). Inputs (N, T, C); causal lets each position see only itself and the "
        "positions before it, as a language model must.",
        _sdpa_shape, arity=(3, 3), sequence_out=True,
        params=(Param("num_heads", "int", 1, "Heads: C is cut into num_heads parts that "
                      "attend separately; must divide C", min=1, max=1024),
                CAUSAL),
        function=_sdpa, call=_sdpa_lines,
    ),
]
