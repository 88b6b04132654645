"""One or more equivalence rows per catalogue layer, with hand-written PyTorch as the oracle.

Each `Case` is a layer type with its params, the input shape (no batch) and
`oracle`: a zero-argument function returning what a PyTorch user would have
written by hand, either an `nn.Module` (its weights are loaded from the compiled
module before comparing) or a plain tensor function (Reshape, Add, Concat).
Merge layers get `branches`: catalogue nodes fed by the Input whose outputs
the merge combines, each with its own hand-written oracle.
`test_catalog_equivalence.py` turns every row into a graph and checks the
validator, compiler and exporter against the oracle. A new catalogue layer
needs at least one row here, or `test_rows_cover_the_catalogue` fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class Case:
    id: str
    type: str
    shape: tuple[int, ...]
    params: dict[str, Any]
    oracle: Callable[[], Any]
    # Merge layers: (type, params, oracle) for each input branch.
    branches: tuple[tuple[str, dict[str, Any], Callable[[], nn.Module]], ...] = field(
        default=())


def row(id: str, type: str, shape: tuple[int, ...], params: dict[str, Any],
        oracle: Callable[[], Any], branches: tuple = ()) -> Case:
    return Case(id, type, shape, params, oracle, branches)


CASES: list[Case] = [
    # Several outputs (the graph returns every port as a tuple).
    row("split", "Split", (10, 4), {"sections": [3, 7], "dim": 1},
        lambda: lambda x: torch.split(x, [3, 7], dim=1)),
    row("split_last", "Split", (2, 6), {"sections": [1, 2, 3], "dim": -1},
        lambda: lambda x: torch.split(x, [1, 2, 3], dim=-1)),
    row("chunk", "Chunk", (8, 3, 3), {"chunks": 2},
        lambda: lambda x: x.chunk(2, dim=1)),
    row("chunk_uneven", "Chunk", (4, 7), {"chunks": 3, "dim": 2},
        lambda: lambda x: x.chunk(3, dim=2)),
    # -- input ---------------------------------------------------------------
    row("input", "Input", (3, 5), {"shape": [3, 5]}, lambda: nn.Identity()),
    # -- linear --------------------------------------------------------------
    row("linear", "Linear", (20,), {"out_features": 7}, lambda: nn.Linear(20, 7)),
    row("linear-nobias", "Linear", (20,), {"out_features": 7, "bias": False},
        lambda: nn.Linear(20, 7, bias=False)),
    row("linear-given-in", "Linear", (6,), {"in_features": 6, "out_features": 2},
        lambda: nn.Linear(6, 2)),
    row("linear-rank2", "Linear", (4, 6), {"out_features": 5}, lambda: nn.Linear(6, 5)),
    # -- conv ----------------------------------------------------------------
    row("conv1d", "Conv1d", (3, 20), {"out_channels": 4, "kernel_size": 5},
        lambda: nn.Conv1d(3, 4, 5)),
    row("conv1d-stride-dilation", "Conv1d", (3, 20),
        {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2},
        lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2)),
    row("conv1d-groups", "Conv1d", (4, 16), {"out_channels": 6, "groups": 2, "bias": False},
        lambda: nn.Conv1d(4, 6, 3, groups=2, bias=False)),
    row("conv2d", "Conv2d", (3, 8, 8), {"out_channels": 8, "kernel_size": 3, "padding": 1},
        lambda: nn.Conv2d(3, 8, 3, padding=1)),
    row("conv2d-default-kernel", "Conv2d", (1, 6, 6), {"out_channels": 2},
        lambda: nn.Conv2d(1, 2, 3)),
    row("conv2d-pairs", "Conv2d", (3, 9, 10),
        {"out_channels": 4, "kernel_size": [3, 5], "stride": [2, 1], "padding": [1, 2]},
        lambda: nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2))),
    row("conv2d-dilation-groups", "Conv2d", (3, 11, 11),
        {"out_channels": 6, "kernel_size": 3, "dilation": [2, 3], "groups": 3, "bias": False},
        lambda: nn.Conv2d(3, 6, 3, dilation=(2, 3), groups=3, bias=False)),
    # -- pool ----------------------------------------------------------------
    row("maxpool1d", "MaxPool1d", (3, 11), {"kernel_size": 2}, lambda: nn.MaxPool1d(2)),
    row("maxpool1d-ceil", "MaxPool1d", (3, 11),
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        lambda: nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True)),
    row("maxpool1d-dilation", "MaxPool1d", (2, 12), {"kernel_size": 3, "dilation": 2},
        lambda: nn.MaxPool1d(3, dilation=2)),
    row("maxpool2d", "MaxPool2d", (2, 9, 9), {"kernel_size": 2}, lambda: nn.MaxPool2d(2)),
    row("maxpool2d-ceil", "MaxPool2d", (2, 9, 9), {"kernel_size": 3, "stride": 2,
                                                  "ceil_mode": True},
        lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True)),
    # ceil_mode's last window would start in the padding: PyTorch drops it.
    row("maxpool2d-ceil-drop", "MaxPool2d", (1, 5, 5),
        {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
        lambda: nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)),
    # ceil_mode keeps a window hanging off an input shorter than the kernel.
    row("maxpool2d-ceil-short-input", "MaxPool2d", (2, 6, 2), {"kernel_size": 3,
                                                               "ceil_mode": True},
        lambda: nn.MaxPool2d(3, ceil_mode=True)),
    row("maxpool2d-pairs", "MaxPool2d", (2, 9, 10),
        {"kernel_size": [2, 3], "stride": [1, 2], "padding": [1, 1], "dilation": [1, 2]},
        lambda: nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 1), dilation=(1, 2))),
    row("avgpool2d", "AvgPool2d", (2, 8, 8), {"kernel_size": 2}, lambda: nn.AvgPool2d(2)),
    row("avgpool2d-ceil-pad", "AvgPool2d", (2, 8, 7),
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
         "count_include_pad": False},
        lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    row("avgpool2d-pairs", "AvgPool2d", (1, 9, 8), {"kernel_size": [3, 2], "stride": [3, 1]},
        lambda: nn.AvgPool2d((3, 2), stride=(3, 1))),
    row("adaptiveavgpool2d", "AdaptiveAvgPool2d", (3, 7, 9), {},
        lambda: nn.AdaptiveAvgPool2d(1)),
    row("adaptiveavgpool2d-pair", "AdaptiveAvgPool2d", (3, 7, 9), {"output_size": [2, 3]},
        lambda: nn.AdaptiveAvgPool2d((2, 3))),
    # -- norm ----------------------------------------------------------------
    row("batchnorm1d", "BatchNorm1d", (6,), {}, lambda: nn.BatchNorm1d(6)),
    row("batchnorm1d-rank2", "BatchNorm1d", (4, 10), {"eps": 1e-3, "momentum": 0.2},
        lambda: nn.BatchNorm1d(4, eps=1e-3, momentum=0.2)),
    row("batchnorm1d-noaffine", "BatchNorm1d", (5,), {"affine": False},
        lambda: nn.BatchNorm1d(5, affine=False)),
    row("batchnorm2d", "BatchNorm2d", (3, 5, 5), {}, lambda: nn.BatchNorm2d(3)),
    row("batchnorm2d-noaffine", "BatchNorm2d", (3, 4, 4), {"affine": False, "eps": 0.01},
        lambda: nn.BatchNorm2d(3, eps=0.01, affine=False)),
    row("layernorm", "LayerNorm", (10,), {}, lambda: nn.LayerNorm(10)),
    row("layernorm-last-of-rank3", "LayerNorm", (2, 3, 4), {}, lambda: nn.LayerNorm(4)),
    row("layernorm-multidim", "LayerNorm", (4, 6), {"normalized_shape": [4, 6]},
        lambda: nn.LayerNorm([4, 6])),
    row("layernorm-noaffine", "LayerNorm", (3, 5), {"eps": 1e-3, "elementwise_affine": False},
        lambda: nn.LayerNorm(5, eps=1e-3, elementwise_affine=False)),
    # -- regularization (compared in eval mode, where they pass values through) --
    row("dropout", "Dropout", (10,), {"p": 0.3}, lambda: nn.Dropout(0.3)),
    row("dropout2d", "Dropout2d", (3, 4, 4), {}, lambda: nn.Dropout2d()),
    # -- shape ---------------------------------------------------------------
    row("flatten", "Flatten", (2, 3, 4), {}, lambda: nn.Flatten()),
    row("flatten-2-3", "Flatten", (2, 3, 4), {"start_dim": 2, "end_dim": 3},
        lambda: nn.Flatten(2, 3)),
    row("flatten-negative", "Flatten", (2, 3, 4, 5), {"start_dim": -3, "end_dim": -2},
        lambda: nn.Flatten(-3, -2)),
    row("unflatten", "Unflatten", (12,), {"unflattened_size": [3, 4]},
        lambda: nn.Unflatten(1, (3, 4))),
    row("unflatten-last", "Unflatten", (2, 12), {"dim": -1, "unflattened_size": [2, 2, 3]},
        lambda: nn.Unflatten(-1, (2, 2, 3))),
    row("unflatten-middle", "Unflatten", (6, 5), {"dim": 1, "unflattened_size": [2, 3]},
        lambda: nn.Unflatten(1, (2, 3))),
    row("reshape", "Reshape", (12,), {"shape": [3, 4]},
        lambda: lambda x: x.reshape(x.size(0), 3, 4)),
    row("reshape-minus-one", "Reshape", (2, 3, 4), {"shape": [-1, 6]},
        lambda: lambda x: x.reshape(-1, 4, 6)),
    row("reshape-flat", "Reshape", (2, 3, 4), {"shape": [-1]}, lambda: lambda x: x.view(-1, 24)),
    row("identity", "Identity", (5,), {}, lambda: nn.Identity()),
    # -- activations ---------------------------------------------------------
    row("relu", "ReLU", (5,), {}, lambda: nn.ReLU()),
    row("leakyrelu", "LeakyReLU", (5,), {}, lambda: nn.LeakyReLU()),
    row("leakyrelu-slope", "LeakyReLU", (2, 5), {"negative_slope": 0.2},
        lambda: nn.LeakyReLU(0.2)),
    row("elu", "ELU", (5,), {"alpha": 0.5}, lambda: nn.ELU(alpha=0.5)),
    row("gelu", "GELU", (5,), {}, lambda: nn.GELU()),
    row("gelu-tanh", "GELU", (5,), {"approximate": "tanh"}, lambda: nn.GELU(approximate="tanh")),
    row("silu", "SiLU", (5,), {}, lambda: nn.SiLU()),
    row("sigmoid", "Sigmoid", (5,), {}, lambda: nn.Sigmoid()),
    row("tanh", "Tanh", (5,), {}, lambda: nn.Tanh()),
    row("softmax", "Softmax", (5,), {}, lambda: nn.Softmax(dim=1)),
    # A batched rank-3 tensor: PyTorch's implicit dim would pick the batch here.
    row("softmax-rank3", "Softmax", (3, 5), {}, lambda: nn.Softmax(dim=1)),
    row("softmax-last", "Softmax", (3, 5), {"dim": -1}, lambda: nn.Softmax(dim=-1)),
    row("softmax-dim2", "Softmax", (2, 3, 4), {"dim": 2}, lambda: nn.Softmax(dim=2)),
    row("logsoftmax", "LogSoftmax", (5,), {}, lambda: nn.LogSoftmax(dim=1)),
    row("logsoftmax-rank3", "LogSoftmax", (3, 5), {}, lambda: nn.LogSoftmax(dim=1)),
    row("logsoftmax-last", "LogSoftmax", (2, 3, 4), {"dim": -1}, lambda: nn.LogSoftmax(dim=-1)),
    # -- merge ---------------------------------------------------------------
    row("add", "Add", (6,), {}, lambda: lambda a, b: a + b,
        branches=(("Linear", {"out_features": 4}, lambda: nn.Linear(6, 4)),
                  ("Linear", {"out_features": 4}, lambda: nn.Linear(6, 4)))),
    row("add-three", "Add", (2, 5, 5), {}, lambda: lambda a, b, c: a + b + c,
        branches=(("Conv2d", {"out_channels": 3, "padding": 1},
                   lambda: nn.Conv2d(2, 3, 3, padding=1)),
                  ("Conv2d", {"out_channels": 3, "kernel_size": 1}, lambda: nn.Conv2d(2, 3, 1)),
                  ("Conv2d", {"out_channels": 3, "kernel_size": 5, "padding": 2},
                   lambda: nn.Conv2d(2, 3, 5, padding=2)))),
    row("concat", "Concat", (5,), {}, lambda: lambda a, b: torch.cat([a, b], dim=1),
        branches=(("Linear", {"out_features": 3}, lambda: nn.Linear(5, 3)),
                  ("Linear", {"out_features": 2}, lambda: nn.Linear(5, 2)))),
    row("concat-channels", "Concat", (2, 4, 4), {"dim": 1},
        lambda: lambda a, b: torch.cat((a, b), 1),
        branches=(("Conv2d", {"out_channels": 3, "kernel_size": 1}, lambda: nn.Conv2d(2, 3, 1)),
                  ("Conv2d", {"out_channels": 5, "kernel_size": 1}, lambda: nn.Conv2d(2, 5, 1)))),
    row("concat-dim2", "Concat", (3, 4), {"dim": 2}, lambda: lambda a, b: torch.cat([a, b], 2),
        branches=(("Identity", {}, lambda: nn.Identity()),
                  ("Linear", {"out_features": 6}, lambda: nn.Linear(4, 6)))),
    row("concat-last-three", "Concat", (3, 4), {"dim": -1},
        lambda: lambda a, b, c: torch.cat([a, b, c], dim=-1),
        branches=(("Linear", {"out_features": 1}, lambda: nn.Linear(4, 1)),
                  ("ReLU", {}, lambda: nn.ReLU()),
                  ("Linear", {"out_features": 2, "bias": False},
                   lambda: nn.Linear(4, 2, bias=False)))),
]
