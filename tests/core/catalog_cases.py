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
from torchvision.ops import StochasticDepth


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
    # How the hand-written forward uses the oracle's module (e.g. `out[:, -1, :]` of an LSTM);
    # None calls it on the input(s).
    call: Callable[..., torch.Tensor] | None = None


def row(id: str, type: str, shape: tuple[int, ...], params: dict[str, Any],
        oracle: Callable[[], Any], branches: tuple = (),
        call: Callable[..., torch.Tensor] | None = None) -> Case:
    return Case(id, type, shape, params, oracle, branches, call)


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
    # -- more activations, norms, pools, paddings --------------------------------
    row("relu6", "ReLU6", (5,), {}, lambda: nn.ReLU6()),
    row("hardtanh", "Hardtanh", (2, 5), {"min_val": -0.5, "max_val": 2},
        lambda: nn.Hardtanh(-0.5, 2.0)),
    row("hardswish", "Hardswish", (5,), {}, lambda: nn.Hardswish()),
    row("hardsigmoid", "Hardsigmoid", (5,), {}, lambda: nn.Hardsigmoid()),
    row("mish", "Mish", (5,), {}, lambda: nn.Mish()),
    row("prelu", "PReLU", (5,), {}, lambda: nn.PReLU()),
    row("prelu-channels", "PReLU", (3, 4, 4), {"num_parameters": 3, "init": 0.1},
        lambda: nn.PReLU(3, init=0.1)),
    row("softplus", "Softplus", (5,), {"beta": 2, "threshold": 10},
        lambda: nn.Softplus(beta=2, threshold=10)),
    row("groupnorm", "GroupNorm", (6, 4, 4), {"num_groups": 3}, lambda: nn.GroupNorm(3, 6)),
    row("instancenorm2d", "InstanceNorm2d", (3, 5, 5), {"affine": True},
        lambda: nn.InstanceNorm2d(3, affine=True)),
    row("avgpool1d", "AvgPool1d", (3, 10), {"kernel_size": 3, "stride": 2, "padding": 1},
        lambda: nn.AvgPool1d(3, stride=2, padding=1)),
    row("adaptiveavgpool1d", "AdaptiveAvgPool1d", (4, 9), {}, lambda: nn.AdaptiveAvgPool1d(1)),
    row("adaptivemaxpool2d", "AdaptiveMaxPool2d", (3, 7, 9), {"output_size": [2, 3]},
        lambda: nn.AdaptiveMaxPool2d((2, 3))),
    row("dropout1d", "Dropout1d", (3, 8), {"p": 0.2}, lambda: nn.Dropout1d(0.2)),
    row("zeropad2d", "ZeroPad2d", (2, 4, 5), {"padding": [1, 2, 0, 3]},
        lambda: nn.ZeroPad2d((1, 2, 0, 3))),
    row("reflectionpad2d", "ReflectionPad2d", (2, 4, 5), {"padding": 2},
        lambda: nn.ReflectionPad2d(2)),
    row("replicationpad2d", "ReplicationPad2d", (2, 4, 5), {"padding": 1},
        lambda: nn.ReplicationPad2d(1)),
    row("stochasticdepth", "StochasticDepth", (4,), {"p": 0.2},
        lambda: StochasticDepth(0.2, "row")),
    # -- sequence and text ---------------------------------------------------------
    row("embedding", "Embedding", (7,), {"num_embeddings": 20, "embedding_dim": 5},
        lambda: nn.Embedding(20, 5)),
    row("embedding-padding", "Embedding", (2, 3), {"num_embeddings": 9, "embedding_dim": 4,
                                                  "padding_idx": 0},
        lambda: nn.Embedding(9, 4, padding_idx=0)),
    row("embeddingbag", "EmbeddingBag", (7,), {"num_embeddings": 20, "embedding_dim": 5,
                                               "mode": "sum"},
        lambda: nn.EmbeddingBag(20, 5, mode="sum")),
    # GPT-2's learned positions: x + wpe(arange(T)) (karpathy/nanoGPT, model.py).
    row("positionalembedding", "PositionalEmbedding", (6, 8), {"num_embeddings": 10},
        lambda: nn.Embedding(10, 8), call=lambda m, x: x + m(torch.arange(x.size(1)))),
    row("rnn", "RNN", (6, 4), {"hidden_size": 5, "nonlinearity": "relu"},
        lambda: nn.RNN(4, 5, nonlinearity="relu", batch_first=True),
        call=lambda m, x: m(x)[0]),
    row("lstm", "LSTM", (6, 4), {"hidden_size": 5}, lambda: nn.LSTM(4, 5, batch_first=True),
        call=lambda m, x: m(x)[0]),
    # pytorch/examples mnist_rnn: the last time step of a stacked LSTM's output.
    row("lstm-last", "LSTM", (6, 4), {"hidden_size": 5, "num_layers": 2, "dropout": 0.1,
                                      "returns": "last"},
        lambda: nn.LSTM(4, 5, num_layers=2, dropout=0.1, batch_first=True),
        call=lambda m, x: m(x)[0][:, -1, :]),
    row("lstm-hidden-bidirectional", "LSTM", (6, 4),
        {"hidden_size": 5, "bidirectional": True, "returns": "hidden"},
        lambda: nn.LSTM(4, 5, bidirectional=True, batch_first=True),
        call=lambda m, x: torch.cat([m(x)[1][0][-2], m(x)[1][0][-1]], dim=1)),
    row("gru-hidden", "GRU", (6, 4), {"hidden_size": 5, "num_layers": 2, "returns": "hidden"},
        lambda: nn.GRU(4, 5, num_layers=2, batch_first=True), call=lambda m, x: m(x)[1][-1]),
    row("gru-bias-free", "GRU", (3, 2), {"hidden_size": 3, "bias": False},
        lambda: nn.GRU(2, 3, bias=False, batch_first=True), call=lambda m, x: m(x)[0]),
    row("multiheadattention", "MultiheadAttention", (6, 8), {"num_heads": 2},
        lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        call=lambda m, x: m(x, x, x)[0]),
    # nanoGPT's causal mask: position t attends to positions <= t.
    row("multiheadattention-causal", "MultiheadAttention", (6, 8),
        {"num_heads": 4, "causal": True, "bias": False},
        lambda: nn.MultiheadAttention(8, 4, bias=False, batch_first=True),
        call=lambda m, x: m(x, x, x, attn_mask=_future(x), need_weights=False)[0]),
    row("transformerencoderlayer", "TransformerEncoderLayer", (6, 8),
        {"nhead": 2, "dim_feedforward": 16, "activation": "gelu", "norm_first": True},
        lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True,
                                           batch_first=True)),
    row("transformerencoderlayer-causal", "TransformerEncoderLayer", (5, 4),
        {"nhead": 1, "dim_feedforward": 8, "dropout": 0.0, "causal": True},
        lambda: nn.TransformerEncoderLayer(4, 1, 8, dropout=0.0, batch_first=True),
        call=lambda m, x: m(x, src_mask=_future(x))),
    row("transformerdecoderlayer", "TransformerDecoderLayer", (6, 8),
        {"nhead": 2, "dim_feedforward": 16}, lambda: nn.TransformerDecoderLayer(
            8, 2, 16, batch_first=True),
        branches=(("Identity", {}, lambda: nn.Identity()),
                  ("Linear", {"out_features": 8}, lambda: nn.Linear(8, 8)))),
    row("transformerdecoderlayer-causal", "TransformerDecoderLayer", (5, 4),
        {"nhead": 2, "dim_feedforward": 8, "causal": True},
        lambda: nn.TransformerDecoderLayer(4, 2, 8, batch_first=True),
        branches=(("Identity", {}, lambda: nn.Identity()),
                  ("Linear", {"out_features": 4}, lambda: nn.Linear(4, 4))),
        call=lambda m, t, mem: m(t, mem, tgt_mask=_future(t))),
    # -- generative ------------------------------------------------------------------
    row("convtranspose1d", "ConvTranspose1d", (4, 7),
        {"out_channels": 3, "kernel_size": 4, "stride": 2, "padding": 1},
        lambda: nn.ConvTranspose1d(4, 3, 4, stride=2, padding=1)),
    row("convtranspose2d", "ConvTranspose2d", (4, 5, 5),
        {"out_channels": 2, "stride": 2, "padding": 1, "output_padding": 1},
        lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)),
    # pytorch/examples dcgan/main.py: the generator's first layer, a 1x1 noise "image".
    row("convtranspose2d-dcgan", "ConvTranspose2d", (8, 1, 1),
        {"out_channels": 4, "kernel_size": 4, "bias": False},
        lambda: nn.ConvTranspose2d(8, 4, 4, 1, 0, bias=False)),
    row("convtranspose2d-pairs-groups", "ConvTranspose2d", (4, 3, 4),
        {"out_channels": 6, "kernel_size": [2, 3], "stride": [2, 1], "dilation": [1, 2],
         "groups": 2},
        lambda: nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), dilation=(1, 2), groups=2)),
    row("upsample", "Upsample", (2, 4, 5), {}, lambda: nn.Upsample(scale_factor=2.0)),
    row("upsample-bilinear-size", "Upsample", (2, 4, 5),
        {"size": [7, 9], "scale_factor": None, "mode": "bilinear", "align_corners": False},
        lambda: nn.Upsample(size=(7, 9), mode="bilinear", align_corners=False)),
    row("upsample-linear", "Upsample", (2, 5), {"scale_factor": 1.5, "mode": "linear"},
        lambda: nn.Upsample(scale_factor=1.5, mode="linear")),
    row("pixelshuffle", "PixelShuffle", (8, 3, 3), {}, lambda: nn.PixelShuffle(2)),
    row("pixelunshuffle", "PixelUnshuffle", (2, 6, 9), {"downscale_factor": 3},
        lambda: nn.PixelUnshuffle(3)),
    # -- tensor operations -------------------------------------------------------------
    row("mul", "Mul", (6,), {}, lambda: lambda a, b: a * b,
        branches=(("Linear", {"out_features": 4}, lambda: nn.Linear(6, 4)),
                  ("Linear", {"out_features": 4}, lambda: nn.Linear(6, 4)))),
    row("mul-broadcast", "Mul", (3, 4), {}, lambda: lambda a, b: a * b,
        branches=(("Linear", {"out_features": 1}, lambda: nn.Linear(4, 1)),
                  ("Identity", {}, lambda: nn.Identity()))),
    row("sub", "Sub", (6,), {}, lambda: lambda a, b: a - b,
        branches=(("Identity", {}, lambda: nn.Identity()),
                  ("Linear", {"out_features": 6}, lambda: nn.Linear(6, 6)))),
    row("exp", "Exp", (5,), {}, lambda: lambda x: torch.exp(x)),
    row("unary-abs", "Unary", (5,), {"op": "abs"}, lambda: lambda x: x.abs()),
    row("unary-neg", "Unary", (2, 3), {"op": "neg"}, lambda: lambda x: -x),
    row("unary-sigmoid", "Unary", (4,), {"op": "sigmoid"}, lambda: lambda x: torch.sigmoid(x)),
    row("scale", "Scale", (5,), {"factor": 0.5}, lambda: lambda x: x * 0.5),
    row("matmul", "MatMul", (4, 4), {}, lambda: lambda a, b: a @ b,
        branches=(("Identity", {}, lambda: nn.Identity()),
                  ("Linear", {"out_features": 6}, lambda: nn.Linear(4, 6)))),
    row("mean-time", "Mean", (6, 4), {}, lambda: lambda x: x.mean(dim=1)),
    row("mean-keepdim", "Mean", (3, 4, 5), {"dim": [2, 3], "keepdim": True},
        lambda: lambda x: x.mean(dim=(2, 3), keepdim=True)),
    row("sum-last", "Sum", (3, 4), {"dim": -1}, lambda: lambda x: x.sum(-1)),
    row("permute", "Permute", (2, 3, 4), {"dims": [3, 1, 2]},
        lambda: lambda x: x.permute(0, 3, 1, 2)),
    row("transpose", "Transpose", (3, 5), {}, lambda: lambda x: x.transpose(1, 2)),
    row("squeeze", "Squeeze", (3, 1), {}, lambda: lambda x: x.squeeze(-1)),
    row("unsqueeze", "Unsqueeze", (5,), {}, lambda: lambda x: x.unsqueeze(1)),
    row("select-last-step", "Select", (6, 4), {}, lambda: lambda x: x[:, -1, :]),
    row("select-last-dim", "Select", (2, 3, 4), {"dim": -1, "index": 0},
        lambda: lambda x: x[:, :, :, 0]),
    # The run's seed decides the noise: the test seeds before each forward pass.
    row("randnlike", "RandnLike", (5,), {}, lambda: lambda x: torch.randn_like(x)),
    # -- attention by hand (nanoGPT's CausalSelfAttention core) --------------------------
    row("sdpa-causal-heads", "ScaledDotProductAttention", (5, 8),
        {"num_heads": 2, "causal": True}, lambda: _nanogpt_attention(2),
        branches=(("Linear", {"out_features": 8}, lambda: nn.Linear(8, 8)),) * 3),
    row("sdpa-one-head", "ScaledDotProductAttention", (5, 8), {},
        lambda: lambda q, k, v: nn.functional.scaled_dot_product_attention(q, k, v),
        branches=(("Linear", {"out_features": 4}, lambda: nn.Linear(8, 4)),
                  ("Linear", {"out_features": 4}, lambda: nn.Linear(8, 4)),
                  ("Linear", {"out_features": 6}, lambda: nn.Linear(8, 6)))),
]


