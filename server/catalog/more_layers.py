"""Layers real networks use beyond the basics: more activations, norms, pools, paddings.

MobileNet's ReLU6 and Hardswish, ResNeXt-style GroupNorm, style-transfer's
InstanceNorm and reflection padding, audio models' 1-d pooling, and
torchvision's StochasticDepth (exported with `from torchvision.ops import
StochasticDepth`).
"""

from __future__ import annotations

from .layers import EPS, MOMENTUM, LayerSpec, _first_dim, _in, _pool, _pool_params, _same
from .params import Param
from .shapes import Shape, ShapeError, fmt, need_rank, pair


def _activation(name: str, description: str, **extra) -> LayerSpec:
    return LayerSpec(name, "activation", description, _same, module=name, **extra)


def _hardtanh(shapes: list[Shape], p: dict) -> Shape:
    if p["min_val"] >= p["max_val"]:
        raise ShapeError(f"min_val ({p['min_val']:g}) must be below max_val "
                         f"({p['max_val']:g})", "min_val")
    return shapes[0]


def _prelu(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    n = p["num_parameters"]
    if n != 1 and n != s[0]:
        raise ShapeError(f"num_parameters must be 1 (one slope) or the channels of {fmt(s)} "
                         f"({s[0]}), got {n}", "num_parameters")
    return s


def _group_norm(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    if p["num_channels"] % p["num_groups"]:
        raise ShapeError(f"num_groups ({p['num_groups']}) must divide the channels "
                         f"({p['num_channels']})", "num_groups")
    return s


def _rank(ranks: list[int], what: str):
    def rule(shapes: list[Shape], p: dict) -> Shape:
        need_rank(shapes[0], ranks, what)
        return shapes[0]
    return rule


def _adaptive(n: int, what: str):
    def rule(shapes: list[Shape], p: dict) -> Shape:
        (s,) = shapes
        need_rank(s, [n + 1], what)
        out = pair(p["output_size"]) if n == 2 else (p["output_size"],)
        return (s[0], *out)
    return rule


def _padding_of(p: dict) -> tuple[int, int, int, int]:
    pad = p["padding"]
    if isinstance(pad, int):
        return (pad,) * 4
    if len(pad) != 4:
        raise ShapeError(f"padding is one number or four (left, right, top, bottom), got "
                         f"{list(pad)}", "padding")
    return tuple(pad)  # type: ignore[return-value]


def _pad2d(what: str, below_size: bool):
    def rule(shapes: list[Shape], p: dict) -> Shape:
        (s,) = shapes
        need_rank(s, [3], what)
        left, right, top, bottom = _padding_of(p)
        if below_size and (max(left, right) >= s[2] or max(top, bottom) >= s[1]):
            raise ShapeError(f"{what} mirrors the image, so each padding must be smaller than "
                             f"the size it pads: {fmt(s)}", "padding")
        return (s[0], s[1] + top + bottom, s[2] + left + right)
    return rule


PAD = Param("padding", "ints", 1, "Pixels added on each side: one number, or four (left, "
            "right, top, bottom)", min=0, max=1024)


MORE_LAYERS: list[LayerSpec] = [
    _activation("ReLU6", "ReLU capped at 6: min(max(x, 0), 6); used by MobileNet.",
                never_negative=True),
    LayerSpec(
        "Hardtanh", "activation", "Clips values to [min_val, max_val]: a cheap tanh.",
        _hardtanh, module="Hardtanh", positional=("min_val", "max_val"),
        params=(Param("min_val", "float", -1.0, "Lowest value let through"),
                Param("max_val", "float", 1.0, "Highest value let through")),
    ),
    _activation("Hardswish", "A cheap piecewise version of x * sigmoid(x); used by "
                "MobileNetV3."),
    _activation("Hardsigmoid", "A cheap piecewise-linear sigmoid: 0 below -3, 1 above 3.",
                never_negative=True),
    _activation("Mish", "x * tanh(softplus(x)): a smooth, self-gated activation."),
    LayerSpec(
        "PReLU", "activation",
        "Leaky ReLU whose negative slope is learned: one for all channels, or one per "
        "channel.",
        _prelu, module="PReLU",
        params=(Param("num_parameters", "int", 1, "1 (a shared slope) or the number of "
                      "channels (one slope each)", min=1, max=1_000_000),
                Param("init", "float", 0.25, "Starting slope for negative inputs")),
    ),
    LayerSpec(
        "Softplus", "activation", "log(1 + exp(beta * x)) / beta: a smooth ReLU that is "
        "always positive (e.g. for a predicted standard deviation).",
        _same, module="Softplus", never_negative=True,
        params=(Param("beta", "float", 1.0, "Sharpness of the bend", min=0, min_exclusive=True),
                Param("threshold", "float", 20.0, "Above beta * x > threshold it is just x",
                      min=0, min_exclusive=True)),
    ),
    LayerSpec(
        "GroupNorm", "norm",
        "Normalizes groups of channels within each sample; independent of the batch size, "
        "so it works with tiny batches.",
        _group_norm, module="GroupNorm", positional=("num_groups", "num_channels"),
        channels_first=True,
        infer=_first_dim("num_channels"),
        params=(Param("num_groups", "int", 1, "Channels are split into this many groups; "
                      "it must divide them", min=1, max=1_000_000),
                _in("num_channels", "Channels"), EPS,
                Param("affine", "bool", True, "Learn a scale and shift per channel")),
    ),
    LayerSpec(
        "InstanceNorm2d", "norm",
        "Normalizes each channel of each image on its own; used in style transfer.",
        _rank([3], "InstanceNorm2d"), module="InstanceNorm2d", positional=("num_features",),
        infer=_first_dim("num_features"),
        params=(_in("num_features", "Channels"), EPS, MOMENTUM,
                Param("affine", "bool", False, "Learn a scale and shift per channel"),
                Param("track_running_stats", "bool", False, "Keep running statistics for "
                      "evaluation, as BatchNorm does")),
    ),
    LayerSpec(
        "AvgPool1d", "pool", "Averages each window of a sequence (N, C, L).",
        _pool(1, "Avg"), module="AvgPool1d", positional=("kernel_size",),
        params=_pool_params(avg=True),
    ),
    LayerSpec(
        "AdaptiveAvgPool1d", "pool",
        "Averages a sequence (N, C, L) down to a fixed length, whatever L is (1: the mean over "
        "time).",
        _adaptive(1, "AdaptiveAvgPool1d"), module="AdaptiveAvgPool1d",
        positional=("output_size",),
        params=(Param("output_size", "int", 1, "Length of the output", min=1),),
    ),
    LayerSpec(
        "AdaptiveMaxPool2d", "pool",
        "Keeps the largest value of each region, down to a fixed output size.",
        _adaptive(2, "AdaptiveMaxPool2d"), module="AdaptiveMaxPool2d",
        positional=("output_size",),
        params=(Param("output_size", "pair", 1, "Height and width of the output", min=1),),
    ),
    LayerSpec(
        "Dropout1d", "regularization",
        "Randomly zeroes whole channels of a sequence (N, C, L) while training.",
        _rank([2], "Dropout1d"), module="Dropout1d", between_layers=True, channels_first=True,
        params=(Param("p", "float", 0.5, "Probability of zeroing a channel", min=0, max=1),),
    ),
    LayerSpec(
        "ZeroPad2d", "shape", "Adds rows and columns of zeros around an image.",
        _pad2d("ZeroPad2d", False), module="ZeroPad2d", positional=("padding",),
        params=(PAD,),
    ),
    LayerSpec(
        "ReflectionPad2d", "shape",
        "Pads an image with its own mirror image, avoiding dark borders.",
        _pad2d("ReflectionPad2d", True), module="ReflectionPad2d", positional=("padding",),
        params=(PAD,),
    ),
    LayerSpec(
        "ReplicationPad2d", "shape", "Pads an image by repeating its edge pixels.",
        _pad2d("ReplicationPad2d", False), module="ReplicationPad2d", positional=("padding",),
        params=(PAD,),
    ),
    LayerSpec(
        "StochasticDepth", "regularization",
        "While training, drops a whole residual branch at random (per sample: 'row', or the "
        "whole batch: 'batch'); put it on the branch before the Add. torchvision.ops.",
        _same, module="StochasticDepth", positional=("p", "mode"),
        import_from="torchvision.ops",
        params=(Param("p", "float", 0.1, "Probability of dropping the branch", min=0, max=1),
                Param("mode", "choice", "row", "'row' drops per sample, 'batch' for all",
                      choices=("row", "batch"))),
    ),
]
