"""Layers that make tensors larger: transposed convolutions, upsampling, pixel shuffles.

Generators (DCGAN), decoders (autoencoders) and super-resolution networks grow
a small tensor back into an image with these. Shapes exclude the batch: a 2-d
layer takes (C, H, W).
"""

from __future__ import annotations

import math

from .layers import BIAS, LayerSpec, _first_dim, _in, _size
from .params import Param
from .shapes import Shape, ShapeError, fmt, need_rank


def _spatial(v: int | tuple[int, ...], n: int, param: str) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * n
    if len(v) != n:
        raise ShapeError(f"{param} must be a single number for a 1-d layer, got {list(v)}", param)
    return tuple(v)


def _conv_transpose(n: int):
    what = f"ConvTranspose{n}d"

    def rule(shapes: list[Shape], p: dict) -> Shape:
        (s,) = shapes
        need_rank(s, [n + 1], what)
        if s[0] % p["groups"] or p["out_channels"] % p["groups"]:
            raise ShapeError(f"groups={p['groups']} must divide both in_channels ({s[0]}) and "
                             f"out_channels ({p['out_channels']})", "groups")
        k, st, pad, op, d = (_spatial(p[name], n, name) for name in
                             ("kernel_size", "stride", "padding", "output_padding", "dilation"))
        out = []
        for i in range(n):
            if op[i] >= max(st[i], d[i]):
                raise ShapeError(f"output_padding ({op[i]}) must be smaller than stride "
                                 f"({st[i]}) or dilation ({d[i]})", "output_padding")
            # The inverse of a convolution's size formula, as PyTorch documents it.
            size = (s[1 + i] - 1) * st[i] - 2 * pad[i] + d[i] * (k[i] - 1) + op[i] + 1
            if size < 1:
                raise ShapeError(f"padding ({pad[i]}) is too large: the output would have "
                                 f"{size} positions", "padding")
            out.append(size)
        return (p["out_channels"], *out)
    return rule


def _conv_transpose_params() -> tuple[Param, ...]:
    return (
        _in("in_channels", "Channels"),
        _size("out_channels", "Output channels"),
        Param("kernel_size", "pair", 3, "Size of each filter", min=1, max=1024),
        Param("stride", "pair", 1, "How much larger the output is: 2 roughly doubles it",
              min=1, max=1024),
        Param("padding", "pair", 0, "Trimmed from each side of the output "
              "(dilation * (kernel_size - 1) - padding zeros pad the input)", min=0, max=1024),
        Param("output_padding", "pair", 0, "Added to one side of the output to reach an exact "
              "size; smaller than stride", min=0, max=1024),
        Param("groups", "int", 1, "Split channels into independent groups", min=1),
        BIAS,
        Param("dilation", "pair", 1, "Spacing between kernel elements", min=1, max=1024),
    )


MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,),
         "trilinear": (3,)}


def _upsample(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    mode = p["mode"]
    ranks = [r + 1 for r in MODES[mode]]
    need_rank(s, ranks, f"Upsample with mode {mode!r}")
    n = len(s) - 1
    if (p["size"] is None) == (p["scale_factor"] is None):
        raise ShapeError("give either size or scale_factor (exactly one): empty "
                         "scale_factor when you set size", "scale_factor")
    if p["align_corners"] is not None and mode == "nearest":
        raise ShapeError("align_corners only applies to the linear modes; leave it empty for "
                         "'nearest'", "align_corners")
    if p["size"] is not None:
        if len(p["size"]) != n:
            raise ShapeError(f"size needs {n} value{'s' if n > 1 else ''}, one per spatial "
                             f"dimension of {fmt(s)}", "size")
        return (s[0], *p["size"])
    # PyTorch rounds the scaled size down.
    out = tuple(math.floor(d * p["scale_factor"]) for d in s[1:])
    if min(out) < 1:
        raise ShapeError(f"scale_factor {p['scale_factor']} would make {fmt(s)} empty",
                         "scale_factor")
    return (s[0], *out)


def _pixel_shuffle(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    need_rank(s, [3], "PixelShuffle")
    r = p["upscale_factor"]
    if s[0] % (r * r):
        raise ShapeError(f"channels ({s[0]}) must be divisible by upscale_factor squared "
                         f"({r * r})", "upscale_factor")
    return (s[0] // (r * r), s[1] * r, s[2] * r)


def _pixel_unshuffle(shapes: list[Shape], p: dict) -> Shape:
    (s,) = shapes
    need_rank(s, [3], "PixelUnshuffle")
    r = p["downscale_factor"]
    if s[1] % r or s[2] % r:
        raise ShapeError(f"height and width of {fmt(s)} must be divisible by "
                         f"downscale_factor ({r})", "downscale_factor")
    return (s[0] * r * r, s[1] // r, s[2] // r)


GENERATIVE_LAYERS: list[LayerSpec] = [
    LayerSpec(
        "ConvTranspose1d", "generative",
        "A convolution run backwards: spreads each input position over a window, making a "
        "sequence longer (stride 2 about doubles it). Input (N, C, L).",
        _conv_transpose(1), module="ConvTranspose1d",
        positional=("in_channels", "out_channels", "kernel_size"),
        infer=_first_dim("in_channels"), params=_conv_transpose_params(),
    ),
    LayerSpec(
        "ConvTranspose2d", "generative",
        "A convolution run backwards: grows an image (stride 2 about doubles height and "
        "width); the learned upsampling of DCGAN generators and decoders. Input (N, C, H, W).",
        _conv_transpose(2), module="ConvTranspose2d",
        positional=("in_channels", "out_channels", "kernel_size"),
        infer=_first_dim("in_channels"), params=_conv_transpose_params(),
    ),
    LayerSpec(
        "Upsample", "generative",
        "Enlarges a signal or image without learning anything: repeats (nearest) or "
        "interpolates (linear, bilinear, bicubic) values, to a size or by a scale factor.",
        _upsample, module="Upsample",
        params=(Param("size", "shape", None, "Output size of each spatial dimension, e.g. "
                      "[32, 32] (or give scale_factor)", nullable=True),
                Param("scale_factor", "float", 2.0, "Multiply each spatial size by this "
                      "(empty when size is given)", min=0, min_exclusive=True, max=1024,
                      nullable=True),
                Param("mode", "choice", "nearest", "How new values are made",
                      choices=tuple(MODES)),
                Param("align_corners", "choice", None, "Linear modes only: align the corner "
                      "pixels of input and output (empty for 'nearest')", nullable=True,
                      choices=(None, False, True))),
    ),
    LayerSpec(
        "PixelShuffle", "generative",
        "Rearranges channels into space: (N, C*r*r, H, W) becomes (N, C, H*r, W*r); the "
        "sharp upsampling of super-resolution networks.",
        _pixel_shuffle, module="PixelShuffle", positional=("upscale_factor",),
        params=(Param("upscale_factor", "int", 2, "How much larger height and width get",
                      min=1, max=64),),
    ),
    LayerSpec(
        "PixelUnshuffle", "generative",
        "The inverse of PixelShuffle: (N, C, H*r, W*r) becomes (N, C*r*r, H, W).",
        _pixel_unshuffle, module="PixelUnshuffle", positional=("downscale_factor",),
        params=(Param("downscale_factor", "int", 2, "How much smaller height and width get",
                      min=1, max=64),),
    ),
]
