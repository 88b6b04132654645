"""Several lines of a traced `forward` that together are one catalogue node.

The exporter writes some nodes as the few lines a person writes, and the import
must read those lines back as that one node:

- a recurrent layer and the value it passes on (`returns`):
  `x, _ = self.lstm(x)` (output), then `x = x[:, -1, :]` (last), or
  `_, (h_n, _) = self.lstm(x)` then `x = h_n[-1]` (hidden; bidirectional:
  `torch.cat([h_n[-2], h_n[-1]], dim=1)`);
- a positional embedding: `x + self.wpe(torch.arange(x.size(1), device=x.device))`;
- attention by heads: `F.scaled_dot_product_attention(q.unflatten(-1, (h, -1))
  .transpose(1, 2), ...)` then `.transpose(1, 2).flatten(2)`.

`find_idioms` scans the graph before the import walks it and returns, for each
step where the node is made (its anchor), the node's type, extra params, inputs,
the steps whose value is the node's output, and the steps folded into it. A
pattern only counts when its inner steps are used by nothing else; otherwise
the steps are imported (or reported) one by one as before.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)


@dataclass
class Idiom:
    type: str  # catalogue type of the node made at the anchor
    inputs: list[fx.Node]  # the node's inputs (fx nodes already imported)
    params: dict[str, Any] = field(default_factory=dict)
    results: list[fx.Node] = field(default_factory=list)  # steps whose value is the node's
    folded: set[fx.Node] = field(default_factory=set)  # steps not imported on their own


def find_idioms(gm: fx.GraphModule) -> dict[fx.Node, Idiom]:
    """Anchor step -> the idiom made there, for every pattern found in `gm`."""
    modules = dict(gm.named_modules())
    found: dict[fx.Node, Idiom] = {}
    for n in gm.graph.nodes:
        idiom = None
        if n.op == "call_module":
            module = modules.get(n.target)
            if isinstance(module, RECURRENT):
                idiom = _recurrent(n, module)
            elif type(module) is nn.Embedding:
                idiom = _positional(n)
        elif n.op == "call_function" and n.target is F.scaled_dot_product_attention:
            idiom = _attention(n)
        if idiom is not None:
            found[n] = idiom
    return found


# -- recurrent layers -----------------------------------------------------------------
def _items(n: fx.Node) -> dict[Any, list[fx.Node]] | None:
    """`n[i]` users by index, or None when n is used any other way."""
    out: dict[Any, list[fx.Node]] = {}
    for u in n.users:
        if u.op != "call_function" or u.target is not operator.getitem or u.args[0] is not n:
            return None
        out.setdefault(u.args[1], []).append(u)
    return out


def _last_step(index: Any) -> bool:
    """`[:, -1, :]` or `[:, -1]`: the last time step of a (N, T, H) output."""
    whole = slice(None, None, None)
    return isinstance(index, tuple) and index[:2] == (whole, -1) and \
        all(i == whole for i in index[2:]) and len(index) <= 3


def _recurrent(n: fx.Node, module: nn.Module) -> Idiom | None:
    """The one value of `lstm(x)` the forward uses; None when it uses more (or the call is
    used as a whole), which the import then reports."""
    items = _items(n)
    if items is None or set(items) - {0, 1} or len(n.args) != 1 or n.kwargs:
        return None
    idiom = Idiom(type(module).__name__, [n.args[0]])
    chosen: set[str] = set()
    for out in items.get(0, []):
        idiom.folded.add(out)
        users = list(out.users)
        if users and all(u.target is operator.getitem and u.args[0] is out
                         and _last_step(u.args[1]) for u in users):
            chosen.add("last")
            idiom.results += users
            idiom.folded |= set(users)
        elif users:
            chosen.add("output")
            idiom.results.append(out)
    for state in items.get(1, []):
        idiom.folded.add(state)
        hidden = _hidden(state, isinstance(module, nn.LSTM), module.bidirectional, idiom)
        if hidden is None:
            return None
        chosen |= hidden
    if len(chosen) > 1:
        return None  # two values of one layer: no single node passes both on
    returns = chosen.pop() if chosen else "output"
    if returns != "output":
        idiom.params["returns"] = returns
    return idiom


def _hidden(state: fx.Node, lstm: bool, bidirectional: bool, idiom: Idiom) -> set[str] | None:
    """{"hidden"} when only the last layer's final hidden state is read, set() when
    nothing is; None for anything else (the cell state, another layer's state)."""
    if lstm:
        parts = _items(state)
        if parts is None or set(parts) - {0, 1} or any(p.users for p in parts.get(1, [])):
            return None
        idiom.folded |= {p for ps in parts.values() for p in ps}
        h_ns = parts.get(0, [])
    else:
        h_ns = [state]
    chosen: set[str] = set()
    for h_n in h_ns:
        items = _items(h_n)
        if items is None:
            return None
        if not items:
            continue
        if not bidirectional:
            if set(items) != {-1}:
                return None
            idiom.folded |= set(items[-1])
            idiom.results += items[-1]
        else:
            cat = _both_directions(items)
            if cat is None:
                return None
            idiom.folded |= {*items[-2], *items[-1], cat}
            idiom.results.append(cat)
        chosen.add("hidden")
    return chosen


def _both_directions(items: dict[Any, list[fx.Node]]) -> fx.Node | None:
    """`torch.cat([h_n[-2], h_n[-1]], dim=1)`, each read once and only there."""
    if set(items) != {-2, -1} or len(items[-2]) != 1 or len(items[-1]) != 1:
        return None
    back, forth = items[-2][0], items[-1][0]
    users = set(back.users) | set(forth.users)
    if len(users) != 1:
        return None
    cat = users.pop()
    dim = cat.kwargs.get("dim", cat.args[1] if len(cat.args) > 1 else 0)
    if cat.target is not torch.cat or list(cat.args[0]) != [back, forth] or dim not in (1, -1):
        return None
    return cat


# -- positional embedding -----------------------------------------------------------
def _positional(n: fx.Node) -> Idiom | None:
    """`x + self.wpe(torch.arange(x.size(1), device=x.device))`, either order."""
    if len(n.args) != 1 or n.kwargs or len(n.users) != 1:
        return None
    arange, add = n.args[0], next(iter(n.users))
    if not isinstance(arange, fx.Node) or arange.target is not torch.arange \
            or len(arange.args) != 1 or set(arange.kwargs) - {"device"} or len(arange.users) != 1:
        return None
    size = arange.args[0]
    if not (isinstance(size, fx.Node) and size.op == "call_method" and size.target == "size"
            and size.args[1:] == (1,) and len(size.users) == 1):
        return None
    x = size.args[0]
    if add.target not in (operator.add, torch.add) or set(add.args) != {x, n} \
            or len(add.args) != 2 or add.kwargs:
        return None
    folded = {arange, size, add}
    device = arange.kwargs.get("device")
    if device is not None:
        if not (isinstance(device, fx.Node) and device.target is getattr
                and device.args == (x, "device") and len(device.users) == 1):
            return None
        folded.add(device)
    return Idiom("PositionalEmbedding", [x], results=[add], folded=folded)


# -- attention by heads ---------------------------------------------------------------
def _attention(n: fx.Node) -> Idiom | None:
    """q, k, v cut into h heads by `unflatten(-1, (h, -1)).transpose(1, 2)`, the result
    joined back by `.transpose(1, 2).flatten(2)`; or q, k, v as they are (one head)."""
    kwargs = dict(n.kwargs)
    causal = kwargs.pop("is_causal", False)
    defaults = {"attn_mask": None, "dropout_p": 0.0, "scale": None}
    if len(n.args) != 3 or any(k not in defaults or v != defaults[k] for k, v in kwargs.items()) \
            or not isinstance(causal, bool):
        return None
    params: dict[str, Any] = {"causal": True} if causal else {}
    heads = [_heads(a) for a in n.args]
    if all(h is None for h in heads):  # (N, T, C) each: one head
        return Idiom("ScaledDotProductAttention", list(n.args), params, results=[n], folded={n})
    if any(h is None for h in heads) or len({h[1] for h in heads}) != 1:
        return None
    joined = _joined(n)
    if joined is None:
        return None
    folded = {n, *joined} | {s for h in heads for s in h[2]}
    params["num_heads"] = heads[0][1]
    return Idiom("ScaledDotProductAttention", [h[0] for h in heads], params,
                 results=[joined[-1]], folded=folded)


def _heads(a: Any) -> tuple[fx.Node, int, list[fx.Node]] | None:
    """(source, h, steps) for `source.unflatten(-1, (h, -1)).transpose(1, 2)`."""
    if not _method(a, "transpose") or tuple(a.args[1:]) not in ((1, 2), (2, 1)) \
            or len(a.users) != 1:
        return None
    cut = a.args[0]
    if not _method(cut, "unflatten") or len(cut.users) != 1 or len(cut.args) != 3 \
            or cut.args[1] not in (-1, 2):
        return None
    sizes = cut.args[2]
    if not isinstance(sizes, tuple | list) or len(sizes) != 2 or sizes[1] != -1 \
            or not isinstance(sizes[0], int) or isinstance(sizes[0], bool) or sizes[0] < 1:
        return None
    return cut.args[0], sizes[0], [a, cut]


def _joined(n: fx.Node) -> list[fx.Node] | None:
    """The steps of `y.transpose(1, 2).flatten(2)` after the attention, the last one last."""
    if len(n.users) != 1:
        return None
    back = next(iter(n.users))
    if not _method(back, "transpose") or tuple(back.args[1:]) not in ((1, 2), (2, 1)) \
            or len(back.users) != 1:
        return None
    flat = next(iter(back.users))
    if not _method(flat, "flatten") or tuple(flat.args[1:]) not in ((2,), (-2,)) or flat.kwargs:
        return None
    return [back, flat]


def _method(a: Any, name: str) -> bool:
    return isinstance(a, fx.Node) and a.op == "call_method" and a.target == name \
        and not a.kwargs
