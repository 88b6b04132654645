"""Functional calls in a traced `forward` and the catalogue nodes they become.

`F.relu(x)` becomes a `ReLU` node, `torch.flatten(x, 1)` a `Flatten`,
`F.max_pool2d(x, 2)` a `MaxPool2d`, `x + y` an `Add`. Each row names the
catalogue type and how the call's arguments become its params; the arguments are
bound by name the way Python would bind them, so `F.max_pool2d(x, 2)` and
`F.max_pool2d(x, kernel_size=2)` import alike. A call with a tensor where a
constant is expected (or an argument the catalogue has no param for) is not
mapped, and the import says so instead of guessing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class FunctionRow:
    type: str  # catalogue layer type
    args: tuple[str, ...]  # the call's positional names, the tensor(s) first
    params: dict[str, str]  # call argument -> catalogue param
    tensors: int = 1  # leading tensor arguments (a list of tensors counts as one)
    # Arguments that make no difference to the values computed (inplace, or how a
    # warning finds its caller); anything else must map to a param.
    ignore: tuple[str, ...] = ("inplace", "_stacklevel")
    # Arguments that may stay at these values only (return_indices=True would
    # return a pair, dtype= would cast).
    neutral: tuple[tuple[str, Any], ...] = (("return_indices", False), ("dtype", None))
    # Catalogue params set whatever the call says (e.g. Flatten's start_dim=0 default).
    fixed: tuple[tuple[str, Any], ...] = ()


def _pool(type_: str) -> FunctionRow:
    return FunctionRow(type_, ("input", "kernel_size", "stride", "padding", "dilation",
                               "ceil_mode", "return_indices"),
                       {"kernel_size": "kernel_size", "stride": "stride", "padding": "padding",
                        "dilation": "dilation", "ceil_mode": "ceil_mode"})


_ACTIVATIONS = {
    "ReLU": (F.relu, torch.relu, "relu"),
    "Sigmoid": (torch.sigmoid, F.sigmoid, "sigmoid"),
    "Tanh": (torch.tanh, F.tanh, "tanh"),
    "GELU": (F.gelu, "gelu"),
    "SiLU": (F.silu, "silu"),
}

ROWS: dict[Any, FunctionRow] = {}
for _type, _targets in _ACTIVATIONS.items():
    for _t in _targets:
        ROWS[_t] = FunctionRow(_type, ("input", "inplace"), {})
for _t in (F.max_pool2d, "max_pool2d"):
    ROWS[_t] = _pool("MaxPool2d")
ROWS[F.max_pool1d] = _pool("MaxPool1d")
ROWS[F.avg_pool2d] = FunctionRow(
    "AvgPool2d", ("input", "kernel_size", "stride", "padding", "ceil_mode",
                  "count_include_pad", "divisor_override"),
    {"kernel_size": "kernel_size", "stride": "stride", "padding": "padding",
     "ceil_mode": "ceil_mode", "count_include_pad": "count_include_pad"})
ROWS[F.adaptive_avg_pool2d] = FunctionRow("AdaptiveAvgPool2d", ("input", "output_size"),
                                          {"output_size": "output_size"})
for _t in (torch.flatten, "flatten"):
    # torch.flatten's start_dim defaults to 0, nn.Flatten's to 1: always write it.
    ROWS[_t] = FunctionRow("Flatten", ("input", "start_dim", "end_dim"),
                           {"start_dim": "start_dim", "end_dim": "end_dim"},
                           fixed=(("start_dim", 0),))
for _t in (F.softmax, torch.softmax, "softmax"):
    ROWS[_t] = FunctionRow("Softmax", ("input", "dim", "_stacklevel", "dtype"), {"dim": "dim"})
for _t in (F.log_softmax, torch.log_softmax, "log_softmax"):
    ROWS[_t] = FunctionRow("LogSoftmax", ("input", "dim", "_stacklevel", "dtype"),
                           {"dim": "dim"})
# In eval mode dropout is the identity whatever `training` says; in training the
# catalogue's Dropout follows the model's mode, as `training=self.training` does.
ROWS[F.dropout] = FunctionRow("Dropout", ("input", "p", "training", "inplace"), {"p": "p"},
                              ignore=("inplace", "training"))
for _t in (operator.add, torch.add, "add"):
    ROWS[_t] = FunctionRow("Add", ("input", "other"), {}, tensors=2)
ROWS[torch.cat] = FunctionRow("Concat", ("tensors", "dim"), {"dim": "dim"})


def describe(target: Any) -> str:
    """`torch.nn.functional.relu`, `Tensor.view`: a function's name as a person reads it."""
    if isinstance(target, str):
        return f"Tensor.{target}"
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    if "<locals>" in name:  # F.max_pool2d is made by a dispatching helper
        name = getattr(target, "__name__", name)
    if name.startswith("_VariableFunctionsClass."):  # torch.roll and the other torch.* ops
        return f"torch.{name.split('.', 1)[1]}"
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


def bind(row: FunctionRow, args: tuple, kwargs: dict[str, Any],
         is_tensor: Callable[[Any], bool]) -> tuple[list[Any], dict[str, Any] | None, str]:
    """(tensor args, catalogue params, "") or ([], None, why it cannot be mapped)."""
    if len(args) > len(row.args):
        return [], None, "more arguments than expected"
    bound = dict(zip(row.args, args, strict=False)) | kwargs
    unknown = set(bound) - set(row.args)
    if unknown:
        return [], None, f"arguments {sorted(unknown)} are not supported"
    names = list(row.args)
    tensors = [bound.pop(n) for n in names[:row.tensors] if n in bound]
    params = dict(row.fixed)
    neutral = dict(row.neutral)
    for name, value in bound.items():
        if name in row.ignore or (name in neutral and value == neutral[name]):
            continue
        if name not in row.params:
            return [], None, f"argument {name}={value!r} has no catalogue param"
        if is_tensor(value):
            return [], None, f"argument {name} is a tensor, not a constant"
        params[row.params[name]] = list(value) if isinstance(value, tuple) else value
    return tensors, params, ""
