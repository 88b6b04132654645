"""The layer catalogue: every block a user can put on the canvas, as data.

Each `LayerSpec` says what the layer is called (PyTorch's class name), its
category (which colours it on the canvas), a sentence for learners, its params,
how many inputs it takes, how it changes the tensor's shape, which of its
sizes follow from the input, and how it is built. The validator, compiler, code
exporter, API and browser palette all read this one table: a new layer is one
entry here (or in a family file: `sequence.py`, `generative.py`,
`more_layers.py`, `tensor_ops.py`, joined in `extra_layers.py`) plus one row in
`tests/core/catalog_cases.py`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .params import Param
from .shapes import (
    Shape,
    ShapeError,
    flatten_shape,
    fmt,
    full_dim,
    need_rank,
    reshape_shape,
    window_shape,
)

CATEGORIES = (
    "input", "linear", "conv", "pool", "norm", "activation", "regularization", "shape", "merge",
    "sequence", "attention", "generative", "tensor",
)

Rule = Callable[[list[Shape], dict[str, Any]], Shape]
Infer = Callable[[list[Shape], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class LayerSpec:
    type: str
    category: str
    description: str
    rule: Rule
    params: tuple[Param, ...] = ()
    arity: tuple[int, int | None] = (1, 1)
    infer: Infer | None = None
    # An nn.Module class name, or None for nodes that are plain tensor code.
    module: str | None = None
    positional: tuple[str, ...] = ()  # written positionally in exported code
    # For nodes without a module: the tensor function and its source expression.
    function: Callable[[list[torch.Tensor], dict[str, Any]], torch.Tensor] | None = None
    expression: Callable[[list[str], dict[str, Any]], str] | None = None
    # What an output layer turns scores into, for the loss lints.
    produces: str | None = None  # "probabilities" | "log_probabilities"
    # Lints and rules that depend on what the layer is:
    repeat_inputs: bool = False  # the same input may be connected twice (x + x)
    flat_input: bool = False  # acts on the last dimension only: warn on a rank > 1 input
    between_layers: bool = False  # belongs between layers: warn when it ends the network
    # Reads token ids: the Input feeding it must hold whole numbers below num_embeddings.
    index_input: bool = False
    # Sequence lints: the output is one vector per position, (N, T, F) ...
    sequence_out: bool = False
    # ... and this layer keeps that per-position layout (None: decided by its category).
    keeps_sequence: bool | None = None
    # Moves dims (Permute, Transpose): features last becomes channels first and back.
    swaps_layout: bool = False
    # Reads dim 1 as channels, (N, C, L), beyond the conv and pool families (BatchNorm1d).
    channels_first: bool = False
    # Node-only params: used in forward (which output, a causal mask), not by the constructor.
    node_params: tuple[str, ...] = ()
    # Builds the compiled module when the plain class cannot: a subclass whose forward
    # returns what the exported lines compute, with the plain class's state_dict keys.
    builder: Callable[[dict[str, Any]], nn.Module] | None = None
    # The exported forward lines, given `self.name`, input variables, the output variable
    # and params; None writes `y = self.name(x)`. The last line gets the shape comment.
    # A node without a module may have one too (`self.name` is then None) when its
    # tensor code takes more than one expression.
    call: Callable[[str, list[str], str, dict[str, Any]], list[str]] | None = None
    # The module's class comes from here instead of torch.nn (e.g. "torchvision.ops").
    import_from: str | None = None
    # Constructor defaults the class's signature hides (nn.LSTM takes *args, **kwargs), so
    # the export omits them as it omits any PyTorch default.
    hidden_defaults: tuple[tuple[str, Any], ...] = ()
    # What the X-ray and the doctor read: outputs are never negative (so a regression
    # cannot end here); units can die (zero for every sample: ReLU); and the outputs
    # at or beyond these values sit where the gradient is almost zero (Sigmoid, Tanh).
    never_negative: bool = False
    can_die: bool = False
    saturates_at: tuple[float, float] | None = None
    # Several outputs: None for the usual one output; otherwise the ports' names, and
    # `rule` returns one shape per port (an empty tuple: ports numbered 0..n-1, as many
    # as the rule returns, e.g. Chunk). Edges read a port with {"node": id, "port": n}.
    outputs: tuple[str, ...] | None = None

    def build(self, params: dict[str, Any]) -> nn.Module | None:
        """The module for fully resolved params (inferred sizes filled in)."""
        if self.builder is not None:
            return self.builder(params)
        if self.module is None:
            return None
        kwargs = {k: (list(v) if k == "normalized_shape" else v) for k, v in params.items()
                  if k not in self.node_params}
        return self.torch_class()(**kwargs)

    def torch_class(self) -> type:
        """The class the exported constructor names (torch.nn's, or `import_from`'s)."""
        if self.import_from is None:
            return getattr(nn, self.module)
        return getattr(importlib.import_module(self.import_from), self.module)

    def call_lines(self, attr: str, args: list[str], out: str, params: dict[str, Any]) -> list[str]:
        """The exported forward lines of a module node."""
        if self.call is not None:
            return self.call(attr, args, out, params)
        return [f"{out} = {attr}({', '.join(args)})"]

    def imports(self) -> list[str]:
        """Import lines the exported code needs for this layer, beyond torch and nn."""
        return [f"from {self.import_from} import {self.module}"] if self.import_from else []

    @property
    def reads_channels(self) -> bool:
        """Whether dim 1 is read as channels: a (N, T, F) sequence would need a Transpose."""
        return self.channels_first or self.category in ("conv", "pool", "generative")

    @property
    def per_position(self) -> bool:
        """Whether a (N, T, F) sequence keeps its per-position meaning through this layer."""
        if self.keeps_sequence is not None:
            return self.keeps_sequence
        return self.category in ("activation", "regularization", "linear", "norm", "merge")


# -- shared params -----------------------------------------------------------
def _size(name: str, help: str, inferred: bool = False) -> Param:
    return Param(name, "int", min=1, max=1_000_000_000, help=help, inferred=inferred)


def _in(name: str, what: str) -> Param:
    return _size(name, f"{what} of the input (inferred from the incoming tensor)", inferred=True)


BIAS = Param("bias", "bool", True, "Learn an additive bias")
EPS = Param("eps", "float", 1e-5, "Added to the variance for numerical stability",
            min=0, min_exclusive=True)
MOMENTUM = Param("momentum", "float", 0.1, "How fast running statistics follow the batch",
                 min=0, max=1)
PROB = Param("p", "float", 0.5, "Probability of zeroing an element", min=0, max=1)
DIM1 = Param("dim", "dim", 1, "Dimension to normalize over (1 = features/channels)")


def _conv_params() -> tuple[Param, ...]:
    return (
        _in("in_channels", "Channels"),
        _size("out_channels", "Number of filters, i.e. output channels"),
        Param("kernel_size", "pair", 3, "Size of each filter", min=1, max=1024),
        Param("stride", "pair", 1, "Step between windows", min=1, max=1024),
        Param("padding", "pair", 0, "Zeros added on each side", min=0, max=1024),
        Param("dilation", "pair", 1, "Spacing between kernel elements", min=1, max=1024),
        Param("groups", "int", 1, "Split channels into independent groups", min=1),
        BIAS,
    )


def _pool_params(avg: bool = False) -> tuple[Param, ...]:
    out = (
        Param("kernel_size", "pair", 2, "Size of each pooling window", min=1, max=1024),
        Param("stride", "pair", None, "Step between windows (default: kernel_size)",
              min=1, max=1024, nullable=True),
        Param("padding", "pair", 0, "Padding on each side (at most half the kernel)",
              min=0, max=512),
    )
    if avg:
        return out + (Param("ceil_mode", "bool", False, "Round the output size up"),
                      Param("count_include_pad", "bool", True, "Average over padding too"))
    return out + (Param("dilation", "pair", 1, "Spacing between window elements", min=1),
                  Param("ceil_mode", "bool", False, "Round the output size up"))


# -- rules -------------------------------------------------------------------
def _same(shapes: list[Shape], p: dict) -> Shape:
    return shapes[0]


def _input_rule(shapes: list[Shape], p: dict) -> Shape:
    if p.get("shape") is None:
        raise ShapeError("Input needs a shape, or a dataset in the graph's data", "shape")
    return tuple(p["shape"])


def _linear(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    return (*s[:-1], p["out_features"])


def _conv(n: int) -> Rule:
    def rule(shapes: list[Shape], p: dict) -> Shape:
        (s,) = shapes
        need_rank(s, [n + 1], f"Conv{n}d")
        if s[0] % p["groups"] or p["out_channels"] % p["groups"]:
            raise ShapeError(f"groups={p['groups']} must divide both in_channels ({s[0]}) and "
                             f"out_channels ({p['out_channels']})", "groups")
        return window_shape(s, n, p, what=f"Conv{n}d", ceil=False, channels_out=p["out_channels"])
    return rule


def _pool(n: int, kind: str) -> Rule:
    def rule(shapes: list[Shape], p: dict) -> Shape:
        (s,) = shapes
        # The window rule first: it refuses a pair given to a 1-d pool.
        out = window_shape(s, n, p, what=f"{kind}Pool{n}d", dilation=kind == "Max")
        k = p["kernel_size"]
        for ki, pi in zip(_as_tuple(k, n), _as_tuple(p["padding"], n), strict=True):
            if pi > ki / 2:
                raise ShapeError(f"padding ({pi}) must be at most half the kernel ({ki})",
                                 "padding")
        return out
    return rule


def _as_tuple(v: Any, n: int) -> tuple[int, ...]:
    return (v,) * n if isinstance(v, int) else tuple(v)


def _adaptive(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    need_rank(s, [3], "AdaptiveAvgPool2d")
    h, w = _as_tuple(p["output_size"], 2)
    return (s[0], h, w)


def _batchnorm(ranks: list[int], what: str) -> Rule:
    def rule(shapes: list[Shape], p: dict) -> Shape:
        need_rank(shapes[0], ranks, what)
        return shapes[0]
    return rule


def _layernorm(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    ns = tuple(p["normalized_shape"])
    if len(ns) > len(s) or s[len(s) - len(ns):] != ns:
        raise ShapeError(f"normalized_shape {list(ns)} must match the last dimensions of "
                         f"{fmt(s)}", "normalized_shape")
    return s


def _dropout2d(shapes: list[Shape], p: dict) -> Shape:
    need_rank(shapes[0], [3], "Dropout2d")
    return shapes[0]


def _flatten(shapes: list[Shape], p: dict) -> Shape:
    return flatten_shape(shapes[0], p["start_dim"], p["end_dim"])


def _unflatten(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    d = full_dim(p["dim"], len(s)) - 1
    sizes = tuple(p["unflattened_size"])
    if math.prod(sizes) != s[d]:
        raise ShapeError(f"unflattened_size {list(sizes)} holds {math.prod(sizes)} values but "
                         f"dimension {p['dim']} of {fmt(s)} has {s[d]}", "unflattened_size")
    return (*s[:d], *sizes, *s[d + 1:])


def _reshape(shapes: list[Shape], p: dict) -> Shape:
    return reshape_shape(shapes[0], p["shape"])


def _softmax(shapes: list[Shape], p: dict) -> Shape:
    full_dim(p["dim"], len(shapes[0]))
    return shapes[0]


def _add(shapes: list[Shape], p: dict) -> Shape:
    first = shapes[0]
    for i, s in enumerate(shapes[1:], start=2):
        if s != first:
            raise ShapeError(f"Add needs equal shapes: input 1 is {fmt(first)}, "
                             f"input {i} is {fmt(s)}")
    return first


def _concat(shapes: list[Shape], p: dict) -> Shape:
    first = shapes[0]
    for i, s in enumerate(shapes[1:], start=2):
        if len(s) != len(first):
            raise ShapeError(f"Concat needs inputs of the same rank: input 1 is {fmt(first)}, "
                             f"input {i} is {fmt(s)}")
    d = full_dim(p["dim"], len(first)) - 1
    for i, s in enumerate(shapes[1:], start=2):
        if s[:d] + s[d + 1:] != first[:d] + first[d + 1:]:
            raise ShapeError(f"Concat along dim {p['dim']} needs the other sizes equal: input 1 "
                             f"is {fmt(first)}, input {i} is {fmt(s)}", "dim")
    return (*first[:d], sum(s[d] for s in shapes), *first[d + 1:])


# -- inferred sizes ----------------------------------------------------------
def _first_dim(name: str) -> Infer:
    return lambda shapes, p: {name: shapes[0][0]} if shapes[0] else {}


def _last_dim(name: str) -> Infer:
    return lambda shapes, p: {name: shapes[0][-1]} if shapes[0] else {}


def _infer_layernorm(shapes: list[Shape], p: dict) -> dict:
    # A given normalized_shape may span several trailing dims; the rule checks it.
    if not shapes[0] or p.get("normalized_shape") is not None:
        return {}
    return {"normalized_shape": (shapes[0][-1],)}


# -- the table ---------------------------------------------------------------
LAYERS: dict[str, LayerSpec] = {s.type: s for s in [
    LayerSpec(
        "Input", "input", "Where data enters the network; its shape excludes the batch.",
        _input_rule, arity=(0, 0),
        params=(Param("shape", "shape", None, "Shape of one sample, e.g. [1, 28, 28]",
                      inferred=True),
                Param("dtype", "choice", "float", "float values, or long for token ids",
                      choices=("float", "long")),
                Param("vocab", "int", None, "For long ids: exclusive upper bound of the ids, "
                      "checked by Embedding", min=1, max=1_000_000_000)),
    ),
    LayerSpec(
        "Linear", "linear",
        "Fully connected layer: every output is a weighted sum of all inputs plus a bias.",
        _linear, module="Linear", positional=("in_features", "out_features"),
        infer=_last_dim("in_features"), flat_input=True,
        params=(_in("in_features", "Features"), _size("out_features", "Number of outputs"), BIAS),
    ),
    LayerSpec(
        "Conv1d", "conv",
        "Slides learned filters along a sequence to detect local patterns.",
        _conv(1), module="Conv1d", positional=("in_channels", "out_channels", "kernel_size"),
        infer=_first_dim("in_channels"), params=_conv_params(),
    ),
    LayerSpec(
        "Conv2d", "conv",
        "Slides learned filters over an image to detect edges, textures and shapes.",
        _conv(2), module="Conv2d", positional=("in_channels", "out_channels", "kernel_size"),
        infer=_first_dim("in_channels"), params=_conv_params(),
    ),
    LayerSpec(
        "MaxPool1d", "pool", "Keeps the largest value in each window of a sequence.",
        _pool(1, "Max"), module="MaxPool1d", positional=("kernel_size",), params=_pool_params(),
    ),
    LayerSpec(
        "MaxPool2d", "pool",
        "Keeps the largest value in each window, shrinking the image and keeping strong signals.",
        _pool(2, "Max"), module="MaxPool2d", positional=("kernel_size",), params=_pool_params(),
    ),
    LayerSpec(
        "AvgPool2d", "pool", "Averages each window, shrinking the image smoothly.",
        _pool(2, "Avg"), module="AvgPool2d", positional=("kernel_size",),
        params=_pool_params(avg=True),
    ),
    LayerSpec(
        "AdaptiveAvgPool2d", "pool",
        "Averages down to a fixed output size, whatever the input size.",
        _adaptive, module="AdaptiveAvgPool2d", positional=("output_size",),
        params=(Param("output_size", "pair", 1, "Height and width of the output", min=1),),
    ),
    LayerSpec(
        "BatchNorm1d", "norm",
        "Normalizes each feature over the batch, which steadies and speeds up training.",
        _batchnorm([1, 2], "BatchNorm1d"), module="BatchNorm1d", positional=("num_features",),
        between_layers=True, channels_first=True,
        infer=_first_dim("num_features"),
        params=(_in("num_features", "Features"), EPS, MOMENTUM,
                Param("affine", "bool", True, "Learn a scale and shift")),
    ),
    LayerSpec(
        "BatchNorm2d", "norm",
        "Normalizes each channel over the batch and the image, steadying training of CNNs.",
        _batchnorm([3], "BatchNorm2d"), module="BatchNorm2d", positional=("num_features",),
        between_layers=True,
        infer=_first_dim("num_features"),
        params=(_in("num_features", "Channels"), EPS, MOMENTUM,
                Param("affine", "bool", True, "Learn a scale and shift")),
    ),
    LayerSpec(
        "LayerNorm", "norm",
        "Normalizes each sample over its last dimensions; common in transformers.",
        _layernorm, module="LayerNorm", positional=("normalized_shape",), infer=_infer_layernorm,
        params=(Param("normalized_shape", "shape", None, "Trailing dimensions to normalize over "
                      "(inferred: the last one)", inferred=True),
                EPS, Param("elementwise_affine", "bool", True, "Learn a scale and shift")),
    ),
    LayerSpec(
        "Dropout", "regularization",
        "Randomly zeroes values while training so the network cannot rely on any one of them.",
        _same, module="Dropout", params=(PROB,), between_layers=True,
    ),
    LayerSpec(
        "Dropout2d", "regularization",
        "Randomly zeroes whole channels of an image while training.",
        _dropout2d, module="Dropout2d", params=(PROB,), between_layers=True,
    ),
    LayerSpec(
        "Flatten", "shape", "Turns each sample into one long vector, e.g. before a Linear layer.",
        _flatten, module="Flatten",
        params=(Param("start_dim", "dim", 1, "First dimension to flatten"),
                Param("end_dim", "dim", -1, "Last dimension to flatten")),
    ),
    LayerSpec(
        "Unflatten", "shape", "Splits one dimension into several, e.g. a vector into an image.",
        _unflatten, module="Unflatten", positional=("dim", "unflattened_size"),
        params=(Param("dim", "dim", 1, "Dimension to split"),
                Param("unflattened_size", "shape", help="The sizes it becomes, e.g. [1, 28, 28]")),
    ),
    LayerSpec(
        "Reshape", "shape", "Gives each sample a new shape holding the same values.",
        _reshape, params=(Param("shape", "shape", help="New shape without the batch; one -1 "
                                "is inferred", allow_minus_one=True),),
        function=lambda xs, p: xs[0].reshape(xs[0].size(0), *p["shape"]),
        expression=lambda v, p: f"{v[0]}.reshape({v[0]}.size(0), "
                                f"{', '.join(map(str, p['shape']))})",
    ),
    LayerSpec("Identity", "shape", "Passes its input through unchanged.", _same,
              module="Identity"),
    LayerSpec("ReLU", "activation", "Keeps positive values and sets negatives to zero.",
              _same, module="ReLU", never_negative=True, can_die=True),
    LayerSpec(
        "LeakyReLU", "activation", "Like ReLU, but lets a small slope through for negatives.",
        _same, module="LeakyReLU",
        params=(Param("negative_slope", "float", 0.01, "Slope for negative inputs", min=0),),
    ),
    LayerSpec(
        "ELU", "activation", "Smooth ReLU variant that goes gently negative.", _same,
        module="ELU", params=(Param("alpha", "float", 1.0, "Value approached for large "
                                    "negative inputs", min=0),),
    ),
    LayerSpec(
        "GELU", "activation", "Smooth ReLU-like curve used in transformers.", _same,
        module="GELU", params=(Param("approximate", "choice", "none", "Exact or tanh "
                                     "approximation", choices=("none", "tanh")),),
    ),
    LayerSpec("SiLU", "activation", "x times sigmoid(x): a smooth, self-gated activation.",
              _same, module="SiLU"),
    LayerSpec("Sigmoid", "activation", "Squashes values into (0, 1); used for probabilities.",
              _same, module="Sigmoid", produces="probabilities", never_negative=True,
              saturates_at=(0.01, 0.99)),
    LayerSpec("Tanh", "activation", "Squashes values into (-1, 1), centred at zero.",
              _same, module="Tanh", saturates_at=(-0.99, 0.99)),
    LayerSpec(
        "Softmax", "activation", "Turns scores into probabilities that sum to one.",
        _softmax, module="Softmax", params=(DIM1,), produces="probabilities",
        never_negative=True,
    ),
    LayerSpec(
        "LogSoftmax", "activation", "Log of softmax; pairs with NLLLoss.",
        _softmax, module="LogSoftmax", params=(DIM1,), produces="log_probabilities",
    ),
    LayerSpec(
        "Add", "merge", "Adds its inputs element-wise, as in a residual (skip) connection.",
        _add, arity=(2, None), repeat_inputs=True,
        function=lambda xs, p: _sum(xs),
        expression=lambda v, p: " + ".join(v),
    ),
    LayerSpec(
        "Concat", "merge", "Joins its inputs along one dimension, in connection order.",
        _concat, arity=(2, None), params=(Param("dim", "dim", 1, "Dimension to join along "
                                                "(1 = features/channels)"),),
        function=lambda xs, p: torch.cat(xs, dim=p["dim"]),
        expression=lambda v, p: f"torch.cat([{', '.join(v)}], dim={p['dim']})",
    ),
]}


def _sum(xs: list[torch.Tensor]) -> torch.Tensor:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


# Entries kept in their own files (one family each), merged here so every reader
# of LAYERS sees them. Imported last: they build on LayerSpec and the rules above.
from .extra_layers import EXTRA_LAYERS  # noqa: E402

assert not LAYERS.keys() & EXTRA_LAYERS.keys()
LAYERS.update(EXTRA_LAYERS)