def _nanogpt_attention(n_head: int) -> Callable[..., torch.Tensor]:
    """karpathy/nanoGPT, model.py, CausalSelfAttention.forward after the split."""
    def attend(q, k, v):
        B, T, C = q.size()
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y.transpose(1, 2).contiguous().view(B, T, C)
    return attend


def _future(x: torch.Tensor) -> torch.Tensor:
    """True above the diagonal: the future positions a causal model must not see."""
    t = x.size(1)
    return torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)


# One input shape (or param) per layer that the shape rule must refuse, with the
# words its error must contain. Layers that take any shape (element-wise
# activations, Exp, Scale...) have none: `SHAPE_FREE` lists them.
@dataclass(frozen=True)
class Wrong:
    id: str
    type: str
    shape: tuple[int, ...]
    params: dict[str, Any]
    error: str
    branches: tuple = ()
    oracle: Callable[[], Any] = lambda: None
    call: None = None


SHAPE_FREE = {"ReLU6", "Hardswish", "Hardsigmoid", "Mish", "Softplus", "StochasticDepth", "Exp",
              "Unary", "Scale", "RandnLike"}
TWO = (("Identity", {}, None), ("Identity", {}, None))

WRONG: list[Wrong] = [
    Wrong("hardtanh", "Hardtanh", (4,), {"min_val": 1, "max_val": 1}, "must be below max_val"),
    Wrong("prelu", "PReLU", (3, 5, 5), {"num_parameters": 4}, "or the channels of (N, 3, 5, 5)"),
    Wrong("groupnorm", "GroupNorm", (6, 4, 4), {"num_groups": 4}, "must divide the channels"),
    Wrong("instancenorm2d", "InstanceNorm2d", (3, 5), {}, "expects input (N, ?, ?, ?)"),
    Wrong("avgpool1d", "AvgPool1d", (3, 4, 4), {}, "expects input (N, ?, ?)"),
    Wrong("adaptiveavgpool1d", "AdaptiveAvgPool1d", (8,), {}, "expects input (N, ?, ?)"),
    Wrong("adaptivemaxpool2d", "AdaptiveMaxPool2d", (3, 8), {}, "expects input (N, ?, ?, ?)"),
    Wrong("dropout1d", "Dropout1d", (3, 4, 4), {}, "expects input (N, ?, ?)"),
    Wrong("zeropad2d", "ZeroPad2d", (8,), {}, "expects input (N, ?, ?, ?)"),
    Wrong("zeropad2d-three", "ZeroPad2d", (1, 4, 4), {"padding": [1, 2, 3]},
          "one number or four"),
    Wrong("reflectionpad2d", "ReflectionPad2d", (1, 4, 4), {"padding": 4},
          "smaller than the size it pads"),
    Wrong("replicationpad2d", "ReplicationPad2d", (4, 4), {}, "expects input (N, ?, ?, ?)"),
    Wrong("embedding-padding", "Embedding", (4,), {"num_embeddings": 5, "embedding_dim": 2,
                                                   "padding_idx": 5}, "below num_embeddings"),
    Wrong("embeddingbag", "EmbeddingBag", (2, 3), {"num_embeddings": 5, "embedding_dim": 2},
          "EmbeddingBag expects input (N, ?)"),
    Wrong("positionalembedding", "PositionalEmbedding", (6, 8), {"num_embeddings": 4},
          "raise it to at least 6"),
    Wrong("positionalembedding-rank", "PositionalEmbedding", (8,), {"num_embeddings": 4},
          "expects input (N, ?, ?)"),
    Wrong("rnn", "RNN", (2, 3, 4), {"hidden_size": 3}, "RNN expects input (N, ?, ?)"),
    Wrong("lstm", "LSTM", (8,), {"hidden_size": 3}, "LSTM expects input (N, ?, ?)"),
    Wrong("lstm-dropout", "LSTM", (5, 8), {"hidden_size": 3, "dropout": 0.2},
          "with num_layers=1 it does nothing"),
    Wrong("gru-batch-second-last", "GRU", (5, 8), {"hidden_size": 3, "batch_first": False,
                                                  "returns": "last"}, "would drop the batch"),
    Wrong("multiheadattention", "MultiheadAttention", (5, 8), {"num_heads": 3},
          "must divide embed_dim"),
    Wrong("multiheadattention-rank", "MultiheadAttention", (8,), {},
          "expects input (N, ?, ?)"),
    Wrong("transformerencoderlayer", "TransformerEncoderLayer", (2, 3, 8), {"nhead": 2},
          "expects input (N, ?, ?)"),
    Wrong("transformerdecoderlayer", "TransformerDecoderLayer", (5, 8), {"nhead": 2},
          "must have d_model=8", branches=(("Identity", {}, None),
                                           ("Linear", {"out_features": 4}, None))),
    Wrong("convtranspose1d", "ConvTranspose1d", (4, 5, 5), {"out_channels": 2},
          "expects input (N, ?, ?)"),
    Wrong("convtranspose2d", "ConvTranspose2d", (4, 5), {"out_channels": 2},
          "expects input (N, ?, ?, ?)"),
    Wrong("convtranspose2d-output-padding", "ConvTranspose2d", (4, 5, 5),
          {"out_channels": 2, "output_padding": 1}, "smaller than stride"),
    Wrong("upsample-bilinear", "Upsample", (2, 5), {"mode": "bilinear"},
          "expects input (N, ?, ?, ?)"),
    Wrong("upsample-both", "Upsample", (2, 5, 5), {"size": [8, 8]}, "exactly one"),
    Wrong("pixelshuffle", "PixelShuffle", (3, 4, 4), {}, "divisible by upscale_factor"),
    Wrong("pixelunshuffle", "PixelUnshuffle", (2, 5, 4), {}, "divisible by downscale_factor"),
    Wrong("mul", "Mul", (3,), {}, "sizes must match or be 1",
          branches=(("Identity", {}, None), ("Linear", {"out_features": 4}, None))),
    Wrong("sub", "Sub", (3, 4), {}, "same rank",
          branches=(("Identity", {}, None), ("Flatten", {}, None))),
    Wrong("matmul", "MatMul", (3, 4), {}, "to equal the second-to-last", branches=TWO),
    Wrong("mean", "Mean", (3, 4), {"dim": 0}, "is the batch dimension"),
    Wrong("sum", "Sum", (3, 4), {"dim": 3}, "out of range"),
    Wrong("permute", "Permute", (2, 3, 4), {"dims": [2, 1]}, "every dimension"),
    Wrong("transpose", "Transpose", (3, 4), {"dim0": 0}, "is the batch dimension"),
    Wrong("squeeze", "Squeeze", (3, 4), {}, "not 1"),
    Wrong("unsqueeze", "Unsqueeze", (3,), {"dim": 3}, "out of range"),
    Wrong("select", "Select", (3, 4), {"index": 3}, "out of range"),
    Wrong("sdpa-heads", "ScaledDotProductAttention", (5, 6), {"num_heads": 4},
          "num_heads (4) must divide the features of q (N, 5, 6)", branches=(TWO[0],) * 3),
    Wrong("sdpa-keys", "ScaledDotProductAttention", (5, 6), {},
          "k (N, 5, 4) must have as many features as q (N, 5, 6)",
          branches=(TWO[0], ("Linear", {"out_features": 4}, None), TWO[0])),
    Wrong("sdpa-rank", "ScaledDotProductAttention", (6,), {},
          "ScaledDotProductAttention's q expects input (N, ?, ?)", branches=(TWO[0],) * 3),
]
