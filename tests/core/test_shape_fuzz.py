"""Shape inference against PyTorch itself, on seeded random single-layer graphs.

For random params and input shapes of the layers with non-trivial shape rules,
the validator's verdict is compared with what PyTorch does on a real tensor:
it never accepts what PyTorch refuses, its inferred shape is the real one, the
compiled module runs, and it refuses what PyTorch accepts only on purpose (the
batch dimension as a `dim`, or a tensor of the wrong rank, which PyTorch would
silently read as one unbatched sample).
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import pytest
import torch
from torch import nn

from server.compiler import compile_graph
from server.validation import validate_graph

from .support import chain, randn

# Squeeze refuses a dimension that is not 1, which PyTorch silently leaves alone.
ON_PURPOSE = ("expects input", "is the batch dimension", "Squeeze removes only")
TYPES = ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
         "Flatten", "Softmax", "LogSoftmax", "Unflatten", "Reshape", "LayerNorm", "BatchNorm1d",
         "BatchNorm2d", "Dropout2d", "Concat"]


def _size(rng: random.Random, lo: int, hi: int) -> Any:
    if rng.random() < 0.3:
        return [rng.randint(lo, hi), rng.randint(lo, hi)]
    return rng.randint(lo, hi)


def _params(rng: random.Random, type_: str, rank: int) -> dict[str, Any]:
    dim = rng.randint(-rank - 1, rank)
    if type_.startswith("Conv"):
        return {"out_channels": rng.randint(1, 6), "kernel_size": _size(rng, 1, 5),
                "stride": _size(rng, 1, 3), "padding": _size(rng, 0, 3),
                "dilation": _size(rng, 1, 3), "groups": rng.choice([1, 1, 2, 3])}
    if "Pool" in type_ and "Adaptive" not in type_:
        p = {"kernel_size": _size(rng, 1, 4), "padding": _size(rng, 0, 2),
             "ceil_mode": rng.random() < 0.5}
        p.update({"dilation": _size(rng, 1, 2)} if "Max" in type_
                 else {"count_include_pad": rng.random() < 0.5})
        if rng.random() < 0.5:
            p["stride"] = _size(rng, 1, 3)
        return p
    if type_ == "AdaptiveAvgPool2d":
        return {"output_size": _size(rng, 1, 5)}
    if type_ == "Flatten":
        return {"start_dim": dim, "end_dim": rng.randint(-rank - 1, rank)}
    if type_ in ("Softmax", "LogSoftmax", "Concat"):
        return {"dim": dim}
    if type_ == "Unflatten":
        return {"dim": dim, "unflattened_size": [rng.randint(1, 4)
                                                 for _ in range(rng.randint(1, 3))]}
    if type_ == "Reshape":
        return {"shape": [rng.choice([-1, 1, 2, 3, 4, 6, 12]) for _ in range(rng.randint(1, 3))]}
    if type_ == "LayerNorm" and rng.random() < 0.5:
        return {"normalized_shape": [rng.randint(1, 5) for _ in range(rng.randint(1, 2))]}
    return {}


def _pytorch(type_: str, p: dict[str, Any], shape: list[int]) -> Any:
    """The hand-written layer, or a tensor function."""
    c = shape[0]
    if type_.startswith("Conv"):
        return getattr(nn, type_)(c, p["out_channels"], p["kernel_size"], stride=p["stride"],
                                  padding=p["padding"], dilation=p["dilation"],
                                  groups=p["groups"])
    if "Pool" in type_ or type_ in ("Flatten", "Softmax", "LogSoftmax"):
        return getattr(nn, type_)(**p)
    if type_ == "Unflatten":
        return nn.Unflatten(p["dim"], p["unflattened_size"])
    if type_ == "Reshape":
        return lambda x: x.reshape(x.size(0), *p["shape"])
    if type_ == "Concat":
        return lambda x: torch.cat([x, x.tanh()], dim=p["dim"])
    if type_ == "LayerNorm":
        return nn.LayerNorm(p.get("normalized_shape", [shape[-1]]))
    return {"BatchNorm1d": nn.BatchNorm1d, "BatchNorm2d": nn.BatchNorm2d}.get(
        type_, lambda _: nn.Dropout2d())(c)


def _case(seed: int) -> tuple[str, dict[str, Any], list[int]]:
    rng = random.Random(seed)
    type_ = rng.choice(TYPES)
    rank = rng.choice([1, 2, 3])
    if type_.endswith("1d") and type_ != "BatchNorm1d":
        rank = rng.choice([2, 2, 1])
    if type_.endswith("2d"):
        rank = rng.choice([3, 3, 2])
    return type_, _params(rng, type_, rank), [rng.randint(1, 9) for _ in range(rank)]


def _graph(type_: str, params: dict[str, Any], shape: list[int]) -> dict[str, Any]:
    if type_ != "Concat":
        return chain(shape, (type_, params))
    g = chain(shape, ("Tanh", {}))
    g["nodes"].append({"id": "cat", "type": "Concat", "params": params, "inputs": ["x", "n1"]})
    return g


NEW_TYPES = ["ConvTranspose1d", "ConvTranspose2d", "Upsample", "PixelShuffle", "PixelUnshuffle",
             "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool2d", "ZeroPad2d", "ReflectionPad2d",
             "ReplicationPad2d", "GroupNorm", "Permute", "Transpose", "Mean", "Sum", "Squeeze",
             "Unsqueeze", "Select"]


def _new_case(seed: int) -> tuple[str, dict[str, Any], list[int]]:
    rng = random.Random(10_000 + seed)
    type_ = rng.choice(NEW_TYPES)
    rank = rng.choice([1, 2, 3])
    if type_.endswith("1d"):
        rank = rng.choice([2, 2, 1])
    if type_.endswith("2d") or "Pixel" in type_:
        rank = rng.choice([3, 3, 2])
    shape = [rng.randint(1, 9) for _ in range(rank)]
    dim = rng.randint(-rank - 1, rank)
    if type_.startswith("ConvTranspose"):
        # Pairs for the 2-d layer; mostly single numbers for the 1-d one.
        size = (lambda lo, hi: _size(rng, lo, hi)) if rank == 3 or rng.random() < 0.2 else \
            rng.randint
        p = {"out_channels": rng.randint(1, 4), "kernel_size": size(1, 4),
             "stride": size(1, 3), "padding": size(0, 2), "output_padding": size(0, 2),
             "dilation": size(1, 2), "groups": rng.choice([1, 1, 2])}
    elif type_ == "Upsample":
        p = {"mode": rng.choice(["nearest", "linear", "bilinear", "bicubic"])}
        if rng.random() < 0.5:
            p.update(size=[rng.randint(1, 9) for _ in range(rng.choice([1, 2]))],
                     scale_factor=None)
        else:
            p["scale_factor"] = rng.choice([0.5, 1.5, 2.0, 3.0])
    elif type_ in ("PixelShuffle", "PixelUnshuffle"):
        p = {"upscale_factor" if type_ == "PixelShuffle" else "downscale_factor":
             rng.randint(1, 3)}
        shape[0] = rng.choice([1, 2, 4, 8, 9])
    elif type_ == "AvgPool1d":
        p = {"kernel_size": rng.randint(1, 4), "padding": rng.randint(0, 2),
             "ceil_mode": rng.random() < 0.5, "count_include_pad": rng.random() < 0.5}
    elif type_.startswith("Adaptive"):
        p = {"output_size": rng.randint(1, 5) if "1d" in type_ else _size(rng, 1, 5)}
    elif type_.endswith("Pad2d"):
        p = {"padding": rng.randint(0, 4) if rng.random() < 0.5
             else [rng.randint(0, 4) for _ in range(4)]}
    elif type_ == "GroupNorm":
        p = {"num_groups": rng.randint(1, 4)}
    elif type_ == "Permute":
        p = {"dims": rng.sample(range(1, rank + 1), rank) if rng.random() < 0.8
             else [rng.randint(-2, rank) for _ in range(rank)]}
    elif type_ == "Transpose":
        p = {"dim0": dim, "dim1": rng.randint(-rank - 1, rank)}
    elif type_ in ("Mean", "Sum"):
        p = {"dim": dim if rng.random() < 0.6 else [rng.randint(-rank, rank) for _ in range(2)],
             "keepdim": rng.random() < 0.5}
    elif type_ == "Squeeze":
        p = {"dim": dim}
        shape[rng.randrange(rank)] = 1
    elif type_ == "Unsqueeze":
        p = {"dim": rng.randint(-rank - 2, rank + 1)}
    else:  # Select
        p = {"dim": dim, "index": rng.randint(-5, 5)}
    return type_, p, shape


def _new_pytorch(type_: str, p: dict[str, Any], shape: list[int]) -> Any:
    """Hand-written PyTorch for the NEW_TYPES."""
    if type_.startswith("ConvTranspose"):
        return getattr(nn, type_)(shape[0], p["out_channels"], p["kernel_size"],
                                  stride=p["stride"], padding=p["padding"],
                                  output_padding=p["output_padding"], groups=p["groups"],
                                  dilation=p["dilation"])
    if type_ == "Upsample":
        return nn.Upsample(size=p.get("size") and tuple(p["size"]),
                           scale_factor=p.get("scale_factor"), mode=p["mode"])
    if type_ == "GroupNorm":
        return nn.GroupNorm(p["num_groups"], shape[0])
    if type_ in ("Permute", "Transpose", "Mean", "Sum", "Squeeze", "Unsqueeze", "Select"):
        return {
            "Permute": lambda x: x.permute(0, *p["dims"]),
            "Transpose": lambda x: x.transpose(p["dim0"], p["dim1"]),
            "Mean": lambda x: x.mean(dim=p["dim"], keepdim=p["keepdim"]),
            "Sum": lambda x: x.sum(dim=p["dim"], keepdim=p["keepdim"]),
            "Squeeze": lambda x: x.squeeze(p["dim"]),
            "Unsqueeze": lambda x: x.unsqueeze(p["dim"]),
            "Select": lambda x: x.select(p["dim"], p["index"]),
        }[type_]
    # Pools, paddings, pixel shuffles: the params are the constructor's, lists as tuples.
    return getattr(nn, type_)(**{k: tuple(v) if isinstance(v, list) else v
                                 for k, v in p.items()})


@pytest.mark.parametrize("block", range(8))
def test_shape_inference_agrees_with_pytorch(block: int):
    for seed in range(block * 60, (block + 1) * 60):
        _check(seed, *_case(seed))


@pytest.mark.parametrize("block", range(4))
def test_new_layer_shapes_agree_with_pytorch(block: int):
    """The generative, padding, pooling and tensor-op layers, on their own seeds."""
    for seed in range(block * 60, (block + 1) * 60):
        _check(seed, *_new_case(seed))


def _check(seed: int, type_: str, params: dict[str, Any], shape: list[int]) -> None:
    g = _graph(type_, params, shape)
    report = validate_graph(g)
    x = randn(2, shape, seed=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = (_new_pytorch if type_ in NEW_TYPES else _pytorch)(type_, params, shape)
            if isinstance(layer, nn.Module):
                layer.eval()
            real = layer(x)
        real_shape = list(real.shape[1:]) if 0 not in real.shape else None
    except (RuntimeError, ValueError, IndexError):
        real_shape = None
    where = (seed, type_, params, shape, [e.message for e in report.all_errors()])
    if report.valid:
        assert real_shape is not None, ("accepted what PyTorch refuses", where)
        assert report.nodes[report.output].output_shape == real_shape, where
        compiled = compile_graph(g).eval()
        with torch.no_grad():
            assert list(compiled(x).shape[1:]) == real_shape, where
    elif real_shape is not None:
        messages = [e.message for e in report.all_errors()]
        assert any(m in msg for m in ON_PURPOSE for msg in messages), (
            "refused what PyTorch accepts", where)
