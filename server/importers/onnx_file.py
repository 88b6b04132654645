"""Import an ONNX file: its graph mapped to catalogue nodes, its initializers kept as weights.

An ONNX file is a protobuf: reading one runs no code. What a hostile file can
still do is point at external data files (anywhere on disk) or declare tensors
far larger than it holds; both are refused before any tensor is read: external
data is never loaded, every initializer must carry its own bytes, and the total
is bounded.

Each ONNX op becomes the catalogue node a PyTorch exporter made it from (Conv ->
Conv2d, ConvTranspose -> ConvTranspose2d, Gemm -> Linear, Gather of a table by the
input's ids -> Embedding, GlobalAveragePool -> AdaptiveAvgPool2d(1), ...). Node ids
come from the ONNX node names (`/layer1/conv1/Conv` -> `conv1`), so a file that
torchcanvas or torch.onnx exported comes back with its module names. Exporters
fold BatchNorm into the convolution before it in eval mode: such a file imports
as the folded network, which computes the same outputs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from server.catalog import LAYERS

from .modules import compact
from .result import ImportFailed, ImportResult, Unmapped, assemble

MAX_FILE_BYTES = 2 << 30  # protobuf itself cannot hold more
MAX_WEIGHT_BYTES = 1 << 30
# ONNX ops that are one parameterless catalogue layer each.
ELEMENTWISE = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Gelu": "GELU"}
_ID_TYPES = (6, 7)  # TensorProto.INT32, INT64: an input of ids


def import_onnx(path: Path, partial: bool = False) -> ImportResult:
    """The graph and weights of an ONNX file; ImportFailed names what does not map."""
    model = _load_safely(path)
    builder = _Builder(model.graph)
    builder.run()
    graph, names, analysis = assemble(_graph_name(path, model), builder.nodes, builder.output,
                            builder.unmapped, partial, "ONNX operation(s)")
    if names is None:
        return ImportResult(graph=graph, unmapped=builder.unmapped)
    state = {f"{names[nid]}.{key}": value for nid, weights in builder.weights.items()
             for key, value in weights.items()}
    return ImportResult(graph=graph, state_dict=state, validation=analysis.validation)


# -- reading the file -------------------------------------------------------------


def _load_safely(path: Path) -> Any:
    try:
        import onnx
        from onnx import TensorProto
    except ImportError:
        raise ImportFailed("ONNX import needs the onnx extra: "
                           "pip install 'torchcanvas[onnx]'") from None
    if not path.is_file():
        raise ImportFailed(f"no such file: {path.name}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(f"{path.name} is larger than an ONNX file can be")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # a damaged protobuf raises DecodeError and friends
        raise ImportFailed(f"{path.name} is not a readable ONNX file "
                           f"({type(exc).__name__})") from None
    total = 0
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL or t.external_data:
            raise ImportFailed(f"initializer {t.name!r} keeps its data in an external file; "
                               f"torchcanvas reads only weights inside the .onnx file")
        declared = int(np.prod(t.dims, dtype=np.int64)) * _itemsize(t.data_type)
        total += declared
        if declared > MAX_WEIGHT_BYTES or total > MAX_WEIGHT_BYTES:
            raise ImportFailed(f"initializer {t.name!r} declares {declared:,} bytes; the "
                               f"weights of one file are limited to {MAX_WEIGHT_BYTES:,}")
        held = len(t.raw_data) if t.raw_data else _field_bytes(t)
        if held != declared:
            raise ImportFailed(f"initializer {t.name!r} declares {declared:,} bytes but "
                               f"holds {held:,}")
    return model


def _itemsize(data_type: int) -> int:
    from onnx import helper

    return np.dtype(helper.tensor_dtype_to_np_dtype(data_type)).itemsize


def _field_bytes(t: Any) -> int:
    for name in ("float_data", "int64_data", "int32_data", "double_data"):
        values = getattr(t, name)
        if len(values):
            return len(values) * _itemsize(t.data_type)
    return 0


def _graph_name(path: Path, model: Any) -> str:
    # torch.onnx names every graph "main_graph": the file's name says more.
    name = model.graph.name
    return (path.stem if not name or name in ("main_graph", "torch_jit") else name)[:128]


# -- mapping ops ------------------------------------------------------------------


class _Builder:
    def __init__(self, graph: Any):
        from onnx import numpy_helper

        self.g = graph
        self.init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes: list[dict[str, Any]] = []
        self.values: dict[str, str] = {}  # ONNX value name -> graph node id
        self.ranks: dict[str, int] = {}
        self.weights: dict[str, dict[str, torch.Tensor]] = {}
        self.unmapped: list[Unmapped] = []
        self.output: str | None = None
        self.taken: set[str] = set()
        self.missing: dict[str, list[int]] = {}  # op type -> [its entry in unmapped, count]

    def run(self) -> None:
        inputs = [i for i in self.g.input if i.name not in self.init]
        for i in inputs[:1]:
            dims = [d.dim_value for d in i.type.tensor_type.shape.dim][1:]
            if not dims or any(d <= 0 for d in dims):
                self.unmapped.append(Unmapped("graph input", i.name, reason="its shape "
                                              "beyond the batch must be fixed"))
                return
            params: dict[str, Any] = {"shape": dims}
            if i.type.tensor_type.elem_type in _ID_TYPES:
                params["dtype"] = "long"  # token ids; their vocab is the table they index
            self._add(i.name, "Input", params, [], [i.name], rank=len(dims) + 1)
        for extra in inputs[1:]:
            self.unmapped.append(Unmapped("graph input", extra.name,
                                          reason="one input is supported"))
        for node in self.g.node:
            self._node(node)
        self._vocab()
        for at, count in self.missing.values():
            if count > 1:
                self.unmapped[at] = replace(self.unmapped[at], reason=f"no catalogue node "
                                            f"({count} in the file, the first named)")
        outs = list(self.g.output)
        if len(outs) == 1 and outs[0].name in self.values:
            self.output = self.values[outs[0].name]

    def _node(self, node: Any) -> None:
        op = node.op_type
        attrs = {a.name: _attr(a) for a in node.attribute}
        data = [i for i in node.input if i and i not in self.init]
        handler = getattr(self, f"_op_{op}", None)
        if handler is None and op in ELEMENTWISE:
            handler = self._simple(ELEMENTWISE[op])
        if handler is None:  # every op type without a node is named, each once
            seen = self.missing.setdefault(op, [len(self.unmapped), 0])
            seen[1] += 1
            if seen[1] == 1:
                self.unmapped.append(Unmapped(f"ONNX {op}", node.name,
                                              reason="no catalogue node"))
            return
        if any(d not in self.values for d in data):
            if not self.unmapped:
                self.unmapped.append(Unmapped(f"ONNX {op}", node.name, reason="an input "
                                              "comes from nothing torchcanvas maps"))
            return
        why = handler(node, attrs, data)
        if why:
            self.unmapped.append(Unmapped(f"ONNX {op}", node.name, reason=why))

    def _rank(self, value: str) -> int:
        return self.ranks.get(value, 0)

    def _simple(self, type_: str, params: dict[str, Any] | None = None) -> Any:
        def handler(node: Any, attrs: dict[str, Any], data: list[str]) -> str:
            self._node_for(node, type_, params or {}, data, self._rank(data[0]))
            return ""
        return handler

    # one method per ONNX op: return "" when mapped, else why not
    def _op_Identity(self, node: Any, attrs: dict, data: list[str]) -> str:
        if not data and node.input and node.input[0] in self.init:
            # The exporter stores equal tensors once (BatchNorm's running_var of ones in
            # every block) and names the copies with Identity: another name, same weights.
            self.init[node.output[0]] = self.init[node.input[0]]
            return ""
        self.values[node.output[0]] = self.values[data[0]]
        self.ranks[node.output[0]] = self._rank(data[0])
        return ""

    _op_Dropout = _op_Identity  # an inference graph: dropout passes values through

    def _op_Constant(self, node: Any, attrs: dict, data: list[str]) -> str:
        """A constant tensor: known like a weight, for the ops that read it."""
        value = attrs.get("value")
        if value is None:
            return "only a tensor constant (value=...)"
        from onnx import numpy_helper

        self.init[node.output[0]] = numpy_helper.to_array(value)
        return ""

    def _op_Conv(self, node: Any, attrs: dict, data: list[str]) -> str:
        w = self.init.get(node.input[1])
        if w is None:
            return "the weight is not a constant"
        dims = w.ndim - 2
        if dims not in (1, 2) or attrs.get("auto_pad", "NOTSET") != "NOTSET":
            return f"{dims}-D convolution or auto_pad is not supported"
        pads = attrs.get("pads", [0] * 2 * dims)
        if pads[:dims] != pads[dims:]:
            return "asymmetric padding"
        groups = attrs.get("group", 1)
        params = {"in_channels": w.shape[1] * groups, "out_channels": w.shape[0],
                  "kernel_size": _one(w.shape[2:]), "stride": _one(attrs.get("strides", [1])),
                  "padding": _one(pads[:dims]), "dilation": _one(attrs.get("dilations", [1])),
                  "groups": groups, "bias": len(node.input) > 2 and bool(node.input[2])}
        weights = {"weight": w}
        if params["bias"]:
            weights["bias"] = self.init[node.input[2]]
        self._node_for(node, f"Conv{dims}d", params, data, dims + 2, weights)
        return ""

    def _op_ConvTranspose(self, node: Any, attrs: dict, data: list[str]) -> str:
        w = self.init.get(node.input[1])
        if w is None:
            return "the weight is not a constant"
        if w.ndim != 4 or attrs.get("auto_pad", "NOTSET") != "NOTSET" or "output_shape" in attrs:
            return "only 2-D transposed convolution with explicit pads"
        pads = attrs.get("pads", [0] * 4)
        if pads[:2] != pads[2:]:
            return "asymmetric padding"
        # The weight is (in, out / groups, kH, kW) in ONNX as in PyTorch: kept as it is.
        groups = attrs.get("group", 1)
        params = {"in_channels": w.shape[0], "out_channels": w.shape[1] * groups,
                  "kernel_size": _one(w.shape[2:]), "stride": _one(attrs.get("strides", [1])),
                  "padding": _one(pads[:2]),
                  "output_padding": _one(attrs.get("output_padding", [0])),
                  "dilation": _one(attrs.get("dilations", [1])), "groups": groups,
                  "bias": len(node.input) > 2 and bool(node.input[2])}
        weights = {"weight": w}
        if params["bias"]:
            if self.init.get(node.input[2]) is None:
                return "the bias is not a constant"
            weights["bias"] = self.init[node.input[2]]
        self._node_for(node, "ConvTranspose2d", params, data, 4, weights)
        return ""

    def _op_Gather(self, node: Any, attrs: dict, data: list[str]) -> str:
        """`table[ids]`: an Embedding when the table is a 2-D weight and the ids a value."""
        table = self.init.get(node.input[0])
        if table is None or table.ndim != 2 or attrs.get("axis", 0) != 0 \
                or data != [node.input[1]]:
            return "only a lookup of a constant (rows, features) table by ids is an Embedding"
        if not np.issubdtype(table.dtype, np.floating):
            return "the table holds no float vectors"
        self._node_for(node, "Embedding", {"num_embeddings": table.shape[0],
                                           "embedding_dim": table.shape[1]},
                       data, self._rank(data[0]) + 1, {"weight": table})
        return ""

    def _op_Gemm(self, node: Any, attrs: dict, data: list[str]) -> str:
        w = self.init.get(node.input[1])
        if w is None or attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 \
                or attrs.get("beta", 1.0) != 1.0:
            return "only x @ W.T + b with a constant W is a Linear layer"
        if not attrs.get("transB", 0):
            w = w.T
        bias = len(node.input) > 2 and bool(node.input[2])
        if bias and self.init.get(node.input[2]) is None:
            return "the bias is not a constant"
        weights = {"weight": np.ascontiguousarray(w)}
        if bias:
            weights["bias"] = self.init[node.input[2]]
        self._node_for(node, "Linear", {"in_features": w.shape[1], "out_features": w.shape[0],
                                        "bias": bias}, data, 2, weights)
        return ""

    def _op_BatchNormalization(self, node: Any, attrs: dict, data: list[str]) -> str:
        scale, bias, mean, var = (self.init.get(n) for n in node.input[1:5])
        if any(v is None for v in (scale, bias, mean, var)):
            return "its statistics are not constants"
        rank = self._rank(data[0])
        kind = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d"}.get(rank)
        if kind is None:
            return f"a rank-{rank} input"
        # ONNX momentum weights the running value; PyTorch's weights the new batch.
        momentum = round(1.0 - float(attrs.get("momentum", 0.9)), 6)
        weights = {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var,
                   "num_batches_tracked": np.array(0, dtype=np.int64)}
        self._node_for(node, kind, {"num_features": scale.shape[0],
                                    "eps": float(attrs.get("epsilon", 1e-5)),
                                    "momentum": momentum}, data, rank, weights)
        return ""

    def _pool(self, node: Any, attrs: dict, data: list[str], type_: str) -> str:
        kernel = attrs.get("kernel_shape", [])
        dims = len(kernel)
        pads = attrs.get("pads", [0] * 2 * dims)
        if pads[:dims] != pads[dims:] or attrs.get("auto_pad", "NOTSET") != "NOTSET":
            return "asymmetric or automatic padding"
        params = {"kernel_size": _one(kernel), "stride": _one(attrs.get("strides", kernel)),
                  "padding": _one(pads[:dims]), "ceil_mode": bool(attrs.get("ceil_mode", 0))}
        if type_ == "AvgPool2d":
            params["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
        elif attrs.get("dilations", [1]) != [1] * dims:
            params["dilation"] = _one(attrs["dilations"])
        self._node_for(node, type_ if dims == 2 else type_.replace("2d", "1d"), params, data,
                       dims + 2)
        return ""

    def _op_MaxPool(self, node: Any, attrs: dict, data: list[str]) -> str:
        if len(node.output) > 1 and node.output[1]:
            return "pooling indices"
        return self._pool(node, attrs, data, "MaxPool2d")

    def _op_AveragePool(self, node: Any, attrs: dict, data: list[str]) -> str:
        if len(attrs.get("kernel_shape", [])) != 2:
            return "only 2-D average pooling"
        return self._pool(node, attrs, data, "AvgPool2d")

    def _op_GlobalAveragePool(self, node: Any, attrs: dict, data: list[str]) -> str:
        if self._rank(data[0]) != 4:
            return "only 2-D global pooling"
        self._node_for(node, "AdaptiveAvgPool2d", {"output_size": 1}, data, 4)
        return ""

    def _op_Flatten(self, node: Any, attrs: dict, data: list[str]) -> str:
        if attrs.get("axis", 1) != 1:
            return "flattening from an axis other than 1"
        self._node_for(node, "Flatten", {}, data, 2)
        return ""

    def _softmax(self, node: Any, attrs: dict, data: list[str], type_: str) -> str:
        rank = self._rank(data[0])
        axis = attrs.get("axis", -1)
        self._node_for(node, type_, {"dim": axis if axis >= 0 else rank + axis}, data, rank)
        return ""

    def _op_Softmax(self, node: Any, attrs: dict, data: list[str]) -> str:
        return self._softmax(node, attrs, data, "Softmax")

    def _op_LogSoftmax(self, node: Any, attrs: dict, data: list[str]) -> str:
        return self._softmax(node, attrs, data, "LogSoftmax")

    def _op_Add(self, node: Any, attrs: dict, data: list[str]) -> str:
        if len(data) != 2:
            return "adding a constant"
        self._node_for(node, "Add", {}, data, max(self._rank(d) for d in data))
        return ""

    def _op_Concat(self, node: Any, attrs: dict, data: list[str]) -> str:
        if len(data) != len(node.input):
            return "concatenating a constant"
        self._node_for(node, "Concat", {"dim": attrs.get("axis", 1)}, data, self._rank(data[0]))
        return ""

    # -- building ---------------------------------------------------------------
    def _vocab(self) -> None:
        """A long Input's vocab: the smallest table its ids index directly (the file
        says only int64, and ids at or past a table's size would fail there)."""
        for entry in self.nodes:
            if entry["type"] != "Input" or entry["params"].get("dtype") != "long":
                continue
            tables = [n["params"]["num_embeddings"] for n in self.nodes
                      if n["type"] == "Embedding" and n.get("inputs") == [entry["id"]]]
            if tables:
                entry["params"]["vocab"] = min(tables)

    def _node_for(self, node: Any, type_: str, params: dict[str, Any], data: list[str],
                  rank: int, weights: dict[str, Any] | None = None) -> None:
        node_id = self._add(_readable_id(node), type_, compact(params, LAYERS[type_]),
                            [self.values[d] for d in data], list(node.output[:1]), rank)
        if weights:
            self.weights[node_id] = {k: torch.from_numpy(np.array(v)) for k, v in weights.items()}

    def _add(self, wanted: str, type_: str, params: dict[str, Any], inputs: list[str],
             outputs: list[str], rank: int) -> str:
        node_id, k = wanted, 1
        while node_id in self.taken:
            node_id, k = f"{wanted}_{k}", k + 1
        self.taken.add(node_id)
        entry: dict[str, Any] = {"id": node_id, "type": type_, "params": params}
        if inputs:
            entry["inputs"] = inputs
        self.nodes.append(entry)
        for out in outputs:
            self.values[out] = node_id
            self.ranks[out] = rank
        return node_id


def _readable_id(node: Any) -> str:
    """`/layer1/layer1.0/conv1/Conv` -> `layer1.0.conv1`; otherwise the op in lower case."""
    parts = [p for p in (node.name or "").split("/") if p]
    if len(parts) >= 2:
        scope = parts[-2]
        return re.sub(r"[^0-9A-Za-z_.]", "_", scope)[:64] or node.op_type.lower()
    return node.op_type.lower()


def _one(values: Any) -> Any:
    """[3, 3] -> 3 (as a person writes kernel_size), [3, 5] stays a list."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def _attr(a: Any) -> Any:
    from onnx import helper

    value = helper.get_attribute_value(a)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return list(value) if isinstance(value, list | tuple) else value
